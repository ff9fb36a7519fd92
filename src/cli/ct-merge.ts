/**
 * `calcdx assess --ct`: the measured CT findings merged into the case (its own module, so that
 * `calcdx ct` does not load the case schema).
 */
import type { CaseFile } from '../core/case-format/schema.js';
import { validateCase } from '../core/case-format/validate.js';
import type { Analysis } from '../imaging/pattern.js';
import { CalcdxError } from '../io/errors.js';

/**
 * Adds the measured CT findings to a case: a field the case already gives is kept (the
 * clinician's reading wins) and reported as a conflict when the measurement differs.
 */
export function mergeFindings(c: CaseFile, fragment: Analysis['pattern']['fragment']): { case: CaseFile; measured: string[]; conflicts: string[] } {
  const measured: string[] = [];
  const conflicts: string[] = [];
  const imaging = structuredClone(c.imaging ?? {}) as Record<string, Record<string, unknown>>;
  for (const [section, values] of Object.entries(fragment.imaging) as Array<[string, Record<string, unknown>]>) {
    const target = (imaging[section] ??= {});
    for (const [k, measuredValue] of Object.entries(values)) {
      let v = measuredValue;
      if (v === undefined) continue;
      // a pattern the reader excluded stays excluded: it is dropped from the measured list, and reported
      const excluded = target[`${k}Absent`];
      if (Array.isArray(v) && Array.isArray(excluded) && v.some((m) => excluded.includes(m))) {
        v = v.filter((m) => !excluded.includes(m));
        conflicts.push(`imaging.${section}.${k}Absent`);
      }
      if (target[k] === undefined) { target[k] = v; measured.push(`imaging.${section}.${k}`); }
      else if (JSON.stringify(target[k]) !== JSON.stringify(v)) conflicts.push(`imaging.${section}.${k}`);
    }
  }
  const merged = validateCase({ ...c, imaging });
  if (!merged.ok) throw new CalcdxError('case_invalid', { file: 'measured CT findings', count: merged.issues.length }, merged.issues);
  return { case: merged.value, measured, conflicts };
}
