/**
 * The registry's HTTP API: patients, lesion episodes, assessments (the engine run on a case and
 * kept as an immutable snapshot, with the follow-up plan it implies), visits, the worklist,
 * outcomes, the audit log and local performance.
 *
 * Every route declares who may use it (`config.access`, checked by the auth plugin before the
 * body is read), checks its input against zod schemas (a 400 problem naming each field,
 * nothing written), and writes one audit row per read or change: the user, the action, the
 * record's type and id, the client address — never clinical content. A change carries the
 * row version it was made on; a stale one is a 409 (src/registry/errors.ts, problem.ts).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { KnowledgeBase } from '../../core/knowledge/compile.js';
import { LANGS, t } from '../../i18n/index.js';
import { visitsIcs } from '../../report/ics.js';
import { assessmentRecord } from '../../registry/assessment-record.js';
import { followUpOf } from '../../registry/follow-up.js';
import {
  isoDate, lesionInput, lesionPatch, outcomeInput, PATIENT_STATUSES, patientInput, PLAN_BASES, recordId, rowVersion,
  visitFindings, WORKLIST_SORTS, AUDIT_RECORD_TYPES, isoInstant, type Assessment, type VisitFindings,
} from '../../registry/schema.js';
import type { RegistryStore } from '../../registry/store.js';
import { jsonBody, langQuery } from '../auth/plugin.js';
import { AUDIT, READ_AGGREGATE, READ_CLINICAL, WRITE_CLINICAL } from '../auth/access.js';
import { caseOf, langOf } from '../request.js';
import { invalidInput, parseInput } from '../input.js';
import { HttpProblem } from '../problem.js';
import { createPerformance } from './performance.js';

// ---------------------------------------------------------------- request schemas

const count = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const flag = z.enum(['true', 'false']).transform((v) => v === 'true');
const pageQuery = { limit: count(1, 1000).optional(), offset: count(0, 1_000_000_000).optional(), lang: z.enum(LANGS).optional() };
const idParams = z.strictObject({ id: recordId });

export const patientSearchQuery = z.strictObject({
  mrn: z.string().min(1).max(64).optional(),
  name: z.string().min(1).max(200).optional(),
  entity: z.string().min(1).max(100).optional(),
  from: isoDate.optional(),
  to: isoDate.optional(),
  status: z.enum(PATIENT_STATUSES).optional(),
  today: isoDate.optional(),
  ...pageQuery,
});
export const patientPatchBody = patientInput.extend({ version: rowVersion });
export const lesionCreateBody = lesionInput.omit({ patientId: true });
export const lesionPatchBody = lesionPatch.extend({ version: rowVersion });
export const assessmentBody = z.strictObject({
  /** the case, case format v1 (validated as /api/assess validates it) */
  case: z.record(z.string(), z.unknown()),
  /** the assessment date (default today) */
  assessedOn: isoDate.optional(),
  /** when the follow-up visits count from: the treatment date, when known; default the assessment's own dates */
  followUpFrom: z.strictObject({ startDate: isoDate, datedFrom: z.enum(PLAN_BASES).optional() }).optional(),
});
export const planBody = z.strictObject({ assessmentId: recordId, startDate: isoDate, datedFrom: z.enum(PLAN_BASES).optional(), windowDays: z.number().int().min(0).max(180).optional() });
export const visitBody = z.discriminatedUnion('status', [
  z.strictObject({ status: z.literal('done'), version: rowVersion, doneOn: isoDate, findings: visitFindings }),
  z.strictObject({ status: z.literal('cancelled'), version: rowVersion }),
]);
export const worklistQueryParams = z.strictObject({
  today: isoDate.optional(), overdue: flag.optional(), sort: z.enum(WORKLIST_SORTS).optional(), desc: flag.optional(), ...pageQuery,
});
export const outcomePatchBody = outcomeInput.omit({ lesionId: true }).extend({ version: rowVersion });
export const auditQueryParams = z.strictObject({
  userId: recordId.optional(), recordType: z.enum(AUDIT_RECORD_TYPES).optional(), recordId: recordId.optional(),
  from: isoInstant.optional(), to: isoInstant.optional(), ...pageQuery,
});

// ---------------------------------------------------------------- helpers

/** findings that call for a new assessment: growth, a local recurrence, lung findings */
export function newFindings(f: VisitFindings): boolean {
  return f.growth === 'grown' || f.localRecurrence === true || f.lungFindings === 'nodules_indeterminate' || f.lungFindings === 'metastases';
}

/** the lesion's last case, updated with what the visit found (size, growth, recurrence), for a new assessment */
export function prefilledCase(last: Assessment, f: VisitFindings): Record<string, unknown> {
  const c = structuredClone(last.caseInput) as Record<string, Record<string, unknown> | undefined>;
  if (typeof f.sizeMm === 'number') c.lesion = { ...c.lesion, sizeCm: Math.round(f.sizeMm) / 10 };
  if (f.growth === 'shrunk') c.symptoms = { ...c.symptoms, growth: 'shrinking' };
  if (f.growth === 'none') c.symptoms = { ...c.symptoms, growth: 'stable' };
  if (f.growth === 'grown' && (c.symptoms?.growth === 'stable' || c.symptoms?.growth === 'shrinking')) {
    // grown, at a rate the visit does not give: the old value is wrong, the new one is the clinician's to enter
    const { growth, ...rest } = c.symptoms;
    void growth;
    c.symptoms = rest;
  }
  if (f.localRecurrence === true) c.history = { ...c.history, recurrenceAfterExcision: true };
  return c;
}

const today = (): string => new Date().toISOString().slice(0, 10);

export interface RegistryPluginOptions { kb: KnowledgeBase; store: RegistryStore; publishedCases?: string }

export async function registryPlugin(app: FastifyInstance, o: RegistryPluginOptions): Promise<void> {
  const { kb, store } = o;
  const read = { config: { access: READ_CLINICAL } };
  const write = { config: { access: WRITE_CLINICAL }, ...jsonBody };
  const actor = (req: FastifyRequest): string => app.userOf(req).id;
  const performance = createPerformance(kb, store, o.publishedCases);

  // ---- patients
  app.get('/api/patients', read, async (req) => {
    const q = parseInput(patientSearchQuery, req.query, 'query');
    const { from, to, lang, ...rest } = q;
    void lang;
    const page = await store.searchPatients({ ...rest, ...(from ? { assessedFrom: from } : {}), ...(to ? { assessedTo: to } : {}) });
    await app.audit(req, 'search', 'patient', null);
    return page;
  });

  app.post('/api/patients', write, async (req, reply) => {
    const b = parseInput(patientInput, req.body, 'body');
    const p = await app.audited(req, 'create', 'patient', (s) => s.createPatient(b, actor(req)), (r) => r.id);
    return reply.code(201).send(p);
  });

  app.get('/api/patients/:id', read, async (req) => {
    const { id } = parseInput(idParams, req.params, 'params');
    parseInput(langQuery, req.query, 'query');
    const timeline = await store.patientTimeline(id);
    await app.audit(req, 'read', 'patient', id);
    return timeline;
  });

  app.patch('/api/patients/:id', write, async (req) => {
    const { id } = parseInput(idParams, req.params, 'params');
    const { version, ...patch } = parseInput(patientPatchBody, req.body, 'body');
    const p = await app.audited(req, 'update', 'patient', (s) => s.updatePatient(id, version, patch), () => id);
    return p;
  });

  // the patient's open follow-up visits as a calendar (the same iCalendar code as /api/followup.ics)
  app.get('/api/patients/:id/followup.ics', read, async (req, reply) => {
    const { id } = parseInput(idParams, req.params, 'params');
    parseInput(langQuery, req.query, 'query');
    const lang = langOf(req);
    const timeline = await store.patientTimeline(id);
    await app.audit(req, 'export', 'patient', id);
    const open = timeline.lesions.flatMap((l) => l.visits.filter((v) => v.state === 'planned'));
    const r = visitsIcs(kb, open.map((v) => ({ date: v.dueDate, month: v.month, items: v.items, uid: `calcdx-visit-${v.id}@calcdx` })), undefined, lang);
    if (!r.ok) {
      if (r.reason === 'no_visits') throw new HttpProblem(422, 'no_visits', (l) => t(l, 'server.no_registry_visits'));
      throw new Error(`ics: ${r.reason}`);
    }
    return reply.type('text/calendar; charset=utf-8').header('content-disposition', 'attachment; filename="calcdx-followup.ics"').send(r.ics);
  });

  // ---- lesion episodes
  app.post('/api/patients/:id/lesions', write, async (req, reply) => {
    const { id } = parseInput(idParams, req.params, 'params');
    const b = parseInput(lesionCreateBody, req.body, 'body');
    const l = await app.audited(req, 'create', 'lesion', (s) => s.createLesion({ ...b, patientId: id }, actor(req)), (r) => r.id);
    return reply.code(201).send(l);
  });

  app.get('/api/lesions/:id', read, async (req) => {
    const { id } = parseInput(idParams, req.params, 'params');
    parseInput(langQuery, req.query, 'query');
    const timeline = await store.lesionTimeline(id);
    await app.audit(req, 'read', 'lesion', id);
    return timeline;
  });

  app.patch('/api/lesions/:id', write, async (req) => {
    const { id } = parseInput(idParams, req.params, 'params');
    const { version, ...patch } = parseInput(lesionPatchBody, req.body, 'body');
    const l = await app.audited(req, 'update', 'lesion', (s) => s.updateLesion(id, version, patch), () => id);
    return l;
  });

  // ---- assessments: the timeline, and a new one (engine run, snapshot kept, follow-up planned)
  app.get('/api/lesions/:id/assessments', read, async (req) => {
    const { id } = parseInput(idParams, req.params, 'params');
    parseInput(langQuery, req.query, 'query');
    const items = await store.listAssessments(id);
    await app.audit(req, 'read', 'lesion', id);
    return { items };
  });

  app.post('/api/lesions/:id/assessments', write, async (req, reply) => {
    const { id } = parseInput(idParams, req.params, 'params');
    const lang = langOf(req);
    const b = parseInput(assessmentBody, req.body, 'body');
    const c = caseOf(b.case);
    const lesion = await store.getLesion(id);
    const rec = assessmentRecord(kb, lesion.id, c, b.assessedOn ?? today(), lang);
    // a plan only when its visits can be dated: by the assessment itself, or by the date given
    const f = followUpOf(rec.output);
    const plannable = !!f && f.visits.length > 0 && (b.followUpFrom !== undefined || f.visits.every((v) => v.date));
    // the assessment with its audit row (written together: one statement on PostgreSQL); with a
    // plan, the plan and its audit row too, all in one transaction
    const { recordType: _t, recordId: _r, ...audit } = app.auditEntry(req, 'create', 'assessment', null);
    const write = async (s: RegistryStore) => {
      const a = await s.addAssessment(rec, actor(req), audit);
      if (!plannable) return { a, plan: null };
      const plan = await s.createPlan({ assessmentId: a.id, ...(b.followUpFrom ?? {}) }, actor(req));
      await s.appendAudit(app.auditEntry(req, 'create', 'plan', plan.plan.id));
      return { a, plan };
    };
    const { a, plan } = plannable ? await store.transaction(write) : await write(store);
    return reply.code(201).send({ assessment: a, plan: plan?.plan ?? null, visits: plan?.visits ?? [] });
  });

  // a plan dated from a treatment date entered later
  app.post('/api/lesions/:id/plans', write, async (req, reply) => {
    const { id } = parseInput(idParams, req.params, 'params');
    const b = parseInput(planBody, req.body, 'body');
    const a = await store.getAssessment(b.assessmentId);
    if (a.lesionId !== id) invalidInput((l) => [{ path: 'body.assessmentId', code: 'not_allowed', found: b.assessmentId, allowed: `an assessment of lesion ${id}`, message: t(l, 'server.field_invalid', { path: 'body.assessmentId', found: b.assessmentId, allowed: `an assessment of lesion ${id}` }) }]);
    const p = await app.audited(req, 'create', 'plan', (s) => s.createPlan({ ...b, datedFrom: b.datedFrom ?? 'surgery' }, actor(req)), (r) => r.plan.id);
    return reply.code(201).send(p);
  });

  // ---- visits
  app.get('/api/visits/:id', read, async (req) => {
    const { id } = parseInput(idParams, req.params, 'params');
    parseInput(langQuery, req.query, 'query');
    const v = await store.getVisit(id);
    await app.audit(req, 'read', 'visit', id);
    return v;
  });

  app.patch('/api/visits/:id', write, async (req) => {
    const { id } = parseInput(idParams, req.params, 'params');
    const b = parseInput(visitBody, req.body, 'body');
    if (b.status === 'cancelled') {
      const v = await app.audited(req, 'cancel', 'visit', (s) => s.cancelVisit(id, b.version), () => id);
      return { visit: v, reassess: null };
    }
    const v = await app.audited(req, 'update', 'visit', (s) => s.recordVisit(id, b.version, { doneOn: b.doneOn, findings: b.findings }), () => id);
    let reassess = null;
    if (newFindings(b.findings)) {
      const all = await store.listAssessments(v.lesionId);
      const last = all[all.length - 1];
      if (last) reassess = { lesionId: v.lesionId, fromAssessment: last.id, case: prefilledCase(last, b.findings) };
    }
    return { visit: v, reassess };
  });

  // ---- worklist: visits due this week and overdue
  app.get('/api/worklist', read, async (req) => {
    const q = parseInput(worklistQueryParams, req.query, 'query');
    const page = await store.worklist({
      ...(q.today ? { today: q.today } : {}), overdueOnly: q.overdue ?? false, sort: q.sort ?? 'dueDate', desc: q.desc ?? false,
      ...(q.limit !== undefined ? { limit: q.limit } : {}), ...(q.offset !== undefined ? { offset: q.offset } : {}),
    });
    await app.audit(req, 'read', 'worklist', null);
    return page;
  });

  // ---- outcomes
  const entityCheck = (entity: string, path: string) => {
    if (!kb.entityIndex.has(entity)) {
      const allowed = 'a knowledge-base entity id (GET /api/kb)';
      invalidInput((l) => [{ path, code: 'unknown_entity', found: entity, allowed, message: t(l, 'server.field_invalid', { path, found: entity, allowed }) }]);
    }
  };

  app.post('/api/outcomes', write, async (req, reply) => {
    const b = parseInput(outcomeInput, req.body, 'body');
    entityCheck(b.entity, 'body.entity');
    const out = await app.audited(req, 'create', 'outcome', (s) => s.recordOutcome(b, actor(req)), (r) => r.id);
    return reply.code(201).send(out);
  });

  app.patch('/api/outcomes/:id', write, async (req) => {
    const { id } = parseInput(idParams, req.params, 'params');
    const { version, ...patch } = parseInput(outcomePatchBody, req.body, 'body');
    entityCheck(patch.entity, 'body.entity');
    const out = await app.audited(req, 'update', 'outcome', (s) => s.updateOutcome(id, version, patch), () => id);
    return out;
  });

  // ---- audit log (admin, auditor); reading it is audited too
  app.get('/api/audit', { config: { access: AUDIT } }, async (req) => {
    const { lang, ...q } = parseInput(auditQueryParams, req.query, 'query');
    void lang;
    const page = await store.listAudit(q);
    await app.audit(req, 'read', 'audit', null);
    return page;
  });

  // ---- local performance from recorded outcomes
  app.get('/api/registry/performance', { config: { access: READ_AGGREGATE } }, async (req) => {
    parseInput(langQuery, req.query, 'query');
    const r = await performance();
    await app.audit(req, 'read', 'performance', null);
    return r;
  });
}
