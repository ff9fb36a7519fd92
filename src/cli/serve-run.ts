/**
 * The work of `calcdx serve`, imported when the command runs (its options are declared in
 * src/cli/serve.ts): the HTTP API and the browser app on one port (loopback by default).
 *
 * --workers n runs n server processes (node:cluster) sharing the port: an assessment is pure CPU
 * work on one thread, so one process answers at most one request at a time; n processes use n
 * cores. The primary process only forks, prints the URL once every worker listens, restarts a
 * worker that dies, stops them all on SIGINT/SIGTERM, and holds the CDS Hooks state every worker
 * must share (the jti already accepted, so a replayed token is refused on any worker; the feedback
 * counts), answering the workers over IPC (src/server/cds-state.ts). The CT job limit is shared out among the
 * workers (at least one each), as each measurement holds the volume in its process's memory.
 */
import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { t, type Lang } from '../i18n/index.js';
import { CalcdxError } from '../io/errors.js';
import { DEFAULTS } from '../server/defaults.js';
import type { Channel } from '../server/cds-state.js';

import type { ServeOptions } from './serve.js';

const MAX_WORKERS = 64;

/** --workers: 1 by default; auto = the cores this process may use. */
export function workerCount(raw: string | undefined): number {
  if (raw === undefined) return 1;
  if (raw === 'auto') return Math.min(MAX_WORKERS, availableParallelism());
  return wholeNumber('workers', raw, 1, MAX_WORKERS);
}

function wholeNumber(name: string, raw: string, min: number, max: number): number {
  const x = Number(raw);
  if (!Number.isInteger(x) || x < min || x > max) throw new CalcdxError('usage', { detail: `--${name}: found "${raw}"; allowed: a whole number from ${min} to ${max}` });
  return x;
}

/** Starts the server; resolves with its URL and a function that stops it. */
export async function serve(o: ServeOptions, lang: Lang, workers = 1): Promise<{ url: string; close: () => Promise<void> }> {
  const port = wholeNumber('port', o.port, 0, 65535);
  const ctJobs = o.maxCtJobs !== undefined ? wholeNumber('max-ct-jobs', o.maxCtJobs, 1, 64) : DEFAULTS.maxCtJobs;
  const cds = o.cdsConfig || o.cdsDevNoAuth ? (await import('./cds-config.js')).cdsOptions(o.cdsConfig, o.cdsDevNoAuth, o.host) : undefined;
  if (cds && cluster.isWorker) {
    // one jti set and one feedback count for all workers, held by the primary (a replayed token may reach any worker)
    const state = new (await import('../server/cds-state.js')).PrimaryCdsState(process as unknown as Channel);
    cds.replay = state;
    cds.feedback = state;
  }
  // the archive's routes need login (clinician or viewer): without the registry nobody could log in
  if (o.pacsConfig && o.registry === false) throw new CalcdxError('usage', { detail: t(lang, 'server.pacs_needs_registry') });
  let pacs;
  if (o.pacsConfig) {
    const { loadPacsConfig, PacsConfigError } = await import('../pacs/config.js');
    try { pacs = loadPacsConfig(o.pacsConfig); } catch (e) {
      if (e instanceof PacsConfigError) throw new CalcdxError('usage', { detail: e.message });
      throw e;
    }
  }
  if (o.requireLogin && o.registry === false) throw new CalcdxError('usage', { detail: '--require-login: needs the registry (users and sessions); drop --no-registry' });
  // the registry, opened here so that the first administrator's one-time password is printed once
  // to the terminal (never through the request log); an empty registry gets one
  let store: import('../registry/store.js').RegistryStore | undefined;
  if (o.registry !== false) {
    const { openRegistry } = await import('../registry/open.js');
    const { ensureFirstAdmin } = await import('../registry/password.js');
    store = await openRegistry(o.db);
    try {
      const admin = await ensureFirstAdmin(store, 'server start');
      if (admin) process.stdout.write(`${t(lang, 'registry.first_admin', admin)}\n`);
    } catch (e) {
      await store.close();
      throw e;
    }
  }
  let ctQueue;
  try { ctQueue = await queueOptions(o); } catch (e) { await store?.close(); throw e; }
  // the server (fastify and its plugins) is loaded only when a server starts, not for every command
  const { buildServer } = await import('../server/app.js');
  let app;
  try {
    app = await buildServer({
      ...(cds ? { cds } : {}),
      ...(ctQueue ? { ctQueue } : {}),
      ...(pacs ? { pacs } : {}),
      ...(store ? { registry: store, requireLogin: o.requireLogin ?? false } : {}),
      ...(o.trustProxy ? { trustProxy: o.trustProxy === 'true' ? true : o.trustProxy } : {}),
      logger: o.quiet ? false : true,
      maxCtJobs: Math.max(1, Math.floor(ctJobs / workers)),
      ...(o.uploadLimitMb !== undefined ? { uploadLimit: wholeNumber('upload-limit-mb', o.uploadLimitMb, 1, 64 * 1024) * 1024 * 1024 } : {}),
    });
  } catch (e) {
    await store?.close();
    // the queue's database cannot be reached or set up
    if (ctQueue?.db && (e as { code?: string }).code !== undefined && !(e instanceof CalcdxError)) {
      const { shownDb } = await import('../queue/queue.js');
      throw new CalcdxError('usage', { detail: `cannot use the database ${shownDb(ctQueue.db)}: ${(e as { code?: string }).code} ${(e as Error).message}` });
    }
    throw e;
  }
  try {
    await app.listen({ port, host: o.host });
  } catch (e) {
    await app.close();
    await store?.close();
    const code = (e as { code?: string }).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      throw new CalcdxError('usage', { detail: t(lang, `server.listen_${code}`, { host: o.host, port }) });
    }
    throw e;
  }
  const addr = app.server.address();
  const actualPort = addr && typeof addr === 'object' ? addr.port : port;
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  const url = `http://${host}:${actualPort}`;
  if (cluster.isWorker) process.send?.({ calcdx: 'listening', url });
  else process.stdout.write(`${t(lang, 'server.listening', { url })}\n`);
  return { url, close: async () => { await app.close(); await store?.close(); } };
}

/**
 * The CT job queue: on when --db (or CALCDX_DB) is a postgres:// database (the registry's, when it
 * has one), else undefined: CT jobs run in the server's worker threads only.
 */
async function queueOptions(o: ServeOptions): Promise<{ db: string; archives: string[]; settings: Record<string, number>; spool?: string } | undefined> {
  const db = o.db ?? process.env.CALCDX_DB;
  if (!db || !/^postgres(ql)?:\/\//i.test(db)) {
    if (o.jobRetries ?? o.jobRetryDelay ?? o.jobTimeout ?? o.spool) throw new CalcdxError('usage', { detail: '--job-retries, --job-retry-delay, --job-timeout and --spool need --db postgres://… (or CALCDX_DB)' });
    return undefined;
  }
  const { checkDbUrl } = await import('../queue/queue.js');
  try { checkDbUrl(db); } catch (e) { throw new CalcdxError('usage', { detail: (e as Error).message }); }
  const { configuredArchives, spoolFolder } = await import('./worker.js');
  return {
    db,
    archives: await configuredArchives(o.archive),
    ...(o.spool ? { spool: await spoolFolder(o.spool) } : {}),
    settings: {
      ...(o.jobRetries !== undefined ? { retryLimit: wholeNumber('job-retries', o.jobRetries, 0, 20) } : {}),
      ...(o.jobRetryDelay !== undefined ? { retryDelaySeconds: wholeNumber('job-retry-delay', o.jobRetryDelay, 0, 3600) } : {}),
      ...(o.jobTimeout !== undefined ? { expireInSeconds: wholeNumber('job-timeout', o.jobTimeout, 1, 23 * 3600) } : {}),
    },
  };
}

/** Waits for SIGINT or SIGTERM, then runs stop once. */
function onStopSignal(stop: () => Promise<void>): Promise<void> {
  return new Promise<void>((resolve) => {
    const handler = () => { process.off('SIGINT', handler); process.off('SIGTERM', handler); void stop().then(resolve, resolve); };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  });
}

/**
 * The primary of --workers n: forks the workers (which run this same command line and reach
 * serve()), prints the URL when all listen, and stops them on a signal. A worker that fails before
 * listening (port taken, bad option) stops the whole server with its exit code; one that dies later
 * is replaced, unless they die in a loop (more than MAX_RESTARTS in a minute), which stops the server.
 */
/** more restarts than this within RESTART_WINDOW_MS: the workers crash in a loop; stop */
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 60_000;

async function primary(n: number, lang: Lang): Promise<number> {
  let stopping = false;
  let announced = false;
  const restarts: number[] = [];
  const ready = new Set<Worker>();
  // the CDS Hooks jti set and feedback counts of all workers (src/server/cds-state.ts); small, loaded always
  const cdsState = new (await import('../server/cds-state.js')).CdsStateHost();
  const fork = (): Worker => {
    const w = cluster.fork({ CALCDX_WORKER: '1' });
    cdsState.attach(w);
    w.on('message', (m: { calcdx?: string; url?: string }) => {
      if (m?.calcdx !== 'listening' || ready.has(w)) return;
      ready.add(w);
      if (ready.size === n && !announced) { announced = true; process.stdout.write(`${t(lang, 'server.listening', { url: m.url })}\n`); }
    });
    return w;
  };
  const failed = new Promise<number>((resolve) => {
    cluster.on('exit', (w, code, signal) => {
      const wasReady = ready.delete(w);
      if (stopping) return;
      if (!wasReady) { resolve(code || 1); return; }
      const now = Date.now();
      restarts.push(now);
      while (restarts.length && now - restarts[0]! > RESTART_WINDOW_MS) restarts.shift();
      if (restarts.length > MAX_RESTARTS) {
        process.stderr.write(`calcdx: ${t(lang, 'server.worker_crash_loop', { count: restarts.length, seconds: RESTART_WINDOW_MS / 1000 })}\n`);
        resolve(1);
        return;
      }
      process.stderr.write(`calcdx: ${t(lang, 'server.worker_restart', { pid: w.process.pid, why: signal ?? String(code) })}\n`);
      fork();
    });
  });
  for (let i = 0; i < n; i++) fork();
  const stop = async () => {
    stopping = true;
    const alive = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && !w.isDead());
    await Promise.all(alive.map((w) => new Promise<void>((resolve) => { w.once('exit', () => resolve()); w.kill('SIGTERM'); })));
  };
  const code = await Promise.race([onStopSignal(stop).then(() => 0), failed]);
  if (code !== 0) await stop();
  return code;
}

/** The action of `calcdx serve`: one server, or with --workers n a primary forking n of them. */
export async function runServe(o: ServeOptions & { lang?: Lang }, lang: Lang): Promise<void> {
  const workers = workerCount(o.workers);
  wholeNumber('port', o.port, 0, 65535);
  if (o.pacsConfig && o.registry === false) throw new CalcdxError('usage', { detail: t(lang, 'server.pacs_needs_registry') });
  if (workers > 1 && cluster.isPrimary) {
    const code = await primary(workers, lang);
    if (code !== 0) throw new CalcdxError('usage', { detail: t(lang, 'server.worker_failed', { code }) });
    return;
  }
  const { close } = await serve(o, lang, workers);
  await onStopSignal(close);
}
