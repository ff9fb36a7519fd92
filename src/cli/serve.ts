/**
 * `calcdx serve`: the HTTP API and the browser app on one port (loopback by default).
 *
 * --workers n runs n server processes (node:cluster) sharing the port: an assessment is pure CPU
 * work on one thread, so one process answers at most one request at a time; n processes use n
 * cores. The primary process only forks, prints the URL once every worker listens, restarts a
 * worker that dies, and stops them all on SIGINT/SIGTERM. The CT job limit is shared out among the
 * workers (at least one each), as each measurement holds the volume in its process's memory.
 */
import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { Option, type Command } from 'commander';
import { t, type Lang } from '../i18n/index.js';
import { CalcdxError } from '../io/errors.js';
import { DEFAULTS } from '../server/defaults.js';

export interface ServeOptions {
  port: string;
  host: string;
  maxCtJobs?: string;
  uploadLimitMb?: string;
  quiet?: boolean;
  /** server processes: a whole number, or auto (one per core) */
  workers?: string;
  /** CDS Hooks: trusted issuers and public URL (JSON), or no authentication on loopback */
  cdsConfig?: string;
  cdsDevNoAuth?: boolean;
  /** the CT job queue: postgres://… (or CALCDX_DB), its settings, and the archives jobs may name */
  db?: string;
  archive?: string[];
  jobRetries?: string;
  jobRetryDelay?: string;
  jobTimeout?: string;
}

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
  const ctQueue = await queueOptions(o);
  // the server (fastify and its plugins) is loaded only when a server starts, not for every command
  const { buildServer } = await import('../server/app.js');
  let app;
  try {
    app = await buildServer({
      ...(cds ? { cds } : {}),
      ...(ctQueue ? { ctQueue } : {}),
      logger: o.quiet ? false : true,
      maxCtJobs: Math.max(1, Math.floor(ctJobs / workers)),
      ...(o.uploadLimitMb !== undefined ? { uploadLimit: wholeNumber('upload-limit-mb', o.uploadLimitMb, 1, 64 * 1024) * 1024 * 1024 } : {}),
    });
  } catch (e) {
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
  return { url, close: () => app.close() };
}

/** The CT job queue of --db (or CALCDX_DB), or undefined: CT jobs run in the server's worker threads only. */
async function queueOptions(o: ServeOptions): Promise<{ db: string; archives: string[]; settings: Record<string, number> } | undefined> {
  const db = o.db ?? process.env.CALCDX_DB;
  if (!db) {
    if (o.jobRetries ?? o.jobRetryDelay ?? o.jobTimeout) throw new CalcdxError('usage', { detail: '--job-retries, --job-retry-delay and --job-timeout need --db postgres://… (or CALCDX_DB)' });
    return undefined;
  }
  const { checkDbUrl } = await import('../queue/queue.js');
  try { checkDbUrl(db); } catch (e) { throw new CalcdxError('usage', { detail: (e as Error).message }); }
  const { configuredArchives } = await import('./worker.js');
  return {
    db,
    archives: await configuredArchives(o.archive),
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
  const fork = (): Worker => {
    const w = cluster.fork({ CALCDX_WORKER: '1' });
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

export function registerServe(program: Command, envLang: () => Lang): void {
  program.command('serve')
    .description('run the HTTP API and the browser app (binds 127.0.0.1 unless --host says otherwise)')
    .option('--port <port>', 'TCP port (0 = any free port)', '8080')
    .option('--host <host>', 'address to bind; 0.0.0.0 exposes calcdx to the network, which has no authentication', '127.0.0.1')
    .option('--max-ct-jobs <n>', `CT uploads measured at once (default ${DEFAULTS.maxCtJobs})`)
    .option('--upload-limit-mb <n>', `largest CT upload, MiB (default ${DEFAULTS.uploadLimit / 1024 / 1024})`)
    .option('--quiet', 'no request log')
    .option('--workers <n>', 'server processes sharing the port: a number, or auto (one per core); default 1')
    .option('--cds-config <file>', 'CDS Hooks: trusted issuers (iss, jku allow-list, jwks or jwksUrl, fhirServers) and publicUrl, as JSON')
    .option('--cds-dev-no-auth', 'CDS Hooks without authentication, for local trials only (refused unless --host is a loopback address)')
    .option('--db <url>', 'queue CT jobs (POST /api/ct/jobs) in PostgreSQL for calcdx worker processes: postgres://user@host:port/database (default CALCDX_DB)')
    .option('--archive <url...>', 'with --db: DICOMweb archives a job may name (also CALCDX_DICOMWEB_ARCHIVES)')
    .option('--job-retries <n>', 'with --db: attempts after the first for a transient failure (default 3)')
    .option('--job-retry-delay <s>', 'with --db: seconds before the first retry, doubled for each further one (default 10)')
    .option('--job-timeout <s>', 'with --db: seconds an attempt may run before it is retried (a worker that died; default 900)')
    .addOption(new Option('--lang <lang>', 'language of the start message').choices(['zh', 'en']))
    .action(async (o: ServeOptions & { lang?: Lang }) => {
      const lang = o.lang ?? envLang();
      const workers = workerCount(o.workers);
      wholeNumber('port', o.port, 0, 65535);
      if (workers > 1 && cluster.isPrimary) {
        const code = await primary(workers, lang);
        if (code !== 0) throw new CalcdxError('usage', { detail: t(lang, 'server.worker_failed', { code }) });
        return;
      }
      const { close } = await serve(o, lang, workers);
      await onStopSignal(close);
    });
}
