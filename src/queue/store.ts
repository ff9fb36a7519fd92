/**
 * calcdx's own tables next to pg-boss's (schema `calcdx`): ct_job is what the API shows of a job
 * (state, progress, attempt, the result written once, the error as a problem), ct_input holds an
 * uploaded volume until its job ends. Every state or progress change is announced with
 * pg_notify('calcdx_ct_job', {id, state, progress, attempt}) so that any server process can push
 * it to its SSE clients, whichever machine the worker runs on.
 *
 * Why uploads live in PostgreSQL (bytea chunks of 4 MiB) rather than in a shared folder: the
 * workers already reach PostgreSQL and nothing else is needed (no NFS mount to configure on every
 * worker machine); the input is written in the same transaction as the job, so there is never a
 * job without its input or an input without its job; and it is deleted with the job's end. The cost
 * is database space while jobs wait: the queue's upload limit (default 512 MiB) bounds each input.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import type { Pool, PoolClient } from 'pg';
import type { Problem } from '../server/problem.js';
import type { CtJobState } from './schema.js';

export const NOTIFY_CHANNEL = 'calcdx_ct_job';
const CHUNK = 4 * 1024 * 1024;
const TERMINAL_SQL = `('completed','failed','dead','expired')`;

export interface CtJobRow {
  id: string;
  state: CtJobState;
  progress: number;
  attempt: number;
  result: Record<string, unknown> | null;
  error: Problem | null;
  created_at: Date;
  updated_at: Date;
  expires_at: Date;
}

export interface JobEvent { id: string; state: CtJobState; progress: number; attempt: number }

/** Creates the schema and tables once (an advisory lock keeps concurrent starts from racing). */
export async function migrate(pool: Pool): Promise<void> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    await c.query('SELECT pg_advisory_xact_lock(hashtext(\'calcdx.ct_job\'))');
    await c.query('CREATE SCHEMA IF NOT EXISTS calcdx');
    await c.query(`CREATE TABLE IF NOT EXISTS calcdx.ct_job (
      id uuid PRIMARY KEY,
      state text NOT NULL CHECK (state IN ('queued','running','retrying','completed','failed','dead','expired')),
      progress integer NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
      attempt integer NOT NULL DEFAULT 0,
      source text NOT NULL,
      worker text,
      result jsonb,
      error jsonb,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      finished_at timestamptz,
      expires_at timestamptz NOT NULL)`);
    await c.query(`CREATE TABLE IF NOT EXISTS calcdx.ct_input (
      job_id uuid NOT NULL REFERENCES calcdx.ct_job (id) ON DELETE CASCADE,
      file_no integer NOT NULL,
      role text NOT NULL CHECK (role IN ('volume','mask')),
      name text NOT NULL,
      chunk_no integer NOT NULL,
      data bytea NOT NULL,
      PRIMARY KEY (job_id, file_no, chunk_no))`);
    // the volume files are compressed already (gzip) or CT noise: pglz would spend ~1 s per 8 MB
    // finding that out on every insert; stored out of line uncompressed
    await c.query('ALTER TABLE calcdx.ct_input ALTER COLUMN data SET STORAGE EXTERNAL');
    await c.query('CREATE INDEX IF NOT EXISTS ct_job_state ON calcdx.ct_job (state, expires_at)');
    await c.query('COMMIT');
  } catch (e) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally { c.release(); }
}

const notify = (c: Pool | PoolClient, id: string) =>
  c.query(`SELECT pg_notify('${NOTIFY_CHANNEL}', json_build_object('id', id, 'state', state, 'progress', progress, 'attempt', attempt)::text) FROM calcdx.ct_job WHERE id = $1`, [id]);

export async function insertJob(c: PoolClient, id: string, source: string, retentionSeconds: number): Promise<void> {
  await c.query(`INSERT INTO calcdx.ct_job (id, state, source, expires_at) VALUES ($1, 'queued', $2, now() + $3 * interval '1 second')`, [id, source, retentionSeconds]);
}

export interface InputFile { path: string; role: 'volume' | 'mask'; name: string }

/** Copies the upload's files into ct_input, 4 MiB a row. */
export async function putInput(c: PoolClient, id: string, files: readonly InputFile[]): Promise<void> {
  let fileNo = 0;
  for (const f of files) {
    fileNo++;
    let chunkNo = 0;
    let pending: Buffer[] = [];
    let size = 0;
    const flush = async () => {
      if (!size && chunkNo > 0) return;
      await c.query('INSERT INTO calcdx.ct_input (job_id, file_no, role, name, chunk_no, data) VALUES ($1, $2, $3, $4, $5, $6)', [id, fileNo, f.role, f.name, chunkNo++, Buffer.concat(pending, size)]);
      pending = []; size = 0;
    };
    for await (const b of createReadStream(f.path, { highWaterMark: 1024 * 1024 })) {
      pending.push(b as Buffer); size += (b as Buffer).length;
      if (size >= CHUNK) await flush();
    }
    await flush();
  }
}

/**
 * Writes a job's input into `dir` (a worker's private temporary folder, removed after the job):
 * volume files as in/f000001 …, the mask as mask. Returns the paths and the names they were uploaded under.
 */
export async function getInput(pool: Pool, id: string, dir: string): Promise<{ volumePaths: string[]; maskPath?: string; names: Map<string, string> }> {
  const { rows } = await pool.query<{ file_no: number; role: 'volume' | 'mask'; name: string; chunks: number }>(
    'SELECT file_no, role, min(name) AS name, count(*)::int AS chunks FROM calcdx.ct_input WHERE job_id = $1 GROUP BY file_no, role ORDER BY file_no', [id]);
  const inDir = join(dir, 'in');
  await mkdir(inDir, { mode: 0o700 });
  const volumePaths: string[] = [];
  let maskPath: string | undefined;
  const names = new Map<string, string>([[dir, 'upload'], [inDir, 'upload']]);
  for (const f of rows) {
    const target = f.role === 'mask' ? join(dir, 'mask') : join(inDir, `f${String(volumePaths.length + 1).padStart(6, '0')}`);
    if (f.role === 'mask') maskPath = target; else volumePaths.push(target);
    names.set(target, f.name);
    const out = createWriteStream(target, { flags: 'wx', mode: 0o600 });
    try {
      for (let k = 0; k < f.chunks; k++) {
        // base64, decoded natively: three times faster than node-postgres's bytea text (hex, twice the size)
        const r = await pool.query<{ data: string }>(`SELECT encode(data, 'base64') AS data FROM calcdx.ct_input WHERE job_id = $1 AND file_no = $2 AND chunk_no = $3`, [id, f.file_no, k]);
        if (!out.write(Buffer.from(r.rows[0]!.data, 'base64'))) await once(out, 'drain');
      }
    } finally {
      out.end();
      await once(out, 'close');
    }
  }
  return { volumePaths, ...(maskPath ? { maskPath } : {}), names };
}

export async function getJob(pool: Pool, id: string): Promise<CtJobRow | undefined> {
  const { rows } = await pool.query<CtJobRow>('SELECT id, state, progress, attempt, result, error, created_at, updated_at, expires_at FROM calcdx.ct_job WHERE id = $1', [id]);
  return rows[0];
}

/**
 * A worker takes the job: running, attempt n. Undefined when the job has ended already (completed
 * by a worker thought dead, failed, expired): the caller then leaves it.
 */
export async function startJob(pool: Pool, id: string, attempt: number, worker: string): Promise<'started' | 'ended' | 'expired' | 'missing'> {
  const exp = await pool.query(`UPDATE calcdx.ct_job SET state = 'expired', updated_at = now(), finished_at = now()
    WHERE id = $1 AND state IN ('queued','retrying') AND expires_at < now() RETURNING id`, [id]);
  if (exp.rowCount) { await notify(pool, id); await dropInput(pool, id); return 'expired'; }
  const r = await pool.query(`UPDATE calcdx.ct_job SET state = 'running', attempt = $2, worker = $3, progress = 0, updated_at = now()
    WHERE id = $1 AND state NOT IN ${TERMINAL_SQL} RETURNING id`, [id, attempt, worker]);
  if (r.rowCount) { await notify(pool, id); return 'started'; }
  const row = await getJob(pool, id);
  return row ? 'ended' : 'missing';
}

export async function setProgress(pool: Pool, id: string, progress: number): Promise<void> {
  const r = await pool.query(`UPDATE calcdx.ct_job SET progress = $2, updated_at = now() WHERE id = $1 AND state = 'running' AND progress < $2 RETURNING id`, [id, Math.max(0, Math.min(99, Math.round(progress)))]);
  if (r.rowCount) await notify(pool, id);
}

/** Writes the result once: false when the job had ended already (another worker finished it). */
export async function completeJob(pool: Pool, id: string, result: unknown): Promise<boolean> {
  const r = await pool.query(`UPDATE calcdx.ct_job SET state = 'completed', progress = 100, result = $2, error = NULL, updated_at = now(), finished_at = now()
    WHERE id = $1 AND state NOT IN ${TERMINAL_SQL} RETURNING id`, [id, JSON.stringify(result)]);
  if (!r.rowCount) return false;
  await notify(pool, id);
  await dropInput(pool, id);
  return true;
}

/** failed (bad input, no retry), dead (retries used up) or retrying (a transient failure, tried again later). */
export async function failJob(pool: Pool, id: string, state: 'failed' | 'dead' | 'retrying', error: Problem): Promise<boolean> {
  const ends = state !== 'retrying';
  const r = await pool.query(`UPDATE calcdx.ct_job SET state = $2, error = $3, updated_at = now()${ends ? ', finished_at = now()' : ''}
    WHERE id = $1 AND state NOT IN ${TERMINAL_SQL} RETURNING id`, [id, state, JSON.stringify(error)]);
  if (!r.rowCount) return false;
  await notify(pool, id);
  if (ends) await dropInput(pool, id);
  return true;
}

export async function dropInput(pool: Pool, id: string): Promise<void> {
  await pool.query('DELETE FROM calcdx.ct_input WHERE job_id = $1', [id]);
}

/**
 * Housekeeping, run by every worker now and then: jobs that waited past their expiry are expired
 * (their input deleted), and ended jobs older than `keepSeconds` are deleted with their results.
 */
export async function housekeeping(pool: Pool, keepSeconds: number): Promise<{ expired: number; deleted: number; expiredIds: string[] }> {
  const exp = await pool.query<{ id: string }>(`UPDATE calcdx.ct_job SET state = 'expired', updated_at = now(), finished_at = now()
    WHERE state IN ('queued','retrying') AND expires_at < now() RETURNING id`);
  for (const { id } of exp.rows) { await notify(pool, id); await dropInput(pool, id); }
  const del = await pool.query(`DELETE FROM calcdx.ct_job WHERE state IN ${TERMINAL_SQL} AND finished_at < now() - $1 * interval '1 second'`, [keepSeconds]);
  return { expired: exp.rowCount ?? 0, deleted: del.rowCount ?? 0, expiredIds: exp.rows.map((r) => r.id) };
}
