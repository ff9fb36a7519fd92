/**
 * The registry and auth routes in the OpenAPI document: request bodies and query parameters
 * from the same zod schemas the routes check their input with, responses from the registry's
 * record schemas (src/registry/schema.ts). Each operation names the roles that may call it
 * (`x-roles`) and its security: the session cookie, plus the CSRF header for a change.
 */
import { z } from 'zod';
import {
  assessment, auditEntry, followUpPlan, lesion, outcome, outcomeInput, patient, patientInput, ROLES, user, visit, VISIT_STATUSES,
} from '../registry/schema.js';
import { ADMIN, AUDIT, READ_AGGREGATE, READ_CLINICAL, WRITE_CLINICAL } from './auth/access.js';
import { passwordResetBody, userCreateBody, userPatchBody } from './auth/users.js';
import {
  assessmentBody, auditQueryParams, lesionCreateBody, lesionPatchBody, outcomePatchBody, patientPatchBody, patientSearchQuery, planBody,
  visitBody, worklistQueryParams,
} from './registry/plugin.js';
import { componentSchema as json, jsonResponse, langParam as lang, problemResponse as problem, ref, sessionProblems, sessionSecurity } from './openapi-parts.js';

const ok = (schema: Record<string, unknown>, description = 'ok', status = 200) => ({ [status]: jsonResponse(description, schema) });

const visitView = visit.extend({ status: z.enum(VISIT_STATUSES).describe('planned / due / overdue (from the dates and today), done, cancelled') });
const publicUser = user.omit({ passwordHash: true });
const pageOf = (item: z.ZodType) => z.object({ items: z.array(item), total: z.number().int(), limit: z.number().int(), offset: z.number().int() });
const lesionTimeline = z.object({ lesion, assessments: z.array(assessment), plans: z.array(followUpPlan), visits: z.array(visitView), outcome: outcome.nullable() });
const me = z.object({ user: z.object({ id: z.string(), username: z.string(), role: z.enum(ROLES) }), csrfToken: z.string(), expiresAt: z.string(), idleTimeoutSeconds: z.number().int() });
const loginBody = z.object({ username: z.string(), password: z.string() });

export const REGISTRY_SCHEMAS = {
  Patient: patient, Lesion: lesion, RegistryAssessment: assessment, FollowUpPlan: followUpPlan, Visit: visitView, Outcome: outcome, User: publicUser,
  AuditEntry: auditEntry, LesionTimeline: lesionTimeline, PatientTimeline: z.object({ patient, lesions: z.array(lesionTimeline) }),
  PatientPage: pageOf(patient), AuditPage: pageOf(auditEntry),
  WorklistPage: pageOf(z.object({ visit: visitView, patient: patient.pick({ id: true, mrn: true, name: true }), lesion: lesion.pick({ id: true, site: true, side: true }) })),
  Me: me,
} as const;

const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const langParam = lang('language of the texts and problems (default: Accept-Language, else English)');

function queryParams(s: z.ZodObject): Array<Record<string, unknown>> {
  return Object.entries(s.shape).map(([name, f]) => ({ name, in: 'query', required: false, schema: json(f as z.ZodType, 'output') }));
}

interface Op { summary: string; roles: readonly string[] | 'session' | 'public'; query?: z.ZodObject; body?: z.ZodType; responses: Record<string, unknown>; path?: boolean }

function op(method: string, o: Op): Record<string, unknown> {
  const change = method !== 'get';
  const security = o.roles === 'public' ? [] : sessionSecurity(method);
  return {
    summary: o.summary,
    'x-roles': o.roles === 'public' || o.roles === 'session' ? o.roles : [...o.roles],
    security,
    parameters: [...(o.path ? [idParam] : []), ...(o.query ? queryParams(o.query) : [langParam])],
    ...(o.body ? { requestBody: { required: true, content: { 'application/json': { schema: json(o.body, 'input') } } } } : {}),
    responses: {
      ...o.responses,
      ...(o.body || o.query || o.path ? { 400: problem('input not valid: `errors` names each field, what was found, what is allowed') } : {}),
      ...(o.roles !== 'public' ? sessionProblems() : {}),
      ...(o.path ? { 404: problem('no such record') } : {}),
      ...(change && o.body && o.path ? { 409: problem('stale row version: someone else changed the record first') } : {}),
      ...(change && o.body ? { 415: problem('the body is not application/json') } : {}),
    },
  };
}

export function registryOpenApiPaths(): Record<string, unknown> {
  return {
    '/api/auth/login': {
      post: {
        ...op('post', { summary: 'log in: sets the session cookie (HttpOnly, SameSite=Strict; Secure over TLS); answers the CSRF token', roles: 'public', body: loginBody, responses: ok(ref('Me')) }),
        responses: {
          ...ok(ref('Me')), 400: problem('input not valid'), 401: problem('wrong username or password, or a disabled account'),
          423: problem('locked after repeated failures (Retry-After)'), 429: problem('too many attempts from this address or for this username (Retry-After)'),
        },
      },
    },
    '/api/auth/logout': { post: op('post', { summary: 'log out: ends the session', roles: 'session', responses: { 204: { description: 'ended' } } }) },
    '/api/auth/me': { get: op('get', { summary: 'the logged-in user and the CSRF token to send with every change', roles: 'session', responses: ok(ref('Me')) }) },
    '/api/users': {
      get: op('get', { summary: 'the users', roles: ADMIN, responses: ok({ type: 'object', properties: { items: { type: 'array', items: ref('User') } } }) }),
      post: op('post', { summary: 'add a user', roles: ADMIN, body: userCreateBody, responses: { ...ok(ref('User'), 'added', 201), 409: problem('the username is taken') } }),
    },
    '/api/users/{id}': { patch: op('patch', { summary: 'change a user\'s role, or disable / enable the account (a disabled account\'s sessions end)', roles: ADMIN, path: true, body: userPatchBody, responses: ok(ref('User')) }) },
    '/api/users/{id}/password': { post: op('post', { summary: 'reset a password (without one: a random one, answered once); the user\'s sessions end', roles: ADMIN, path: true, body: passwordResetBody, responses: ok({ type: 'object', properties: { user: ref('User'), password: { type: 'string' } } }) }) },
    '/api/patients': {
      get: op('get', { summary: 'search patients (record number, name, entity, assessment date range, follow-up / outcome status), paginated', roles: READ_CLINICAL, query: patientSearchQuery, responses: ok(ref('PatientPage')) }),
      post: op('post', { summary: 'add a patient (identifying fields optional: pseudonymous)', roles: WRITE_CLINICAL, body: patientInput, responses: { ...ok(ref('Patient'), 'added', 201), 409: problem('the record number is taken') } }),
    },
    '/api/patients/{id}': {
      get: op('get', { summary: 'a patient with the timeline of each lesion (assessments, plans, visits, outcome)', roles: READ_CLINICAL, path: true, responses: ok(ref('PatientTimeline')) }),
      patch: op('patch', { summary: 'change a patient (with the row version read)', roles: WRITE_CLINICAL, path: true, body: patientPatchBody, responses: ok(ref('Patient')) }),
    },
    '/api/patients/{id}/followup.ics': { get: { ...op('get', { summary: 'the patient\'s open follow-up visits as iCalendar', roles: READ_CLINICAL, path: true, responses: {} }), responses: { 200: { description: 'calendar', content: { 'text/calendar': { schema: { type: 'string' } } } }, 401: problem('not logged in'), 403: problem('role'), 404: problem('no such patient'), 422: problem('no open dated visit') } } },
    '/api/patients/{id}/lesions': { post: op('post', { summary: 'add a lesion episode (one lump)', roles: WRITE_CLINICAL, path: true, body: lesionCreateBody, responses: ok(ref('Lesion'), 'added', 201) }) },
    '/api/lesions/{id}': {
      get: op('get', { summary: 'a lesion\'s timeline', roles: READ_CLINICAL, path: true, responses: ok(ref('LesionTimeline')) }),
      patch: op('patch', { summary: 'change a lesion (with the row version read)', roles: WRITE_CLINICAL, path: true, body: lesionPatchBody, responses: ok(ref('Lesion')) }),
    },
    '/api/lesions/{id}/assessments': {
      get: op('get', { summary: 'the lesion\'s assessments, oldest first (immutable snapshots)', roles: READ_CLINICAL, path: true, responses: ok({ type: 'object', properties: { items: { type: 'array', items: ref('RegistryAssessment') } } }) }),
      post: op('post', {
        summary: 'assess a case (case format v1) for the lesion: the input, the full output, the knowledge-base and engine versions are kept; the follow-up plan is made when its visits can be dated (422: a case not valid)',
        roles: WRITE_CLINICAL, path: true, body: assessmentBody,
        responses: ok({ type: 'object', properties: { assessment: ref('RegistryAssessment'), plan: { anyOf: [ref('FollowUpPlan'), { type: 'null' }] }, visits: { type: 'array', items: ref('Visit') } } }, 'assessed', 201),
      }),
    },
    '/api/lesions/{id}/plans': { post: op('post', { summary: 'a follow-up plan dated from a treatment date entered later (supersedes the open plan)', roles: WRITE_CLINICAL, path: true, body: planBody, responses: ok({ type: 'object', properties: { plan: ref('FollowUpPlan'), visits: { type: 'array', items: ref('Visit') } } }, 'planned', 201) }) },
    '/api/visits/{id}': {
      get: op('get', { summary: 'a visit', roles: READ_CLINICAL, path: true, responses: ok(ref('Visit')) }),
      patch: op('patch', {
        summary: 'record a visit done with its findings, or cancel it; a done visit with new findings (growth, recurrence, lung findings) answers a case pre-filled from the last one, for a new assessment',
        roles: WRITE_CLINICAL, path: true, body: visitBody,
        responses: ok({ type: 'object', properties: { visit: ref('Visit'), reassess: { anyOf: [{ type: 'null' }, { type: 'object', properties: { lesionId: { type: 'string' }, fromAssessment: { type: 'string' }, case: ref('Case') } }] } } }),
      }),
    },
    '/api/worklist': { get: op('get', { summary: 'follow-up visits due this week and overdue (or overdue only), sortable, paginated', roles: READ_CLINICAL, query: worklistQueryParams, responses: ok(ref('WorklistPage')) }) },
    '/api/outcomes': { post: op('post', { summary: 'record a lesion\'s outcome (final diagnosis: a knowledge-base entity; how confirmed; date; grade/stage)', roles: WRITE_CLINICAL, body: outcomeInput, responses: { ...ok(ref('Outcome'), 'recorded', 201), 409: problem('the lesion has an outcome already') } }) },
    '/api/outcomes/{id}': { patch: op('patch', { summary: 'change an outcome (with the row version read)', roles: WRITE_CLINICAL, path: true, body: outcomePatchBody, responses: ok(ref('Outcome')) }) },
    '/api/audit': { get: op('get', { summary: 'the audit log (who read or changed which record, when, from where; never clinical content)', roles: AUDIT, query: auditQueryParams, responses: ok(ref('AuditPage')) }) },
    '/api/registry/performance': {
      get: op('get', {
        summary: 'local performance: the `calcdx eval` figures over this site\'s lesions with a recorded outcome, beside the published cases; the observed case mix against the knowledge base\'s priors',
        roles: READ_AGGREGATE, responses: ok({ type: 'object', properties: { site: {}, excluded: { type: 'object' }, published: {}, caseMix: { type: 'array' } } }),
      }),
    },
  };
}

export function registryOpenApiSchemas(): Record<string, unknown> {
  return Object.fromEntries(Object.entries(REGISTRY_SCHEMAS).map(([k, s]) => [k, json(s)]));
}

export const registrySecuritySchemes = {
  session: { type: 'apiKey', in: 'cookie', name: 'calcdx_session', description: 'the session cookie set by POST /api/auth/login' },
  csrf: { type: 'apiKey', in: 'header', name: 'X-CSRF-Token', description: 'the csrfToken of the login answer or GET /api/auth/me; required with every change' },
};
