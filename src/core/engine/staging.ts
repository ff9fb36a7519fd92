/**
 * AJCC 8th edition staging of soft-tissue sarcoma of the trunk and extremities, and the
 * FNCLCC grade, from the pathology and staging sections of the case.
 */
import type { CaseFile } from '../case-format/schema.js';
import type { Entity } from '../knowledge/schema.js';

export type Grade = 1 | 2 | 3;

export interface FnclccResult {
  score: number;
  grade: Grade;
  components: { differentiation: number; mitoses: number; necrosis: number };
}

export function fnclccGrade(f: { differentiation: number; mitoses: number; necrosis: number }): FnclccResult {
  const score = f.differentiation + f.mitoses + f.necrosis;
  const grade: Grade = score <= 3 ? 1 : score <= 5 ? 2 : 3;
  return { score, grade, components: { ...f } };
}

export interface Staging {
  system: 'ajcc8_sts_trunk_extremity';
  T: 'T1' | 'T2' | 'T3' | 'T4' | 'TX';
  N: 'N0' | 'N1' | 'NX';
  M: 'M0' | 'M1' | 'MX';
  G: 'G1' | 'G2' | 'G3' | 'GX';
  /** null when a missing element leaves the group undetermined */
  stage: 'IA' | 'IB' | 'II' | 'IIIA' | 'IIIB' | 'IV' | null;
  fnclcc?: FnclccResult;
  /** codes of what was assumed or is missing: size_unknown, nodes_unknown, metastasis_unknown, grade_unknown */
  missing: string[];
}

export type StagingOutcome =
  | { applicable: true; staging: Staging }
  | { applicable: false; reason: 'no_pathology' | 'not_sts' | 'site_other_schema' };

const OTHER_SCHEMA_REGIONS = new Set(['retroperitoneum', 'head_neck']);

/** Effective grade: the stated grade, else the FNCLCC score's grade. */
export function gradeOf(c: CaseFile): Grade | undefined {
  const g = c.pathology?.grade;
  if (g !== undefined) return g;
  const f = c.pathology?.fnclcc;
  return f ? fnclccGrade(f).grade : undefined;
}

export function stage(c: CaseFile, confirmed: Entity | undefined): StagingOutcome {
  if (!confirmed) return { applicable: false, reason: 'no_pathology' };
  if (confirmed.stagingSystem !== 'ajcc8_sts_trunk_extremity') return { applicable: false, reason: 'not_sts' };
  if (c.lesion?.region && OTHER_SCHEMA_REGIONS.has(c.lesion.region)) return { applicable: false, reason: 'site_other_schema' };
  const missing: string[] = [];
  const size = c.lesion?.sizeCm;
  const T: Staging['T'] = size === undefined ? 'TX' : size <= 5 ? 'T1' : size <= 10 ? 'T2' : size <= 15 ? 'T3' : 'T4';
  if (T === 'TX') missing.push('size_unknown');
  const N: Staging['N'] = c.staging?.nodes ?? 'NX';
  if (N === 'NX') missing.push('nodes_unknown');
  const M: Staging['M'] = c.staging?.metastasis ?? 'MX';
  if (M === 'MX') missing.push('metastasis_unknown');
  const fn = c.pathology?.fnclcc ? fnclccGrade(c.pathology.fnclcc) : undefined;
  const g = gradeOf(c);
  const G: Staging['G'] = g === undefined ? 'GX' : (`G${g}` as Staging['G']);
  if (G === 'GX') missing.push('grade_unknown');

  let group: Staging['stage'] = null;
  if (N === 'N1' || M === 'M1') group = 'IV';
  else if (N === 'N0' && M === 'M0' && T !== 'TX') {
    if (G === 'G1' || G === 'GX') group = T === 'T1' ? 'IA' : 'IB';
    else group = T === 'T1' ? 'II' : T === 'T2' ? 'IIIA' : 'IIIB';
  }
  return { applicable: true, staging: { system: 'ajcc8_sts_trunk_extremity', T, N, M, G, stage: group, ...(fn ? { fnclcc: fn } : {}), missing } };
}
