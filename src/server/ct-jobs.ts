/**
 * Runs the CT work of an upload in a worker thread (ct-worker.ts, from the build in dist/): the
 * answer, or the problem the worker rendered, or an abort (request timed out or client gone: the
 * worker is terminated, so an abandoned measurement stops using the CPU).
 */
import { channel } from 'node:diagnostics_channel';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Lang } from '../i18n/index.js';
import { ImagingError } from '../imaging/errors.js';
import type { CtInput, CtResult, WritebackResult } from './ct.js';
import { t } from '../i18n/index.js';
import type { CtJobData, CtJobKind } from './ct-worker.js';
import { HttpProblem, RenderedProblem, type Problem } from './problem.js';
import { packagePath } from '../io/package-root.js';

/** The compiled worker (tests that load the TypeScript sources still run it from the build). */
export const CT_WORKER_FILE = packagePath('dist', 'server', 'ct-worker.js');

export const ctWorkerAvailable = (): boolean => existsSync(CT_WORKER_FILE);

export interface VolumeResult { nifti: Buffer; warnings: string[]; dims: [number, number, number] }
type Outcome =
  | { ok: true; result: unknown }
  | { ok: false; rendered: { problem: Problem; headers: Record<string, string>; internal: boolean }; log?: Record<string, unknown> };

/**
 * A CT request stopped because its client went away (during the upload or the job) or its time ran
 * out: not an internal error, and nobody is left to answer.
 */
export class CtJobAborted extends Error {
  constructor(why = 'CT job aborted') { super(why); this.name = 'CtJobAborted'; }
}

/**
 * A CT job stopped because its client went away or its time ran out: the 503 timeout problem (not
 * an internal error); any other error as it is. One mapping for the upload and the archive routes.
 */
export function ctJobError(e: unknown, ctTimeoutMs: number): unknown {
  return e instanceof CtJobAborted ? new HttpProblem(503, 'timeout', (l) => t(l, 'server.timeout', { seconds: Math.round(ctTimeoutMs / 1000) })) : e;
}

/**
 * Progress of CT requests, published on the diagnostics channel `calcdx:ct` (node:diagnostics_channel)
 * for whoever subscribes (the tests wait on it instead of sleeping): `upload-start` when the first
 * file part of an upload begins to arrive, `upload-end` when the upload is read or given up
 * (`outcome`: ok, client_gone, error), `job-start` when a worker thread runs the job, `job-end` when
 * it has answered, failed or been stopped (`outcome`: ok, problem, aborted, error).
 */
export interface CtEvent {
  event: 'upload-start' | 'upload-end' | 'job-start' | 'job-end';
  outcome?: 'ok' | 'client_gone' | 'problem' | 'aborted' | 'error';
}
export const CT_EVENTS = channel('calcdx:ct');
export const publishCtEvent = (e: CtEvent): void => { if (CT_EVENTS.hasSubscribers) CT_EVENTS.publish(e); };

/**
 * The JavaScript heap of a CT worker (V8 old generation, MiB; `resourceLimits.maxOldGenerationSizeMb`).
 * The volume and the per-voxel arrays are typed arrays outside this heap, bounded by the volume
 * limits (imaging/limits.ts) checked before they are allocated; what grows on the heap is per
 * component (objects, the JSON answer), so a job that would hold millions of components stops here.
 */
export const DEFAULT_CT_WORKER_HEAP_MB = 512;

/** A worker that ran out of its heap: the input needs more than the server allows (not our bug). */
const outOfMemory = (e: unknown): boolean => (e as { code?: string } | undefined)?.code === 'ERR_WORKER_OUT_OF_MEMORY';

/** `onProgress`: the percentage of the volume read so far (files or slices), while it is read. */
export function runCtJob(kind: 'measure', input: CtInput, lang: Lang, instance: string, signal?: AbortSignal, onProgress?: (percent: number) => void): Promise<CtResult>;
export function runCtJob(kind: 'volume', input: CtInput, lang: Lang, instance: string, signal?: AbortSignal): Promise<VolumeResult>;
export function runCtJob(kind: 'writeback', input: CtInput, lang: Lang, instance: string, signal?: AbortSignal): Promise<WritebackResult>;
export function runCtJob(kind: CtJobKind, input: CtInput, lang: Lang, instance: string, signal?: AbortSignal, onProgress?: (percent: number) => void): Promise<CtResult | VolumeResult | WritebackResult> {
  return new Promise((resolveJob, reject) => {
    if (signal?.aborted) { reject(new CtJobAborted()); return; }
    const data: CtJobData = { kind, input, lang, instance, ...(onProgress ? { progress: true } : {}) };
    const heapMb = input.limits?.workerHeapMb ?? DEFAULT_CT_WORKER_HEAP_MB;
    const worker = new Worker(CT_WORKER_FILE, { workerData: data, resourceLimits: { maxOldGenerationSizeMb: heapMb } });
    let settled = false;
    const settle = (f: () => void, outcome: NonNullable<CtEvent['outcome']>) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      f();
      publishCtEvent({ event: 'job-end', outcome });
    };
    worker.once('online', () => publishCtEvent({ event: 'job-start' }));
    const onAbort = () => settle(() => { void worker.terminate(); reject(new CtJobAborted()); }, 'aborted');
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (m: Outcome | { progress: number }) => {
      if ('progress' in m) { if (!settled) onProgress?.(m.progress); return; }
      onOutcome(m);
    });
    const onOutcome = (m: Outcome) => settle(() => {
      if (m.ok) {
        if (kind === 'volume') {
          const v = m.result as Omit<VolumeResult, 'nifti'> & { nifti: Uint8Array };
          resolveJob({ ...v, nifti: Buffer.from(v.nifti.buffer, v.nifti.byteOffset, v.nifti.byteLength) });
        } else {
          resolveJob(m.result as CtResult);
        }
      } else {
        reject(new RenderedProblem(m.rendered, m.log));
      }
    }, m.ok ? 'ok' : 'problem');
    worker.once('error', (e) => settle(() => {
      if (!outOfMemory(e)) { reject(e); return; }
      reject(new ImagingError('too_large', 'upload', `the CT job needed more than its ${heapMb} MiB of memory and was stopped (a volume with very many calcified components? a higher threshold, a larger minimum component size or a smaller ROI needs less)`));
    }, outOfMemory(e) ? 'problem' : 'error'));
    worker.once('exit', (code) => settle(() => reject(new Error(`CT worker exited with code ${code} before answering`)), 'error'));
  });
}

/**
 * The CT job slots of the server, shared by every route that runs a CT job (uploads, archive
 * retrievals): `take` gives a slot, or answers 429 with Retry-After when all are taken; `run` is
 * what every such route does with one (a slot and a private temporary folder for the job's files,
 * both given back whatever happens).
 */
export class CtSlots {
  private used = 0;
  constructor(readonly max: number, readonly retryAfterSeconds: number) {}
  /** takes a slot; the function returned gives it back (once) */
  take(): () => void {
    if (this.used >= this.max) {
      const { max, retryAfterSeconds } = this;
      throw new HttpProblem(429, 'too_many_requests', (l) => t(l, 'server.too_many_ct', { limit: max, seconds: retryAfterSeconds }), { headers: { 'retry-after': String(retryAfterSeconds) } });
    }
    this.used++;
    let given = false;
    return () => { if (!given) { given = true; this.used--; } };
  }

  /**
   * Runs `work` in a slot (taken first: a 429 costs nothing) with a private folder (mode 0700)
   * under `tmpRoot`, made when `work` first asks for it (`folder()`); then gives the slot back and
   * removes the folder, whatever happened. A job stopped because its client went away or its time
   * ran out is the 503 timeout problem (ctJobError).
   */
  async run<T>(tmpRoot: string, ctTimeoutMs: number, work: (folder: () => Promise<string>) => Promise<T>): Promise<T> {
    const release = this.take();
    let made: Promise<string> | undefined;
    const folder = () => (made ??= mkdtemp(join(tmpRoot, 'calcdx-upload-')));
    try {
      return await work(folder);
    } catch (e) {
      throw ctJobError(e, ctTimeoutMs);
    } finally {
      release();
      if (made) await rm(await made.catch(() => ''), { recursive: true, force: true, maxRetries: 2 }).catch(() => undefined);
    }
  }

  /** slots in use (tests) */
  get inUse(): number { return this.used; }
}
