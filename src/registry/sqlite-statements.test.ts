import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { withStatementCache } from './sqlite-statements.js';

describe('withStatementCache', () => {
  it('hands out the same statement for the same SQL, a fresh one while it is busy, and keeps at most max', () => {
    const raw = new Database(':memory:');
    const db = withStatementCache(raw, 2);
    db.prepare('create table t (x integer)').run([]);
    const ins = db.prepare('insert into t (x) values (?)');
    for (let i = 0; i < 5; i++) db.prepare('insert into t (x) values (?)').run([i]);
    expect(db.prepare('insert into t (x) values (?)')).toBe(ins);
    const sel = db.prepare('select x from t order by x');
    const it1 = sel.iterate([]);
    expect(it1.next().value).toEqual({ x: 0 });
    // busy: another query with the same SQL gets its own statement and runs to the end
    const other = db.prepare('select x from t order by x');
    expect(other).not.toBe(sel);
    expect(other.all([]).map((r) => (r as { x: number }).x)).toEqual([0, 1, 2, 3, 4]);
    expect([...it1].map((r) => (r as { x: number }).x)).toEqual([1, 2, 3, 4]);
    expect(db.prepare('select x from t order by x')).toBe(sel);
    // a third SQL text drops the least recently prepared (the insert) beyond max = 2
    db.prepare('select count(*) as n from t');
    expect(db.prepare('insert into t (x) values (?)')).not.toBe(ins);
    db.close();
    expect(raw.open).toBe(false);
  });
});
