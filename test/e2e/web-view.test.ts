/**
 * The page's pure parts in Node (no browser): the bounded probability format, the empty state's
 * rule, the merge of a CT measurement with the reader's entries, the merged next questions and
 * the summary for the record.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { assess } from '../../src/core/engine/assess.js';
import { validateCase } from '../../src/core/case-format/validate.js';
import { loadKnowledgeBase } from '../../src/io/kb-files.js';
import { boundedPct, cantMiss, decisionOf, isEmptyCase, summaryParagraph } from '../../web/src/pages/assessment/assessment-view.js';
import { planMerge } from '../../web/src/pages/assessment/ct-merge.js';
import { MORPHOLOGY, MORPHOLOGY_ABSENT, type FieldValue } from '../../web/src/pages/assessment/fields.js';
import { mergeQuestions } from '../../web/src/pages/assessment/results.js';

const kb = loadKnowledgeBase();
const run = (doc: Record<string, unknown>) => {
  const v = validateCase({ formatVersion: 1, ...doc });
  if (!v.ok) throw new Error(JSON.stringify(v.issues));
  return assess(kb, v.value, { date: '2026-12-03' });
};

describe('bounded probabilities', () => {
  it('never show 0 % or 100 %', () => {
    fc.assert(fc.property(fc.double({ min: 0, max: 1, noNaN: true }), (p) => {
      const s = boundedPct(p);
      expect(s).toMatch(/^(< 1%|> 99%|([1-9]|[1-9]\d)%)$/);
    }));
    expect([0, 0.004, 0.0099, 0.01, 0.5, 0.99, 0.9901, 1].map(boundedPct)).toEqual(['< 1%', '< 1%', '< 1%', '1%', '50%', '99%', '> 99%', '> 99%']);
  });
});

describe('empty state', () => {
  it('holds until region, depth, size, a pattern, pathology or a red flag of the case is given', () => {
    expect(isEmptyCase({ formatVersion: 1 }, run({}))).toBe(true);
    expect(isEmptyCase({ formatVersion: 1, patient: { age: 50 } }, run({ patient: { age: 50 } }))).toBe(true);
    // a child's prior is mostly tumours (haemangioma, pilomatricoma): the differential's own flags, not findings
    const child = run({ patient: { age: 5 } });
    expect(child.redFlags.map((r) => r.id)).toEqual(expect.arrayContaining(['indeterminate', 'uncharacterised_tumour']));
    expect(isEmptyCase({ formatVersion: 1, patient: { age: 5 } }, child)).toBe(true);
    for (const doc of [{ lesion: { region: 'thigh' } }, { lesion: { sizeCm: 3 } }, { lesion: { depth: 'deep' } },
      { imaging: { calcification: { morphologyAbsent: ['rim'] } } }, { history: { recurrenceAfterExcision: true } }]) {
      expect(isEmptyCase({ formatVersion: 1, ...doc }, run(doc)), JSON.stringify(doc)).toBe(false);
    }
  });
});

describe('CT measurement merged with the reader', () => {
  const measured = { imaging: { ct: { maxHU: 1293 }, calcification: { morphology: ['rim', 'dense_central', 'punctate'], distribution: 'peripheral', zonal: false } } };
  it('fills unknown fields, keeps the reader\'s values and lists the differences', () => {
    const mine = new Map<string, FieldValue>([
      ['imaging.calcification.distribution', 'central'], ['imaging.calcification.zonal', false],
      [MORPHOLOGY, ['rim']], [MORPHOLOGY_ABSENT, ['dense_central']],
    ]);
    const plan = planMerge(mine, measured);
    expect([...plan.fill]).toEqual([['imaging.ct.maxHU', 1293]]);
    expect(plan.patternsSeen).toEqual(['punctate']);
    expect(plan.confirmed.sort()).toEqual([MORPHOLOGY, 'imaging.calcification.zonal']);
    expect(plan.differences).toEqual([
      { path: MORPHOLOGY, member: 'dense_central', mine: 'excluded', measured: 'seen' },
      { path: 'imaging.calcification.distribution', mine: 'central', measured: 'peripheral' },
    ]);
  });
  it('on an empty form fills everything and differs from nothing', () => {
    const plan = planMerge(new Map(), measured);
    expect(plan.differences).toEqual([]);
    expect(plan.patternsSeen).toEqual(['rim', 'dense_central', 'punctate']);
    expect([...plan.fill.keys()].sort()).toEqual(['imaging.calcification.distribution', 'imaging.calcification.zonal', 'imaging.ct.maxHU']);
  });
  it('never sets an excluded pattern seen, whatever is measured', () => {
    const M = ['punctate', 'ring_arc', 'amorphous', 'linear', 'phlebolith', 'rice_grain', 'trabecular', 'rim', 'sheet', 'dense_central'];
    fc.assert(fc.property(fc.subarray(M), fc.subarray(M), (excluded, seen) => {
      const plan = planMerge(new Map([[MORPHOLOGY_ABSENT, excluded]]), { imaging: { calcification: { morphology: seen } } });
      expect(plan.patternsSeen.filter((m) => excluded.includes(m))).toEqual([]);
      expect(plan.differences.map((d) => d.member).sort()).toEqual(seen.filter((m) => excluded.includes(m)).sort());
    }));
  });
});

describe('next questions', () => {
  it('merge the CT and MRI versions of one finding into one entry', () => {
    const q = (finding: string, expectedGain: number) => ({ finding, expectedGain, test: finding.split('.')[1]!, outcomes: [] });
    const merged = mergeQuestions([q('imaging.mri.fatInLesion', 0.3), q('lesion.compartment', 0.2), q('imaging.ct.fatInLesion', 0.25)]);
    expect(merged.map((m) => [m.key, m.questions.map((x) => x.finding), m.gain])).toEqual([
      ['imaging.*.fatInLesion', ['imaging.mri.fatInLesion', 'imaging.ct.fatInLesion'], 0.3],
      ['lesion.compartment', ['lesion.compartment'], 0.2],
    ]);
  });
});

describe('decision and summary', () => {
  const a = run({ patient: { age: 24 }, symptoms: { pain: true }, lesion: { region: 'thigh', depth: 'deep', sizeCm: 6 }, imaging: { calcification: { morphology: ['rim'], distribution: 'peripheral' } } });
  it('reconcile the red flags with the decision: the engine\'s reason and its dated next step', () => {
    const d = decisionOf(kb, a, 'en');
    expect(d.urgent).toBe(false);
    expect(d.redFlags).toHaveLength(3);
    expect(d.reason).toBe(a.malignancy.decision.reason.en);
    expect(d.reason).toMatch(/red flags/);
    expect(decisionOf(kb, a, 'zh').reason).toBe(a.malignancy.decision.reason.zh);
    expect(d.safetyNet[0]).toMatch(/\d{4}-\d{2}-\d{2}/);
  });
  it('take the engine\'s can\'t-miss list', () => {
    expect(cantMiss(kb, a)).toEqual(a.cantMiss.slice(0, 3).map((x) => ({ id: x.id, probability: x.probability })));
  });
  it('list the malignant entities whatever their rank', () => {
    const cm = cantMiss(kb, a);
    expect(cm.length).toBe(3);
    for (const x of cm) expect(kb.entities[kb.entityIndex.get(x.id)!]!.group).toBe('malignant');
    expect(cm.map((x) => x.probability)).toEqual([...cm.map((x) => x.probability)].sort((p, q) => q - p));
  });
  it('the paragraph for the record is one paragraph, in both languages', () => {
    const date = new Date('2026-12-03T10:00:00Z');
    const en = summaryParagraph(kb, a, 'en', date);
    expect(en).toMatch(/^calcdx assessment of 2026-12-03 .* Leading diagnosis: Myositis ossificans \(\d+%\)\. Malignancy .*; can’t miss: .* No urgent referral indicated\. > 5 cm, deep and painful are red flags; they do not lead to urgent referral .* between 2026-12-31 and 2027-01-14/);
    expect(en.split('2027-01-14').length).toBe(2); // the dated plan is said once
    expect(en).not.toMatch(/\n|0\.0 ?%|100 ?%/);
    expect(summaryParagraph(kb, a, 'zh', date)).toMatch(/^calcdx 评估（2026-12-03；决策支持，并非诊断）。最可能诊断：/);
  });
});
