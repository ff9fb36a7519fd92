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
  /** the registry: sqlite:PATH or postgres://… (default CALCDX_DB, else the file under the user's data folder); false: --no-registry */
  db?: string;
  registry?: boolean;
  /** every API route but login, health and the OpenAPI document needs a session */
  requireLogin?: boolean;
  /** behind a TLS-terminating reverse proxy: its address (or "true") */
  trustProxy?: string;
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
  if (o.requireLogin && o.registry === false) throw new CalcdxError('usage', { detail: '--require-login: needs the registry (users and sessions); drop --no-registry' });
  // the registry, opened here so that the first administrator's one-time password is printed once
  // to the terminal (never through the request log); an empty registry gets one
  let store: import('../registry/store.js').RegistryStore | undefined;
  if (o.registry !== false) {
    const { openRegistry } = await import('../registry/open.js');
    const { ensureFirstAdmin } = await import('../registry/password.js');
    store = await openRegistry(o.db);
    try {
      const admin = await ensureFirstAdmin(store);
      if (admin) process.stdout.write(`${t(lang, 'registry.first_admin', admin)}\n`);
    } catch (e) {
      await store.close();
      throw e;
    }
  }
  // the server (fastify and its plugins) is loaded only when a server starts, not for every command
  const { buildServer } = await import('../server/app.js');
  const app = await buildServer({
    ...(cds ? { cds } : {}),
    ...(store ? { registry: store, requireLogin: o.requireLogin ?? false } : {}),
    ...(o.trustProxy ? { trustProxy: o.trustProxy === 'true' ? true : o.trustProxy } : {}),
    logger: o.quiet ? false : true,
    maxCtJobs: Math.max(1, Math.floor(ctJobs / workers)),
    ...(o.uploadLimitMb !== undefined ? { uploadLimit: wholeNumber('upload-limit-mb', o.uploadLimitMb, 1, 64 * 1024) * 1024 * 1024 } : {}),
  });
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
    .option('--host <host>', 'address to bind; 0.0.0.0 exposes calcdx to the network (the registry needs a login; the stateless API does only with --require-login)', '127.0.0.1')
    .option('--max-ct-jobs <n>', `CT uploads measured at once (default ${DEFAULTS.maxCtJobs})`)
    .option('--upload-limit-mb <n>', `largest CT upload, MiB (default ${DEFAULTS.uploadLimit / 1024 / 1024})`)
    .option('--quiet', 'no request log')
    .option('--workers <n>', 'server processes sharing the port: a number, or auto (one per core); default 1')
    .option('--cds-config <file>', 'CDS Hooks: trusted issuers (iss, jku allow-list, jwks or jwksUrl, fhirServers) and publicUrl, as JSON')
    .option('--cds-dev-no-auth', 'CDS Hooks without authentication, for local trials only (refused unless --host is a loopback address)')
    .option('--db <location>', 'registry: sqlite:PATH or postgres://user@host:port/database (default: $CALCDX_DB, else ~/.local/share/calcdx/registry.db)')
    .option('--no-registry', 'no registry: the stateless API only (no patients, users or login)')
    .option('--trust-proxy <address>', 'behind a reverse proxy that terminates TLS: its address (or true): X-Forwarded-Proto/For are believed, so the session cookie is Secure and login limits count client addresses')
    .option('--require-login', 'every API route (assessments included) needs a logged-in user; default: only the registry routes do')
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
