/**
 * better-sqlite3 as kysely's SQLite database, with its prepared statements kept and reused.
 * kysely prepares every query afresh; compiling the SQL of a query takes SQLite about as long as
 * running a small insert, and the registry runs the same few dozen statements again and again.
 * Reusing a statement is safe because better-sqlite3 runs `all` and `run` synchronously, to the
 * end; a statement still busy (an `iterate` not finished) is never handed out twice: a fresh one
 * is prepared instead. The number kept is bounded (least recently prepared dropped first).
 */
import type { Database, Statement } from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

export function withStatementCache(db: Database, max = 256): SqliteDatabase {
  const cache = new Map<string, Statement>();
  return {
    close: () => {
      cache.clear();
      db.close();
    },
    prepare(sql: string): SqliteStatement {
      const kept = cache.get(sql);
      if (kept && !kept.busy) return kept;
      const fresh = db.prepare(sql);
      if (kept) return fresh; // the kept one is busy: this one is used once
      if (cache.size >= max) cache.delete(cache.keys().next().value as string);
      cache.set(sql, fresh);
      return fresh;
    },
  };
}
