/**
 * The registry's contract: one suite, run against SQLite (a temporary file) always and against
 * PostgreSQL when CALCDX_TEST_PG names a server (each run creates and drops its own databases).
 * With CI=true and no CALCDX_TEST_PG the PostgreSQL suite fails; elsewhere it says it skipped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { readCaseFile } from '../io/case-file.js';
import { loadKnowledgeBase } from '../io/kb-files.js';
import { EXAMPLES } from '../test-support/cases.js';
import { join } from 'node:path';
import { assessmentRecord } from './assessment-record.js';
import { isRegistryError, RegistryError } from './errors.js';
import { pseudonymise, type ExportRecord } from './export-format.js';
import type { KyselyRegistryStore } from './kysely-store.js';
import { decodeJsonText } from './json-codec.js';
import { LATEST_SCHEMA_VERSION } from './migrations.js';
import { openRegistry } from './open.js';
import { ensureFirstAdmin, hashPassword, verifyPassword } from './password.js';
import { postgresFactory, postgresTestPlan, sqliteFactory, type TestDbFactory } from './test-db.js';

const kb = loadKnowledgeBase();
const sarcoma = readCaseFile(join(EXAMPLES, 'synovial-sarcoma-knee.yaml'));
const myositis = readCaseFile(join(EXAMPLES, 'myositis-ossificans-thigh.yaml'));
const TODAY = '2026-06-15';
const clock = () => new Date(`${TODAY}T09:00:00.000Z`);

async function rejects(p: Promise<unknown>, code: RegistryError['code']): Promise<RegistryError> {
  try {
    await p;
  } catch (e) {
    if (isRegistryError(e, code)) return e;
    throw new Error(`expected a RegistryError ${code}, got ${String(e)}`);
  }
  throw new Error(`expected a RegistryError ${code}, but it succeeded`);
}

async function collect(it: AsyncIterable<ExportRecord>): Promise<ExportRecord[]> {
  const out: ExportRecord[] = [];
  for await (const r of it) out.push(r);
  return out;
}

function contract(name: string, factory: () => TestDbFactory): void {
  describe(`registry contract: ${name}`, () => {
    let f: TestDbFactory;
    let store: KyselyRegistryStore;
    beforeAll(async () => {
      f = factory();
      store = await openRegistry(await f.fresh(), { now: clock });
    }, 60_000);
    afterAll(async () => {
      await store?.close();
      await f?.cleanup();
    }, 60_000);

    it('migrates a new database to the latest schema', async () => {
      const s = await store.status();
      expect(s).toMatchObject({ dialect: name, schemaVersion: LATEST_SCHEMA_VERSION, latestSchemaVersion: LATEST_SCHEMA_VERSION });
      expect(s.counts.patients).toBe(0);
    });

    it('creates, reads and updates a patient; a stale version is a conflict, not an overwrite', async () => {
      const p = await store.createPatient({ mrn: 'MRN-1', name: 'Li Wei', birthDate: '1980-02-29', sex: 'female' }, null);
      expect(p).toMatchObject({ mrn: 'MRN-1', name: 'Li Wei', birthDate: '1980-02-29', sex: 'female', version: 1 });
      expect(await store.getPatient(p.id)).toEqual(p);
      const u = await store.updatePatient(p.id, 1, { name: 'Li Wei-Ming' });
      expect(u).toMatchObject({ name: 'Li Wei-Ming', mrn: 'MRN-1', version: 2 });
      const c = await rejects(store.updatePatient(p.id, 1, { name: 'Someone Else' }), 'conflict');
      expect(c.details).toMatchObject({ expectedVersion: 1, currentVersion: 2 });
      expect((await store.getPatient(p.id)).name).toBe('Li Wei-Ming');
      await rejects(store.getPatient('nope'), 'not_found');
      await rejects(store.updatePatient('nope', 1, {}), 'not_found');
    });

    it('keeps a patient pseudonymous when no identifying field is given; a record number is unique', async () => {
      const p = await store.createPatient({}, null);
      expect(p).toMatchObject({ mrn: null, name: null, birthDate: null, sex: null });
      await store.createPatient({ mrn: 'MRN-DUP' }, null);
      const before = (await store.status()).counts.patients;
      await rejects(store.createPatient({ mrn: 'MRN-DUP' }, null), 'exists');
      await rejects(store.updatePatient(p.id, 1, { mrn: 'MRN-DUP' }), 'exists');
      expect((await store.status()).counts.patients).toBe(before);
    });

    it('refuses bad input naming the field, and writes nothing', async () => {
      const before = await store.status();
      const e = await rejects(store.createPatient({ birthDate: '2020-02-30', sex: 'x' } as never, null), 'invalid');
      expect(e.details.issues?.map((i) => i.field).sort()).toEqual(['birthDate', 'sex']);
      expect(e.details.issues?.find((i) => i.field === 'birthDate')?.found).toBe('"2020-02-30"');
      await rejects(store.createLesion({ patientId: 'missing', site: 'thigh' }, null), 'invalid');
      await rejects(store.createPatient({ nickname: 'x' } as never, null), 'invalid');
      expect(await store.status()).toEqual(before);
    });

    it('keeps assessments as made: re-assessing adds a row, nothing is overwritten', async () => {
      const p = await store.createPatient({ mrn: 'MRN-A' }, null);
      const l = await store.createLesion({ patientId: p.id, site: 'knee', side: 'left', firstSeen: '2026-01-10' }, null);
      const in1 = assessmentRecord(kb, l.id, sarcoma, '2026-02-01');
      const a1 = await store.addAssessment(in1, null);
      const a2 = await store.addAssessment(assessmentRecord(kb, l.id, { ...sarcoma, pathology: undefined } as never, '2026-03-01'), 'u1');
      expect(a1.id).not.toBe(a2.id);
      expect(a1).toMatchObject({ lesionId: l.id, patientId: p.id, kbVersion: in1.kbVersion, engineVersion: in1.engineVersion, assessedOn: '2026-02-01', createdBy: null });
      expect(a1.topEntity).toBe((in1.output.differential as Array<{ id: string }>)[0]!.id);
      const got = await store.getAssessment(a1.id);
      expect(got.output).toEqual(in1.output);
      expect(got.caseInput).toEqual(in1.caseInput);
      expect((await store.listAssessments(l.id)).map((a) => a.id)).toEqual([a1.id, a2.id]);
      const n0 = (await store.status()).counts.assessments;
      const e = await rejects(store.addAssessment({ ...in1, lesionId: 'missing' }, null), 'invalid');
      expect(e.details.issues?.[0]).toMatchObject({ field: 'lesionId', found: 'missing' });
      await rejects(store.addAssessment({ ...in1, assessedOn: '2026-1-1' }, null), 'invalid');
      expect((await store.status()).counts.assessments).toBe(n0);
      // the interface has no way to change or remove an assessment
      expect(Object.getOwnPropertyNames(Object.getPrototypeOf(store)).filter((m) => /assessment/i.test(m) && !/^(add|get|list)/.test(m))).toEqual([]);
    });

    it('plans follow-up from the assessment, derives visit status from the dates, records and cancels visits', async () => {
      const p = await store.createPatient({ mrn: 'MRN-F', name: 'Follow Up' }, null);
      const l = await store.createLesion({ patientId: p.id, site: 'knee' }, null);
      // the example has a surgery date: the assessment's visits are dated
      const a = await store.addAssessment(assessmentRecord(kb, l.id, sarcoma, '2026-03-10'), null);
      const { plan, visits } = await store.createPlan({ assessmentId: a.id }, null);
      const fu = a.output.followUp as { visits: Array<{ month: number; date: string }>; scheme: string };
      expect(plan).toMatchObject({ lesionId: l.id, assessmentId: a.id, scheme: fu.scheme, datedFrom: 'surgery' });
      expect(visits.map((v) => [v.month, v.dueDate])).toEqual(fu.visits.map((v) => [v.month, v.date]));
      for (const v of visits) {
        expect(v.windowDays).toBe(14);
        expect(v.status).toBe(v.windowEnd < TODAY ? 'overdue' : v.windowStart <= TODAY ? 'due' : 'planned');
      }
      const first = visits[0]!;
      expect((await store.getVisit(first.id, '2000-01-01')).status).toBe('planned');
      expect((await store.getVisit(first.id, first.windowStart)).status).toBe('due');
      expect((await store.getVisit(first.id, first.windowEnd)).status).toBe('due');
      expect((await store.getVisit(first.id, '2100-01-01')).status).toBe('overdue');

      const done = await store.recordVisit(first.id, 1, { doneOn: first.dueDate, findings: { sizeMm: 42, growth: 'none', localRecurrence: false, lungFindings: 'none', note: 'no change' } });
      expect(done).toMatchObject({ state: 'done', status: 'done', doneOn: first.dueDate, version: 2, findings: { sizeMm: 42, lungFindings: 'none' } });
      await rejects(store.recordVisit(first.id, 1, { doneOn: first.dueDate, findings: {} }), 'conflict');
      await rejects(store.cancelVisit(first.id, 2), 'invalid');
      await rejects(store.recordVisit(visits[1]!.id, 1, { doneOn: 'tomorrow', findings: {} }), 'invalid');
      const cancelled = await store.cancelVisit(visits[1]!.id, 1);
      expect(cancelled.status).toBe('cancelled');
      await rejects(store.recordVisit(cancelled.id, 2, { doneOn: TODAY, findings: {} }), 'invalid');

      // a treatment date entered later: a new plan from it supersedes the first; its open visits are cancelled
      const again = await store.createPlan({ assessmentId: a.id, startDate: '2026-05-01', windowDays: 7 }, null);
      expect(again.visits[0]!.dueDate > '2026-05-01').toBe(true);
      expect(again.visits.every((v) => v.windowDays === 7)).toBe(true);
      const all = await store.listVisits(l.id);
      const old = all.filter((v) => v.planId === plan.id);
      expect(old.find((v) => v.id === first.id)!.status).toBe('done');
      expect(old.filter((v) => v.id !== first.id).every((v) => v.status === 'cancelled')).toBe(true);
      const tl = await store.lesionTimeline(l.id);
      expect(tl.plans.map((x) => x.supersededAt === null)).toEqual([false, true]);

      // re-assessing with the same treatment date: the visit already done covers the schedule up to
      // its date, so the new plan brings back no earlier visit as overdue
      const third = await store.createPlan({ assessmentId: a.id }, null);
      expect(third.visits.length).toBeGreaterThan(0);
      expect(third.visits.every((v) => v.dueDate > first.dueDate)).toBe(true);
      expect(third.visits.length).toBe(visits.filter((v) => v.dueDate > first.dueDate).length);
    });

    it('keeps one open plan per lesion when plans are made at once', async () => {
      const p = await store.createPatient({}, null);
      const l = await store.createLesion({ patientId: p.id, site: 'hip' }, null);
      const a = await store.addAssessment(assessmentRecord(kb, l.id, sarcoma, '2026-03-10'), null);
      await Promise.all(Array.from({ length: 6 }, (_, i) => store.createPlan({ assessmentId: a.id, startDate: `2026-04-0${i + 1}` }, null)));
      const tl = await store.lesionTimeline(l.id);
      expect(tl.plans).toHaveLength(6);
      const open = tl.plans.filter((x) => x.supersededAt === null);
      expect(open).toHaveLength(1);
      expect(tl.visits.filter((v) => v.state === 'planned').every((v) => v.planId === open[0]!.id)).toBe(true);
    });

    it('needs a start date when the assessment gave no visit dates', async () => {
      const p = await store.createPatient({}, null);
      const l = await store.createLesion({ patientId: p.id, site: 'thigh' }, null);
      const noSurgery = { ...sarcoma, treatment: undefined } as never;
      const a = await store.addAssessment(assessmentRecord(kb, l.id, noSurgery, '2026-03-10'), null);
      const fu = a.output.followUp as { visits: Array<{ date?: string }> };
      // a post-operative scheme before treatment: months only
      expect(fu.visits.length).toBeGreaterThan(0);
      expect(fu.visits.every((v) => !v.date)).toBe(true);
      {
        const e = await rejects(store.createPlan({ assessmentId: a.id }, null), 'invalid');
        expect(e.details.issues?.[0]?.field).toBe('startDate');
        const { plan, visits } = await store.createPlan({ assessmentId: a.id, startDate: '2026-04-01' }, null);
        expect(plan).toMatchObject({ datedFrom: 'surgery', startDate: '2026-04-01' });
        expect(visits.length).toBe(fu.visits.length);
      }
      await rejects(store.createPlan({ assessmentId: 'missing' }, null), 'invalid');
    });

    it('lists the worklist: due this week and overdue, sortable and paged', async () => {
      const where = await f.fresh();
      const w = await openRegistry(where, { now: clock });
      try {
        const mk = async (name: string, start: string) => {
          const p = await w.createPatient({ name, mrn: name.toUpperCase() }, null);
          const l = await w.createLesion({ patientId: p.id, site: `site-${name}` }, null);
          const a = await w.addAssessment(assessmentRecord(kb, l.id, sarcoma, '2026-01-01'), null);
          return w.createPlan({ assessmentId: a.id, startDate: start }, null);
        };
        const plans = [await mk('ann', '2025-06-15'), await mk('bob', '2026-03-16'), await mk('cat', '2026-06-10')];
        const open = plans.flatMap((p) => p.visits);
        const expectIn = (today: string, overdueOnly: boolean) => open.filter((v) => (overdueOnly ? v.windowEnd < today : v.windowStart <= today || v.dueDate <= addDaysIso(today, 6)));
        const wl = await w.worklist({ today: TODAY, limit: 1000 });
        expect(wl.total).toBe(expectIn(TODAY, false).length);
        expect(wl.items.map((r) => r.visit.id).sort()).toEqual(expectIn(TODAY, false).map((v) => v.id).sort());
        const dues = wl.items.map((r) => r.visit.dueDate);
        expect(dues).toEqual([...dues].sort());
        expect(wl.items[0]!.patient.name).toBeTruthy();
        const od = await w.worklist({ today: TODAY, overdueOnly: true, limit: 1000 });
        expect(od.items.every((r) => r.visit.status === 'overdue')).toBe(true);
        expect(od.total).toBe(expectIn(TODAY, true).length);
        const byStatus = await w.worklist({ today: TODAY, sort: 'status', limit: 1000 });
        const rank = { overdue: 0, due: 1, planned: 2 } as Record<string, number>;
        const ranks = byStatus.items.map((r) => rank[r.visit.status]!);
        expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
        expect(new Set(ranks).size).toBeGreaterThan(1);
        // paged by status or site, either way: the pages cut across statuses and sites as the whole list does
        const bySite = await w.worklist({ today: TODAY, sort: 'site', desc: true, limit: 1000 });
        const sites = bySite.items.map((r) => `${r.lesion.site} ${r.visit.dueDate}`);
        expect(sites).toEqual([...sites].sort().reverse());
        expect(bySite.total).toBe(wl.total);
        // a site of many lesions is found the other way (walking the open visits by due date): the same list
        const walker = await openRegistry(where, { now: clock, siteWalkLesions: 1 });
        try {
          for (const desc of [false, true]) {
            const ways = [w, walker].map(async (st) => (await st.worklist({ today: TODAY, sort: 'site', desc, limit: 1000 })).items.map((r) => r.visit.id));
            const [few, many] = await Promise.all(ways);
            expect(many).toEqual(few);
            expect((await walker.worklist({ today: TODAY, sort: 'site', desc, limit: 2, offset: 1 })).items.map((r) => r.visit.id)).toEqual(few!.slice(1, 3));
          }
        } finally {
          await walker.close();
        }
        for (const sort of ['status', 'site'] as const) {
          for (const desc of [false, true]) {
            const all = (await w.worklist({ today: TODAY, sort, desc, limit: 1000 })).items.map((r) => r.visit.id);
            expect(all.length).toBe(wl.total);
            const paged: string[] = [];
            for (let offset = 0; offset < all.length + 2; offset += 3) paged.push(...(await w.worklist({ today: TODAY, sort, desc, limit: 3, offset })).items.map((r) => r.visit.id));
            expect(paged).toEqual(all);
          }
        }
        const byPatient = await w.worklist({ today: TODAY, sort: 'patient', desc: true, limit: 1000 });
        const names = byPatient.items.map((r) => r.patient.name!);
        expect(names).toEqual([...names].sort().reverse());
        const p1 = await w.worklist({ today: TODAY, limit: 2, offset: 0 });
        const p2 = await w.worklist({ today: TODAY, limit: 2, offset: 2 });
        expect([...p1.items, ...p2.items].map((r) => r.visit.id)).toEqual(wl.items.slice(0, 4).map((r) => r.visit.id));
        // a done visit leaves the worklist
        const first = wl.items[0]!.visit;
        await w.recordVisit(first.id, first.version, { doneOn: TODAY, findings: { growth: 'none' } });
        expect((await w.worklist({ today: TODAY, limit: 1000 })).total).toBe(wl.total - 1);
        await rejects(w.worklist({ today: 'today' }), 'invalid');
        await rejects(w.worklist({ sort: 'name' } as never), 'invalid');
      } finally {
        await w.close();
      }
    });

    it('searches patients by record number, name, entity, assessment dates and status, paged', async () => {
      const s = await openRegistry(await f.fresh(), { now: clock });
      try {
        const ids: string[] = [];
        for (let i = 0; i < 7; i++) ids.push((await s.createPatient({ mrn: `S-${i}`, name: i % 2 ? `Zhang San ${i}` : `Wang Wu ${i}` }, null)).id);
        const l0 = await s.createLesion({ patientId: ids[0]!, site: 'knee' }, null);
        const l1 = await s.createLesion({ patientId: ids[1]!, site: 'thigh' }, null);
        const a0 = await s.addAssessment(assessmentRecord(kb, l0.id, sarcoma, '2026-02-01'), null);
        const a1 = await s.addAssessment(assessmentRecord(kb, l1.id, myositis, '2026-04-01'), null);
        await s.recordOutcome({ lesionId: l1.id, entity: 'myositis_ossificans', confirmedBy: 'follow_up', date: '2026-05-01' }, null);
        await s.createPlan({ assessmentId: a0.id, startDate: '2025-01-01' }, null);

        expect((await s.searchPatients({ mrn: 'S-3' })).items.map((p) => p.id)).toEqual([ids[3]]);
        const zhang = await s.searchPatients({ name: 'zhang san' });
        expect(zhang.total).toBe(3);
        expect((await s.searchPatients({ name: '%' })).total).toBe(0);
        expect((await s.searchPatients({ entity: a0.topEntity! })).items.map((p) => p.id)).toContain(ids[0]);
        expect((await s.searchPatients({ entity: 'myositis_ossificans' })).items.map((p) => p.id)).toEqual(expect.arrayContaining([ids[1]]));
        expect(a1.topEntity).toBeTruthy();
        expect((await s.searchPatients({ assessedFrom: '2026-03-01' })).items.map((p) => p.id)).toEqual([ids[1]]);
        expect((await s.searchPatients({ assessedFrom: '2026-01-01', assessedTo: '2026-03-01' })).items.map((p) => p.id)).toEqual([ids[0]]);
        expect((await s.searchPatients({ status: 'outcome_recorded' })).items.map((p) => p.id)).toEqual([ids[1]]);
        expect((await s.searchPatients({ status: 'no_outcome' })).total).toBe(6);
        expect((await s.searchPatients({ status: 'overdue', today: TODAY })).items.map((p) => p.id)).toEqual([ids[0]]);
        const page1 = await s.searchPatients({ limit: 3 });
        const page3 = await s.searchPatients({ limit: 3, offset: 6 });
        expect(page1).toMatchObject({ total: 7, limit: 3, offset: 0 });
        expect(page1.items.length).toBe(3);
        expect(page3.items.length).toBe(1);
        await rejects(s.searchPatients({ limit: 0 }), 'invalid');
        await rejects(s.searchPatients({ status: 'lost' } as never), 'invalid');
      } finally {
        await s.close();
      }
    });

    it('records one outcome per lesion and gives the performance inputs', async () => {
      const p = await store.createPatient({}, null);
      const l = await store.createLesion({ patientId: p.id, site: 'shoulder' }, null);
      await store.addAssessment(assessmentRecord(kb, l.id, myositis, '2026-01-05'), null);
      const before = await store.addAssessment(assessmentRecord(kb, l.id, myositis, '2026-02-05'), null);
      await store.addAssessment(assessmentRecord(kb, l.id, myositis, '2026-08-05'), null);
      const o = await store.recordOutcome({ lesionId: l.id, entity: 'myositis_ossificans', confirmedBy: 'histology', date: '2026-03-01', grade: null }, 'u1');
      expect(o).toMatchObject({ patientId: p.id, entity: 'myositis_ossificans', version: 1, createdBy: 'u1' });
      await rejects(store.recordOutcome({ lesionId: l.id, entity: 'x', confirmedBy: 'clinical', date: '2026-03-01' }, null), 'exists');
      await rejects(store.recordOutcome({ lesionId: l.id, entity: 'Not An Id', confirmedBy: 'biopsy', date: '2026-03-01' } as never, null), 'invalid');
      const u = await store.updateOutcome(o.id, 1, { entity: 'myositis_ossificans', confirmedBy: 'histology', date: '2026-03-01', stage: 'n/a' });
      expect(u.version).toBe(2);
      await rejects(store.updateOutcome(o.id, 1, { entity: 'x', confirmedBy: 'clinical', date: '2026-03-01' }), 'conflict');
      expect(await store.getOutcome(l.id)).toEqual(u);
      const perf = (await store.performanceInputs()).filter((x) => x.assessment.lesionId === l.id);
      expect(perf).toHaveLength(1);
      expect(perf[0]!.assessment.id).toBe(before.id);
      expect(perf[0]!.outcome).toEqual({ entity: 'myositis_ossificans', confirmedBy: 'histology', date: '2026-03-01', grade: null });
    });

    it('keeps users with argon2id hashes, roles, locks after repeated failures; ensureFirstAdmin once', async () => {
      const s = await openRegistry(await f.fresh(), { now: clock });
      try {
        const first = await ensureFirstAdmin(s);
        expect(first?.username).toBe('admin');
        expect(first!.password.length).toBeGreaterThanOrEqual(20);
        expect(await ensureFirstAdmin(s)).toBeNull();
        const admin = (await s.findUser('admin'))!;
        // the user and its audit row were written together, once
        const created = (await s.listAudit({ recordType: 'user', limit: 10, offset: 0 })).items.filter((r) => r.recordId === admin.id && r.action === 'create');
        expect(created).toHaveLength(1);
        expect(created[0]).toMatchObject({ userId: null, origin: 'first start' });
        expect(admin).toMatchObject({ role: 'admin', disabled: false, failedLogins: 0 });
        expect(admin.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=3,p=1\$/);
        expect(await verifyPassword(admin.passwordHash, first!.password)).toBe(true);
        expect(await verifyPassword(admin.passwordHash, 'wrong password')).toBe(false);

        const v = await s.createUser({ username: 'dr.chen', role: 'viewer', passwordHash: await hashPassword('correct horse battery') });
        await rejects(s.createUser({ username: 'dr.chen', role: 'admin', passwordHash: v.passwordHash }), 'exists');
        await rejects(s.createUser({ username: 'Dr Chen', role: 'root', passwordHash: 'plain' } as never), 'invalid');
        const up = await s.updateUser(v.id, 1, { role: 'clinician' });
        expect(up).toMatchObject({ role: 'clinician', version: 2 });
        await rejects(s.updateUser(v.id, 1, { disabled: true }), 'conflict');

        for (let i = 0; i < 4; i++) expect((await s.recordLoginFailure(v.id, 5, 15 * 60_000)).lockedUntil).toBeNull();
        const locked = await s.recordLoginFailure(v.id, 5, 15 * 60_000);
        expect(locked.failedLogins).toBe(5);
        expect(locked.lockedUntil).toBe(new Date(clock().getTime() + 15 * 60_000).toISOString());
        expect(await s.recordLoginSuccess(v.id)).toMatchObject({ failedLogins: 0, lockedUntil: null });
        expect((await s.listUsers()).map((u) => u.username)).toEqual(['admin', 'dr.chen']);

        // sessions: stored by hash; disabling the account ends them
        const sess = { idHash: 'a'.repeat(64), userId: v.id, csrfToken: 'c'.repeat(32), createdAt: clock().toISOString(), lastSeenAt: clock().toISOString(), expiresAt: '2026-06-15T17:00:00.000Z' };
        await s.createSession(sess);
        expect(await s.getSession(sess.idHash)).toEqual(sess);
        await s.touchSession(sess.idHash, new Date('2026-06-15T10:00:00.000Z'));
        expect((await s.getSession(sess.idHash))!.lastSeenAt).toBe('2026-06-15T10:00:00.000Z');
        await s.createSession({ ...sess, idHash: 'b'.repeat(64), expiresAt: '2026-06-15T08:00:00.000Z' });
        expect(await s.purgeSessions()).toBe(1);
        await rejects(s.createSession({ ...sess, idHash: 'not hex' }), 'invalid');
        await s.updateUser(v.id, 2, { disabled: true });
        expect(await s.getSession(sess.idHash)).toBeNull();
      } finally {
        await s.close();
      }
    });

    it('appends audit rows (ids, never content) and the database refuses to change or delete them', async () => {
      const e1 = await store.appendAudit({ userId: 'u1', action: 'read', recordType: 'patient', recordId: 'p1', origin: '127.0.0.1' });
      const e2 = await store.appendAudit({ userId: null, action: 'export', recordType: 'registry', recordId: null, origin: 'cli' });
      expect(e2.seq).toBeGreaterThan(e1.seq);
      expect(e1.at).toBe(clock().toISOString());
      const page = await store.listAudit({ recordType: 'patient', recordId: 'p1' });
      expect(page.items).toEqual([{ ...e1, username: null }]); // u1 is no account
      expect((await store.listAudit({ limit: 1 })).items[0]).toEqual({ ...e2, username: null });
      // listed with the username of an account, its id kept
      const who = await store.createUser({ username: 'audit.reader', role: 'auditor', passwordHash: await hashPassword('audited password') });
      const e3 = await store.appendAudit({ userId: who.id, action: 'read', recordType: 'audit', recordId: null, origin: 'cli' });
      expect((await store.listAudit({ userId: who.id })).items).toEqual([{ ...e3, username: 'audit.reader' }]);
      await rejects(store.appendAudit({ userId: 'u1', action: 'Read Name: Li Wei', recordType: 'patient', recordId: 'p1', origin: null }), 'invalid');
      expect(Object.getOwnPropertyNames(Object.getPrototypeOf(store)).filter((m) => /audit/i.test(m))).toEqual(['appendAudit', 'listAudit']);
      await expect(sql`update audit_log set action = 'x'`.execute(store.db)).rejects.toThrow(/append-only/);
      await expect(sql`delete from audit_log`.execute(store.db)).rejects.toThrow(/append-only/);
      if (name === 'postgres') await expect(sql`truncate audit_log`.execute(store.db)).rejects.toThrow(/append-only/);
      expect((await store.listAudit({})).total).toBe(page.total + 2);
    });

    it('keeps a write and its audit row in one transaction: both, or neither', async () => {
      const t = await openRegistry(await f.fresh(), { now: clock });
      try {
        const audit = (recordId: string | null) => ({ userId: 'u1', action: 'create', recordType: 'patient' as const, recordId, origin: '127.0.0.1' });
        const counts = async () => { const c = (await t.status()).counts; return { patients: c.patients, audit: c.audit }; };
        // both kept
        const p = await t.transaction(async (s) => { const made = await s.createPatient({ mrn: 'TX-1' }, 'u1'); await s.appendAudit(audit(made.id)); return made; });
        expect(await counts()).toEqual({ patients: 1, audit: 1 });
        expect((await t.listAudit({ recordId: p.id })).items).toHaveLength(1);
        // the audit insert fails in the database (a trigger refuses it): the patient written before it is rolled back
        if (name === 'sqlite') await sql`create trigger refuse_audit before insert on audit_log begin select raise(abort, 'audit refused'); end`.execute(t.db);
        else {
          await sql`create function refuse_audit() returns trigger language plpgsql as $$ begin raise exception 'audit refused'; end $$`.execute(t.db);
          await sql`create trigger refuse_audit before insert on audit_log for each row execute function refuse_audit()`.execute(t.db);
        }
        await expect(t.transaction(async (s) => { const made = await s.createPatient({ mrn: 'TX-2' }, 'u1'); await s.appendAudit(audit(made.id)); })).rejects.toThrow(/audit refused/);
        expect(await counts()).toEqual({ patients: 1, audit: 1 });
        expect((await t.searchPatients({ mrn: 'TX-2' })).total).toBe(0);
        await sql`drop trigger refuse_audit${sql.raw(name === 'postgres' ? ' on audit_log' : '')}`.execute(t.db);
        // the write fails after its audit row (the record number is taken): the audit row is rolled back
        await rejects(t.transaction(async (s) => { await s.appendAudit(audit(null)); await s.createPatient({ mrn: 'TX-1' }, 'u1'); }), 'exists');
        expect(await counts()).toEqual({ patients: 1, audit: 1 });
        // a multi-row write (a plan: supersedes, cancels, inserts visits) joins the outer transaction and is rolled back with it
        const l = await t.createLesion({ patientId: p.id, site: 'knee' }, 'u1');
        const a = await t.addAssessment(assessmentRecord(kb, l.id, sarcoma, '2026-01-01'), 'u1');
        await expect(t.transaction(async (s) => { await s.createPlan({ assessmentId: a.id, startDate: '2026-02-01' }, 'u1'); throw new Error('after the plan'); })).rejects.toThrow('after the plan');
        expect(await t.listVisits(l.id)).toEqual([]);
        // the store still works after the rollbacks
        expect((await t.createPatient({ mrn: 'TX-3' }, 'u1')).mrn).toBe('TX-3');
      } finally {
        await t.close();
      }
    });

    it('writes an assessment and the audit row given with it at once: both, or neither', async () => {
      const t = await openRegistry(await f.fresh(), { now: clock });
      try {
        const p = await t.createPatient({}, 'u1');
        const l = await t.createLesion({ patientId: p.id, site: 'knee' }, 'u1');
        const rec = assessmentRecord(kb, l.id, sarcoma, '2026-01-01');
        const by = { userId: 'u1', action: 'create', origin: '127.0.0.1' };
        const counts = async () => { const c = (await t.status()).counts; return { assessments: c.assessments, audit: c.audit }; };
        const a = await t.addAssessment(rec, 'u1', by);
        expect(a).toMatchObject({ lesionId: l.id, patientId: p.id, createdBy: 'u1', createdAt: clock().toISOString() });
        expect(await t.getAssessment(a.id)).toEqual(a);
        expect((await t.listAudit({ recordId: a.id })).items).toEqual([{ seq: expect.any(Number), at: clock().toISOString(), ...by, recordType: 'assessment', recordId: a.id, username: null }]);
        expect(await counts()).toEqual({ assessments: 1, audit: 1 });
        // a lesion that does not exist: neither row
        const missing = await rejects(t.addAssessment({ ...rec, lesionId: 'missing' }, 'u1', by), 'invalid');
        expect(missing.details.issues?.[0]).toMatchObject({ field: 'lesionId', found: 'missing' });
        // an audit entry that is not valid: refused before anything is written, naming its field
        const bad = await rejects(t.addAssessment(rec, 'u1', { ...by, action: 'Read Name: Li Wei' }), 'invalid');
        expect(bad.details.issues?.[0]).toMatchObject({ field: 'audit.action' });
        expect(await counts()).toEqual({ assessments: 1, audit: 1 });
        // the database refuses the audit row: the assessment is not kept either
        if (name === 'sqlite') await sql`create trigger refuse_audit before insert on audit_log begin select raise(abort, 'audit refused'); end`.execute(t.db);
        else {
          await sql`create function refuse_audit() returns trigger language plpgsql as $$ begin raise exception 'audit refused'; end $$`.execute(t.db);
          await sql`create trigger refuse_audit before insert on audit_log for each row execute function refuse_audit()`.execute(t.db);
        }
        await expect(t.addAssessment(rec, 'u1', by)).rejects.toThrow(/audit refused/);
        await expect(t.transaction(async (s) => s.addAssessment(rec, 'u1', by))).rejects.toThrow(/audit refused/);
        expect(await counts()).toEqual({ assessments: 1, audit: 1 });
        await sql`drop trigger refuse_audit${sql.raw(name === 'postgres' ? ' on audit_log' : '')}`.execute(t.db);
        // inside transaction(): kept or rolled back with it
        await expect(t.transaction(async (s) => { await s.addAssessment(rec, 'u1', by); throw new Error('after the assessment'); })).rejects.toThrow('after the assessment');
        expect(await counts()).toEqual({ assessments: 1, audit: 1 });
        const b = await t.transaction(async (s) => s.addAssessment(rec, 'u1', by));
        expect((await t.listAudit({ recordId: b.id })).total).toBe(1);
        expect(await counts()).toEqual({ assessments: 2, audit: 2 });
        // without an audit entry: the assessment alone, as before
        await t.addAssessment(rec, 'u1');
        expect(await counts()).toEqual({ assessments: 3, audit: 2 });
        if (name === 'postgres') {
          // one statement, prepared once per connection (src/registry/pg-statements.ts)
          const prepared = await t.transaction(async (s) => {
            await s.addAssessment(rec, 'u1', by);
            return (await sql<{ name: string }>`select name from pg_prepared_statements`.execute((s as KyselyRegistryStore).db)).rows.map((r) => r.name);
          });
          expect(prepared).toEqual([expect.stringMatching(/^calcdx_[0-9a-f]{24}$/)]);
        }
      } finally {
        await t.close();
      }
    });

    it('exports and imports losslessly (JSON Lines records); pseudonymised export drops identifying fields', async () => {
      await store.appendAudit({ userId: null, action: 'create', recordType: 'patient', recordId: 'x', origin: 'cli' });
      await store.createUser({ username: 'exp', role: 'auditor', passwordHash: await hashPassword('exported password') });
      const recs = await collect(store.exportRecords());
      expect(recs[0]!.kind).toBe('header');
      const target = await openRegistry(await f.fresh(), { now: clock });
      try {
        const counts = await target.importRecords(recs);
        const st = await store.status();
        expect(counts).toMatchObject({ patient: st.counts.patients, assessment: st.counts.assessments, visit: st.counts.visits, audit: st.counts.audit });
        const again = await collect(target.exportRecords());
        expect(again.slice(1)).toEqual(recs.slice(1));
        // the imported audit log continues its sequence
        const next = await target.appendAudit({ userId: null, action: 'read', recordType: 'registry', recordId: null, origin: 'cli' });
        expect(next.seq).toBe(Math.max(...recs.filter((r) => r.kind === 'audit').map((r) => (r.data as { seq: number }).seq)) + 1);
        // into a registry that is not empty: refused, nothing written
        const st2 = await target.status();
        await rejects(target.importRecords(recs), 'invalid');
        expect(await target.status()).toEqual(st2);
      } finally {
        await target.close();
      }
      const pseudo = recs.map(pseudonymise).filter((r): r is ExportRecord => r !== null);
      expect(pseudo.some((r) => r.kind === 'user' || r.kind === 'audit')).toBe(false);
      for (const r of pseudo) if (r.kind === 'patient') expect([r.data.mrn, r.data.name, r.data.birthDate]).toEqual([null, null, null]);
      const t2 = await openRegistry(await f.fresh(), { now: clock });
      try {
        await t2.importRecords(pseudo);
        expect((await t2.status()).counts.patients).toBe((await store.status()).counts.patients);
      } finally {
        await t2.close();
      }
    });

    it('refuses a broken import with the line, and writes nothing', async () => {
      const t = await openRegistry(await f.fresh(), { now: clock });
      try {
        const recs = await collect(store.exportRecords());
        const visitAt = recs.findIndex((r) => r.kind === 'visit');
        const broken = recs.slice();
        broken[visitAt] = { kind: 'visit', data: { ...(recs[visitAt]!.data as object), dueDate: '2026-13-01' } } as ExportRecord;
        const e = await rejects(t.importRecords(broken), 'invalid');
        expect(e.details.issues?.[0]?.field).toBe(`line ${visitAt + 1}.data.dueDate`);
        // a child before its parent
        const orphan = [recs[0]!, recs.find((r) => r.kind === 'visit')!];
        await rejects(t.importRecords(orphan), 'invalid');
        await rejects(t.importRecords([]), 'invalid');
        expect((await t.status()).counts).toEqual({ patients: 0, lesions: 0, assessments: 0, visits: 0, outcomes: 0, users: 0, audit: 0 });
      } finally {
        await t.close();
      }
    });

    it('migrates an old database forward on open and refuses a newer one', async () => {
      const where = await f.fresh();
      const old = await openRegistry(where, { now: clock, migrateTo: 1 });
      expect((await old.status().catch(() => null))).toBeNull(); // v1 has no users table: status needs v2
      const p = await old.createPatient({ mrn: 'OLD-1', name: 'Kept' }, null);
      const l = await old.createLesion({ patientId: p.id, site: 'knee' }, null);
      // an assessment as schema v1-v2 kept it: the JSON as text (v3 compresses it; the text is kept byte for byte)
      const rec = assessmentRecord(kb, l.id, sarcoma, '2026-01-01');
      const caseText = JSON.stringify(rec.caseInput, null, 1);
      const outText = JSON.stringify(rec.output);
      await sql`insert into assessment (id, lesion_id, patient_id, case_input, output, kb_version, engine_version, assessed_on, top_entity, created_by, created_at)
        values ('old-a', ${l.id}, ${p.id}, ${caseText}, ${outText}, ${rec.kbVersion}, ${rec.engineVersion}, '2026-01-01', 'synovial_sarcoma', null, '2026-01-01T00:00:00.000Z')`.execute(old.db);
      await old.close();
      const fresh = await openRegistry(where, { now: clock });
      expect((await fresh.status()).schemaVersion).toBe(LATEST_SCHEMA_VERSION);
      expect(await fresh.getPatient(p.id)).toEqual(p);
      const kept = await fresh.getAssessment('old-a');
      expect(kept).toMatchObject({ lesionId: l.id, patientId: p.id, assessedOn: '2026-01-01', kbVersion: rec.kbVersion });
      expect(kept.caseInput).toEqual(JSON.parse(caseText));
      expect(JSON.stringify(kept.output)).toBe(outText);
      const stored = await fresh.db.selectFrom('assessment').select('outputBrotli').where('id', '=', 'old-a').executeTakeFirstOrThrow();
      expect(decodeJsonText(stored.outputBrotli)).toBe(outText);
      expect(stored.outputBrotli.length).toBeLessThan(outText.length / 2);
      await sql`update calcdx_schema set version = ${LATEST_SCHEMA_VERSION + 1}`.execute(fresh.db);
      await fresh.close();
      const e = await rejects(openRegistry(where), 'schema_too_new');
      expect(e.message).toMatch(new RegExp(`version ${LATEST_SCHEMA_VERSION + 1}, newer than this calcdx knows \\(${LATEST_SCHEMA_VERSION}\\)`));
    });
  });
}

function addDaysIso(iso: string, days: number): string {
  return new Date(Date.parse(`${iso}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

contract('sqlite', sqliteFactory);

const pg = postgresTestPlan();
if (pg.run) {
  contract('postgres', () => postgresFactory(pg.url));
} else if (pg.fail) {
  describe('registry contract: postgres', () => {
    it('runs in CI', () => { throw new Error(pg.message); });
  });
} else {
  console.warn(`calcdx: ${pg.message}`);
  describe('registry contract: postgres', () => {
    it.skip(pg.message, () => undefined);
  });
}
