/**
 * `calcdx worker --db postgres://… [--concurrency N]`: takes CT jobs from the queue in PostgreSQL
 * and runs them (src/queue/worker.ts), until SIGINT/SIGTERM, which stops taking jobs and waits
 * for those running. Loaded only when the command runs (main.ts imports it lazily): the other
 * commands do not load pg and pg-boss.
 */
import { availableParallelism } from 'node:os';
import { CalcdxError } from '../io/errors.js';

export interface WorkerCliOptions {
  db?: string;
  concurrency?: string;
  archive?: string[];
  maintenanceInterval?: string;
  spool?: string;
  keepDays?: string;
  quiet?: boolean;
}

function whole(name: string, raw: string, min: number, max: number): number {
  const x = Number(raw);
  if (!Number.isInteger(x) || x < min || x > max) throw new CalcdxError('usage', { detail: `--${name}: found "${raw}"; allowed: a whole number from ${min} to ${max}` });
  return x;
}

/** --spool: an existing folder, as an absolute path (a usage error naming it otherwise). */
export async function spoolFolder(raw: string): Promise<string> {
  const { stat } = await import('node:fs/promises');
  const { resolve } = await import('node:path');
  const dir = resolve(raw);
  const st = await stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) throw new CalcdxError('usage', { detail: `--spool: found "${raw}", which is not an existing folder; allowed: a folder the server and the workers share` });
  return dir;
}

/** The configured archives: --archive (repeatable) and CALCDX_DICOMWEB_ARCHIVES (separated by commas or spaces), normalised. */
export async function configuredArchives(flags: readonly string[] | undefined, env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const raw = [...(flags ?? []), ...(env.CALCDX_DICOMWEB_ARCHIVES ?? '').split(/[\s,]+/)].filter(Boolean);
  if (!raw.length) return [];
  const { archiveFromEnv } = await import('../pacs/dicomweb.js');
  return [...new Set(raw.map((u) => archiveFromEnv(u, env).url))];
}

export async function runWorkerCommand(o: WorkerCliOptions): Promise<void> {
  const db = o.db ?? process.env.CALCDX_DB;
  if (!db) throw new CalcdxError('usage', { detail: 'calcdx worker needs --db postgres://user@host:port/database (or CALCDX_DB)' });
  const { checkDbUrl, connectQueue, QUEUE_DEFAULTS, shownDb } = await import('../queue/queue.js');
  try { checkDbUrl(db); } catch (e) { throw new CalcdxError('usage', { detail: (e as Error).message }); }
  const concurrency = o.concurrency === undefined ? 1 : o.concurrency === 'auto' ? availableParallelism() : whole('concurrency', o.concurrency, 1, 64);
  const maintenance = o.maintenanceInterval === undefined ? 30 : whole('maintenance-interval', o.maintenanceInterval, 1, 3600);
  const keepSeconds = o.keepDays === undefined ? QUEUE_DEFAULTS.keepSeconds : whole('keep-days', o.keepDays, 1, 3650) * 86400;
  const archives = await configuredArchives(o.archive);
  const spool = o.spool === undefined ? undefined : await spoolFolder(o.spool);
  const log = o.quiet ? undefined : (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), pid: process.pid, ...line })}\n`);
  let q;
  try {
    q = await connectQueue(db, { role: 'worker', maintenanceIntervalSeconds: maintenance });
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new CalcdxError('usage', { detail: `cannot use the database ${shownDb(db)}: ${code ?? ''} ${(e as Error).message}`.replace(/\s+/g, ' ') });
  }
  const { startWorker } = await import('../queue/worker.js');
  const stop = await startWorker(q, { concurrency, archives, keepSeconds, ...(spool ? { spool } : {}), ...(log ? { log } : {}) });
  log?.({ msg: 'worker ready', concurrency, archives: archives.length });
  await new Promise<void>((resolve) => {
    const handler = () => { process.off('SIGINT', handler); process.off('SIGTERM', handler); resolve(); };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  });
  log?.({ msg: 'worker stopping' });
  await stop();
}
