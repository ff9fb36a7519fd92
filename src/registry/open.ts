/**
 * Opening the registry: where it is (--db, CALCDX_DB, or the default file), which driver
 * (loaded only here, so that commands without a registry do not load better-sqlite3 or pg),
 * and the migrations (run forward on open; a newer schema is refused).
 *
 *   sqlite:PATH            SQLite file (created with its folder when missing)
 *   postgres://… postgresql://…   PostgreSQL (libpq connection string)
 *   default                $XDG_DATA_HOME/calcdx/registry.db or ~/.local/share/calcdx/registry.db
 */
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import { withNamedStatements } from './pg-statements.js';
import { withStatementCache } from './sqlite-statements.js';
import type { RegistryDb } from './db-types.js';
import { RegistryError } from './errors.js';
import { KyselyRegistryStore } from './kysely-store.js';

export type RegistryLocation = { dialect: 'sqlite'; file: string } | { dialect: 'postgres'; url: string };

/** SQLite waits this long for another writer's lock before failing (ms). */
export const SQLITE_BUSY_TIMEOUT_MS = 10_000;

export function defaultRegistryFile(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_DATA_HOME && env.XDG_DATA_HOME.startsWith('/') ? env.XDG_DATA_HOME : join(env.HOME || homedir(), '.local', 'share');
  return join(base, 'calcdx', 'registry.db');
}

/** --db, else CALCDX_DB, else the default SQLite file. */
export function parseLocation(db: string | undefined, env: NodeJS.ProcessEnv = process.env): RegistryLocation {
  const raw = db ?? (env.CALCDX_DB || undefined);
  if (raw === undefined) return { dialect: 'sqlite', file: defaultRegistryFile(env) };
  if (/^postgres(ql)?:\/\//.test(raw)) {
    try { new URL(raw); } catch { throw badLocation(raw, 'postgres://'); }
    return { dialect: 'postgres', url: raw };
  }
  if (raw.startsWith('sqlite:')) {
    const file = raw.slice('sqlite:'.length);
    if (!file) throw badLocation(raw, 'sqlite:');
    return { dialect: 'sqlite', file: resolve(file) };
  }
  throw badLocation(raw);
}

function badLocation(raw: string, scheme?: string): RegistryError {
  const shown = raw.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
  return new RegistryError('bad_location', `--db / CALCDX_DB: found "${shown}"; allowed: sqlite:PATH or postgres://user@host:port/database${scheme ? ` (the ${scheme} form is incomplete)` : ''}`, { issues: [{ field: 'db', found: shown, allowed: 'sqlite:PATH or postgres://user@host:port/database' }] });
}

/** The location to show: a connection string without its password. */
export function describeLocation(l: RegistryLocation): string {
  if (l.dialect === 'sqlite') return l.file;
  const u = new URL(l.url);
  if (u.password) u.password = '***';
  return u.toString();
}

export interface OpenOptions { now?: () => Date; migrateTo?: number; siteWalkLesions?: number }

export async function openRegistry(where: RegistryLocation | string | undefined, o: OpenOptions = {}): Promise<KyselyRegistryStore> {
  const loc = typeof where === 'object' ? where : parseLocation(where);
  const location = describeLocation(loc);
  if (loc.dialect === 'sqlite') {
    const { default: Database } = await import('better-sqlite3');
    mkdirSync(dirname(loc.file), { recursive: true });
    let sqlite;
    try {
      sqlite = new Database(loc.file, { timeout: SQLITE_BUSY_TIMEOUT_MS });
      sqlite.pragma('journal_mode = WAL');
      // NORMAL in WAL mode: a committed transaction survives the process being killed (SIGKILL) and is
      // never corrupted; a power cut or OS crash may lose the last transactions before a checkpoint.
      // FULL (an fsync per commit) would hold that too, at ~8 ms per commit on this machine's disk:
      // below the 1,000 assessments/s the registry must sustain. CALCDX_SQLITE_SYNC=FULL chooses it.
      sqlite.pragma(`synchronous = ${process.env.CALCDX_SQLITE_SYNC === 'FULL' ? 'FULL' : 'NORMAL'}`);
      sqlite.pragma('foreign_keys = ON');
      sqlite.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    } catch (e) {
      sqlite?.close();
      throw new RegistryError('bad_location', `cannot open the SQLite registry ${loc.file}: ${(e as Error).message}`);
    }
    const db = new Kysely<RegistryDb>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
    return KyselyRegistryStore.open(db, 'sqlite', { ...o, location });
  }
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({ connectionString: loc.url, max: 10 });
  // a connection dropped by the server is reported by the next query; without a listener it would end the process
  pool.on('error', () => undefined);
  // Durability is the database server's setting (synchronous_commit, on unless its administrator
  // chose otherwise): a commit acknowledged by PostgreSQL is on disk. CALCDX_PG_SYNC=off makes
  // calcdx's own connections commit without waiting for the WAL flush (within 3 x wal_writer_delay,
  // 0.6 s by default; never inconsistent, but a crash of the database server or its machine may
  // lose the last transactions) — faster bulk writes on a slow disk (~290 fsyncs/s here), a choice
  // for whoever runs the registry, not a default. CALCDX_PG_SYNC=on forces waiting.
  const sync = process.env.CALCDX_PG_SYNC;
  if (sync === 'on' || sync === 'off') pool.on('connect', (c) => { c.query(`set synchronous_commit = ${sync}`).catch(() => undefined); });
  try {
    const c = await pool.connect();
    c.release();
  } catch (e) {
    await pool.end();
    throw new RegistryError('bad_location', `cannot connect to the PostgreSQL registry ${location}: ${(e as Error).message}`);
  }
  const db = new Kysely<RegistryDb>({ dialect: new PostgresDialect({ pool: withNamedStatements(pool) }) });
  return KyselyRegistryStore.open(db, 'postgres', { ...o, location });
}
