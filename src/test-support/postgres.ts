/**
 * PostgreSQL for the tests of the CT job queue: CALCDX_TEST_PG is the URL of a server the tests may
 * create databases on (e.g. postgres://postgres@127.0.0.1:5432/postgres); each test creates its own
 * database and drops it after. Unset: the tests are skipped with a message — except in CI (CI=true),
 * where the machine's PostgreSQL (127.0.0.1:5432, trust auth) is used and must be there.
 */
import pg from 'pg';
import { inCi } from './tool-gate.js';

export { inCi };
export const PG_BASE = process.env.CALCDX_TEST_PG || (inCi ? 'postgres://postgres@127.0.0.1:5432/postgres' : '');

/** A message saying why the PostgreSQL tests are skipped, or '' when they run. */
export function pgSkipMessage(file: string): string {
  return PG_BASE ? '' : `${file} SKIPPED: set CALCDX_TEST_PG=postgres://postgres@127.0.0.1:5432/postgres (a PostgreSQL the tests may create databases on) to run the CT job queue tests\n`;
}

export interface TestDb { url: string; name: string; drop(): Promise<void> }

/** Creates a fresh database; drop() ends its connections and drops it. */
export async function createTestDb(prefix = 'calcdx_test'): Promise<TestDb> {
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6).toString(36)}`;
  const admin = new pg.Client({ connectionString: PG_BASE });
  await admin.connect();
  try { await admin.query(`CREATE DATABASE ${name}`); } finally { await admin.end(); }
  const u = new URL(PG_BASE);
  u.pathname = `/${name}`;
  return {
    url: u.toString(), name,
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_BASE });
      await c.connect();
      try { await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`); } finally { await c.end(); }
    },
  };
}

/** One query on a database (the tests look at the tables as they are). */
export async function query<T extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try { return (await c.query<T>(text, values)).rows; } finally { await c.end(); }
}
