/**
 * The registry's records: zod schemas are the source of truth, the TypeScript types are
 * inferred from them. Dates are ISO calendar dates (YYYY-MM-DD), instants ISO 8601 UTC with
 * milliseconds (as `Date.prototype.toISOString` writes them); both sort as text.
 *
 * Inputs (what a caller gives) are separate from records (what the store keeps and returns):
 * ids, versions and timestamps are the store's.
 */
import { z } from 'zod';
import { isIsoDate } from '../core/engine/dates.js';

export const isoDate = z.string().refine(isIsoDate, { message: 'a calendar date YYYY-MM-DD' });
export const isoInstant = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/, 'an instant YYYY-MM-DDThh:mm:ss.sssZ (UTC)');
export const recordId = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and -');
/** row version for optimistic concurrency: starts at 1, +1 on every update */
export const rowVersion = z.number().int().min(1);
const text = (max: number) => z.string().trim().min(1).max(max);

// ---------------------------------------------------------------- patients

export const SEXES = ['female', 'male', 'other', 'unknown'] as const;

/** Identifying fields are optional: a patient may be kept pseudonymous (registry id only). */
export const patientInput = z.strictObject({
  /** medical record number; unique when given */
  mrn: text(64).nullable().optional(),
  name: text(200).nullable().optional(),
  birthDate: isoDate.nullable().optional(),
  sex: z.enum(SEXES).nullable().optional(),
});
export type PatientInput = z.infer<typeof patientInput>;

/** the fields that identify a person: dropped by a pseudonymised export */
export const IDENTIFYING_PATIENT_FIELDS = ['mrn', 'name', 'birthDate'] as const;

export const patient = z.strictObject({
  id: recordId,
  mrn: z.string().nullable(),
  name: z.string().nullable(),
  birthDate: isoDate.nullable(),
  sex: z.enum(SEXES).nullable(),
  version: rowVersion,
  createdAt: isoInstant,
  updatedAt: isoInstant,
});
export type Patient = z.infer<typeof patient>;

// ---------------------------------------------------------------- lesion episodes

export const SIDES = ['left', 'right', 'midline', 'bilateral', 'not_applicable'] as const;

export const lesionInput = z.strictObject({
  patientId: recordId,
  /** where the lump is (free text or a case-format region) */
  site: text(200),
  side: z.enum(SIDES).nullable().optional(),
  firstSeen: isoDate.nullable().optional(),
});
export type LesionInput = z.infer<typeof lesionInput>;

export const lesion = z.strictObject({
  id: recordId,
  patientId: recordId,
  site: z.string(),
  side: z.enum(SIDES).nullable(),
  firstSeen: isoDate.nullable(),
  version: rowVersion,
  createdAt: isoInstant,
  updatedAt: isoInstant,
});
export type Lesion = z.infer<typeof lesion>;
export const lesionPatch = lesionInput.omit({ patientId: true }).partial();
export type LesionPatch = z.infer<typeof lesionPatch>;

// ---------------------------------------------------------------- assessments

const jsonObject = z.record(z.string(), z.unknown());

/**
 * One assessment, kept as it was made: the case-format v1 input, the full JSON output, the
 * knowledge-base and engine versions, who and when. Never updated; re-assessing adds a row.
 */
export const assessmentInput = z.strictObject({
  lesionId: recordId,
  /** the case file (case format v1) as assessed */
  caseInput: jsonObject,
  /** the assessment JSON (src/report/json.ts) as returned */
  output: jsonObject,
  kbVersion: text(200),
  engineVersion: text(100),
  /** the assessment date the engine used */
  assessedOn: isoDate,
});
export type AssessmentInput = z.infer<typeof assessmentInput>;

export const assessment = z.strictObject({
  id: recordId,
  lesionId: recordId,
  patientId: recordId,
  caseInput: jsonObject,
  output: jsonObject,
  kbVersion: z.string(),
  engineVersion: z.string(),
  assessedOn: isoDate,
  /** the first entity of the output's differential (kept for search) */
  topEntity: z.string().nullable(),
  createdBy: recordId.nullable(),
  createdAt: isoInstant,
});
export type Assessment = z.infer<typeof assessment>;

// ---------------------------------------------------------------- follow-up

export const VISIT_STATES = ['planned', 'done', 'cancelled'] as const;
/** what a visit shows: planned / due / overdue are derived from the dates and "today" */
export const VISIT_STATUSES = ['planned', 'due', 'overdue', 'done', 'cancelled'] as const;
export type VisitStatus = (typeof VISIT_STATUSES)[number];
export const GROWTH_SINCE_LAST = ['none', 'grown', 'shrunk', 'unknown'] as const;
export const LUNG_FINDINGS = ['none', 'nodules_indeterminate', 'metastases', 'not_imaged'] as const;
export const PLAN_BASES = ['assessment', 'surgery'] as const;

export const visitFindings = z.strictObject({
  /** largest diameter, millimetres */
  sizeMm: z.number().positive().max(2000).nullable().optional(),
  /** calcified volume, millilitres (from calcdx ct) */
  calcifiedVolumeMl: z.number().min(0).max(10_000).nullable().optional(),
  growth: z.enum(GROWTH_SINCE_LAST).nullable().optional(),
  localRecurrence: z.boolean().nullable().optional(),
  lungFindings: z.enum(LUNG_FINDINGS).nullable().optional(),
  note: z.string().max(4000).nullable().optional(),
});
export type VisitFindings = z.infer<typeof visitFindings>;

export const followUpPlan = z.strictObject({
  id: recordId,
  lesionId: recordId,
  patientId: recordId,
  /** the assessment whose followUp the plan follows */
  assessmentId: recordId.nullable(),
  scheme: z.string(),
  /** what the visit dates count from */
  datedFrom: z.enum(PLAN_BASES),
  startDate: isoDate,
  /** set when a newer plan replaced this one (its open visits were cancelled) */
  supersededAt: isoInstant.nullable(),
  createdBy: recordId.nullable(),
  createdAt: isoInstant,
});
export type FollowUpPlan = z.infer<typeof followUpPlan>;

export const planInput = z.strictObject({
  assessmentId: recordId,
  /** the date the visits count from: the treatment (surgery) date, or the assessment date */
  startDate: isoDate.optional(),
  datedFrom: z.enum(PLAN_BASES).optional(),
  /** ± days around the due date in which the visit counts as on time (default: DEFAULT_WINDOW_DAYS) */
  windowDays: z.number().int().min(0).max(180).optional(), // MAX_WINDOW_DAYS in follow-up.ts
});
export type PlanInput = z.infer<typeof planInput>;

export const visit = z.strictObject({
  id: recordId,
  planId: recordId,
  lesionId: recordId,
  patientId: recordId,
  /** months after the plan's start date */
  month: z.number().int().min(0),
  dueDate: isoDate,
  windowDays: z.number().int().min(0).max(180),
  /** dueDate − windowDays, dueDate + windowDays */
  windowStart: isoDate,
  windowEnd: isoDate,
  /** what is done at the visit (follow-up items: clinical, local_imaging, chest_imaging, labs) */
  items: z.array(z.string()),
  state: z.enum(VISIT_STATES),
  doneOn: isoDate.nullable(),
  findings: visitFindings.nullable(),
  version: rowVersion,
  createdAt: isoInstant,
  updatedAt: isoInstant,
});
export type Visit = z.infer<typeof visit>;
/** a visit with its status on a given day */
export type VisitView = Visit & { status: VisitStatus };

export const visitDone = z.strictObject({
  doneOn: isoDate,
  findings: visitFindings,
});
export type VisitDone = z.infer<typeof visitDone>;

// ---------------------------------------------------------------- outcomes

export const CONFIRMED_BY = ['histology', 'clinical', 'follow_up'] as const;

export const outcomeInput = z.strictObject({
  lesionId: recordId,
  /** final diagnosis: a knowledge-base entity id */
  entity: text(100).regex(/^[a-z0-9_]+$/, 'a knowledge-base entity id (a-z, 0-9, _)'),
  confirmedBy: z.enum(CONFIRMED_BY),
  date: isoDate,
  grade: z.number().int().min(1).max(3).nullable().optional(),
  stage: text(40).nullable().optional(),
});
export type OutcomeInput = z.infer<typeof outcomeInput>;

export const outcome = z.strictObject({
  id: recordId,
  lesionId: recordId,
  patientId: recordId,
  entity: z.string(),
  confirmedBy: z.enum(CONFIRMED_BY),
  date: isoDate,
  grade: z.number().int().nullable(),
  stage: z.string().nullable(),
  version: rowVersion,
  createdBy: recordId.nullable(),
  createdAt: isoInstant,
  updatedAt: isoInstant,
});
export type Outcome = z.infer<typeof outcome>;

// ---------------------------------------------------------------- users, sessions, audit

export const ROLES = ['clinician', 'viewer', 'admin', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

export const username = z.string().min(1).max(64).regex(/^[a-z0-9][a-z0-9._-]*$/, 'lower-case letters, digits, ".", "_" and "-", starting with a letter or digit');

export const userInput = z.strictObject({
  username,
  role: z.enum(ROLES),
  /** an argon2id PHC string (src/registry/password.ts) */
  passwordHash: z.string().startsWith('$argon2id$'),
});
export type UserInput = z.infer<typeof userInput>;

export const user = z.strictObject({
  id: recordId,
  username: z.string(),
  role: z.enum(ROLES),
  passwordHash: z.string(),
  disabled: z.boolean(),
  failedLogins: z.number().int().min(0),
  lockedUntil: isoInstant.nullable(),
  version: rowVersion,
  createdAt: isoInstant,
  updatedAt: isoInstant,
});
export type User = z.infer<typeof user>;
export const userPatch = z.strictObject({
  role: z.enum(ROLES).optional(),
  passwordHash: z.string().startsWith('$argon2id$').optional(),
  disabled: z.boolean().optional(),
});
export type UserPatch = z.infer<typeof userPatch>;

/** A server-side session; the cookie holds the id, the store only its SHA-256. */
export const session = z.strictObject({
  idHash: z.string().regex(/^[0-9a-f]{64}$/, 'SHA-256, hexadecimal'),
  userId: recordId,
  csrfToken: z.string().min(16).max(200),
  createdAt: isoInstant,
  lastSeenAt: isoInstant,
  /** absolute expiry; the idle timeout is checked against lastSeenAt by the caller */
  expiresAt: isoInstant,
});
export type Session = z.infer<typeof session>;

/**
 * One audit row: who did what to which record, when, from where. Never clinical content:
 * the record is named by its type and id only.
 */
export const AUDIT_RECORD_TYPES = ['patient', 'lesion', 'assessment', 'plan', 'visit', 'outcome', 'user', 'session', 'registry', 'audit', 'worklist', 'performance'] as const;
export const auditInput = z.strictObject({
  userId: recordId.nullable(),
  /** a verb: read, create, update, delete, login, login_failed, logout, export, import, search, … */
  action: z.string().regex(/^[a-z_]{1,40}$/, 'a lower-case verb (a-z, _)'),
  recordType: z.enum(AUDIT_RECORD_TYPES),
  recordId: recordId.nullable(),
  /** the client address or "cli" */
  origin: z.string().max(100).nullable(),
});
export type AuditInput = z.infer<typeof auditInput>;
export const auditEntry = auditInput.extend({ seq: z.number().int().min(1), at: isoInstant });
export type AuditEntry = z.infer<typeof auditEntry>;
/** an audit row as listed: with the username of its user id (null when none, or the account is gone) */
export type AuditView = AuditEntry & { username: string | null };

// ---------------------------------------------------------------- queries

export const page = z.strictObject({
  limit: z.number().int().min(1).max(1000).default(50),
  offset: z.number().int().min(0).default(0),
});
export type PageRequest = z.input<typeof page>;
export interface Page<T> {
  items: T[]; total: number; limit: number; offset: number;
  /** true when `total` is a floor: the list was counted up to that many (the worklist: 10,000) */
  totalCapped?: boolean;
}

/** patient search status: by open follow-up or by outcome */
export const PATIENT_STATUSES = ['due', 'overdue', 'outcome_recorded', 'no_outcome'] as const;

export const patientSearch = z.strictObject({
  /** exact medical record number */
  mrn: z.string().min(1).max(64).optional(),
  /** part of the name, case-insensitive */
  name: z.string().min(1).max(200).optional(),
  /** a knowledge-base entity id: the leading entity of an assessment, or the outcome */
  entity: z.string().min(1).max(100).optional(),
  /** an assessment made on or after / on or before */
  assessedFrom: isoDate.optional(),
  assessedTo: isoDate.optional(),
  status: z.enum(PATIENT_STATUSES).optional(),
  /** the day "due" and "overdue" are computed for (default: today) */
  today: isoDate.optional(),
}).extend(page.shape);
export type PatientSearch = z.input<typeof patientSearch>;

export const WORKLIST_SORTS = ['dueDate', 'status', 'patient', 'site'] as const;
export const worklistQuery = z.strictObject({
  today: isoDate.optional(),
  overdueOnly: z.boolean().default(false),
  sort: z.enum(WORKLIST_SORTS).default('dueDate'),
  desc: z.boolean().default(false),
}).extend(page.shape);
export type WorklistQuery = z.input<typeof worklistQuery>;

export interface WorklistRow {
  visit: VisitView;
  patient: Pick<Patient, 'id' | 'mrn' | 'name'>;
  lesion: Pick<Lesion, 'id' | 'site' | 'side'>;
}

export const auditQuery = z.strictObject({
  userId: recordId.optional(),
  recordType: z.enum(AUDIT_RECORD_TYPES).optional(),
  recordId: recordId.optional(),
  from: isoInstant.optional(),
  to: isoInstant.optional(),
}).extend(page.shape);
export type AuditQuery = z.input<typeof auditQuery>;

/** One assessment of a lesion with a recorded outcome: the input of the local performance figures. */
export interface PerformanceInput {
  assessment: Pick<Assessment, 'id' | 'lesionId' | 'patientId' | 'assessedOn' | 'kbVersion' | 'engineVersion' | 'output'>;
  outcome: Pick<Outcome, 'entity' | 'confirmedBy' | 'date' | 'grade'>;
}

/** A lesion's timeline: its assessments, plans, visits and outcome. */
export interface LesionTimeline {
  lesion: Lesion;
  assessments: Assessment[];
  plans: FollowUpPlan[];
  visits: VisitView[];
  outcome: Outcome | null;
}
export interface PatientTimeline { patient: Patient; lesions: LesionTimeline[] }
