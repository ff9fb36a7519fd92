/**
 * The registry's JSON Lines export: one record a line, `{"kind": …, "data": {…}}`, parents
 * before children, the first line a header. Import validates every line against these schemas.
 * Sessions are not exported (they are short-lived secrets).
 */
import { z } from 'zod';
import { assessment, auditEntry, followUpPlan, lesion, outcome, patient, user, visit } from './schema.js';

export const EXPORT_FORMAT = 'calcdx-registry';
export const EXPORT_VERSION = 1;

export const exportHeader = z.strictObject({
  format: z.literal(EXPORT_FORMAT),
  version: z.literal(EXPORT_VERSION),
  schemaVersion: z.number().int().min(1),
  exportedAt: z.string(),
  /** identifying fields (medical record number, name, date of birth, a case's free label, a visit's free text), users and audit dropped */
  pseudonymised: z.boolean(),
});

/** patient fields may be null after pseudonymisation, like any optional field */
export const exportRecord = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('header'), data: exportHeader }),
  z.strictObject({ kind: z.literal('user'), data: user }),
  z.strictObject({ kind: z.literal('patient'), data: patient }),
  z.strictObject({ kind: z.literal('lesion'), data: lesion }),
  z.strictObject({ kind: z.literal('assessment'), data: assessment }),
  z.strictObject({ kind: z.literal('plan'), data: followUpPlan }),
  z.strictObject({ kind: z.literal('visit'), data: visit }),
  z.strictObject({ kind: z.literal('outcome'), data: outcome }),
  z.strictObject({ kind: z.literal('audit'), data: auditEntry }),
]);
export type ExportRecord = z.infer<typeof exportRecord>;
export type ExportKind = ExportRecord['kind'];
/** the order of an export: a record's parents come before it */
export const EXPORT_KINDS: readonly ExportKind[] = ['header', 'user', 'patient', 'lesion', 'assessment', 'plan', 'visit', 'outcome', 'audit'];

/** Drops what identifies a person: the patient's record number, name and date of birth, a case's free label (case id), a visit's free text; users and audit rows are left out by the exporter. */
export function pseudonymise(r: ExportRecord): ExportRecord | null {
  switch (r.kind) {
    case 'patient': return { kind: 'patient', data: { ...r.data, mrn: null, name: null, birthDate: null } };
    case 'assessment': {
      // the case's free label (id) and the output's copy of it may name the patient
      const { id: _caseLabel, ...caseInput } = r.data.caseInput;
      const { caseId: _caseId, ...output } = r.data.output;
      return { kind: 'assessment', data: { ...r.data, caseInput, output } };
    }
    case 'visit': return r.data.findings?.note ? { kind: 'visit', data: { ...r.data, findings: { ...r.data.findings, note: null } } } : r;
    case 'user': case 'audit': return null;
    case 'header': return { kind: 'header', data: { ...r.data, pseudonymised: true } };
    default: return r;
  }
}
