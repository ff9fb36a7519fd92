/**
 * The CT work of one upload (read, measure, encode) in a worker thread, so that the server's
 * event loop keeps answering while a series is decoded and measured. One worker per job (CT jobs
 * are few and long: spawning one costs about 50 ms, a measurement 0.5 s to minutes), started by
 * ct-jobs.ts with workerData { kind, input, lang, instance }. It posts either { ok: true, result }
 * or { ok: false, rendered } — the problem already rendered in the request's language, since
 * errors do not survive the thread boundary as their classes.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Lang } from '../i18n/index.js';
import { measureUpload, volumeUpload, writebackUpload, type CtInput } from './ct.js';
import { toProblem } from './problem.js';

export type CtJobKind = 'measure' | 'volume' | 'writeback';
/** `progress`: post { progress: percent } messages while the volume is read (the CT job queue shows them) */
export interface CtJobData { kind: CtJobKind; input: CtInput; lang: Lang; instance: string; progress?: boolean }

const { kind, input, lang, instance, progress } = workerData as CtJobData;
// reading progress (files or slices read of all), at most one message per percent
let lastPercent = -1;
const onProgress = progress ? (done: number, total: number) => {
  const p = total > 0 ? Math.floor((100 * done) / total) : 0;
  if (p !== lastPercent) { lastPercent = p; parentPort!.postMessage({ progress: p }); }
} : undefined;
try {
  if (kind === 'measure') {
    parentPort!.postMessage({ ok: true, result: await measureUpload(input, onProgress) });
  } else if (kind === 'writeback') {
    parentPort!.postMessage({ ok: true, result: await writebackUpload(input) });
  } else {
    const v = await volumeUpload(input);
    const bytes = new Uint8Array(v.nifti.buffer, v.nifti.byteOffset, v.nifti.byteLength);
    parentPort!.postMessage({ ok: true, result: { ...v, nifti: bytes } }, bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? [bytes.buffer as ArrayBuffer] : []);
  }
} catch (e) {
  const rendered = toProblem(e, lang, instance);
  const err = e as Error & { code?: string };
  // as the server logs an internal error: its kind and stack frames, never its message
  const log = rendered.internal ? { type: err?.name, code: err?.code, stack: err?.stack?.split('\n').slice(1).join('\n') } : undefined;
  parentPort!.postMessage({ ok: false, rendered, log });
}
