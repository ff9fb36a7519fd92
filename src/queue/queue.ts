/**
 * The durable CT job queue in PostgreSQL: pg-boss 10 (schema `calcdx_boss`) carries the jobs to
 * the workers — retries with exponential back-off, a time limit per attempt after which the job is
 * failed and retried (pg-boss 10 has no heartbeat: a killed worker's job comes back when its
 * `expireInSeconds` has passed and a worker's maintenance has run), a dead-letter queue for jobs
 * whose attempts are used up — and calcdx's tables (store.ts) hold what the API shows.
 */
import { randomUUID } from 'node:crypto';
import PgBoss from 'pg-boss';
import pg from 'pg';
import { completeJob, failJob, getJob, housekeeping, insertJob, migrate, NOTIFY_CHANNEL, putInput, type CtJobRow, type InputFile, type JobEvent } from './store.js';
import { CT_DEAD_QUEUE, CT_QUEUE, ctJobData, type CtJobData } from './schema.js';

export const BOSS_SCHEMA = 'calcdx_boss';

export interface QueueSettings {
  /** attempts after the first, for a transient failure (archive down, a worker gone) */
  retryLimit: number;
  /** seconds before the first retry; doubled (with jitter) for each further one */
  retryDelaySeconds: number;
  /**
   * seconds an attempt may run before pg-boss fails it and retries it (a worker that died: pg-boss 10
   * has no heartbeat); by default derived from the measurement's time budget (expireForBudget)
   */
  expireInSeconds: number;
  /** seconds a job may wait in the queue before it expires */
  retentionSeconds: number;
  /** seconds an ended job (its result or error) stays readable */
  keepSeconds: number;
  /** the largest upload queued (bytes, kept in PostgreSQL until the job ends) */
  maxUploadBytes: number;
}

/**
 * The time limit of an attempt from the measurement's time budget (the server's CT timeout, which
 * the worker enforces on the measurement itself): the budget and half of it again for fetching the
 * input and writing the result. A worker killed mid-job holds its job this long at most; a slow but
 * live worker is stopped by its own budget first, so pg-boss never hands a job still running to a
 * second worker. 600 s (the default budget) gives 900 s.
 */
export const expireForBudget = (budgetMs: number): number => Math.ceil((1.5 * budgetMs) / 1000);

export const QUEUE_DEFAULTS: QueueSettings = {
  retryLimit: 3,
  retryDelaySeconds: 10,
  expireInSeconds: expireForBudget(600_000),
  retentionSeconds: 24 * 3600,
  keepSeconds: 7 * 24 * 3600,
  maxUploadBytes: 512 * 1024 * 1024,
};

/** A postgres:// URL from --db or CALCDX_DB; anything else is refused with what is allowed. */
export function checkDbUrl(raw: string): string {
  let u: URL;
  try { u = new URL(raw); } catch { throw new Error('--db: not a URL; allowed: postgres://user@host:port/database (or CALCDX_DB)'); }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') throw new Error(`--db: the scheme is ${u.protocol.replace(':', '')}; allowed: postgres:// or postgresql://`);
  return raw;
}

/** The database URL without its password, for messages. */
export const shownDb = (raw: string): string => raw.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:…@');

export interface QueueConnection {
  /** the database URL */
  db: string;
  boss: PgBoss;
  pool: pg.Pool;
  close(): Promise<void>;
}

/** Connects, creates pg-boss's schema and calcdx's tables if needed, and the two queues. */
export async function connectQueue(db: string, o: { role: 'server' | 'worker'; maintenanceIntervalSeconds?: number }): Promise<QueueConnection> {
  const pool = new pg.Pool({ connectionString: db, max: 8, application_name: `calcdx-${o.role}` });
  // an idle client's error (the database restarted) must not crash the process: the next query reconnects
  pool.on('error', () => undefined);
  const boss = new PgBoss({
    connectionString: db, schema: BOSS_SCHEMA, application_name: `calcdx-${o.role}-boss`, max: 4,
    // only workers supervise (expire attempts past their time, archive): a server may be alone
    supervise: o.role === 'worker', schedule: false,
    ...(o.maintenanceIntervalSeconds ? { maintenanceIntervalSeconds: o.maintenanceIntervalSeconds } : {}),
  });
  boss.on('error', () => undefined);
  try {
    await migrate(pool);
    await boss.start();
    for (const [name, options] of [[CT_DEAD_QUEUE, {}], [CT_QUEUE, { deadLetter: CT_DEAD_QUEUE }]] as const) {
      if (await boss.getQueue(name)) continue;
      await boss.createQueue(name, { name, ...options }).catch(async (e: unknown) => {
        // another process created it at the same moment
        if (!(await boss.getQueue(name))) throw e;
      });
    }
  } catch (e) {
    await boss.stop({ graceful: false, wait: true }).catch(() => undefined);
    await pool.end().catch(() => undefined);
    throw e;
  }
  return {
    db, boss, pool,
    close: async () => {
      await boss.stop({ graceful: true, wait: true, timeout: 10_000 }).catch(() => undefined);
      await pool.end().catch(() => undefined);
    },
  };
}

/** Queues a job: its row, its input (an upload not spooled) and the pg-boss job, in one transaction. */
export async function submitJob(q: QueueConnection, s: QueueSettings, job: Omit<CtJobData, 'jobId' | 'v'>, files: readonly InputFile[] = [], id: string = randomUUID()): Promise<string> {
  const data = ctJobData.parse({ ...job, v: 1, jobId: id });
  const c = await q.pool.connect();
  try {
    await c.query('BEGIN');
    await insertJob(c, id, data.source.kind, s.retentionSeconds);
    if (files.length) await putInput(c, id, files);
    await q.boss.send(CT_QUEUE, data, {
      id,
      retryLimit: s.retryLimit, retryDelay: s.retryDelaySeconds, retryBackoff: true,
      expireInSeconds: s.expireInSeconds, retentionSeconds: s.retentionSeconds,
      deadLetter: CT_DEAD_QUEUE,
      db: { executeSql: (text: string, values: unknown[]) => c.query(text, values) },
    });
    await c.query(`SELECT pg_notify('${NOTIFY_CHANNEL}', json_build_object('id', $1::text, 'state', 'queued', 'progress', 0, 'attempt', 0)::text)`, [id]);
    await c.query('COMMIT');
  } catch (e) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally { c.release(); }
  return id;
}

export { completeJob, failJob, getJob, housekeeping, type CtJobRow, type JobEvent };

/**
 * One LISTEN connection per server process, shared by all its SSE clients: subscribe(id, f) calls
 * f with every event of that job until the returned function is called.
 */
export class JobEvents {
  private client: pg.Client | undefined;
  private readonly subs = new Map<string, Set<(e: JobEvent) => void>>();
  private connecting: Promise<void> | undefined;
  /** `onLost`: the LISTEN connection broke (the database restarted): the subscriptions are gone, streams should end so that their clients reconnect */
  constructor(private readonly db: string, private readonly onLost?: () => void) {}

  private async connect(): Promise<void> {
    const c = new pg.Client({ connectionString: this.db, application_name: 'calcdx-server-listen' });
    const lost = () => {
      if (this.client !== c) return;
      this.client = undefined;
      this.subs.clear();
      this.onLost?.();
    };
    c.on('error', lost);
    c.on('end', lost);
    c.on('notification', (n) => {
      if (n.channel !== NOTIFY_CHANNEL || !n.payload) return;
      let e: JobEvent;
      try { e = JSON.parse(n.payload) as JobEvent; } catch { return; }
      for (const f of this.subs.get(e.id) ?? []) f(e);
    });
    await c.connect();
    await c.query(`LISTEN ${NOTIFY_CHANNEL}`);
    this.client = c;
  }

  async subscribe(id: string, f: (e: JobEvent) => void): Promise<() => void> {
    if (!this.client) {
      this.connecting ??= this.connect().finally(() => { this.connecting = undefined; });
      await this.connecting;
    }
    let set = this.subs.get(id);
    if (!set) this.subs.set(id, (set = new Set()));
    set.add(f);
    return () => {
      set.delete(f);
      if (!set.size) this.subs.delete(id);
    };
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    this.subs.clear();
    await c?.end().catch(() => undefined);
  }
}
