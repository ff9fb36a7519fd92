/**
 * RegistryStore over kysely: one implementation for SQLite (better-sqlite3) and PostgreSQL
 * (pg). Opening runs the migrations (src/registry/migrations.ts).
 *
 * Concurrency: every update names the row version it read (`… where id = ? and version = ?`,
 * one statement) and fails with `conflict` when another writer got there first. Multi-row
 * writes run in one transaction; on SQLite it is BEGIN IMMEDIATE (the write lock is taken
 * up front and other processes wait for it up to busy_timeout, rather than failing half-way).
 */
import { randomUUID } from 'node:crypto';
import { CamelCasePlugin, CompiledQuery, Kysely, sql, type QueryCreator, type Transaction } from 'kysely';
import type { z } from 'zod';
import { addDays } from '../core/engine/dates.js';
import type { AssessmentRow, AuditRow, LesionRow, OutcomeRow, PatientRow, PlanRow, RegistryDb, UserRow, VisitRow } from './db-types.js';
import { conflict, invalid, notFound, RegistryError } from './errors.js';
import { EXPORT_FORMAT, EXPORT_KINDS, EXPORT_VERSION, exportRecord, type ExportRecord } from './export-format.js';
import { DEFAULT_WINDOW_DAYS, datedVisits, followUpOf, visitStatus } from './follow-up.js';
import { decodeJson, encodeJson } from './json-codec.js';
import { LATEST_SCHEMA_VERSION, MIGRATIONS, schemaVersion, type Dialect } from './migrations.js';
import { namedStatement } from './pg-statements.js';
import {
  assessmentInput, auditInput, auditQuery, lesionInput, lesionPatch, outcomeInput, patientInput, patientSearch, planInput,
  session as sessionSchema, userInput, userPatch, visitDone, worklistQuery,
  type Assessment, type AssessmentInput, type AuditEntry, type AuditInput, type AuditQuery, type AuditView, type FollowUpPlan, type Lesion,
  type LesionInput, type LesionPatch, type LesionTimeline, type Outcome, type OutcomeInput, type Page, type Patient,
  type PatientInput, type PatientSearch, type PatientTimeline, type PerformanceInput, type PlanInput, type Session, type User,
  type UserInput, type UserPatch, type Visit, type VisitDone, type VisitFindings, type VisitView, type WorklistQuery, type WorklistRow,
} from './schema.js';
import type { Actor, AssessmentAudit, RegistryStatus, RegistryStore } from './store.js';

type Db = Kysely<RegistryDb>;
type Tx = Kysely<RegistryDb> | Transaction<RegistryDb>;

export interface KyselyStoreOptions {
  /** the clock: instants written and the default "today" (tests fix it) */
  now?: () => Date;
  /** migrate up to this version only (tests of migrating an old database) */
  migrateTo?: number;
  /** the worklist by site: a site with at least this many lesions is found walking the open visits (tests of both ways) */
  siteWalkLesions?: number;
  /** for status(): the file or the connection string without password */
  location: string;
}

/** Validates with a zod schema; the issues name the field, what was found and what is allowed. */
export function check<S extends z.ZodType>(schema: S, value: unknown, prefix = ''): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw invalid(r.error.issues.map((i) => {
    const field = [prefix, ...i.path.map(String)].filter(Boolean).join('.') || '(input)';
    const found = foundAt(value, i.path);
    return { field, ...(found !== undefined ? { found } : {}), allowed: i.message };
  }));
}

function foundAt(value: unknown, path: readonly PropertyKey[]): string | undefined {
  let v: unknown = value;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  if (v === undefined) return 'nothing';
  const s = typeof v === 'string' ? JSON.stringify(v) : typeof v === 'object' ? (Array.isArray(v) ? 'a list' : 'an object') : String(v);
  return s.length > 60 ? `${s.slice(0, 57)}…` : s;
}

const iso = (d: Date): string => d.toISOString();
const n = (x: unknown): number => Number(x);
const likePattern = (q: string): string => `%${q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

const toPatient = (r: PatientRow): Patient => ({
  id: r.id, mrn: r.mrn, name: r.name, birthDate: r.birthDate, sex: r.sex as Patient['sex'], version: n(r.version), createdAt: r.createdAt, updatedAt: r.updatedAt,
});
const toLesion = (r: LesionRow): Lesion => ({
  id: r.id, patientId: r.patientId, site: r.site, side: r.side as Lesion['side'], firstSeen: r.firstSeen, version: n(r.version), createdAt: r.createdAt, updatedAt: r.updatedAt,
});
const toAssessment = (r: AssessmentRow): Assessment => ({
  id: r.id, lesionId: r.lesionId, patientId: r.patientId, caseInput: decodeJson(r.caseInputBrotli), output: decodeJson(r.outputBrotli), kbVersion: r.kbVersion,
  engineVersion: r.engineVersion, assessedOn: r.assessedOn, topEntity: r.topEntity, createdBy: r.createdBy, createdAt: r.createdAt,
});
const toPlan = (r: PlanRow): FollowUpPlan => ({
  id: r.id, lesionId: r.lesionId, patientId: r.patientId, assessmentId: r.assessmentId, scheme: r.scheme, datedFrom: r.datedFrom as FollowUpPlan['datedFrom'],
  startDate: r.startDate, supersededAt: r.supersededAt, createdBy: r.createdBy, createdAt: r.createdAt,
});
const toVisit = (r: VisitRow): Visit => ({
  id: r.id, planId: r.planId, lesionId: r.lesionId, patientId: r.patientId, month: n(r.month), dueDate: r.dueDate, windowDays: n(r.windowDays),
  windowStart: r.windowStart, windowEnd: r.windowEnd, items: JSON.parse(r.items), state: r.state as Visit['state'], doneOn: r.doneOn,
  findings: r.findings === null ? null : JSON.parse(r.findings) as VisitFindings, version: n(r.version), createdAt: r.createdAt, updatedAt: r.updatedAt,
});
const toOutcome = (r: OutcomeRow): Outcome => ({
  id: r.id, lesionId: r.lesionId, patientId: r.patientId, entity: r.entity, confirmedBy: r.confirmedBy as Outcome['confirmedBy'], date: r.date,
  grade: r.grade === null ? null : n(r.grade), stage: r.stage, version: n(r.version), createdBy: r.createdBy, createdAt: r.createdAt, updatedAt: r.updatedAt,
});
const toUser = (r: UserRow): User => ({
  id: r.id, username: r.username, role: r.role as User['role'], passwordHash: r.passwordHash, disabled: n(r.disabled) === 1, failedLogins: n(r.failedLogins),
  lockedUntil: r.lockedUntil, version: n(r.version), createdAt: r.createdAt, updatedAt: r.updatedAt,
});
const toAudit = (r: Omit<AuditRow, 'seq'> & { seq: unknown }): AuditEntry => ({
  seq: n(r.seq), at: r.at, userId: r.userId, action: r.action, recordType: r.recordType as AuditEntry['recordType'], recordId: r.recordId, origin: r.origin,
});

/** the leading entity of an assessment output: differential[0].id */
function topEntityOf(output: Record<string, unknown>): string | null {
  const d = output.differential;
  if (!Array.isArray(d) || !d.length) return null;
  const id = (d[0] as { id?: unknown }).id;
  return typeof id === 'string' ? id : null;
}

function isUniqueViolation(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}

/** the audit_log row of a checked audit entry written at `at` */
const auditRow = (e: z.infer<typeof auditInput>, at: string) => ({ at, userId: e.userId, action: e.action, recordType: e.recordType, recordId: e.recordId, origin: e.origin });

const ASSESSMENT_COLUMNS = ['id', 'lesionId', 'caseInputBrotli', 'outputBrotli', 'kbVersion', 'engineVersion', 'assessedOn', 'topEntity', 'createdBy', 'createdAt'] as const;
type AssessmentColumn = (typeof ASSESSMENT_COLUMNS)[number];

/** one statement: the patient is the lesion's, and no row is written when the lesion does not exist */
function insertAssessment(db: QueryCreator<RegistryDb>, value: (c: AssessmentColumn) => unknown, lesionId: unknown) {
  return db.insertInto('assessment')
    .columns([...ASSESSMENT_COLUMNS, 'patientId'])
    .expression((eb) => eb.selectFrom('lesion')
      .select([...ASSESSMENT_COLUMNS.map((c) => eb.val(value(c)).as(c)), 'lesion.patientId'])
      .where('lesion.id', '=', lesionId as string))
    .returning('patientId');
}

type AssessmentAuditParam = AssessmentColumn | 'auditAt' | 'auditUserId' | 'auditAction' | 'auditRecordType' | 'auditOrigin';
let assessmentAudit: { sql: string; params: AssessmentAuditParam[] } | undefined;

/**
 * PostgreSQL: an assessment and its audit row, one statement (a data-modifying CTE; the audit row
 * only when the assessment row was written). Compiled once: its SQL text and which value each
 * parameter takes (building it with kysely at every insert cost about a third of encoding the
 * assessment); it runs as a named prepared statement.
 */
function assessmentAuditStatement(db: Kysely<RegistryDb>): { sql: string; params: AssessmentAuditParam[] } {
  if (assessmentAudit) return assessmentAudit;
  const MARK = '\u0000calcdx-param:';
  const p = (k: AssessmentAuditParam): string => `${MARK}${k}`;
  const compiled = db
    .with('a', (q) => insertAssessment(q, p, p('lesionId')).returning('id'))
    .with('l', (q) => q.insertInto('auditLog')
      .columns(['at', 'userId', 'action', 'recordType', 'origin', 'recordId'])
      .expression((eb) => eb.selectFrom('a').select([
        eb.val(p('auditAt')).as('at'), eb.val(p('auditUserId')).as('userId'), eb.val(p('auditAction')).as('action'),
        eb.val(p('auditRecordType')).as('recordType'), eb.val(p('auditOrigin')).as('origin'), 'a.id',
      ]))
      .returning('seq'))
    .selectFrom(['a', 'l']).select('a.patientId')
    .compile();
  const params = compiled.parameters.map((x) => {
    if (typeof x !== 'string' || !x.startsWith(MARK)) throw new Error(`assessment insert: a parameter not named (${String(x)})`);
    return x.slice(MARK.length) as AssessmentAuditParam;
  });
  namedStatement(compiled.sql);
  return (assessmentAudit = { sql: compiled.sql, params });
}

/** the worklist counts its rows up to this many (Page.totalCapped beyond) */
export const WORKLIST_COUNT_CAP = 10_000;
/** a site with at least this many lesions: the worklist sorted by site walks the open visits by due date to find its own */
const SITE_WALK_LESIONS = 500;

export class KyselyRegistryStore implements RegistryStore {
  readonly #db: Db;
  readonly #now: () => Date;
  readonly #location: string;
  /** a store bound to an open transaction (made by transaction()): its writes join it */
  readonly #inTx: boolean;
  readonly #siteWalk: number;

  private constructor(db: Db, readonly dialect: Dialect, o: KyselyStoreOptions, inTx = false) {
    this.#db = db;
    this.#now = o.now ?? (() => new Date());
    this.#location = o.location;
    this.#inTx = inTx;
    this.#siteWalk = o.siteWalkLesions ?? SITE_WALK_LESIONS;
  }

  /** Wraps a kysely instance (made by src/registry/open.ts) and migrates it forward. */
  static async open(db: Kysely<RegistryDb>, dialect: Dialect, o: KyselyStoreOptions): Promise<KyselyRegistryStore> {
    const kdb = db.withPlugin(new CamelCasePlugin());
    const store = new KyselyRegistryStore(kdb, dialect, o);
    try {
      await store.#migrate(o.migrateTo ?? LATEST_SCHEMA_VERSION);
    } catch (e) {
      await kdb.destroy();
      throw e;
    }
    return store;
  }

  get db(): Db { return this.#db; }

  #today(): string { return iso(this.#now()).slice(0, 10); }

  async #migrate(target: number): Promise<void> {
    const current = await schemaVersion(this.#db, this.dialect);
    if (current > LATEST_SCHEMA_VERSION) throw tooNew(current);
    for (const m of MIGRATIONS) {
      if (m.version > target) break;
      await this.#tx(async (tx) => {
        if (this.dialect === 'postgres') await sql`select pg_advisory_xact_lock(4242001)`.execute(tx);
        // read again under the lock: another process may have migrated meanwhile
        const v = await schemaVersion(tx as Db, this.dialect);
        if (v > LATEST_SCHEMA_VERSION) throw tooNew(v);
        if (v >= m.version) return;
        if (v !== m.version - 1) throw new RegistryError('invalid', `registry schema version ${v} cannot be migrated to ${m.version}`);
        await m.up(tx, this.dialect);
        if (v === 0) {
          await tx.schema.createTable('calcdx_schema').addColumn('version', 'integer', (c) => c.notNull()).execute();
          await tx.insertInto('calcdxSchema').values({ version: m.version }).execute();
        } else {
          await tx.updateTable('calcdxSchema').set({ version: m.version }).execute();
        }
      });
    }
  }

  /**
   * `fn`'s reads and writes in one transaction, through the store it is given (a write and its
   * audit row: both kept or neither). On SQLite BEGIN IMMEDIATE: the write lock is held until
   * `fn` ends, so `fn` must not wait on anything slow (hash a password before) nor use any other
   * store (on SQLite that would wait for this transaction's connection forever).
   */
  async transaction<T>(fn: (s: RegistryStore) => Promise<T>): Promise<T> {
    if (this.#inTx) return fn(this);
    return this.#tx((tx) => fn(new KyselyRegistryStore(tx as Db, this.dialect, { now: this.#now, location: this.#location, siteWalkLesions: this.#siteWalk }, true)));
  }

  /** One transaction; on SQLite BEGIN IMMEDIATE. `fn` must use only the handle it is given. Inside transaction(): that one. */
  async #tx<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    if (this.#inTx) return fn(this.#db);
    if (this.dialect === 'postgres') return this.#db.transaction().execute(fn);
    return this.#db.connection().execute(async (conn) => {
      await sql`begin immediate`.execute(conn);
      try {
        const r = await fn(conn);
        await sql`commit`.execute(conn);
        return r;
      } catch (e) {
        await sql`rollback`.execute(conn).catch(() => undefined);
        throw e;
      }
    });
  }

  // ------------------------------------------------------------ patients

  async createPatient(input: PatientInput, _actor: Actor): Promise<Patient> {
    const p = check(patientInput, input);
    const now = iso(this.#now());
    const row: PatientRow = {
      id: randomUUID(), mrn: p.mrn ?? null, name: p.name ?? null, nameSearch: p.name ? p.name.toLowerCase() : null, birthDate: p.birthDate ?? null,
      sex: p.sex ?? null, version: 1, createdAt: now, updatedAt: now,
    };
    try {
      await this.#db.insertInto('patient').values(row).execute();
    } catch (e) {
      if (isUniqueViolation(e)) throw mrnTaken();
      throw e;
    }
    return toPatient(row);
  }

  async getPatient(id: string): Promise<Patient> {
    const r = await this.#db.selectFrom('patient').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) throw notFound('patient', id);
    return toPatient(r);
  }

  async updatePatient(id: string, version: number, patch: PatientInput): Promise<Patient> {
    const p = check(patientInput, patch);
    const set: Partial<PatientRow> = {};
    if (p.mrn !== undefined) set.mrn = p.mrn;
    if (p.name !== undefined) { set.name = p.name; set.nameSearch = p.name ? p.name.toLowerCase() : null; }
    if (p.birthDate !== undefined) set.birthDate = p.birthDate;
    if (p.sex !== undefined) set.sex = p.sex;
    let r;
    try {
      r = await this.#db.updateTable('patient')
        .set({ ...set, version: sql<number>`version + 1`, updatedAt: iso(this.#now()) })
        .where('id', '=', id).where('version', '=', version)
        .executeTakeFirst();
    } catch (e) {
      if (isUniqueViolation(e)) throw mrnTaken();
      throw e;
    }
    if (Number(r.numUpdatedRows) === 0) await this.#versionProblem('patient', id, version);
    return this.getPatient(id);
  }

  async #versionProblem(table: 'patient' | 'lesion' | 'visit' | 'outcome' | 'appUser', id: string, version: number): Promise<never> {
    const cur = await this.#db.selectFrom(table).select('version').where('id', '=', id).executeTakeFirst();
    const type = table === 'appUser' ? 'user' : table;
    if (!cur) throw notFound(type, id);
    throw conflict(type, id, version, n(cur.version));
  }

  async searchPatients(q: PatientSearch): Promise<Page<Patient>> {
    const s = check(patientSearch, q);
    const today = s.today ?? this.#today();
    let base = this.#db.selectFrom('patient');
    if (s.mrn !== undefined) base = base.where('patient.mrn', '=', s.mrn);
    if (s.name !== undefined) base = base.where(sql<boolean>`patient.name_search like ${likePattern(s.name)} escape '\\'`);
    if (s.entity !== undefined) {
      const entity = s.entity;
      base = base.where((eb) => eb.or([
        eb.exists(eb.selectFrom('assessment').select(sql.lit(1).as('one')).whereRef('assessment.patientId', '=', 'patient.id').where('assessment.topEntity', '=', entity)),
        eb.exists(eb.selectFrom('outcome').select(sql.lit(1).as('one')).whereRef('outcome.patientId', '=', 'patient.id').where('outcome.entity', '=', entity)),
      ]));
    }
    if (s.assessedFrom !== undefined || s.assessedTo !== undefined) {
      base = base.where((eb) => {
        let sub = eb.selectFrom('assessment').select(sql.lit(1).as('one')).whereRef('assessment.patientId', '=', 'patient.id');
        if (s.assessedFrom !== undefined) sub = sub.where('assessment.assessedOn', '>=', s.assessedFrom);
        if (s.assessedTo !== undefined) sub = sub.where('assessment.assessedOn', '<=', s.assessedTo);
        return eb.exists(sub);
      });
    }
    if (s.status === 'due' || s.status === 'overdue') {
      const status = s.status;
      base = base.where((eb) => {
        let sub = eb.selectFrom('visit').select(sql.lit(1).as('one')).whereRef('visit.patientId', '=', 'patient.id').where('visit.state', '=', 'planned');
        sub = status === 'overdue' ? sub.where('visit.windowEnd', '<', today) : sub.where('visit.windowStart', '<=', today).where('visit.windowEnd', '>=', today);
        return eb.exists(sub);
      });
    } else if (s.status === 'outcome_recorded' || s.status === 'no_outcome') {
      const has = s.status === 'outcome_recorded';
      base = base.where((eb) => {
        const sub = eb.exists(eb.selectFrom('outcome').select(sql.lit(1).as('one')).whereRef('outcome.patientId', '=', 'patient.id'));
        return has ? sub : eb.not(sub);
      });
    }
    const total = await base.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    const rows = await base.selectAll('patient').orderBy('patient.createdAt', 'desc').orderBy('patient.id').limit(s.limit).offset(s.offset).execute();
    return { items: rows.map(toPatient), total: n(total.n), limit: s.limit, offset: s.offset };
  }

  async patientTimeline(id: string, today?: string): Promise<PatientTimeline> {
    const patient = await this.getPatient(id);
    const day = today ?? this.#today();
    const [lesions, assessments, plans, visits, outcomes] = await Promise.all([
      this.#db.selectFrom('lesion').selectAll().where('patientId', '=', id).orderBy('createdAt').orderBy('id').execute(),
      this.#db.selectFrom('assessment').selectAll().where('patientId', '=', id).orderBy('assessedOn').orderBy('createdAt').orderBy('id').execute(),
      this.#db.selectFrom('plan').selectAll().where('patientId', '=', id).orderBy('createdAt').orderBy(sql`case when superseded_at is null then 1 else 0 end`).orderBy('id').execute(),
      this.#db.selectFrom('visit').selectAll().where('patientId', '=', id).orderBy('dueDate').orderBy('id').execute(),
      this.#db.selectFrom('outcome').selectAll().where('patientId', '=', id).execute(),
    ]);
    return {
      patient,
      lesions: lesions.map((l) => ({
        lesion: toLesion(l),
        assessments: assessments.filter((a) => a.lesionId === l.id).map(toAssessment),
        plans: plans.filter((p) => p.lesionId === l.id).map(toPlan),
        visits: visits.filter((v) => v.lesionId === l.id).map((v) => view(toVisit(v), day)),
        outcome: outcomes.filter((o) => o.lesionId === l.id).map(toOutcome)[0] ?? null,
      })),
    };
  }

  // ------------------------------------------------------------ lesions

  async createLesion(input: LesionInput, _actor: Actor): Promise<Lesion> {
    const l = check(lesionInput, input);
    await this.getPatient(l.patientId).catch((e) => { throw refersTo(e, 'patientId', l.patientId, 'patient'); });
    const now = iso(this.#now());
    const row: LesionRow = { id: randomUUID(), patientId: l.patientId, site: l.site, side: l.side ?? null, firstSeen: l.firstSeen ?? null, version: 1, createdAt: now, updatedAt: now };
    await this.#db.insertInto('lesion').values(row).execute();
    return toLesion(row);
  }

  async getLesion(id: string): Promise<Lesion> {
    const r = await this.#db.selectFrom('lesion').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) throw notFound('lesion', id);
    return toLesion(r);
  }

  async updateLesion(id: string, version: number, patch: LesionPatch): Promise<Lesion> {
    const p = check(lesionPatch, patch);
    const set: Partial<LesionRow> = {};
    if (p.site !== undefined) set.site = p.site;
    if (p.side !== undefined) set.side = p.side;
    if (p.firstSeen !== undefined) set.firstSeen = p.firstSeen;
    const r = await this.#db.updateTable('lesion').set({ ...set, version: sql<number>`version + 1`, updatedAt: iso(this.#now()) })
      .where('id', '=', id).where('version', '=', version).executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) await this.#versionProblem('lesion', id, version);
    return this.getLesion(id);
  }

  async listLesions(patientId: string): Promise<Lesion[]> {
    await this.getPatient(patientId);
    return (await this.#db.selectFrom('lesion').selectAll().where('patientId', '=', patientId).orderBy('createdAt').orderBy('id').execute()).map(toLesion);
  }

  async lesionTimeline(id: string, today?: string): Promise<LesionTimeline> {
    const lesion = await this.getLesion(id);
    const tl = await this.patientTimeline(lesion.patientId, today);
    return tl.lesions.find((l) => l.lesion.id === id)!;
  }

  // ------------------------------------------------------------ assessments

  async addAssessment(input: AssessmentInput, actor: Actor, audit?: AssessmentAudit): Promise<Assessment> {
    const a = check(assessmentInput, input);
    const id = randomUUID();
    const createdAt = iso(this.#now());
    const au = audit === undefined ? undefined : check(auditInput, { ...audit, recordType: 'assessment', recordId: id }, 'audit');
    const row: Omit<AssessmentRow, 'patientId'> = {
      id, lesionId: a.lesionId, caseInputBrotli: encodeJson(a.caseInput), outputBrotli: encodeJson(a.output),
      kbVersion: a.kbVersion, engineVersion: a.engineVersion, assessedOn: a.assessedOn, topEntity: topEntityOf(a.output), createdBy: actor, createdAt,
    };
    const insert = (db: QueryCreator<RegistryDb>) => insertAssessment(db, (c) => row[c], a.lesionId);
    let inserted: { patientId: string } | undefined;
    if (!au) {
      inserted = await insert(this.#db).executeTakeFirst();
    } else if (this.dialect === 'postgres') {
      // the assessment and its audit row in one statement (a data-modifying CTE): atomic as any
      // statement, and, outside a transaction, one round trip and one commit instead of four
      // (begin, two inserts, commit): with durable commits the writers share the disk's flushes.
      // Its SQL is built once and runs as a named prepared statement (src/registry/pg-statements.ts).
      const q = assessmentAuditStatement(this.#db);
      const v: Record<AssessmentAuditParam, unknown> = { ...row, auditAt: createdAt, auditUserId: au.userId, auditAction: au.action, auditRecordType: au.recordType, auditOrigin: au.origin };
      inserted = (await this.#db.executeQuery<{ patientId: string }>(CompiledQuery.raw(q.sql, q.params.map((k) => v[k])))).rows[0];
    } else {
      // SQLite (in process: no round trips to save) has no data-modifying CTE: one transaction
      inserted = await this.#tx(async (tx) => {
        const r = await insert(tx).executeTakeFirst();
        if (r) await tx.insertInto('auditLog').values(auditRow(au, createdAt)).execute();
        return r;
      });
    }
    if (!inserted) throw invalid([{ field: 'lesionId', found: a.lesionId, allowed: 'the id of an existing lesion' }]);
    // the values given (JSON: what the store keeps is their JSON text), not decoded again from the
    // compressed row: decoding the ~25 kB output took about a sixth of an insert's CPU
    const { caseInputBrotli: _c, outputBrotli: _o, ...rest } = row;
    return { ...rest, patientId: inserted.patientId, caseInput: a.caseInput, output: a.output };
  }

  async getAssessment(id: string): Promise<Assessment> {
    const r = await this.#db.selectFrom('assessment').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) throw notFound('assessment', id);
    return toAssessment(r);
  }

  async listAssessments(lesionId: string): Promise<Assessment[]> {
    await this.getLesion(lesionId);
    return (await this.#db.selectFrom('assessment').selectAll().where('lesionId', '=', lesionId).orderBy('assessedOn').orderBy('createdAt').orderBy('id').execute()).map(toAssessment);
  }

  // ------------------------------------------------------------ follow-up

  async createPlan(input: PlanInput, actor: Actor): Promise<{ plan: FollowUpPlan; visits: VisitView[] }> {
    const p = check(planInput, input);
    const a = await this.getAssessment(p.assessmentId).catch((e) => { throw refersTo(e, 'assessmentId', p.assessmentId, 'assessment'); });
    const f = followUpOf(a.output);
    if (!f) throw invalid([{ field: 'assessmentId', found: p.assessmentId, allowed: 'an assessment whose output has a followUp with visits' }]);
    if (!f.visits.length) throw invalid([{ field: 'assessmentId', found: `${f.scheme}: no visits`, allowed: 'a follow-up scheme with visits' }]);
    const undated = f.visits.some((v) => !v.date);
    if (undated && !p.startDate) throw invalid([{ field: 'startDate', found: 'nothing', allowed: 'the date the visits count from (the treatment date, or the assessment date): the assessment gave no dates' }]);
    const startDate = p.startDate ?? f.surgeryDate ?? a.assessedOn;
    const datedFrom = p.datedFrom ?? (p.startDate ? 'surgery' : f.datedFrom === 'assessment' ? 'assessment' : 'surgery');
    const windowDays = p.windowDays ?? DEFAULT_WINDOW_DAYS;
    const dated = datedVisits(f.visits, p.startDate, windowDays);
    const now = iso(this.#now());
    const plan: PlanRow = {
      id: randomUUID(), lesionId: a.lesionId, patientId: a.patientId, assessmentId: a.id, scheme: f.scheme, datedFrom, startDate,
      supersededAt: null, createdBy: actor, createdAt: now,
    };
    let rows: VisitRow[] = dated.map((v) => ({
      id: randomUUID(), planId: plan.id, lesionId: a.lesionId, patientId: a.patientId, month: v.month, dueDate: v.dueDate, windowDays,
      windowStart: v.windowStart, windowEnd: v.windowEnd, items: JSON.stringify(v.items), state: 'planned', doneOn: null, findings: null,
      version: 1, createdAt: now, updatedAt: now,
    }));
    await this.#tx(async (tx) => {
      // one plan change of a lesion at a time (SQLite: BEGIN IMMEDIATE already serialises writers).
      // FOR NO KEY UPDATE, not FOR UPDATE: an assessment inserted earlier in the same transaction holds
      // the lesion's FOR KEY SHARE lock (its foreign key), as does a concurrent one; FOR UPDATE would
      // wait on the other's KEY SHARE while the other waits on ours (deadlock 40P01, seen with two
      // assessments of one lesion posted at once), NO KEY UPDATE does not conflict with KEY SHARE and
      // still serialises the plan changes of one lesion
      if (this.dialect === 'postgres') await tx.selectFrom('lesion').select('id').where('id', '=', a.lesionId).forNoKeyUpdate().execute();
      // the new plan supersedes the lesion's open plans: their planned visits are cancelled
      const open = await tx.selectFrom('plan').select('id').where('lesionId', '=', a.lesionId).where('supersededAt', 'is', null).execute();
      if (open.length) {
        const ids = open.map((o) => o.id);
        await tx.updateTable('plan').set({ supersededAt: now }).where('id', 'in', ids).execute();
        await tx.updateTable('visit').set({ state: 'cancelled', version: sql<number>`version + 1`, updatedAt: now }).where('planId', 'in', ids).where('state', '=', 'planned').execute();
      }
      // a visit already done for this lesion (under any plan) covers the schedule up to its due date:
      // the new plan's visits start after it, so a re-assessment does not bring back visits already
      // made as overdue; visits not done stay on the schedule (an overdue one stays overdue)
      const lastDone = await tx.selectFrom('visit').select(sql<string | null>`max(due_date)`.as('d')).where('lesionId', '=', a.lesionId).where('state', '=', 'done').executeTakeFirst();
      const covered = lastDone?.d ?? null;
      if (covered) rows = rows.filter((r) => r.dueDate > covered);
      await tx.insertInto('plan').values(plan).execute();
      for (let i = 0; i < rows.length; i += 100) await tx.insertInto('visit').values(rows.slice(i, i + 100)).execute();
    });
    const today = this.#today();
    return { plan: toPlan(plan), visits: rows.map((r) => view(toVisit(r), today)) };
  }

  async getVisit(id: string, today?: string): Promise<VisitView> {
    const r = await this.#db.selectFrom('visit').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) throw notFound('visit', id);
    return view(toVisit(r), today ?? this.#today());
  }

  async listVisits(lesionId: string, today?: string): Promise<VisitView[]> {
    await this.getLesion(lesionId);
    const day = today ?? this.#today();
    return (await this.#db.selectFrom('visit').selectAll().where('lesionId', '=', lesionId).orderBy('dueDate').orderBy('id').execute()).map((r) => view(toVisit(r), day));
  }

  async recordVisit(id: string, version: number, done: VisitDone, today?: string): Promise<VisitView> {
    const d = check(visitDone, done);
    const r = await this.#db.updateTable('visit')
      .set({ state: 'done', doneOn: d.doneOn, findings: JSON.stringify(d.findings), version: sql<number>`version + 1`, updatedAt: iso(this.#now()) })
      .where('id', '=', id).where('version', '=', version).where('state', '!=', 'cancelled')
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) await this.#visitProblem(id, version, 'a visit that is not cancelled');
    return this.getVisit(id, today);
  }

  async cancelVisit(id: string, version: number, today?: string): Promise<VisitView> {
    const r = await this.#db.updateTable('visit')
      .set({ state: 'cancelled', version: sql<number>`version + 1`, updatedAt: iso(this.#now()) })
      .where('id', '=', id).where('version', '=', version).where('state', '=', 'planned')
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) await this.#visitProblem(id, version, 'a visit not yet done or cancelled');
    return this.getVisit(id, today);
  }

  async #visitProblem(id: string, version: number, allowed: string): Promise<never> {
    const cur = await this.#db.selectFrom('visit').select(['version', 'state']).where('id', '=', id).executeTakeFirst();
    if (!cur) throw notFound('visit', id);
    if (n(cur.version) !== version) throw conflict('visit', id, version, n(cur.version));
    throw invalid([{ field: 'state', found: cur.state, allowed }]);
  }

  async worklist(q: WorklistQuery): Promise<Page<WorklistRow>> {
    const w = check(worklistQuery, q);
    const today = w.today ?? this.#today();
    const weekEnd = addDays(today, 6);
    // due this week: the window has opened, or the due date falls within the next 7 days; overdue: the window has closed.
    // Every such visit is due by today + its window (at most the widest window of a planned visit, read from the partial
    // index visit_planned_window: 14 days unless a plan chose wider): a short range of the partial index visit_planned_due
    // (planned visits only, covering the filter's columns), the exact test on its columns, no table row read. The state
    // is a literal, not a parameter: SQLite uses a partial index only for a term it can match when preparing.
    // Lesion and patient always exist (foreign keys): the count and the filter need no join.
    const widest = await this.#db.selectFrom('visit').select((eb) => eb.fn.max('windowDays').as('w')).where(sql<boolean>`visit.state = 'planned'`).executeTakeFirst();
    const reach = Math.max(6, n(widest?.w ?? 0));
    const bound = addDays(today, reach);
    const open = w.overdueOnly
      ? sql<boolean>`visit.state = 'planned' and visit.due_date <= ${bound} and visit.window_end < ${today}`
      : sql<boolean>`visit.state = 'planned' and visit.due_date <= ${bound} and (visit.window_start <= ${today} or visit.due_date <= ${weekEnd})`;
    const base = this.#db.selectFrom('visit').where(open);
    // counted up to WORKLIST_COUNT_CAP: a count reads every entry it counts (a registry of 100,000 patients with a tenth of
    // its visits left open has ~50,000), a page reads only its own
    const counted = n((await this.#db.selectFrom(base.select(sql.lit(1).as('one')).limit(WORKLIST_COUNT_CAP + 1).as('c'))
      .select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    const total = Math.min(counted, WORKLIST_COUNT_CAP);
    const dir = w.desc ? 'desc' : 'asc';
    // first the page's ids in order (joining only what the sort needs), then their rows
    let ids: string[];
    if (w.sort === 'status') {
      // overdue (window closed), due (window open), upcoming (window not yet open): each a due-date range of the index
      // read in order, the page cut across the three (sorting the whole list by a computed status would read all of it
      // for every page); a page deeper in the list reads the rows before it, as an offset does
      const groups = [
        base.where('visit.windowEnd', '<', today).where('visit.dueDate', '<', today),
        base.where('visit.windowStart', '<=', today).where('visit.windowEnd', '>=', today).where('visit.dueDate', '>=', addDays(today, -reach)),
        base.where('visit.windowStart', '>', today).where('visit.dueDate', '>', today),
      ];
      const order = w.desc ? [2, 1, 0] : [0, 1, 2];
      ids = [];
      let skip = w.offset;
      for (const g of order) {
        if (ids.length >= w.limit) break;
        const got = await groups[g]!.select('visit.id').orderBy('visit.dueDate', dir).orderBy('visit.id', dir).limit(skip + w.limit - ids.length).execute();
        if (got.length <= skip) { skip -= got.length; continue; }
        ids.push(...got.slice(skip).map((r) => r.id));
        skip = 0;
      }
    } else if (w.sort === 'site') {
      // site by site (the sites in order from the index lesion_site, one step each), each site's visits in due-date order:
      // sorting the whole list by site would join and read all of it for every page. A page deeper in the list reads the
      // rows before it, as an offset does.
      ids = [];
      let skip = w.offset;
      let site: string | null = null;
      while (ids.length < w.limit) {
        let next = this.#db.selectFrom('lesion').select('site');
        if (site !== null) next = next.where('site', w.desc ? '<' : '>', site);
        const row: { site: string } | undefined = await next.orderBy('site', dir).limit(1).executeTakeFirst();
        if (!row) break;
        site = row.site;
        // a site of many lesions: its visits are found walking all open visits in due-date order (no sort, stops at the
        // page); a site of few: from its lesions, then sorted. CROSS JOIN makes SQLite keep that order of the loops
        // (PostgreSQL's planner chooses; for it, it is an inner join).
        const many = n((await this.#db.selectFrom(this.#db.selectFrom('lesion').select(sql.lit(1).as('one')).where('site', '=', site).limit(this.#siteWalk).as('c'))
          .select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n) >= this.#siteWalk;
        const q = many
          ? this.#db.selectFrom('visit').crossJoin('lesion').whereRef('lesion.id', '=', 'visit.lesionId')
          : this.#db.selectFrom('lesion').crossJoin('visit').whereRef('visit.lesionId', '=', 'lesion.id');
        const got = await q.where('lesion.site', '=', site).where(open).select('visit.id')
          .orderBy('visit.dueDate', dir).orderBy('visit.id', dir).limit(skip + w.limit - ids.length).execute();
        if (got.length <= skip) { skip -= got.length; continue; }
        ids.push(...got.slice(skip).map((r) => r.id));
        skip = 0;
      }
    } else {
      // by patient: the patients in name order (index patient_name), each one's open visits (visit_planned_patient) —
      // CROSS JOIN keeps SQLite to that order of the loops, which stops at the page; by due date: visit_planned_due
      const idsQ = w.sort === 'patient'
        ? this.#db.selectFrom('patient').crossJoin('visit').whereRef('visit.patientId', '=', 'patient.id').where(open).select('visit.id')
          .orderBy('patient.nameSearch', dir).orderBy('patient.mrn', dir).orderBy('patient.id', dir)
        : base.select('visit.id');
      ids = (await idsQ.orderBy('visit.dueDate', dir).orderBy('visit.id', dir).limit(w.limit).offset(w.offset).execute()).map((r) => r.id);
    }
    const rows = ids.length ? await this.#db.selectFrom('visit')
      .innerJoin('lesion', 'lesion.id', 'visit.lesionId')
      .innerJoin('patient', 'patient.id', 'visit.patientId')
      .selectAll('visit')
      .select(['patient.mrn as pMrn', 'patient.name as pName', 'lesion.site as lSite', 'lesion.side as lSide'])
      .where('visit.id', 'in', ids)
      .execute() : [];
    const byId = new Map(rows.map((r) => [r.id, r]));
    return {
      items: ids.flatMap((id) => {
        const r = byId.get(id);
        if (!r) return []; // changed between the two reads
        const { pMrn, pName, lSite, lSide, ...v } = r;
        const visit = view(toVisit(v), today);
        return [{ visit, patient: { id: v.patientId, mrn: pMrn, name: pName }, lesion: { id: v.lesionId, site: lSite, side: lSide as Lesion['side'] } }];
      }),
      total, ...(counted > WORKLIST_COUNT_CAP ? { totalCapped: true } : {}), limit: w.limit, offset: w.offset,
    };
  }

  // ------------------------------------------------------------ outcomes

  async recordOutcome(input: OutcomeInput, actor: Actor): Promise<Outcome> {
    const o = check(outcomeInput, input);
    const lesion = await this.getLesion(o.lesionId).catch((e) => { throw refersTo(e, 'lesionId', o.lesionId, 'lesion'); });
    const now = iso(this.#now());
    const row: OutcomeRow = {
      id: randomUUID(), lesionId: o.lesionId, patientId: lesion.patientId, entity: o.entity, confirmedBy: o.confirmedBy, date: o.date,
      grade: o.grade ?? null, stage: o.stage ?? null, version: 1, createdBy: actor, createdAt: now, updatedAt: now,
    };
    try {
      await this.#db.insertInto('outcome').values(row).execute();
    } catch (e) {
      if (isUniqueViolation(e)) throw new RegistryError('exists', `lesion ${o.lesionId} already has an outcome: update it (with its version) instead`, { recordType: 'outcome', issues: [{ field: 'lesionId', found: o.lesionId, allowed: 'a lesion without an outcome' }] });
      throw e;
    }
    return toOutcome(row);
  }

  async updateOutcome(id: string, version: number, patch: Omit<OutcomeInput, 'lesionId'>): Promise<Outcome> {
    const o = check(outcomeInput.omit({ lesionId: true }), patch);
    const r = await this.#db.updateTable('outcome')
      .set({ entity: o.entity, confirmedBy: o.confirmedBy, date: o.date, grade: o.grade ?? null, stage: o.stage ?? null, version: sql<number>`version + 1`, updatedAt: iso(this.#now()) })
      .where('id', '=', id).where('version', '=', version).executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) await this.#versionProblem('outcome', id, version);
    return toOutcome((await this.#db.selectFrom('outcome').selectAll().where('id', '=', id).executeTakeFirstOrThrow()));
  }

  async getOutcome(lesionId: string): Promise<Outcome | null> {
    const r = await this.#db.selectFrom('outcome').selectAll().where('lesionId', '=', lesionId).executeTakeFirst();
    return r ? toOutcome(r) : null;
  }

  async performanceInputs(): Promise<PerformanceInput[]> {
    const rows = await this.#db.selectFrom('outcome')
      .innerJoin('assessment', 'assessment.lesionId', 'outcome.lesionId')
      .whereRef('assessment.assessedOn', '<=', 'outcome.date')
      .select([
        'assessment.id as aId', 'assessment.lesionId as lesionId', 'assessment.patientId as patientId', 'assessment.assessedOn as assessedOn',
        'assessment.kbVersion as kbVersion', 'assessment.engineVersion as engineVersion', 'assessment.outputBrotli as output', 'assessment.createdAt as aCreated',
        'outcome.entity as entity', 'outcome.confirmedBy as confirmedBy', 'outcome.date as date', 'outcome.grade as grade',
      ])
      .orderBy('assessment.lesionId').orderBy('assessment.assessedOn').orderBy('assessment.createdAt').orderBy('assessment.id')
      .execute();
    // the last assessment of each lesion made on or before its outcome date
    const last = new Map<string, (typeof rows)[number]>();
    for (const r of rows) last.set(r.lesionId, r);
    return [...last.values()].map((r) => ({
      assessment: { id: r.aId, lesionId: r.lesionId, patientId: r.patientId, assessedOn: r.assessedOn, kbVersion: r.kbVersion, engineVersion: r.engineVersion, output: decodeJson(r.output) },
      outcome: { entity: r.entity, confirmedBy: r.confirmedBy as Outcome['confirmedBy'], date: r.date, grade: r.grade === null ? null : n(r.grade) },
    }));
  }

  // ------------------------------------------------------------ users

  async createUser(input: UserInput): Promise<User> {
    const u = check(userInput, input);
    const now = iso(this.#now());
    const row: UserRow = { id: randomUUID(), username: u.username, role: u.role, passwordHash: u.passwordHash, disabled: 0, failedLogins: 0, lockedUntil: null, version: 1, createdAt: now, updatedAt: now };
    try {
      await this.#db.insertInto('appUser').values(row).execute();
    } catch (e) {
      if (isUniqueViolation(e)) throw new RegistryError('exists', `username ${u.username} is taken`, { recordType: 'user', issues: [{ field: 'username', found: u.username, allowed: 'a username not yet in use' }] });
      throw e;
    }
    return toUser(row);
  }

  async getUser(id: string): Promise<User> {
    const r = await this.#db.selectFrom('appUser').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) throw notFound('user', id);
    return toUser(r);
  }

  async findUser(username: string): Promise<User | null> {
    const r = await this.#db.selectFrom('appUser').selectAll().where('username', '=', username).executeTakeFirst();
    return r ? toUser(r) : null;
  }

  async listUsers(): Promise<User[]> {
    return (await this.#db.selectFrom('appUser').selectAll().orderBy('username').execute()).map(toUser);
  }

  async countUsers(): Promise<number> {
    return n((await this.#db.selectFrom('appUser').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  }

  async updateUser(id: string, version: number, patch: UserPatch): Promise<User> {
    const p = check(userPatch, patch);
    const set: Partial<UserRow> = {};
    if (p.role !== undefined) set.role = p.role;
    if (p.passwordHash !== undefined) { set.passwordHash = p.passwordHash; set.failedLogins = 0; set.lockedUntil = null; }
    if (p.disabled !== undefined) set.disabled = p.disabled ? 1 : 0;
    const r = await this.#db.updateTable('appUser').set({ ...set, version: sql<number>`version + 1`, updatedAt: iso(this.#now()) })
      .where('id', '=', id).where('version', '=', version).executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) await this.#versionProblem('appUser', id, version);
    // a disabled account or a new password ends the account's sessions
    if (p.disabled === true || p.passwordHash !== undefined) await this.deleteUserSessions(id);
    return this.getUser(id);
  }

  async recordLoginFailure(id: string, lockAfter: number, lockMs: number, now: Date = this.#now()): Promise<User> {
    const until = iso(new Date(now.getTime() + lockMs));
    // one statement: concurrent failures each count
    const r = await this.#db.updateTable('appUser')
      .set({
        failedLogins: sql<number>`failed_logins + 1`,
        lockedUntil: sql<string | null>`case when failed_logins + 1 >= ${lockAfter} then ${until} else locked_until end`,
      })
      .where('id', '=', id).executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) throw notFound('user', id);
    return this.getUser(id);
  }

  async recordLoginSuccess(id: string): Promise<User> {
    const r = await this.#db.updateTable('appUser').set({ failedLogins: 0, lockedUntil: null }).where('id', '=', id).executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) throw notFound('user', id);
    return this.getUser(id);
  }

  // ------------------------------------------------------------ sessions

  async createSession(s: Session): Promise<Session> {
    const v = check(sessionSchema, s);
    await this.getUser(v.userId).catch((e) => { throw refersTo(e, 'userId', v.userId, 'user'); });
    await this.#db.insertInto('session').values(v).execute();
    return v;
  }

  async getSession(idHash: string): Promise<Session | null> {
    const r = await this.#db.selectFrom('session').selectAll().where('idHash', '=', idHash).executeTakeFirst();
    return r ?? null;
  }

  async touchSession(idHash: string, now: Date = this.#now()): Promise<void> {
    await this.#db.updateTable('session').set({ lastSeenAt: iso(now) }).where('idHash', '=', idHash).execute();
  }

  async deleteSession(idHash: string): Promise<void> {
    await this.#db.deleteFrom('session').where('idHash', '=', idHash).execute();
  }

  async deleteUserSessions(userId: string): Promise<number> {
    return Number((await this.#db.deleteFrom('session').where('userId', '=', userId).executeTakeFirst()).numDeletedRows);
  }

  async purgeSessions(now: Date = this.#now()): Promise<number> {
    return Number((await this.#db.deleteFrom('session').where('expiresAt', '<=', iso(now)).executeTakeFirst()).numDeletedRows);
  }

  // ------------------------------------------------------------ audit

  async appendAudit(entry: AuditInput): Promise<AuditEntry> {
    const row = auditRow(check(auditInput, entry), iso(this.#now()));
    const r = await this.#db.insertInto('auditLog').values(row).returning('seq').executeTakeFirstOrThrow();
    return toAudit({ ...row, seq: r.seq });
  }

  async listAudit(q: AuditQuery): Promise<Page<AuditView>> {
    const a = check(auditQuery, q);
    let base = this.#db.selectFrom('auditLog');
    if (a.userId !== undefined) base = base.where('auditLog.userId', '=', a.userId);
    if (a.recordType !== undefined) base = base.where('auditLog.recordType', '=', a.recordType);
    if (a.recordId !== undefined) base = base.where('auditLog.recordId', '=', a.recordId);
    if (a.from !== undefined) base = base.where('auditLog.at', '>=', a.from);
    if (a.to !== undefined) base = base.where('auditLog.at', '<=', a.to);
    const total = await base.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    // the username by a left join: the audit outlives the accounts it names (no foreign key), a row keeps its id
    const rows = await base.leftJoin('appUser', 'appUser.id', 'auditLog.userId').selectAll('auditLog').select('appUser.username as username')
      .orderBy('auditLog.seq', 'desc').limit(a.limit).offset(a.offset).execute();
    return { items: rows.map(({ username, ...r }) => ({ ...toAudit(r), username: username ?? null })), total: n(total.n), limit: a.limit, offset: a.offset };
  }

  // ------------------------------------------------------------ whole registry

  async status(): Promise<RegistryStatus> {
    const count = async (t: 'patient' | 'lesion' | 'assessment' | 'visit' | 'outcome' | 'appUser' | 'auditLog'): Promise<number> =>
      n((await this.#db.selectFrom(t).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    return {
      dialect: this.dialect,
      location: this.#location,
      schemaVersion: await schemaVersion(this.#db, this.dialect),
      latestSchemaVersion: LATEST_SCHEMA_VERSION,
      counts: {
        patients: await count('patient'), lesions: await count('lesion'), assessments: await count('assessment'), visits: await count('visit'),
        outcomes: await count('outcome'), users: await count('appUser'), audit: await count('auditLog'),
      },
    };
  }

  async *exportRecords(): AsyncIterable<ExportRecord> {
    yield { kind: 'header', data: { format: EXPORT_FORMAT, version: EXPORT_VERSION, schemaVersion: await schemaVersion(this.#db, this.dialect), exportedAt: iso(this.#now()), pseudonymised: false } };
    const PAGE = 1000;
    // keyset pages by primary key: a stable order that does not hold the whole table in memory
    async function* pages<R extends { id: string }>(next: (after: string) => Promise<R[]>): AsyncIterable<R> {
      let after = '';
      for (;;) {
        const rows = await next(after);
        for (const r of rows) yield r;
        if (rows.length < PAGE) return;
        after = rows[rows.length - 1]!.id;
      }
    }
    const db = this.#db;
    for await (const r of pages((a) => db.selectFrom('appUser').selectAll().where('id', '>', a).orderBy('id').limit(PAGE).execute())) yield { kind: 'user', data: toUser(r) };
    for await (const r of pages((a) => db.selectFrom('patient').selectAll().where('id', '>', a).orderBy('id').limit(PAGE).execute())) yield { kind: 'patient', data: toPatient(r) };
    for await (const r of pages((a) => db.selectFrom('lesion').selectAll().where('id', '>', a).orderBy('id').limit(PAGE).execute())) yield { kind: 'lesion', data: toLesion(r) };
    for await (const r of pages((a) => db.selectFrom('assessment').selectAll().where('id', '>', a).orderBy('id').limit(PAGE).execute())) yield { kind: 'assessment', data: toAssessment(r) };
    for await (const r of pages((a) => db.selectFrom('plan').selectAll().where('id', '>', a).orderBy('id').limit(PAGE).execute())) yield { kind: 'plan', data: toPlan(r) };
    for await (const r of pages((a) => db.selectFrom('visit').selectAll().where('id', '>', a).orderBy('id').limit(PAGE).execute())) yield { kind: 'visit', data: toVisit(r) };
    for await (const r of pages((a) => db.selectFrom('outcome').selectAll().where('id', '>', a).orderBy('id').limit(PAGE).execute())) yield { kind: 'outcome', data: toOutcome(r) };
    let seq = 0;
    for (;;) {
      const rows = await db.selectFrom('auditLog').selectAll().where('seq', '>', seq).orderBy('seq').limit(PAGE).execute();
      for (const r of rows) yield { kind: 'audit', data: toAudit(r) };
      if (rows.length < PAGE) break;
      seq = n(rows[rows.length - 1]!.seq);
    }
  }

  async importRecords(records: AsyncIterable<ExportRecord> | Iterable<ExportRecord>): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    await this.#tx(async (tx) => {
      const st = await tx.selectFrom('patient').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
      const su = await tx.selectFrom('appUser').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
      if (n(st.n) || n(su.n)) throw new RegistryError('invalid', 'the registry is not empty: import into a new registry (calcdx registry init --db …)', { issues: [{ field: 'registry', found: `${n(st.n)} patients, ${n(su.n)} users`, allowed: 'an empty registry' }] });
      let line = 0;
      let lastKind = -1;
      let maxSeq = 0;
      for await (const raw of records) {
        line++;
        const r = check(exportRecord, raw, `line ${line}`);
        const k = EXPORT_KINDS.indexOf(r.kind);
        if (line === 1 && r.kind !== 'header') throw invalid([{ field: 'line 1', found: r.kind, allowed: `a header record (format ${EXPORT_FORMAT})` }]);
        if (k < lastKind || (r.kind === 'header' && line !== 1)) throw invalid([{ field: `line ${line}.kind`, found: r.kind, allowed: `records in the order ${EXPORT_KINDS.join(', ')}` }]);
        lastKind = k;
        counts[r.kind] = (counts[r.kind] ?? 0) + 1;
        try {
          switch (r.kind) {
            case 'header': break;
            case 'user': await tx.insertInto('appUser').values({ ...r.data, disabled: r.data.disabled ? 1 : 0 }).execute(); break;
            case 'patient': await tx.insertInto('patient').values({ ...r.data, nameSearch: r.data.name ? r.data.name.toLowerCase() : null }).execute(); break;
            case 'lesion': await tx.insertInto('lesion').values(r.data).execute(); break;
            case 'assessment': { const { caseInput, output, ...rest } = r.data; await tx.insertInto('assessment').values({ ...rest, caseInputBrotli: encodeJson(caseInput), outputBrotli: encodeJson(output) }).execute(); break; }
            case 'plan': await tx.insertInto('plan').values(r.data).execute(); break;
            case 'visit': await tx.insertInto('visit').values({ ...r.data, items: JSON.stringify(r.data.items), findings: r.data.findings === null ? null : JSON.stringify(r.data.findings) }).execute(); break;
            case 'outcome': await tx.insertInto('outcome').values(r.data).execute(); break;
            case 'audit': await tx.insertInto('auditLog').values(r.data).execute(); maxSeq = Math.max(maxSeq, r.data.seq); break;
          }
        } catch (e) {
          if (e instanceof RegistryError) throw e;
          const code = String((e as { code?: unknown }).code ?? '');
          const what = isUniqueViolation(e) ? 'a record whose id is not already in the file' : /FOREIGNKEY|23503/.test(code) ? 'a record whose parent (patient, lesion, plan, …) comes earlier in the file' : 'a record the database accepts';
          throw invalid([{ field: `line ${line}`, found: `${r.kind} ${'id' in r.data ? String(r.data.id) : ''}`.trim(), allowed: what }]);
        }
      }
      if (line === 0) throw invalid([{ field: 'line 1', found: 'nothing', allowed: `a header record (format ${EXPORT_FORMAT})` }]);
      if (this.dialect === 'postgres' && maxSeq > 0) await sql`select setval(pg_get_serial_sequence('audit_log', 'seq'), ${maxSeq})`.execute(tx);
    });
    delete counts.header;
    return counts;
  }

  async close(): Promise<void> {
    if (this.#inTx) throw new Error('close() inside transaction(): close the store that made it');
    await this.#db.destroy();
  }
}

function view(v: Visit, today: string): VisitView {
  return { ...v, status: visitStatus(v, today) };
}

function tooNew(v: number): RegistryError {
  return new RegistryError('schema_too_new', `the registry's schema is version ${v}, newer than this calcdx knows (${LATEST_SCHEMA_VERSION}): it was written by a newer calcdx; use that version (calcdx does not downgrade a registry)`);
}

function mrnTaken(): RegistryError {
  return new RegistryError('exists', 'this medical record number belongs to another patient', { recordType: 'patient', issues: [{ field: 'mrn', allowed: 'a medical record number not yet in the registry' }] });
}

/** a not_found of a referenced record becomes an invalid input naming the field */
function refersTo(e: unknown, field: string, id: string, type: string): unknown {
  if (e instanceof RegistryError && e.code === 'not_found') return invalid([{ field, found: id, allowed: `the id of an existing ${type}` }]);
  return e;
}
