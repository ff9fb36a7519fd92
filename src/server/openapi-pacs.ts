/**
 * The archive (PACS) routes' request and response schemas (zod: the plugin validates with them,
 * the OpenAPI document is generated from them) and their OpenAPI paths.
 */
import { z } from 'zod';
import { READ_CLINICAL, WRITE_CLINICAL } from './auth/access.js';
import { componentSchema, jsonResponse, langParam as lang, problemResponse, queuedResponse, ref, sessionProblems, sessionSecurity } from './openapi-parts.js';

/** A DICOM UID (PS3.5 9.1): digit components without leading zeros, separated by dots, at most 64 characters. */
export const DICOM_UID = /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/;
export const uidSchema = z.string().max(64).regex(DICOM_UID, 'a DICOM UID (digits and dots, no leading zeros, at most 64 characters)');

export const pacsArchivesSchema = z.object({
  archives: z.array(z.object({ id: z.string(), label: z.string() })).describe('the archives configured on the server (never their URLs or credentials)'),
});

export const pacsStudySchema = z.object({
  studyInstanceUid: z.string(), date: z.string().optional(), accession: z.string().optional(), patientId: z.string().optional(),
  patientName: z.string().optional(), description: z.string().optional(), modalities: z.array(z.string()),
  series: z.number().optional(), instances: z.number().optional(),
});
export const pacsStudiesSchema = z.object({ studies: z.array(pacsStudySchema) });

export const pacsSeriesSchema = z.object({
  series: z.array(z.object({
    seriesInstanceUid: z.string(), modality: z.string().optional(), number: z.number().optional(), description: z.string().optional(),
    instances: z.number().optional(), ct: z.boolean().describe('a CT series (the only kind measured)'),
  })),
});

/** The measurement options, as POST /api/ct takes them as form fields. */
export const pacsOptionsSchema = z.strictObject({
  threshold: z.number().finite().optional().describe('HU threshold (default 100)'),
  connectivity: z.union([z.literal(6), z.literal(26)]).optional().describe('6 or 26 (default 26)'),
  minVoxels: z.number().int().min(1).optional().describe('drop components smaller than this (default 1)'),
});

export const pacsSeriesBodySchema = z.strictObject({ study: uidSchema, series: uidSchema });
export const pacsMeasureBodySchema = z.strictObject({
  study: uidSchema,
  series: uidSchema,
  roi: z.string().min(1).max(1000).describe('the ROI as `calcdx ct --roi` takes it (sphere-mm:x,y,z,r, box-mm:…, whole, …); not a mask'),
  options: pacsOptionsSchema.optional(),
});

const uidObject = z.object({ sopInstanceUid: z.string(), seriesInstanceUid: z.string(), sopClassUid: z.string() });
export const pacsStoredSchema = z.looseObject({
  measurement: z.looseObject({}), findings: z.looseObject({}), labels: z.string(),
  stored: z.object({ archive: z.string(), study: z.string(), seg: uidObject, sr: uidObject }),
});

export function pacsOpenApiSchemas(): Record<string, unknown> {
  return {
    PacsArchives: componentSchema(pacsArchivesSchema),
    PacsStudies: componentSchema(pacsStudiesSchema),
    PacsSeries: componentSchema(pacsSeriesSchema),
    PacsSeriesBody: componentSchema(pacsSeriesBodySchema),
    PacsMeasureBody: componentSchema(pacsMeasureBodySchema),
    PacsStored: componentSchema(pacsStoredSchema),
  };
}

const langParam = lang();
const archiveParam = { name: 'archive', in: 'path', required: true, schema: { type: 'string' }, description: 'the id of an archive of the server configuration (--pacs-config)' };
const archiveErrors = {
  404: problemResponse('no such archive configured, or the archive does not have the study or series'),
  502: problemResponse('the archive is unreachable, too slow, refused the credentials, or answered something that is not DICOMweb (the detail names the archive and the study/series)'),
};
const jsonBody = (name: string) => ({ required: true, content: { 'application/json': { schema: ref(name) } } });

/**
 * The archive's patient data is behind login (src/server/plugins/pacs.ts): each operation with its
 * roles (`x-roles`), its security (the session cookie, plus the CSRF header for a POST) and 401/403.
 */
function guarded(method: 'get' | 'post', roles: readonly string[], o: { responses: Record<string, unknown> } & Record<string, unknown>): Record<string, unknown> {
  return {
    [method]: {
      ...o,
      'x-roles': [...roles],
      security: sessionSecurity(method),
      responses: { ...o.responses, ...sessionProblems() },
    },
  };
}

export function pacsOpenApiPaths(): Record<string, unknown> {
  const q = (name: string, description: string, schema: Record<string, unknown> = { type: 'string' }) => ({ name, in: 'query', required: false, schema, description });
  return {
    '/api/pacs/archives': guarded('get', READ_CLINICAL, { summary: 'the image archives configured on the server (ids and labels only)', responses: { 200: jsonResponse('archives', ref('PacsArchives')) } }),
    '/api/pacs/{archive}/studies': guarded('get', READ_CLINICAL, {
      summary: 'search the studies of an archive (QIDO-RS through the server; only these query keys are passed on)',
      parameters: [archiveParam, langParam, q('PatientID', 'patient ID (* and ? wildcards)'), q('AccessionNumber', 'accession number'),
        q('StudyDate', 'YYYYMMDD, YYYY-MM-DD, or a range FROM-TO, FROM-, -TO'), q('PatientName', 'patient name (DICOM PN matching)'),
        q('limit', 'at most this many studies (1–1000, default 100)', { type: 'integer' }), q('offset', 'skip this many (paging)', { type: 'integer' })],
      responses: { 200: jsonResponse('studies', ref('PacsStudies')), 400: problemResponse('a query key or value not allowed'), ...archiveErrors },
    }),
    '/api/pacs/{archive}/studies/{study}/series': guarded('get', READ_CLINICAL, {
      summary: 'the series of a study (QIDO-RS), CT series marked',
      parameters: [archiveParam, { name: 'study', in: 'path', required: true, schema: { type: 'string' } }, langParam],
      responses: { 200: jsonResponse('series', ref('PacsSeries')), 400: problemResponse('not a DICOM UID'), ...archiveErrors },
    }),
    '/api/pacs/{archive}/volume': guarded('post', READ_CLINICAL, {
      summary: 'a CT series of the archive (WADO-RS, retrieved by the server) as a gzip NIfTI-1 HU volume for the viewer, as POST /api/volume answers',
      parameters: [archiveParam, langParam], requestBody: jsonBody('PacsSeriesBody'),
      responses: {
        200: { description: 'the volume', content: { 'application/gzip': { schema: { type: 'string', contentMediaType: 'application/gzip' } } } },
        400: problemResponse('a field missing or not allowed'), 422: problemResponse('not a CT series, or not readable'), 429: problemResponse('too many CT jobs at once'), ...archiveErrors,
      },
    }),
    '/api/pacs/{archive}/measure': guarded('post', READ_CLINICAL, {
      summary: 'measure a CT series of the archive (retrieved by the server; the same measurement and JSON as POST /api/ct)',
      parameters: [archiveParam, langParam], requestBody: jsonBody('PacsMeasureBody'),
      responses: {
        200: jsonResponse('measurement, case-format findings and the component label mask', ref('CtResult')),
        400: problemResponse('a field missing or not allowed, or a malformed ROI'), 422: problemResponse('not a CT series, or the ROI does not fit it'), 429: problemResponse('too many CT jobs at once'), ...archiveErrors,
      },
    }),
    '/api/pacs/{archive}/jobs': guarded('post', READ_CLINICAL, {
      summary: 'queue the measurement of a CT series of the archive for `calcdx worker` (needs `calcdx serve --db` and the archive\'s URL among the workers\' --archive); follow it at /api/ct/jobs/{id} and …/events',
      parameters: [archiveParam, langParam], requestBody: jsonBody('PacsMeasureBody'),
      responses: {
        202: queuedResponse(),
        400: problemResponse('a field missing or not allowed, or a malformed ROI'), 404: problemResponse('no such archive configured'),
        503: problemResponse('no queue (code queue_not_configured), or the archive is not one the workers read (reason archive_not_queued): measure with POST /api/pacs/{archive}/measure'),
      },
    }),
    '/api/pacs/{archive}/store': guarded('post', WRITE_CLINICAL, {
      summary: 'measure a CT series of the archive and store the DICOM SEG (component labels) and the TID 1500 SR (measurement) in its study (STOW-RS, one request)',
      parameters: [archiveParam, langParam], requestBody: jsonBody('PacsMeasureBody'),
      responses: {
        200: jsonResponse('the measurement and the UIDs of the stored SEG and SR', ref('PacsStored')),
        400: problemResponse('a field missing or not allowed, or a malformed ROI'), 422: problemResponse('not a CT series, the ROI does not fit it, or the source cannot be referenced'), 429: problemResponse('too many CT jobs at once'), ...archiveErrors,
      },
    }),
  };
}
