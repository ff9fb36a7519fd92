/**
 * The registry's data-access interface: one interface, two implementations over kysely
 * (SQLite by default, PostgreSQL at scale; src/registry/kysely-store.ts), one contract test
 * suite for both (src/registry/store.contract.test.ts).
 *
 * Every method validates its input against the zod schemas (src/registry/schema.ts) and
 * throws a RegistryError (src/registry/errors.ts): invalid, not_found, conflict (a stale row
 * version), exists (a taken unique value). Multi-row writes run in one transaction.
 *
 * `actor` is the user id (or null for the command line / system) recorded as createdBy.
 * The store does not write audit rows by itself: the caller (HTTP route, CLI command) knows
 * who, what and from where, and appends it in the same transaction as the write:
 * `store.transaction(async (s) => { const p = await s.createPatient(…); await s.appendAudit(…); })`.
 * The most frequent write, an assessment, takes its audit row with it instead
 * (`addAssessment(input, actor, audit)`): both are written at once, or neither — on PostgreSQL in
 * one statement, so that outside a transaction it costs one round trip and one commit.
 */
import type {
  Assessment, AssessmentInput, AuditEntry, AuditInput, AuditQuery, AuditView, FollowUpPlan, Lesion, LesionInput, LesionPatch,
  LesionTimeline, Outcome, OutcomeInput, Page, Patient, PatientInput, PatientSearch, PatientTimeline,
  PerformanceInput, PlanInput, Session, User, UserInput, UserPatch, VisitDone, VisitView, WorklistQuery, WorklistRow,
} from './schema.js';
import type { ExportRecord } from './export-format.js';

export type Actor = string | null;

/** the audit row of a new assessment: its record type is `assessment` and its record id the new assessment's */
export type AssessmentAudit = Omit<AuditInput, 'recordType' | 'recordId'>;

export interface RegistryStatus {
  dialect: 'sqlite' | 'postgres';
  /** where: the SQLite file, or the PostgreSQL connection string without its password */
  location: string;
  schemaVersion: number;
  latestSchemaVersion: number;
  counts: { patients: number; lesions: number; assessments: number; visits: number; outcomes: number; users: number; audit: number };
}

export interface RegistryStore {
  readonly dialect: 'sqlite' | 'postgres';

  // patients
  createPatient(input: PatientInput, actor: Actor): Promise<Patient>;
  getPatient(id: string): Promise<Patient>;
  /** patch with the version read; a stale version throws conflict */
  updatePatient(id: string, version: number, patch: PatientInput): Promise<Patient>;
  searchPatients(q: PatientSearch): Promise<Page<Patient>>;
  patientTimeline(id: string, today?: string): Promise<PatientTimeline>;

  // lesion episodes
  createLesion(input: LesionInput, actor: Actor): Promise<Lesion>;
  getLesion(id: string): Promise<Lesion>;
  updateLesion(id: string, version: number, patch: LesionPatch): Promise<Lesion>;
  listLesions(patientId: string): Promise<Lesion[]>;
  lesionTimeline(id: string, today?: string): Promise<LesionTimeline>;

  // assessments: immutable; there is no update or delete
  /** with `audit`: its audit row too, atomically (both written or neither; also outside transaction()) */
  addAssessment(input: AssessmentInput, actor: Actor, audit?: AssessmentAudit): Promise<Assessment>;
  getAssessment(id: string): Promise<Assessment>;
  /** oldest first */
  listAssessments(lesionId: string): Promise<Assessment[]>;

  // follow-up
  /**
   * A plan and its visits from the assessment's followUp (its visit dates, or its months
   * counted from input.startDate — the treatment date entered later, or the assessment
   * date). A newer plan for the same lesion supersedes the older one: its open visits are
   * cancelled in the same transaction.
   */
  createPlan(input: PlanInput, actor: Actor): Promise<{ plan: FollowUpPlan; visits: VisitView[] }>;
  getVisit(id: string, today?: string): Promise<VisitView>;
  listVisits(lesionId: string, today?: string): Promise<VisitView[]>;
  recordVisit(id: string, version: number, done: VisitDone, today?: string): Promise<VisitView>;
  cancelVisit(id: string, version: number, today?: string): Promise<VisitView>;
  worklist(q: WorklistQuery): Promise<Page<WorklistRow>>;

  // outcomes: one per lesion
  recordOutcome(input: OutcomeInput, actor: Actor): Promise<Outcome>;
  updateOutcome(id: string, version: number, patch: Omit<OutcomeInput, 'lesionId'>): Promise<Outcome>;
  getOutcome(lesionId: string): Promise<Outcome | null>;
  /** assessments of lesions with an outcome: the last one made on or before the outcome date, per lesion */
  performanceInputs(): Promise<PerformanceInput[]>;

  // users
  createUser(input: UserInput): Promise<User>;
  getUser(id: string): Promise<User>;
  findUser(username: string): Promise<User | null>;
  listUsers(): Promise<User[]>;
  countUsers(): Promise<number>;
  updateUser(id: string, version: number, patch: UserPatch): Promise<User>;
  /** one more failed login; locks the account until now + lockMs once `lockAfter` failures in a row */
  recordLoginFailure(id: string, lockAfter: number, lockMs: number, now?: Date): Promise<User>;
  recordLoginSuccess(id: string): Promise<User>;

  // sessions (server-side; the store holds only the SHA-256 of the session id)
  createSession(s: Session): Promise<Session>;
  getSession(idHash: string): Promise<Session | null>;
  touchSession(idHash: string, now?: Date): Promise<void>;
  deleteSession(idHash: string): Promise<void>;
  deleteUserSessions(userId: string): Promise<number>;
  purgeSessions(now?: Date): Promise<number>;

  // audit log: append-only (no update or delete method; the database refuses them too)
  appendAudit(entry: AuditInput): Promise<AuditEntry>;
  /** newest first, each row with the username of its user id */
  listAudit(q: AuditQuery): Promise<Page<AuditView>>;

  /**
   * `fn` in one transaction, through the store it is given: every write it makes (and the audit
   * rows it appends) is kept, or, when `fn` throws, none is. Nested calls join the outer one.
   */
  transaction<T>(fn: (s: RegistryStore) => Promise<T>): Promise<T>;

  // whole registry
  status(): Promise<RegistryStatus>;
  /** every record, parents before children, in a stable order */
  exportRecords(): AsyncIterable<ExportRecord>;
  /** into an empty registry, in one transaction; returns the count per kind */
  importRecords(records: AsyncIterable<ExportRecord> | Iterable<ExportRecord>): Promise<Record<string, number>>;
  close(): Promise<void>;
}
