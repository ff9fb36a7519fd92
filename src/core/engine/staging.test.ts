import { describe, expect, it } from 'vitest';
import type { CaseFile } from '../case-format/schema.js';
import type { Entity } from '../knowledge/schema.js';
import { fnclccGrade, stage } from './staging.js';

const sts = { id: 'x', stagingSystem: 'ajcc8_sts_trunk_extremity' } as unknown as Entity;
const c = (over: Partial<CaseFile>): CaseFile => ({ formatVersion: 1, ...over }) as CaseFile;

describe('FNCLCC grade', () => {
  it('maps the score to grade: 2-3 → 1, 4-5 → 2, 6-8 → 3', () => {
    expect(fnclccGrade({ differentiation: 1, mitoses: 1, necrosis: 0 }).grade).toBe(1);
    expect(fnclccGrade({ differentiation: 2, mitoses: 1, necrosis: 0 }).grade).toBe(1);
    expect(fnclccGrade({ differentiation: 2, mitoses: 1, necrosis: 1 }).grade).toBe(2);
    expect(fnclccGrade({ differentiation: 3, mitoses: 1, necrosis: 1 }).grade).toBe(2);
    expect(fnclccGrade({ differentiation: 3, mitoses: 2, necrosis: 1 })).toMatchObject({ score: 6, grade: 3 });
    expect(fnclccGrade({ differentiation: 3, mitoses: 3, necrosis: 2 })).toMatchObject({ score: 8, grade: 3 });
  });
});

describe('AJCC 8th edition, trunk and extremity', () => {
  const staged = (over: Partial<CaseFile>) => {
    const r = stage(c(over), sts);
    if (!r.applicable) throw new Error(r.reason);
    return r.staging;
  };
  const n0m0 = { staging: { nodes: 'N0', metastasis: 'M0' } } as const;
  it('uses the 5/10/15 cm size cut-offs', () => {
    expect(staged({ lesion: { sizeCm: 5 } }).T).toBe('T1');
    expect(staged({ lesion: { sizeCm: 5.1 } }).T).toBe('T2');
    expect(staged({ lesion: { sizeCm: 10 } }).T).toBe('T2');
    expect(staged({ lesion: { sizeCm: 15 } }).T).toBe('T3');
    expect(staged({ lesion: { sizeCm: 15.5 } }).T).toBe('T4');
  });
  it('groups the stages', () => {
    expect(staged({ ...n0m0, lesion: { sizeCm: 4 }, pathology: { grade: 1 } }).stage).toBe('IA');
    expect(staged({ ...n0m0, lesion: { sizeCm: 4 } }).stage).toBe('IA'); // GX grouped with G1
    expect(staged({ ...n0m0, lesion: { sizeCm: 12 }, pathology: { grade: 1 } }).stage).toBe('IB');
    expect(staged({ ...n0m0, lesion: { sizeCm: 4 }, pathology: { grade: 2 } }).stage).toBe('II');
    expect(staged({ ...n0m0, lesion: { sizeCm: 7 }, pathology: { grade: 3 } }).stage).toBe('IIIA');
    expect(staged({ ...n0m0, lesion: { sizeCm: 16 }, pathology: { grade: 3 } }).stage).toBe('IIIB');
    expect(staged({ staging: { nodes: 'N1', metastasis: 'M0' }, lesion: { sizeCm: 2 }, pathology: { grade: 1 } }).stage).toBe('IV');
    expect(staged({ staging: { metastasis: 'M1' } }).stage).toBe('IV');
  });
  it('derives the grade from the FNCLCC components', () => {
    const s = staged({ ...n0m0, lesion: { sizeCm: 7 }, pathology: { fnclcc: { differentiation: 3, mitoses: 2, necrosis: 1 } } });
    expect(s.G).toBe('G3');
    expect(s.fnclcc?.score).toBe(6);
    expect(s.stage).toBe('IIIA');
  });
  it('leaves the group undetermined and says what is missing', () => {
    const s = staged({ lesion: { sizeCm: 7 } });
    expect(s.stage).toBeNull();
    expect(s.missing).toEqual(['nodes_unknown', 'metastasis_unknown', 'grade_unknown']);
  });
  it('does not stage without pathology, other diagnoses or sites with their own schema', () => {
    expect(stage(c({}), undefined)).toEqual({ applicable: false, reason: 'no_pathology' });
    expect(stage(c({}), { id: 'y' } as unknown as Entity)).toEqual({ applicable: false, reason: 'not_sts' });
    expect(stage(c({ lesion: { region: 'retroperitoneum' } }), sts)).toEqual({ applicable: false, reason: 'site_other_schema' });
  });
});
