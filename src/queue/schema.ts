/**
 * What a queued CT job carries (zod is the source of truth; the types come from it). The job's data
 * in pg-boss names where its CT comes from — an upload kept in PostgreSQL (ct_input, see store.ts)
 * or a series of a configured DICOMweb archive — and the ROI and options, as the form of
 * POST /api/ct gives them (checked again by the worker with the same ctOptions). No patient data:
 * UIDs and the ROI only; the files' uploaded names are in ct_input, not in the job.
 */
import { z } from 'zod';

export const CT_QUEUE = 'calcdx-ct';
export const CT_DEAD_QUEUE = 'calcdx-ct-dead';

const uid = z.string().regex(/^[0-9]+(\.[0-9]+)*$/, 'a DICOM UID (digits and dots)').max(64);

export const ctJobSource = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('upload'), files: z.number().int().min(1), bytes: z.number().int().min(0), mask: z.boolean(), spool: z.boolean().optional() }).strict(),
  z.object({ kind: z.literal('dicomweb'), archive: z.string().url(), study: uid, series: uid.optional() }).strict(),
]);
export type CtJobSource = z.infer<typeof ctJobSource>;

/** the form fields of POST /api/ct (roi, threshold, connectivity, minVoxels, series), as text */
export const ctJobFields = z.partialRecord(z.enum(['roi', 'threshold', 'connectivity', 'minVoxels', 'series']), z.string().max(64 * 1024));

export const ctJobData = z.object({
  v: z.literal(1),
  jobId: z.string().uuid(),
  source: ctJobSource,
  fields: ctJobFields,
  lang: z.enum(['zh', 'en']),
  /** voxel and byte limits of the read, as the server that took the job had them */
  limits: z.object({
    maxBytes: z.number().int().positive(), maxVoxels: z.number().int().positive(), workerHeapMb: z.number().int().positive().optional(),
    /** the measurement's time budget (ms, the server's CT timeout): the worker stops the measurement past it */
    timeoutMs: z.number().int().positive().optional(),
  }).strict(),
}).strict();
export type CtJobData = z.infer<typeof ctJobData>;

/** The states of a job as the API shows them (the table ct_job holds them; pg-boss has its own). */
export const CT_JOB_STATES = ['queued', 'running', 'retrying', 'completed', 'failed', 'dead', 'expired'] as const;
export type CtJobState = (typeof CT_JOB_STATES)[number];
export const TERMINAL_STATES: ReadonlySet<CtJobState> = new Set(['completed', 'failed', 'dead', 'expired']);

/** The JSON body of POST /api/ct/jobs for a series of an archive (an upload is multipart, as POST /api/ct). */
export const ctJobRequest = z.object({
  dicomweb: z.object({ archive: z.string(), study: uid, series: uid.optional() }).strict(),
  roi: z.string().max(64 * 1024),
  threshold: z.union([z.number(), z.string()]).optional(),
  connectivity: z.union([z.literal(6), z.literal(26), z.string()]).optional(),
  minVoxels: z.union([z.number(), z.string()]).optional(),
}).strict();
export type CtJobRequest = z.infer<typeof ctJobRequest>;
