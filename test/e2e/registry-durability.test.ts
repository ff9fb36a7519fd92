/**
 * Nothing acknowledged is lost: the real server process (`calcdx serve --db …`, built dist/)
 * takes a stream of writes (patients, and assessments with their audit rows — one statement on
 * PostgreSQL) and is killed with SIGKILL in the middle of it; restarted on the
 * same database, every write it had answered 201 is there (an assessment with its audit row), the session made before the kill
 * still works, and the database opens clean (SQLite: integrity_check). SQLite always;
 * PostgreSQL when CALCDX_TEST_PG is set (CI).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { openRegistry } from '../../src/registry/open.js';
import { postgresFactory, postgresTestPlan, sqliteFactory, type TestDbFactory } from '../../src/registry/test-db.js';
import { exampleCases, ROOT } from '../../src/test-support/cases.js';

const BIN = join(ROOT, 'bin', 'calcdx.js');

interface Running { child: ChildProcess; url: string; stdout: () => string }

function start(db: string, extra: string[] = ['--quiet']): Promise<Running> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...extra, '--lang', 'en', '--db', db], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CALCDX_LANG: '' } });
  let out = '';
  let err = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`server did not start: ${out} ${err}`)); }, 60_000);
    child.stderr!.on('data', (d) => { err += String(d); });
    child.stdout!.on('data', (d) => {
      out += String(d);
      const m = /listening at (http:\/\/[^\s]+?) /.exec(out);
      if (m) { clearTimeout(timer); resolve({ child, url: m[1]!, stdout: () => out }); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited ${code}: ${out} ${err}`)); });
  });
}

const exited = (c: ChildProcess) => new Promise<void>((resolve) => { if (c.exitCode !== null || c.signalCode !== null) resolve(); else c.once('exit', () => resolve()); });

async function login(url: string, username: string, password: string): Promise<{ cookie: string; csrf: string }> {
  const r = await fetch(`${url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
  expect(r.status).toBe(200);
  return { cookie: r.headers.get('set-cookie')!.split(';')[0]!, csrf: (await r.json()).csrfToken };
}

function durability(name: string, factory: () => TestDbFactory): void {
  describe(`SIGKILL during writes: ${name}`, () => {
    const f = factory();
    afterAll(async () => f.cleanup(), 60_000);

    it('every acknowledged write survives a SIGKILL; the database opens clean', async () => {
      const db = await f.fresh();
      const first = await start(db);
      let second: Running | undefined;
      try {
        const pw = /one-time password: (\S+)/.exec(first.stdout())?.[1];
        expect(pw, first.stdout()).toMatch(/^[A-Za-z0-9]{24}$/);
        const admin = await login(first.url, 'admin', pw!);
        const add = await fetch(`${first.url}/api/users`, { method: 'POST', headers: { 'content-type': 'application/json', cookie: admin.cookie, 'x-csrf-token': admin.csrf }, body: JSON.stringify({ username: 'writer', role: 'clinician', password: 'writer password 12345' }) });
        expect(add.status).toBe(201);
        const doc = await login(first.url, 'writer', 'writer password 12345');

        const headers = { 'content-type': 'application/json', cookie: doc.cookie, 'x-csrf-token': doc.csrf };
        const owner = await fetch(`${first.url}/api/patients`, { method: 'POST', headers, body: JSON.stringify({ mrn: 'K-owner' }) });
        expect(owner.status).toBe(201);
        const lesionRes = await fetch(`${first.url}/api/patients/${(await owner.json()).id}/lesions`, { method: 'POST', headers, body: JSON.stringify({ site: 'thigh' }) });
        expect(lesionRes.status).toBe(201);
        const lesionId: string = (await lesionRes.json()).id;
        // an assessment as a clinician posts it: with its audit row and, its visits being dated, the
        // follow-up plan that supersedes the lesion's last one — two writers on one lesion at once (on
        // PostgreSQL this once deadlocked: the plan's FOR UPDATE lock against the other's foreign-key lock)
        const kase = exampleCases()[0]!.case;

        // four writers until the server dies: two sending patients, two sending assessments
        const acked: Array<{ id: string; mrn: string }> = [];
        const ackedAssessments: string[] = [];
        let failed = 0;
        let killed = false;
        let n = 0;
        const writer = async (kind: 'patient' | 'assessment') => {
          for (;;) {
            const mrn = `K-${++n}`;
            try {
              const r = kind === 'patient'
                ? await fetch(`${first.url}/api/patients`, { method: 'POST', headers, body: JSON.stringify({ mrn }) })
                : await fetch(`${first.url}/api/lesions/${lesionId}/assessments`, { method: 'POST', headers, body: JSON.stringify({ case: kase, assessedOn: '2026-02-10' }) });
              if (r.status !== 201) throw new Error(`status ${r.status}: ${await r.text()}`);
              const body = await r.json();
              if (kind === 'patient') acked.push({ id: body.id, mrn });
              else ackedAssessments.push(body.assessment.id);
            } catch (e) {
              // a write the server had not answered when it was killed: not acknowledged
              if (!killed) throw e;
              failed++;
              return;
            }
          }
        };
        const writers = [writer('patient'), writer('patient'), writer('assessment'), writer('assessment')];
        while (acked.length < 40 || ackedAssessments.length < 20) await new Promise((r) => setTimeout(r, 5));
        killed = true;
        first.child.kill('SIGKILL');
        await Promise.all(writers);
        await exited(first.child);
        expect(first.child.signalCode).toBe('SIGKILL');
        expect(failed).toBe(4);

        second = await start(db);
        expect(second.stdout()).not.toMatch(/one-time password/);
        // the session made before the kill is still there
        for (const { id, mrn } of acked) {
          const r = await fetch(`${second.url}/api/patients/${id}`, { headers: { cookie: doc.cookie } });
          expect(r.status, `acknowledged patient ${mrn}`).toBe(200);
          expect((await r.json()).patient.mrn).toBe(mrn);
        }
        const timeline = await fetch(`${second.url}/api/lesions/${lesionId}/assessments`, { headers: { cookie: doc.cookie } });
        expect(timeline.status).toBe(200);
        const stored = new Set(((await timeline.json()).items as Array<{ id: string }>).map((a) => a.id));
        for (const id of ackedAssessments) expect(stored.has(id), `acknowledged assessment ${id}`).toBe(true);
        second.child.kill('SIGTERM');
        await exited(second.child);
        second = undefined;

        const s = await openRegistry(db);
        try {
          const st = await s.status();
          expect(st.counts.patients).toBeGreaterThanOrEqual(acked.length);
          expect(st.schemaVersion).toBe(st.latestSchemaVersion);
          // every assessment stored has its audit row, and no audit row names an assessment that is not stored
          const rows = await s.db.selectFrom('assessment').select('id').where('lesionId', '=', lesionId).execute();
          const audited = await s.db.selectFrom('auditLog').select('recordId').where('recordType', '=', 'assessment').where('action', '=', 'create').execute();
          expect(new Set(audited.map((a) => a.recordId))).toEqual(new Set(rows.map((r) => r.id)));
          expect(rows.length).toBeGreaterThanOrEqual(ackedAssessments.length);
        } finally { await s.close(); }
        if (db.startsWith('sqlite:')) {
          const { default: Database } = await import('better-sqlite3');
          const raw = new Database(db.slice('sqlite:'.length), { readonly: true });
          try { expect(raw.pragma('integrity_check', { simple: true })).toBe('ok'); } finally { raw.close(); }
        }
      } finally {
        if (first.child.exitCode === null && first.child.signalCode === null) first.child.kill('SIGKILL');
        if (second) { second.child.kill('SIGKILL'); await exited(second.child); }
      }
    }, 180_000);
  });
}

durability('sqlite', sqliteFactory);

describe('first start', () => {
  const f = sqliteFactory();
  afterAll(async () => f.cleanup());
  it('an empty registry gets an admin whose one-time password is printed once to the terminal, never in the log; --require-login closes the stateless API', async () => {
    const db = await f.fresh();
    const s = await start(db, ['--require-login']);
    try {
      const pw = /one-time password: (\S+)/.exec(s.stdout())![1]!;
      const anon = await fetch(`${s.url}/api/assess`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"formatVersion":1}' });
      expect(anon.status).toBe(401);
      expect((await fetch(`${s.url}/api/health`)).status).toBe(200);
      const admin = await login(s.url, 'admin', pw);
      const ok = await fetch(`${s.url}/api/assess`, { method: 'POST', headers: { 'content-type': 'application/json', cookie: admin.cookie, 'x-csrf-token': admin.csrf }, body: '{"formatVersion":1}' });
      expect(ok.status).toBe(200);
      await new Promise((r) => setTimeout(r, 200));
      const out = s.stdout();
      expect(out.split(pw).length - 1).toBe(1);
      const logLines = out.split('\n').filter((l) => l.startsWith('{'));
      expect(logLines.length).toBeGreaterThan(2);
      expect(logLines.join('\n')).not.toContain(pw);
    } finally {
      s.child.kill('SIGTERM');
      await exited(s.child);
    }
  }, 120_000);
});
const pg = postgresTestPlan();
if (pg.run) durability('postgres', () => postgresFactory(pg.url));
else if (pg.fail) describe('SIGKILL during writes: postgres', () => { it('runs in CI', () => { throw new Error(pg.message); }); });
else describe.skip(`SIGKILL during writes: postgres — ${pg.message}`, () => { it('skipped', () => undefined); });
