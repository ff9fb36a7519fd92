/**
 * The registry's schema, one list of versioned migrations for SQLite and PostgreSQL.
 *
 * The version lives in the one-row table calcdx_schema. On open, the store runs every
 * migration above the database's version, each in its own transaction with its version
 * bump (SQLite: BEGIN IMMEDIATE, so that two processes opening at once take turns;
 * PostgreSQL: a transaction-scoped advisory lock). A database whose version is above the
 * last one here was written by a newer calcdx: it is refused (schema_too_new), not touched.
 *
 * Migrations are never edited once released; a change is a new migration.
 */
import { sql, type Kysely } from 'kysely';
import type { RegistryDb } from './db-types.js';
import { encodeJsonText } from './json-codec.js';

export type Dialect = 'sqlite' | 'postgres';
// migrations see an untyped database: the tables they create are not yet in RegistryDb
type AnyDb = Kysely<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface Migration { version: number; name: string; up(db: AnyDb, dialect: Dialect): Promise<void> }

const TEXT = 'text';

/** v1: the clinical records. */
async function v1(db: AnyDb): Promise<void> {
  await db.schema.createTable('patient')
    .addColumn('id', TEXT, (c) => c.primaryKey())
    .addColumn('mrn', TEXT, (c) => c.unique())
    .addColumn('name', TEXT)
    .addColumn('name_search', TEXT)
    .addColumn('birth_date', TEXT)
    .addColumn('sex', TEXT)
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('created_at', TEXT, (c) => c.notNull())
    .addColumn('updated_at', TEXT, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('patient_created').on('patient').columns(['created_at', 'id']).execute();

  await db.schema.createTable('lesion')
    .addColumn('id', TEXT, (c) => c.primaryKey())
    .addColumn('patient_id', TEXT, (c) => c.notNull().references('patient.id'))
    .addColumn('site', TEXT, (c) => c.notNull())
    .addColumn('side', TEXT)
    .addColumn('first_seen', TEXT)
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('created_at', TEXT, (c) => c.notNull())
    .addColumn('updated_at', TEXT, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('lesion_patient').on('lesion').column('patient_id').execute();

  await db.schema.createTable('assessment')
    .addColumn('id', TEXT, (c) => c.primaryKey())
    .addColumn('lesion_id', TEXT, (c) => c.notNull().references('lesion.id'))
    .addColumn('patient_id', TEXT, (c) => c.notNull().references('patient.id'))
    .addColumn('case_input', TEXT, (c) => c.notNull())
    .addColumn('output', TEXT, (c) => c.notNull())
    .addColumn('kb_version', TEXT, (c) => c.notNull())
    .addColumn('engine_version', TEXT, (c) => c.notNull())
    .addColumn('assessed_on', TEXT, (c) => c.notNull())
    .addColumn('top_entity', TEXT)
    .addColumn('created_by', TEXT)
    .addColumn('created_at', TEXT, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('assessment_patient').on('assessment').columns(['patient_id', 'assessed_on']).execute();
  await db.schema.createIndex('assessment_lesion').on('assessment').columns(['lesion_id', 'created_at']).execute();
  await db.schema.createIndex('assessment_entity').on('assessment').columns(['top_entity', 'patient_id']).execute();
  await db.schema.createIndex('assessment_assessed_on').on('assessment').columns(['assessed_on', 'patient_id']).execute();

  await db.schema.createTable('plan')
    .addColumn('id', TEXT, (c) => c.primaryKey())
    .addColumn('lesion_id', TEXT, (c) => c.notNull().references('lesion.id'))
    .addColumn('patient_id', TEXT, (c) => c.notNull().references('patient.id'))
    .addColumn('assessment_id', TEXT, (c) => c.references('assessment.id'))
    .addColumn('scheme', TEXT, (c) => c.notNull())
    .addColumn('dated_from', TEXT, (c) => c.notNull())
    .addColumn('start_date', TEXT, (c) => c.notNull())
    .addColumn('superseded_at', TEXT)
    .addColumn('created_by', TEXT)
    .addColumn('created_at', TEXT, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('plan_patient').on('plan').column('patient_id').execute();
  await db.schema.createIndex('plan_lesion').on('plan').column('lesion_id').execute();

  await db.schema.createTable('visit')
    .addColumn('id', TEXT, (c) => c.primaryKey())
    .addColumn('plan_id', TEXT, (c) => c.notNull().references('plan.id'))
    .addColumn('lesion_id', TEXT, (c) => c.notNull().references('lesion.id'))
    .addColumn('patient_id', TEXT, (c) => c.notNull().references('patient.id'))
    .addColumn('month', 'integer', (c) => c.notNull())
    .addColumn('due_date', TEXT, (c) => c.notNull())
    .addColumn('window_days', 'integer', (c) => c.notNull())
    .addColumn('window_start', TEXT, (c) => c.notNull())
    .addColumn('window_end', TEXT, (c) => c.notNull())
    .addColumn('items', TEXT, (c) => c.notNull())
    .addColumn('state', TEXT, (c) => c.notNull())
    .addColumn('done_on', TEXT)
    .addColumn('findings', TEXT)
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('created_at', TEXT, (c) => c.notNull())
    .addColumn('updated_at', TEXT, (c) => c.notNull())
    .execute();
  // the worklist reads open visits by their window
  await db.schema.createIndex('visit_open_window').on('visit').columns(['state', 'window_start']).execute();
  // covering: the worklist filters and counts on these columns alone
  await db.schema.createIndex('visit_open_due').on('visit').columns(['state', 'due_date', 'window_start', 'window_end', 'id']).execute();
  await db.schema.createIndex('visit_patient').on('visit').columns(['patient_id', 'due_date']).execute();
  await db.schema.createIndex('visit_plan').on('visit').column('plan_id').execute();

  await db.schema.createTable('outcome')
    .addColumn('id', TEXT, (c) => c.primaryKey())
    .addColumn('lesion_id', TEXT, (c) => c.notNull().unique().references('lesion.id'))
    .addColumn('patient_id', TEXT, (c) => c.notNull().references('patient.id'))
    .addColumn('entity', TEXT, (c) => c.notNull())
    .addColumn('confirmed_by', TEXT, (c) => c.notNull())
    .addColumn('date', TEXT, (c) => c.notNull())
    .addColumn('grade', 'integer')
    .addColumn('stage', TEXT)
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('created_by', TEXT)
    .addColumn('created_at', TEXT, (c) => c.notNull())
    .addColumn('updated_at', TEXT, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('outcome_patient').on('outcome').column('patient_id').execute();
  await db.schema.createIndex('outcome_entity').on('outcome').columns(['entity', 'patient_id']).execute();
}

/** v2: access — users, server-side sessions and the append-only audit log. */
async function v2(db: AnyDb, dialect: Dialect): Promise<void> {
  await db.schema.createTable('app_user')
    .addColumn('id', TEXT, (c) => c.primaryKey())
    .addColumn('username', TEXT, (c) => c.notNull().unique())
    .addColumn('role', TEXT, (c) => c.notNull())
    .addColumn('password_hash', TEXT, (c) => c.notNull())
    .addColumn('disabled', 'integer', (c) => c.notNull())
    .addColumn('failed_logins', 'integer', (c) => c.notNull())
    .addColumn('locked_until', TEXT)
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('created_at', TEXT, (c) => c.notNull())
    .addColumn('updated_at', TEXT, (c) => c.notNull())
    .execute();

  await db.schema.createTable('session')
    .addColumn('id_hash', TEXT, (c) => c.primaryKey())
    .addColumn('user_id', TEXT, (c) => c.notNull().references('app_user.id'))
    .addColumn('csrf_token', TEXT, (c) => c.notNull())
    .addColumn('created_at', TEXT, (c) => c.notNull())
    .addColumn('last_seen_at', TEXT, (c) => c.notNull())
    .addColumn('expires_at', TEXT, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('session_user').on('session').column('user_id').execute();
  await db.schema.createIndex('session_expires').on('session').column('expires_at').execute();

  // no foreign key to app_user: the audit outlives the accounts it names
  await db.schema.createTable('audit_log')
    .addColumn('seq', dialect === 'postgres' ? 'bigint' : 'integer', (c) => (dialect === 'postgres' ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement()))
    .addColumn('at', TEXT, (c) => c.notNull())
    .addColumn('user_id', TEXT)
    .addColumn('action', TEXT, (c) => c.notNull())
    .addColumn('record_type', TEXT, (c) => c.notNull())
    .addColumn('record_id', TEXT)
    .addColumn('origin', TEXT)
    .execute();
  await db.schema.createIndex('audit_at').on('audit_log').column('at').execute();
  await db.schema.createIndex('audit_record').on('audit_log').columns(['record_type', 'record_id']).execute();
  await db.schema.createIndex('audit_user').on('audit_log').columns(['user_id', 'seq']).execute();

  // append-only, enforced by the database too: an UPDATE, DELETE (or, on PostgreSQL, TRUNCATE) of the log fails
  if (dialect === 'sqlite') {
    await sql`create trigger audit_log_no_update before update on audit_log begin select raise(abort, 'audit_log is append-only'); end`.execute(db);
    await sql`create trigger audit_log_no_delete before delete on audit_log begin select raise(abort, 'audit_log is append-only'); end`.execute(db);
  } else {
    await sql`create function calcdx_audit_append_only() returns trigger language plpgsql as $$ begin raise exception 'audit_log is append-only'; end $$`.execute(db);
    await sql`create trigger audit_log_no_change before update or delete on audit_log for each row execute function calcdx_audit_append_only()`.execute(db);
    await sql`create trigger audit_log_no_truncate before truncate on audit_log for each statement execute function calcdx_audit_append_only()`.execute(db);
  }
}

/**
 * v3: an assessment's case input and output stored compressed (src/registry/json-codec.ts):
 * ~25 kB of JSON text became ~7 kB, the 100,000-patient registry ~9 GB of SQLite became ~2 GB.
 * The text already stored is compressed as it is (byte for byte the same JSON when read back),
 * in pages of 500 rows, then the text columns are dropped. On SQLite the file keeps its size
 * until VACUUM (calcdx registry backup writes a compact copy).
 */
async function v3(db: AnyDb, dialect: Dialect): Promise<void> {
  const blob = dialect === 'postgres' ? 'bytea' : 'blob';
  await db.schema.alterTable('assessment').addColumn('case_input_brotli', blob).execute();
  await db.schema.alterTable('assessment').addColumn('output_brotli', blob).execute();
  let after = '';
  for (;;) {
    const rows: Array<{ id: string; caseInput: string; output: string }> = await db.selectFrom('assessment')
      .select(['id', 'caseInput', 'output']).where('id', '>', after).orderBy('id').limit(500).execute();
    for (const r of rows) {
      await db.updateTable('assessment').set({ caseInputBrotli: encodeJsonText(r.caseInput), outputBrotli: encodeJsonText(r.output) }).where('id', '=', r.id).execute();
    }
    if (rows.length < 500) break;
    after = rows[rows.length - 1]!.id;
  }
  await db.schema.alterTable('assessment').dropColumn('case_input').execute();
  await db.schema.alterTable('assessment').dropColumn('output').execute();
  // the worklist (src/registry/kysely-store.ts worklist): partial indexes over the planned visits only
  // (done and cancelled ones, most of the table, are not in them), covering the worklist's filter,
  // reached in due-date order, by patient (sort by patient) or by lesion (sort by site)
  await db.schema.dropIndex('visit_open_window').execute();
  await db.schema.dropIndex('visit_open_due').execute();
  const planned = sql<boolean>`state = 'planned'`;
  await db.schema.createIndex('visit_planned_due').on('visit').columns(['due_date', 'window_start', 'window_end', 'id']).where(planned).execute();
  await db.schema.createIndex('visit_planned_window').on('visit').column('window_days').where(planned).execute();
  await db.schema.createIndex('visit_planned_patient').on('visit').columns(['patient_id', 'due_date', 'window_start', 'window_end', 'id']).where(planned).execute();
  await db.schema.createIndex('visit_planned_lesion').on('visit').columns(['lesion_id', 'due_date', 'window_start', 'window_end', 'id']).where(planned).execute();
  await db.schema.createIndex('patient_name').on('patient').columns(['name_search', 'mrn', 'id']).execute();
  await db.schema.createIndex('lesion_site').on('lesion').columns(['site', 'id']).execute();
  if (dialect === 'postgres') {
    await sql`alter table assessment alter column case_input_brotli set not null, alter column output_brotli set not null`.execute(db);
    // already compressed: stored out of line without PostgreSQL trying its own compression again
    await sql`alter table assessment alter column case_input_brotli set storage external, alter column output_brotli set storage external`.execute(db);
  }
}

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'clinical records', up: v1 },
  { version: 2, name: 'users, sessions, audit log', up: v2 },
  { version: 3, name: 'assessment JSON compressed; worklist indexes', up: v3 },
];
export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** The database's schema version: 0 for an empty database. */
export async function schemaVersion(db: Kysely<RegistryDb>, dialect: Dialect): Promise<number> {
  const exists = dialect === 'sqlite'
    ? await sql<{ n: number }>`select count(*) as n from sqlite_master where type = 'table' and name = 'calcdx_schema'`.execute(db)
    : await sql<{ n: number }>`select count(*)::int as n from information_schema.tables where table_schema = current_schema() and table_name = 'calcdx_schema'`.execute(db);
  if (!Number(exists.rows[0]?.n)) return 0;
  const row = await db.selectFrom('calcdxSchema').select('version').executeTakeFirst();
  return row ? Number(row.version) : 0;
}
