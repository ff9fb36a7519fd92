/**
 * The registry commands end to end, through the real CLI (bin/calcdx.js over dist/) on a
 * SQLite registry in a temporary folder: init and the first administrator, users, worklist,
 * export / import round trip, pseudonymised export, backup / restore, and bad input (clear
 * error, exit code, nothing written).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, EXAMPLES } from '../../src/test-support/cases.js';
import { readCaseFile } from '../../src/io/case-file.js';
import { loadKnowledgeBase } from '../../src/io/kb-files.js';
import { assessmentRecord } from '../../src/registry/assessment-record.js';
import { openRegistry } from '../../src/registry/open.js';

const BIN = join(ROOT, 'bin', 'calcdx.js');
let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'calcdx-regcli-')); });
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

function cli(args: string[], input?: string, env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    input, encoding: 'utf8', timeout: 60_000,
    env: { ...process.env, LANG: 'C', CALCDX_LANG: '', CALCDX_DB: '', XDG_DATA_HOME: join(dir, 'xdg'), ...env },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const db = (name: string) => `sqlite:${join(dir, name)}`;
const counts = (where: string) => JSON.parse(cli(['registry', 'status', '--json', '--db', where]).out).counts;

/** A registry with three patients, their assessments and follow-up plans, made through the store. */
async function populate(where: string): Promise<void> {
  const kb = loadKnowledgeBase();
  const c = readCaseFile(join(EXAMPLES, 'synovial-sarcoma-knee.yaml'));
  const s = await openRegistry(where);
  try {
    for (const [name, mrn, start] of [['Li Wei', 'M-001', '2025-06-15'], ['Wang Fang', 'M-002', '2026-03-16'], [null, null, '2026-06-10']] as const) {
      const p = await s.createPatient({ name, mrn }, null);
      const l = await s.createLesion({ patientId: p.id, site: 'knee', side: 'left' }, null);
      const a = await s.addAssessment(assessmentRecord(kb, l.id, { ...c, id: `case of ${name ?? 'anonymous'}` }, '2026-01-10'), null);
      const { visits } = await s.createPlan({ assessmentId: a.id, startDate: start }, null);
      await s.recordVisit(visits[0]!.id, 1, { doneOn: visits[0]!.dueDate, findings: { sizeMm: 30, growth: 'none', note: `seen ${name ?? ''}` } });
    }
  } finally {
    await s.close();
  }
}

describe('calcdx registry and users', () => {
  it('init creates the default registry and the first administrator once', () => {
    const r = cli(['registry', 'init']);
    expect(r.code).toBe(0);
    expect(r.out).toContain(join(dir, 'xdg', 'calcdx', 'registry.db'));
    const pw = /one-time password: (\S+)/.exec(r.out)?.[1];
    expect(pw?.length).toBe(24);
    const again = cli(['registry', 'init']);
    expect(again.code).toBe(0);
    expect(again.out).not.toContain('one-time password');
    expect(existsSync(join(dir, 'xdg', 'calcdx', 'registry.db'))).toBe(true);
  });

  it('adds users with the password on standard input, never on the command line; refuses bad input and writes nothing', () => {
    const where = db('users.db');
    expect(cli(['registry', 'init', '--db', where]).code).toBe(0);
    const add = cli(['users', 'add', 'dr.chen', '--role', 'clinician', '--db', where], 'a long enough password\n');
    expect(add.code).toBe(0);
    expect(add.out).toContain('dr.chen');
    const before = counts(where);
    const short = cli(['users', 'add', 'dr.wu', '--role', 'viewer', '--db', where], 'short\n');
    expect(short.code).toBe(2);
    expect(short.err).toMatch(/password.*at least 12 characters \(found 5\)/);
    const role = cli(['users', 'add', 'dr.wu', '--role', 'root', '--db', where], 'a long enough password\n');
    expect(role.code).toBe(2);
    expect(role.err).toMatch(/root/);
    const name = cli(['users', 'add', 'Dr Wu', '--role', 'viewer', '--db', where], 'a long enough password\n');
    expect(name.code).toBe(1);
    expect(name.err).toMatch(/username: found "Dr Wu"; allowed: lower-case letters/);
    const dup = cli(['users', 'add', 'dr.chen', '--role', 'viewer', '--db', where], 'a long enough password\n');
    expect(dup.code).toBe(1);
    expect(dup.err).toMatch(/already exists.*dr\.chen is taken/);
    expect(cli(['users', 'passwd', 'nobody', '--db', where], 'a long enough password\n').code).toBe(1);
    // the failed commands wrote nothing, not even an audit row
    expect(counts(where)).toEqual(before);
    expect(cli(['users', 'passwd', 'dr.chen', '--db', where], 'another long password\n').code).toBe(0);
    expect(cli(['users', 'disable', 'dr.chen', '--db', where]).code).toBe(0);
    const list = JSON.parse(cli(['users', 'list', '--json', '--db', where]).out) as Array<{ username: string; role: string; disabled: boolean; passwordHash?: string }>;
    expect(list.map((u) => [u.username, u.role, u.disabled])).toEqual([['admin', 'admin', false], ['dr.chen', 'clinician', true]]);
    expect(list.every((u) => u.passwordHash === undefined)).toBe(true);
  });

  it('lists the worklist as text and JSON, overdue only on request', async () => {
    const where = db('work.db');
    await populate(where);
    const j = cli(['worklist', '--json', '--today', '2026-06-15', '--db', where]);
    expect(j.code).toBe(0);
    const page = JSON.parse(j.out) as { total: number; items: Array<{ visit: { status: string; dueDate: string }; patient: { mrn: string | null } }> };
    expect(page.total).toBeGreaterThan(0);
    expect(page.items.every((r) => ['due', 'overdue', 'planned'].includes(r.visit.status))).toBe(true);
    const od = JSON.parse(cli(['worklist', '--overdue', '--json', '--today', '2026-06-15', '--db', where]).out) as typeof page;
    expect(od.total).toBeGreaterThan(0);
    expect(od.total).toBeLessThan(page.total);
    expect(od.items.every((r) => r.visit.status === 'overdue')).toBe(true);
    const text = cli(['worklist', '--today', '2026-06-15', '--sort', 'status', '--db', where]);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/follow-up visit\(s\) due this week or overdue on 2026-06-15/);
    expect(text.out).toMatch(/^overdue\s+\d{4}-\d{2}-\d{2}/m);
    const bad = cli(['worklist', '--today', '2026-02-30', '--db', where]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--today: found "2026-02-30"; allowed: a calendar date/);
  });

  it('exports and imports JSON Lines losslessly; --pseudonymise drops identifying fields; a broken file imports nothing', async () => {
    const where = db('exp.db');
    await populate(where);
    const out = join(dir, 'exp.jsonl');
    expect(cli(['registry', 'export', '--out', out, '--db', where]).code).toBe(0);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(cli(['registry', 'export', '--out', out, '--db', where]).code).toBe(1); // does not overwrite
    const imp = cli(['registry', 'import', out, '--db', db('imp.db')]);
    expect(imp.code).toBe(0);
    expect(imp.out).toMatch(/patient 3, lesion 3, assessment 3/);
    const again = cli(['registry', 'export', '--db', db('imp.db')]).out.trim().split('\n');
    const body = (ls: string[]) => ls.filter((l) => !/^\{"kind":"(header|audit)"/.test(l));
    expect(body(again)).toEqual(body(lines));
    // the audit rows of the first registry come across, then the import's own
    const audits = lines.filter((l) => l.startsWith('{"kind":"audit"'));
    expect(again.filter((l) => l.startsWith('{"kind":"audit"')).slice(0, audits.length)).toEqual(audits);

    const pseudo = cli(['registry', 'export', '--pseudonymise', '--db', where]);
    expect(pseudo.code).toBe(0);
    for (const secret of ['Li Wei', 'Wang Fang', 'M-001', 'M-002', 'case of', 'seen Li', 'argon2id']) expect(pseudo.out).not.toContain(secret);
    expect(pseudo.out).toContain('"pseudonymised":true');

    const broken = join(dir, 'broken.jsonl');
    writeFileSync(broken, [...lines.slice(0, 5), '{"kind": "patient", "data": {', ...lines.slice(5)].join('\n'));
    const bad = cli(['registry', 'import', broken, '--db', db('bad.db')]);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/invalid input: line 6: found .*allowed: one JSON object a line/);
    expect(counts(db('bad.db'))).toMatchObject({ patients: 0, users: 0, assessments: 0 });
    const missing = cli(['registry', 'import', join(dir, 'nope.jsonl'), '--db', db('bad.db')]);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/nope\.jsonl: file not found/);
  });

  it('backs up with the online backup API and restores (replacing records only with --force)', async () => {
    const where = db('live.db');
    await populate(where);
    const file = join(dir, 'live-backup.db');
    const b = cli(['registry', 'backup', file, '--db', where]);
    expect(b.code).toBe(0);
    expect(cli(['registry', 'backup', file, '--db', where]).code).toBe(1);
    const s = await openRegistry(where);
    await s.createPatient({ mrn: 'AFTER-BACKUP' }, null);
    await s.close();
    expect(counts(where).patients).toBe(4);
    const refused = cli(['registry', 'restore', file, '--db', where]);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/--force/);
    expect(counts(where).patients).toBe(4);
    expect(cli(['registry', 'restore', file, '--force', '--db', where]).code).toBe(0);
    expect(counts(where).patients).toBe(3);
    const notReg = join(dir, 'not-a-registry.db');
    writeFileSync(notReg, 'hello');
    const bad = cli(['registry', 'restore', notReg, '--force', '--db', where]);
    expect(bad.code).toBe(1);
    expect(counts(where).patients).toBe(3);
  });

  it('says which database location is wrong, and how to back up PostgreSQL', () => {
    const r = cli(['registry', 'status', '--db', 'mysql://x']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/found "mysql:\/\/x"; allowed: sqlite:PATH or postgres:\/\//);
    expect(r.err).not.toMatch(/\n\s+at /);
    const env = cli(['registry', 'status'], undefined, { CALCDX_DB: 'nonsense' });
    expect(env.code).toBe(1);
    const pg = cli(['registry', 'backup', join(dir, 'x.dump'), '--db', 'postgres://u:secret@127.0.0.1:5432/reg']);
    expect(pg.code).toBe(2);
    expect(pg.err).toMatch(/pg_dump --format=custom/);
    expect(pg.err).not.toContain('secret');
    const zh = cli(['registry', 'status', '--db', 'mysql://x', '--lang', 'zh']);
    expect(zh.err).toMatch(/登记库：无法使用此数据库：/);
  });
});
