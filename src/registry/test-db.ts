/**
 * Databases for the registry's tests: a temporary SQLite file, or a uniquely named
 * PostgreSQL database created on the server named by CALCDX_TEST_PG (and dropped after).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestDbFactory {
  /** a new empty database: its --db location */
  fresh(): Promise<string>;
  /** drops / deletes every database made */
  cleanup(): Promise<void>;
}

export function sqliteFactory(): TestDbFactory {
  const dir = mkdtempSync(join(tmpdir(), 'calcdx-registry-'));
  let i = 0;
  return {
    fresh: async () => `sqlite:${join(dir, `r${++i}.db`)}`,
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

export function postgresFactory(adminUrl: string): TestDbFactory {
  const made: string[] = [];
  const run = async (q: string): Promise<void> => {
    const { default: pg } = await import('pg');
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    try { await c.query(q); } finally { await c.end(); }
  };
  return {
    fresh: async () => {
      const name = `calcdx_test_${process.pid}_${randomBytes(4).toString('hex')}`;
      await run(`create database ${name}`);
      made.push(name);
      const u = new URL(adminUrl);
      u.pathname = `/${name}`;
      return u.toString();
    },
    cleanup: async () => {
      for (const name of made) await run(`drop database if exists ${name} with (force)`);
    },
  };
}

/**
 * The PostgreSQL suites' status: run (CALCDX_TEST_PG set), fail (CI=true without it: CI must
 * run them), or skip (a plain machine without PostgreSQL; said plainly).
 */
export function postgresTestPlan(env: NodeJS.ProcessEnv = process.env): { run: true; url: string } | { run: false; fail: boolean; message: string } {
  const url = env.CALCDX_TEST_PG;
  if (url) return { run: true, url };
  if (env.CI === 'true') return { run: false, fail: true, message: 'CI=true but CALCDX_TEST_PG is not set: the PostgreSQL registry contract tests must run in CI (set CALCDX_TEST_PG=postgres://postgres@127.0.0.1:5432/test; see .ci/run)' };
  return { run: false, fail: false, message: 'SKIPPED the PostgreSQL registry contract tests: CALCDX_TEST_PG is not set (e.g. CALCDX_TEST_PG=postgres://postgres@127.0.0.1:5432/test npm test)' };
}
