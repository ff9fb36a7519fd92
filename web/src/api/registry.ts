/**
 * The browser's client of the registry API (src/server/registry, src/server/auth): one typed
 * function per route. Every call sends the page language (Accept-Language, so problems come back
 * in it) and the session's CSRF token on every change (X-CSRF-Token, as the auth plugin asks: the
 * token comes with the login answer and GET /api/auth/me). A failed call throws an ApiError holding
 * the problem+json answer: its detail and, for bad input, each field with what was found and what
 * is allowed, already rendered in the request's language by the server.
 * The record types are the registry's (src/registry/schema.ts, zod-inferred; type-only imports).
 */
import type { Lang } from '../../../src/i18n/index.js';
import type {
  Assessment, AuditEntry, AuditView, FollowUpPlan, Lesion, Outcome, Page, Patient, PatientTimeline, Role, User, Visit, VisitFindings, VisitView, WorklistRow,
} from '../../../src/registry/schema.js';

export type { Assessment, AuditEntry, AuditView, Lesion, Outcome, Page, Patient, PatientTimeline, Role, Visit, VisitFindings, VisitView, WorklistRow };
export type PublicUser = Omit<User, 'passwordHash'>;

/** one field of a bad-input problem */
export interface ProblemField { path: string; code: string; found?: string; allowed?: unknown; message: string }
export interface Problem { type?: string; title: string; status: number; detail: string; code?: string; reason?: string; errors?: ProblemField[] }

export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail || problem.title);
    this.name = 'ApiError';
  }
  get status(): number { return this.problem.status; }
}

export interface Me { user: { id: string; username: string; role: Role }; csrfToken: string; expiresAt: string; idleTimeoutSeconds: number }

let csrfToken: string | undefined;
let language: Lang = 'en';

/** the session's CSRF token (from the login answer or /api/auth/me), sent with every change */
export function setCsrfToken(token: string | undefined): void { csrfToken = token; }
let unauthorized: () => void = () => undefined;
/** called when the server answers 401 to a call other than login: the session has ended */
export function onUnauthorized(f: () => void): void { unauthorized = f; }

/** the language problems are asked in */
export function setApiLang(l: Lang): void { language = l; }

type Query = Record<string, string | number | boolean | undefined | null>;

export function withQuery(path: string, q: Query = {}): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `${path}?${s}` : path;
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json, application/problem+json', 'accept-language': language };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let res: Response;
  try {
    res = await fetch(path, { method, headers, credentials: 'same-origin', ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  } catch (e) {
    throw new ApiError({ title: 'network', status: 0, detail: (e as Error).message, code: 'network' });
  }
  if (res.status === 204) return undefined as T;
  const type = res.headers.get('content-type') ?? '';
  const data: unknown = type.includes('json') ? await res.json().catch(() => undefined) : await res.text();
  if (!res.ok) {
    const p = (data && typeof data === 'object' ? data : {}) as Partial<Problem>;
    if (res.status === 401 && path !== '/api/auth/login') unauthorized();
    throw new ApiError({ ...p, title: p.title ?? res.statusText, status: res.status, detail: p.detail ?? (typeof data === 'string' ? data : res.statusText) });
  }
  return data as T;
}

// ---- session
export const login = (username: string, password: string) => call<Me>('POST', '/api/auth/login', { username, password });
export const logout = () => call<void>('POST', '/api/auth/logout');
export const me = () => call<Me>('GET', '/api/auth/me');

// ---- knowledge base (entity names for outcomes and differentials)
export interface KbEntity { id: string; names: Record<Lang, string>; group: string }
export const kbEntities = () => call<KbEntity[]>('GET', '/api/kb');

// ---- patients
export interface PatientQuery { mrn?: string; name?: string; entity?: string; from?: string; to?: string; status?: string; limit?: number; offset?: number }
export const searchPatients = (q: PatientQuery) => call<Page<Patient>>('GET', withQuery('/api/patients', q as Query));
export interface PatientFields { mrn?: string | null; name?: string | null; birthDate?: string | null; sex?: Patient['sex'] }
export const createPatient = (p: PatientFields) => call<Patient>('POST', '/api/patients', p);
export const updatePatient = (id: string, version: number, p: PatientFields) => call<Patient>('PATCH', `/api/patients/${encodeURIComponent(id)}`, { version, ...p });
export const patientTimeline = (id: string) => call<PatientTimeline>('GET', `/api/patients/${encodeURIComponent(id)}`);
export const patientIcsUrl = (id: string, lang: Lang) => withQuery(`/api/patients/${encodeURIComponent(id)}/followup.ics`, { lang });

// ---- lesions and assessments
export const createLesion = (patientId: string, l: { site: string; side?: Lesion['side']; firstSeen?: string | null }) =>
  call<Lesion>('POST', `/api/patients/${encodeURIComponent(patientId)}/lesions`, l);
export const lesionTimeline = (id: string) => call<PatientTimeline['lesions'][number]>('GET', `/api/lesions/${encodeURIComponent(id)}`);
export interface AssessmentCreated { assessment: Assessment; plan: FollowUpPlan | null; visits: Visit[] }
export const assessLesion = (lesionId: string, caseDoc: Record<string, unknown>, assessedOn?: string) =>
  call<AssessmentCreated>('POST', `/api/lesions/${encodeURIComponent(lesionId)}/assessments`, { case: caseDoc, ...(assessedOn ? { assessedOn } : {}) });

/** a follow-up plan counted from a treatment date entered later (it replaces the open plan of the lesion) */
export const planFrom = (lesionId: string, assessmentId: string, startDate: string) =>
  call<{ plan: FollowUpPlan; visits: Visit[] }>('POST', `/api/lesions/${encodeURIComponent(lesionId)}/plans`, { assessmentId, startDate, datedFrom: 'surgery' });

// ---- visits
export interface VisitRecorded { visit: Visit; reassess: { lesionId: string; fromAssessment: string; case: Record<string, unknown> } | null }
export const recordVisit = (id: string, version: number, doneOn: string, findings: VisitFindings) =>
  call<VisitRecorded>('PATCH', `/api/visits/${encodeURIComponent(id)}`, { status: 'done', version, doneOn, findings });
export const cancelVisit = (id: string, version: number) => call<VisitRecorded>('PATCH', `/api/visits/${encodeURIComponent(id)}`, { status: 'cancelled', version });

// ---- worklist
export type WorklistSort = 'dueDate' | 'status' | 'patient' | 'site';
export const worklist = (q: { overdue?: boolean; sort?: WorklistSort; desc?: boolean; limit?: number; offset?: number }) =>
  call<Page<WorklistRow>>('GET', withQuery('/api/worklist', q as Query));

// ---- outcomes
export interface OutcomeFields { entity: string; confirmedBy: Outcome['confirmedBy']; date: string; grade?: number | null; stage?: string | null }
export const recordOutcome = (lesionId: string, o: OutcomeFields) => call<Outcome>('POST', '/api/outcomes', { lesionId, ...o });
export const updateOutcome = (id: string, version: number, o: OutcomeFields) => call<Outcome>('PATCH', `/api/outcomes/${encodeURIComponent(id)}`, { version, ...o });

// ---- audit
export interface AuditFilter { userId?: string; recordType?: string; recordId?: string; from?: string; to?: string; limit?: number; offset?: number }
export const auditLog = (q: AuditFilter) => call<Page<AuditView>>('GET', withQuery('/api/audit', q as Query));

// ---- local performance (src/server/registry/performance.ts)
export interface Proportion { k: number; n: number; rate: number; low: number; high: number }
export interface Figures {
  n: number; top1: Proportion; top3: Proportion; brier: number; logLoss: number;
  baseline: { brier: number; logLoss: number; top1: number; top3: number };
  reliability: Array<{ from: number; to: number; count: number; meanPredicted: number; observed: number }>;
  malignantReferred: { k: number; n: number; rate: number }; benignReferred: { k: number; n: number; rate: number };
  malignancyAuc: number | null;
}
export interface PerformanceReport {
  site: Figures | null; excluded: { unknownEntity: number; caseInvalid: number }; published: Figures | null;
  caseMix: Array<{ entity: string; observed: number; observedShare: number; prior: number }>;
}
export const localPerformance = () => call<PerformanceReport>('GET', '/api/registry/performance');

// ---- users (admin)
export const listUsers = () => call<{ items: PublicUser[] }>('GET', '/api/users');
export const createUser = (u: { username: string; role: Role; password: string }) => call<PublicUser>('POST', '/api/users', u);
export const updateUser = (id: string, version: number, patch: { role?: Role; disabled?: boolean }) =>
  call<PublicUser>('PATCH', `/api/users/${encodeURIComponent(id)}`, { version, ...patch });
export const resetPassword = (id: string, version: number, password?: string) =>
  call<{ user: PublicUser; password?: string }>('POST', `/api/users/${encodeURIComponent(id)}/password`, { version, ...(password ? { password } : {}) });
