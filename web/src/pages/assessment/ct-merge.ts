/**
 * How a CT measurement meets the reader's entries (the CLI's policy, `calcdx ct --case`: the
 * case wins, differences are reported). Pure: no DOM, testable in Node.
 *
 * - a field the reader left unknown is filled with the measured value;
 * - a field with the same value is confirmed (marked measured, unchanged);
 * - a field with another value is kept and listed as a difference ("use measured" / "keep mine");
 * - calcification patterns one by one: a measured pattern the reader left unknown is set seen;
 *   one the reader excluded stays excluded and is listed as a difference. A pattern the
 *   measurement does not list is unknown to it, so it changes nothing.
 */
import { FIELD_BY_PATH, MORPHOLOGY, MORPHOLOGY_ABSENT, type FieldValue } from './fields.js';

import type { CtFindings } from '../../panels/ct-viewer/ct.js';

export type { CtFindings };

export interface MergeDifference {
  path: string;
  /** for a calcification pattern: which one */
  member?: string;
  mine: FieldValue;
  measured: FieldValue;
}

export interface MergePlan {
  /** fields to fill (unknown before): path → measured value */
  fill: Map<string, FieldValue>;
  /** fields whose entry equals the measurement */
  confirmed: string[];
  /** patterns to set seen (unknown before) */
  patternsSeen: string[];
  differences: MergeDifference[];
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

export function planMerge(current: ReadonlyMap<string, FieldValue>, findings: CtFindings): MergePlan {
  const plan: MergePlan = { fill: new Map(), confirmed: [], patternsSeen: [], differences: [] };
  for (const [section, values] of Object.entries(findings.imaging ?? {})) {
    for (const [k, v] of Object.entries(values ?? {})) {
      const path = `imaging.${section}.${k}`;
      if (v === undefined || v === null || !FIELD_BY_PATH.has(path)) continue;
      if (path === MORPHOLOGY && Array.isArray(v)) {
        const seen = new Set((current.get(MORPHOLOGY) as string[] | undefined) ?? []);
        const excluded = new Set((current.get(MORPHOLOGY_ABSENT) as string[] | undefined) ?? []);
        for (const m of v.map(String)) {
          if (excluded.has(m)) plan.differences.push({ path, member: m, mine: 'excluded', measured: 'seen' });
          else if (!seen.has(m)) plan.patternsSeen.push(m);
        }
        if (plan.patternsSeen.length || v.every((m) => seen.has(String(m)))) plan.confirmed.push(path);
        continue;
      }
      const mine = current.get(path);
      const measured = v as FieldValue;
      if (mine === undefined) plan.fill.set(path, measured);
      else if (same(mine, measured)) plan.confirmed.push(path);
      else plan.differences.push({ path, mine, measured });
    }
  }
  return plan;
}
