/**
 * node-postgres's pool as kysely's PostgreSQL pool, running the statements registered here
 * (`namedStatement`) as named prepared statements: PostgreSQL parses, analyses and plans each once
 * per connection instead of at every execution. kysely sends every query unnamed; for the
 * registry's most frequent write (an assessment with its audit row: one statement of two inserts)
 * that work was about half of the server's CPU per insert (measured on a loaded machine:
 * 1.05-1.52 ms unnamed, 0.65-0.81 ms named).
 *
 * Only registered statements are named: each has one fixed SQL text (no lists of varying length),
 * so the statements prepared on a connection stay few; every other query is sent as before.
 * A named statement stays valid across schema changes (PostgreSQL plans it again when a table,
 * index or trigger it uses changes).
 */
import { createHash } from 'node:crypto';
import type { PostgresPool, PostgresPoolClient } from 'kysely';
import type { Pool, PoolClient } from 'pg';

const names = new Map<string, string>();

/** From now on `sql` (the exact text) runs as a named prepared statement on every connection of a pool made by withNamedStatements. */
export function namedStatement(sql: string): void {
  if (!names.has(sql)) names.set(sql, `calcdx_${createHash('sha256').update(sql).digest('hex').slice(0, 24)}`);
}

export function withNamedStatements(pool: Pool): PostgresPool {
  // one wrapper per connection: kysely keeps its connection object by the client it is given
  const wrapped = new WeakMap<PoolClient, PostgresPoolClient>();
  const wrap = (client: PoolClient): PostgresPoolClient => {
    const query = (q: unknown, values?: readonly unknown[]): unknown => {
      if (typeof q !== 'string') return client.query(q as never); // a cursor (kysely's stream)
      const name = names.get(q);
      return name === undefined ? client.query(q, values as unknown[]) : client.query({ name, text: q, values: values as unknown[] });
    };
    return { query: query as PostgresPoolClient['query'], release: (destroy?: boolean) => client.release(destroy) };
  };
  return {
    end: () => pool.end(),
    async connect() {
      const client = await pool.connect();
      let w = wrapped.get(client);
      if (!w) wrapped.set(client, (w = wrap(client)));
      return w;
    },
  };
}
