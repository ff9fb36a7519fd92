/**
 * The worker loop of `calcdx worker`: takes CT jobs from the queue and runs each as the server
 * runs POST /api/ct — the same measurement (measureUpload, in a worker thread via runCtJob), the same
 * JSON — on an input fetched from PostgreSQL (an upload) or retrieved from a configured DICOMweb
 * archive (written to a private temporary folder, read as a folder of DICOM files, as an upload is).
 *
 * Failures: bad input (an unreadable volume, a bad ROI, a series that is not CT, an archive that is
 * not configured) ends the job as `failed` at once; a transient one (archive unreachable or timing
 * out, a 5xx, an internal error) is thrown to pg-boss, which retries it with back-off, and when
 * the attempts are used up the job is `dead` and pg-boss copies it to the dead-letter queue. Logs:
 * one JSON line per job event (job id, state, attempt, duration, error code), never a file name,
 * UID, ROI or error text.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type PgBoss from 'pg-boss';
import { t } from '../i18n/index.js';
import type { CtInput, CtResult } from '../server/ct.js';
import { CtJobAborted, ctJobError, runCtJob } from '../server/ct-jobs.js';
import { HttpProblem, toProblem, type Problem } from '../server/problem.js';
import pg from 'pg';
import { completeJob, failJob, getInput, housekeeping, NOTIFY_CHANNEL, setProgress, startJob } from './store.js';
import { CT_DEAD_QUEUE, CT_QUEUE, ctJobData, type CtJobData } from './schema.js';
import { spoolDrop, spoolGet } from './spool.js';
import type { QueueConnection } from './queue.js';

export interface WorkerOptions {
  concurrency: number;
  /** configured DICOMweb archives (base URLs, normalised): a job naming another fails */
  archives: readonly string[];
  /** how long ended jobs stay readable (housekeeping) */
  keepSeconds: number;
  tmpDir?: string;
  /** the folder shared with the servers (--spool): spooled uploads are read there (src/queue/spool.ts) */
  spool?: string | undefined;
  pollingIntervalSeconds?: number;
  log?: (line: Record<string, unknown>) => void;
}

/** A failure of the job's input: retrying cannot help. */
export class PermanentJobError extends Error {
  constructor(readonly problem: Problem) { super(problem.code); this.name = 'PermanentJobError'; }
}

const TRANSIENT_PACS = new Set(['unreachable', 'timeout', 'truncated']);

/** Whether an error of a job is worth another attempt. */
export function isTransient(e: unknown, problem: Problem): boolean {
  if (e instanceof Error && e.name === 'PacsError') {
    const p = e as Error & { code: string; detail: string };
    return TRANSIENT_PACS.has(p.code) || (p.code === 'http_error' && /^HTTP 5\d\d/.test(p.detail));
  }
  return problem.status >= 500;
}

const instanceOf = (id: string) => `/api/ct/jobs/${id}`;

/** The problem of a PacsError (the archive and what was asked are named; the archive's answer is not the user's fault). */
function pacsProblem(e: Error & { code: string; archive: string; context: string; detail: string }, lang: CtJobData['lang'], id: string): Problem {
  const transient = TRANSIENT_PACS.has(e.code) || (e.code === 'http_error' && /^HTTP 5\d\d/.test(e.detail));
  const detail = t(lang, 'error.pacs', { archive: e.archive, context: e.context, what: t(lang, `pacs.${e.code}`), detail: e.detail });
  return toProblem(new HttpProblem(transient ? 502 : 422, 'archive', () => detail, { reason: `pacs_${e.code}` }), lang, instanceOf(id)).problem;
}

function problemOf(e: unknown, data: CtJobData): Problem {
  if (e instanceof PermanentJobError) return e.problem;
  if (e instanceof CtJobAborted) return toProblem(ctJobError(e, data.limits.timeoutMs ?? 0), data.lang, instanceOf(data.jobId)).problem;
  if (e instanceof Error && e.name === 'PacsError') return pacsProblem(e as Error & { code: string; archive: string; context: string; detail: string }, data.lang, data.jobId);
  return toProblem(e, data.lang, instanceOf(data.jobId)).problem;
}

/** Brings the job's input into `dir` as a CtInput; `progress` gets 0–40 % while an archive's series is retrieved. */
async function inputOf(q: QueueConnection, data: CtJobData, dir: string, archives: readonly string[], progress: (p: number) => void, spool: string | undefined): Promise<CtInput> {
  const limits = { maxBytes: data.limits.maxBytes, maxVoxels: data.limits.maxVoxels, ...(data.limits.workerHeapMb ? { workerHeapMb: data.limits.workerHeapMb } : {}) };
  if (data.source.kind === 'upload' && data.source.spool) {
    const gone = (key: string, reason: string) => new PermanentJobError(toProblem(new HttpProblem(422, 'upload_invalid', (l) => t(l, key), { reason }), data.lang, instanceOf(data.jobId)).problem);
    if (!spool) throw gone('queue.spool_missing', 'spool_missing');
    const got = await spoolGet(spool, data.jobId);
    if (!got) throw gone('queue.input_gone', 'input_gone');
    return { ...got, fields: data.fields, limits };
  }
  if (data.source.kind === 'upload') {
    const got = await getInput(q.pool, data.jobId, dir);
    if (!got.volumePaths.length) throw new PermanentJobError(toProblem(new HttpProblem(422, 'upload_invalid', (l) => t(l, 'queue.input_gone'), { reason: 'input_gone' }), data.lang, instanceOf(data.jobId)).problem);
    const volumePath = got.volumePaths.length === 1 ? got.volumePaths[0]! : join(dir, 'in');
    return { volumePath, ...(got.maskPath ? { maskPath: got.maskPath } : {}), fields: data.fields, names: got.names, limits };
  }
  const src = data.source;
  const { archiveFromEnv, retrieveSeries } = await import('../pacs/dicomweb.js');
  const { chooseSeries } = await import('../pacs/ct.js');
  const archive = archiveFromEnv(src.archive, process.env);
  if (!archives.includes(archive.url)) {
    throw new PermanentJobError(toProblem(new HttpProblem(422, 'bad_parameter', (l) => t(l, 'queue.archive_not_configured', { archive: archive.url })), data.lang, instanceOf(data.jobId)).problem);
  }
  const series = await chooseSeries(archive, src.study, src.series);
  const instances = await retrieveSeries(archive, src.study, series.seriesInstanceUid, {
    ...(series.instances !== undefined ? { expected: series.instances } : {}),
    onInstance: (n, expected) => progress((40 * n) / Math.max(n, expected ?? n)),
  });
  const inDir = join(dir, 'in');
  const { mkdir } = await import('node:fs/promises');
  await mkdir(inDir, { mode: 0o700 });
  const names = new Map<string, string>([[dir, archive.url], [inDir, archive.url]]);
  let n = 0;
  for (const b of instances) {
    const p = join(inDir, `f${String(++n).padStart(6, '0')}`);
    await writeFile(p, b, { mode: 0o600, flag: 'wx' });
    names.set(p, `${archive.url} series ${series.seriesInstanceUid} instance ${n}`);
  }
  return { volumePath: inDir, fields: { ...data.fields, series: series.seriesInstanceUid }, names, limits };
}

/** Runs one job; throws (for pg-boss to retry) only on a transient failure with attempts left. */
export async function runJob(q: QueueConnection, job: PgBoss.JobWithMetadata<unknown>, o: WorkerOptions, who: string): Promise<void> {
  const log = o.log ?? (() => undefined);
  const parsed = ctJobData.safeParse(job.data);
  if (!parsed.success) { log({ msg: 'job refused: its data does not match the job schema', id: job.id }); return; }
  const data = parsed.data;
  const attempt = job.retryCount + 1;
  const started = await startJob(q.pool, data.jobId, attempt, who);
  if (started !== 'started') {
    if (started === 'expired') await spoolDrop(o.spool, data.jobId);
    log({ msg: `job ${started}`, id: data.jobId, attempt });
    return;
  }
  log({ msg: 'job running', id: data.jobId, attempt });
  const t0 = performance.now();
  const dir = await mkdtemp(join(o.tmpDir ?? tmpdir(), 'calcdx-job-'));
  // progress: 0–40 % retrieving (archive), then 40–95 % reading the volume, 100 % when the result is written
  // (written in order, and all before the job's end, so that no progress event follows its final state)
  let last = 0;
  let written: Promise<void> = Promise.resolve();
  const progress = (p: number) => {
    if (p - last < 5) return;
    last = p;
    written = written.then(() => setProgress(q.pool, data.jobId, p)).catch(() => undefined);
  };
  try {
    const input = await inputOf(q, data, dir, o.archives, progress, o.spool);
    const t1 = performance.now();
    const base = data.source.kind === 'dicomweb' ? 40 : 0;
    // the measurement's time budget (the server's CT timeout): stopped past it, before pg-boss's expiry (1.5×) hands the job to another worker
    const budget = data.limits.timeoutMs ? AbortSignal.timeout(data.limits.timeoutMs) : undefined;
    const result: CtResult = await runCtJob('measure', input, data.lang, instanceOf(data.jobId), budget, (p) => progress(base + ((95 - base) * p) / 100));
    const t2 = performance.now();
    await written;
    const first = await completeJob(q.pool, data.jobId, result);
    await spoolDrop(o.spool, data.jobId);
    const t3 = performance.now();
    // times: fetching the input, measuring (the worker thread), writing the result
    log({ msg: first ? 'job completed' : 'job completed by another worker already', id: data.jobId, attempt, ms: Math.round(t3 - t0), inputMs: Math.round(t1 - t0), measureMs: Math.round(t2 - t1), resultMs: Math.round(t3 - t2) });
  } catch (e) {
    await written;
    const problem = problemOf(e, data);
    const transient = !(e instanceof PermanentJobError) && isTransient(e, problem);
    const lastAttempt = attempt > job.retryLimit;
    const state = !transient ? 'failed' : lastAttempt ? 'dead' : 'retrying';
    await failJob(q.pool, data.jobId, state, problem);
    if (state !== 'retrying') await spoolDrop(o.spool, data.jobId);
    log({ msg: `job ${state}`, id: data.jobId, attempt, ms: Math.round(performance.now() - t0), code: problem.code, ...(problem.reason ? { reason: problem.reason } : {}) });
    // pg-boss retries (or dead-letters) what is thrown; a failed job is handled: its pg-boss job completes
    if (transient) throw new Error(`${problem.code}${problem.reason ? ` (${problem.reason})` : ''}`);
  } finally {
    await rm(dir, { recursive: true, force: true, maxRetries: 2 });
  }
}

/**
 * Starts `concurrency` job slots on the queue and one on the dead-letter queue (which marks a job
 * dead when pg-boss failed it without a worker saying so: a worker killed on the last attempt), and
 * housekeeping every minute. Resolves with a function that stops taking jobs and waits for those running.
 */
export async function startWorker(q: QueueConnection, o: WorkerOptions): Promise<() => Promise<void>> {
  const who = `${hostname()}:${process.pid}`;
  const log = o.log ?? (() => undefined);
  const polling = o.pollingIntervalSeconds ?? 1;
  const slots: string[] = [];
  for (let i = 0; i < o.concurrency; i++) {
    slots.push(await q.boss.work(CT_QUEUE, { batchSize: 1, includeMetadata: true, pollingIntervalSeconds: polling }, async ([job]) => {
      if (job) await runJob(q, job, o, who);
    }));
  }
  // a job queued now is taken now, not at the next poll: the server's NOTIFY wakes the idle slots
  // (polling stays, for retries whose back-off has passed and if this connection is lost)
  const listener = new pg.Client({ connectionString: q.db, application_name: 'calcdx-worker-listen' });
  listener.on('error', () => undefined);
  listener.on('notification', (n) => {
    let state: unknown;
    try { state = (JSON.parse(n.payload ?? '') as { state?: unknown }).state; } catch { return; }
    if (state !== 'queued') return;
    for (const s of slots) q.boss.notifyWorker(s);
  });
  try {
    await listener.connect();
    await listener.query(`LISTEN ${NOTIFY_CHANNEL}`);
  } catch { /* polling alone */ }
  await q.boss.work(CT_DEAD_QUEUE, { batchSize: 1, pollingIntervalSeconds: Math.max(polling, 2) }, async ([job]) => {
    const parsed = ctJobData.safeParse(job?.data);
    if (!parsed.success) return;
    const data = parsed.data;
    const problem = toProblem(new HttpProblem(503, 'timeout', (l) => t(l, 'queue.dead')), data.lang, instanceOf(data.jobId)).problem;
    if (await failJob(q.pool, data.jobId, 'dead', problem)) log({ msg: 'job dead', id: data.jobId });
    await spoolDrop(o.spool, data.jobId);
  });
  const tidy = async () => {
    try {
      const r = await housekeeping(q.pool, o.keepSeconds);
      for (const id of r.expiredIds) await spoolDrop(o.spool, id);
      if (r.expired || r.deleted) log({ msg: 'housekeeping', expired: r.expired, deleted: r.deleted });
    } catch { /* the database is away: next time */ }
  };
  await tidy();
  const timer = setInterval(() => void tidy(), 60_000).unref();
  return async () => {
    clearInterval(timer);
    await listener.end().catch(() => undefined);
    await q.close();
  };
}
