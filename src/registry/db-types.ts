/**
 * The tables as kysely sees them (camelCase; the CamelCasePlugin maps to the snake_case
 * columns of the migrations). One schema for SQLite and PostgreSQL: ids are text (UUIDs),
 * dates and instants ISO text (they sort as text), JSON as text (an assessment's, compressed:
 * a blob / bytea), booleans as 0/1.
 */
import type { Generated } from 'kysely';

export interface PatientRow {
  id: string; mrn: string | null; name: string | null; nameSearch: string | null; birthDate: string | null; sex: string | null;
  version: number; createdAt: string; updatedAt: string;
}
export interface LesionRow {
  id: string; patientId: string; site: string; side: string | null; firstSeen: string | null;
  version: number; createdAt: string; updatedAt: string;
}
export interface AssessmentRow {
  /** caseInput and output: their JSON text, Brotli-compressed (src/registry/json-codec.ts; schema v3) */
  id: string; lesionId: string; patientId: string; caseInputBrotli: Buffer; outputBrotli: Buffer; kbVersion: string; engineVersion: string;
  assessedOn: string; topEntity: string | null; createdBy: string | null; createdAt: string;
}
export interface PlanRow {
  id: string; lesionId: string; patientId: string; assessmentId: string | null; scheme: string; datedFrom: string; startDate: string;
  supersededAt: string | null; createdBy: string | null; createdAt: string;
}
export interface VisitRow {
  id: string; planId: string; lesionId: string; patientId: string; month: number; dueDate: string; windowDays: number;
  windowStart: string; windowEnd: string; items: string; state: string; doneOn: string | null; findings: string | null;
  version: number; createdAt: string; updatedAt: string;
}
export interface OutcomeRow {
  id: string; lesionId: string; patientId: string; entity: string; confirmedBy: string; date: string; grade: number | null; stage: string | null;
  version: number; createdBy: string | null; createdAt: string; updatedAt: string;
}
export interface UserRow {
  id: string; username: string; role: string; passwordHash: string; disabled: number; failedLogins: number; lockedUntil: string | null;
  version: number; createdAt: string; updatedAt: string;
}
export interface SessionRow { idHash: string; userId: string; csrfToken: string; createdAt: string; lastSeenAt: string; expiresAt: string }
export interface AuditRow {
  seq: Generated<number>; at: string; userId: string | null; action: string; recordType: string; recordId: string | null; origin: string | null;
}
export interface SchemaRow { version: number }

export interface RegistryDb {
  patient: PatientRow;
  lesion: LesionRow;
  assessment: AssessmentRow;
  plan: PlanRow;
  visit: VisitRow;
  outcome: OutcomeRow;
  appUser: UserRow;
  session: SessionRow;
  auditLog: AuditRow;
  calcdxSchema: SchemaRow;
}
