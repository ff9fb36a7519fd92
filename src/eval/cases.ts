/**
 * Reads a folder of evaluation cases: case format v1 plus `source`, `finalDiagnosis` and
 * `confirmedBy`. Every problem of every file is collected before failing.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ENTITY_IDS } from '../core/case-format/schema.js';
import { validateCase, type CaseIssue } from '../core/case-format/validate.js';
import { parseCaseText, readCaseBytes } from '../io/case-file.js';
import { CalcdxError } from '../io/errors.js';
import type { LabelledCase } from './evaluate.js';

const meta = z.strictObject({
  source: z.strictObject({ url: z.string().regex(/^https?:\/\//), title: z.string().min(1) }),
  finalDiagnosis: z.enum(ENTITY_IDS),
  confirmedBy: z.enum(['histology', 'clinical', 'follow-up']),
});

export function readEvalFolder(dir: string): LabelledCase[] {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new CalcdxError('not_a_file', { file: dir });
    names = readdirSync(dir).filter((f) => /\.(ya?ml|json)$/.test(f)).sort();
  } catch (e) {
    if (e instanceof CalcdxError) throw e;
    throw new CalcdxError('file_not_found', { file: dir });
  }
  const out: LabelledCase[] = [];
  const issues: CaseIssue[] = [];
  for (const name of names) {
    const file = join(dir, name);
    let data: unknown;
    try { data = parseCaseText(readCaseBytes(file), file); } catch (e) {
      if (e instanceof CalcdxError) { issues.push({ code: 'invalid', path: name, found: e.code, allowed: {} }); continue; }
      throw e;
    }
    if (data === null || typeof data !== 'object' || Array.isArray(data)) { issues.push({ code: 'wrong_type', path: name, allowed: { type: 'object' } }); continue; }
    const { source, finalDiagnosis, confirmedBy, ...rest } = data as Record<string, unknown>;
    const m = meta.safeParse({ source, finalDiagnosis, confirmedBy });
    if (!m.success) {
      for (const i of m.error.issues) issues.push({ code: 'invalid', path: `${name}: ${i.path.join('.')}`, found: JSON.stringify((data as Record<string, unknown>)[String(i.path[0])]) ?? undefined, allowed: {} });
      continue;
    }
    const v = validateCase(rest);
    if (!v.ok) { for (const i of v.issues) issues.push({ ...i, path: `${name}: ${i.path}` }); continue; }
    out.push({ file: name, case: v.value, ...m.data });
  }
  if (issues.length) throw new CalcdxError('case_invalid', { file: dir, count: issues.length }, issues);
  if (!out.length) throw new CalcdxError('file_empty', { file: dir });
  return out;
}
