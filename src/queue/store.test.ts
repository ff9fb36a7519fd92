/** The job table against a real PostgreSQL (skipped without CALCDX_TEST_PG, except in CI). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { createTestDb, pgSkipMessage, type TestDb } from '../test-support/postgres.js';
import { completeJob, failJob, getJob, housekeeping, insertJob, migrate, startJob } from './store.js';
import type { Problem } from '../server/problem.js';

const skip = pgSkipMessage('src/queue/store.test.ts');
if (skip) process.stderr.write(skip);
const problem: Problem = { type: 't', title: 't', status: 502, detail: 'd', instance: '/i', code: 'archive' };

describe.skipIf(!!skip)('calcdx.ct_job', () => {
  let db: TestDb;
  let pool: pg.Pool;
  beforeAll(async () => {
    db = await createTestDb('calcdx_store');
    pool = new pg.Pool({ connectionString: db.url });
    // dropping the test database ends the server side of idle clients: not an error of the test
    pool.on('error', () => undefined);
    await Promise.all([migrate(pool), migrate(pool)]); // two processes starting at once
  });
  afterAll(async () => { await pool?.end(); await db?.drop(); });

  const newJob = async (retentionSeconds = 3600) => {
    const id = randomUUID();
    const c = await pool.connect();
    try { await insertJob(c, id, 'upload', retentionSeconds); } finally { c.release(); }
    return id;
  };

  it('the result is written once: a second worker finishing the same job changes nothing', async () => {
    const id = await newJob();
    expect(await startJob(pool, id, 1, 'a:1')).toBe('started');
    expect(await startJob(pool, id, 2, 'b:2')).toBe('started');
    expect(await completeJob(pool, id, { n: 1 })).toBe(true);
    expect(await completeJob(pool, id, { n: 2 })).toBe(false);
    expect(await failJob(pool, id, 'dead', problem)).toBe(false);
    expect(await startJob(pool, id, 3, 'c:3')).toBe('ended');
    expect(await getJob(pool, id)).toMatchObject({ state: 'completed', result: { n: 1 }, error: null, progress: 100 });
  });

  it('a job that waited past its expiry is expired, by the worker that takes it or by housekeeping', async () => {
    const a = await newJob(-1);
    expect(await startJob(pool, a, 1, 'a:1')).toBe('expired');
    const b = await newJob(-1);
    const r = await housekeeping(pool, 3600);
    expect(r.expired).toBeGreaterThanOrEqual(1);
    expect((await getJob(pool, b))!.state).toBe('expired');
    expect(await startJob(pool, randomUUID(), 1, 'a:1')).toBe('missing');
  });

  it('retrying keeps the last error until the job completes', async () => {
    const id = await newJob();
    await startJob(pool, id, 1, 'a:1');
    expect(await failJob(pool, id, 'retrying', problem)).toBe(true);
    expect(await getJob(pool, id)).toMatchObject({ state: 'retrying', error: { code: 'archive' } });
    await startJob(pool, id, 2, 'a:1');
    await completeJob(pool, id, { ok: true });
    expect(await getJob(pool, id)).toMatchObject({ state: 'completed', error: null });
  });
});
