import { describe, expect, it } from 'vitest';
import { loadKnowledgeBase } from '../io/kb-files.js';
import { exampleCases } from '../test-support/cases.js';
import { ABLATIONS, evaluate, type LabelledCase } from './evaluate.js';

const kb = loadKnowledgeBase();
const labelled: LabelledCase[] = exampleCases().map((c) => ({
  file: c.file, case: c.case, finalDiagnosis: c.expected, confirmedBy: 'clinical', source: { url: 'https://example.org', title: 'example' },
}));

describe('evaluate', () => {
  const r = evaluate(kb, labelled);
  it('ranks and scores every case', () => {
    expect(r.metrics.n).toBe(labelled.length);
    expect(r.metrics.top1).toBe(1);
    expect(r.metrics.mrr).toBe(1);
    expect(r.cases.every((c) => c.rank === 1)).toBe(true);
    expect(r.metrics.brier).toBeLessThan(r.baseline.brier);
    expect(r.metrics.logLoss).toBeLessThan(r.baseline.logLoss);
  });
  it('bins every case x entity probability once and counts every case in the confusion matrix', () => {
    expect(r.reliability.reduce((s, b) => s + b.count, 0)).toBe(labelled.length * kb.entities.length);
    expect(r.confusion.matrix.flat().reduce((s, v) => s + v, 0)).toBe(labelled.length);
    for (const b of r.reliability) if (b.count) { expect(b.meanPredicted).toBeGreaterThanOrEqual(b.from); expect(b.meanPredicted).toBeLessThanOrEqual(b.to); }
  });
  it('gives 95 % Wilson intervals around the rates, and the ROC area of the malignancy probability', () => {
    expect(r.intervals.top1).toMatchObject({ k: labelled.length, n: labelled.length, rate: 1, high: 1 });
    expect(r.intervals.top1.low).toBeGreaterThan(0.3);
    expect(r.intervals.top1.low).toBeLessThan(1);
    expect(r.intervals.malignantFlagged).toMatchObject({ k: 1, n: 1, rate: 1 });
    expect(r.intervals.benignUrgent.n).toBe(3);
    expect(r.intervals.benignUrgent.k).toBe(r.safety.benignUrgent);
    const mal = r.cases.filter((c) => c.group === 'malignant').map((c) => c.malignancyProbability);
    const other = r.cases.filter((c) => c.group !== 'malignant').map((c) => c.malignancyProbability);
    expect(r.safety.malignancyAuc).toBe(other.filter((o) => mal[0]! > o).length / other.length + other.filter((o) => mal[0] === o).length / other.length / 2);
  });
  it('counts the findings each case gives and reports accuracy by band', () => {
    for (const c of r.cases) expect(c.findingsKnown).toBeGreaterThanOrEqual(3);
    expect(r.byFindingsKnown.reduce((s, b) => s + b.n, 0)).toBe(labelled.length);
    for (const b of r.byFindingsKnown) expect(b.from).toBeGreaterThanOrEqual(3);
    const thin = evaluate(kb, [{ ...labelled[0]!, case: { formatVersion: 1, patient: { age: 50 }, imaging: { calcification: { morphology: ['punctate', 'rim'] } } } }]);
    expect(thin.cases[0]!.findingsKnown).toBe(1);
    expect(thin.byFindingsKnown).toEqual([expect.objectContaining({ label: '0-2', n: 1 })]);
  });
  it('measures malignant safety and benign urgent referrals', () => {
    expect(r.safety.malignantCases).toBe(1);
    expect(r.safety.flagged).toBe(1);
    expect(r.safety.benignCases).toBe(3);
    expect(r.safety.benignUrgentRate).toBeGreaterThanOrEqual(0);
    expect(r.safety.benignFlagged).toBe(r.cases.filter((c) => c.group !== 'malignant' && c.flaggedAsPossiblyMalignant).length);
    expect(r.safety.benignFlagged).toBeGreaterThanOrEqual(r.safety.benignUrgent);
    expect(r.safety.strictlyBenignCases).toBe(r.cases.filter((c) => c.group !== 'malignant' && c.group !== 'intermediate').length);
    expect(r.safety.strictlyBenignUrgent).toBe(r.cases.filter((c) => c.group !== 'malignant' && c.group !== 'intermediate' && c.urgentReferral).length);
  });
  it('ablation: demographics only keeps age, sex and region and nothing else', () => {
    const c = labelled.find((x) => x.finalDiagnosis === 'tumoral_calcinosis')!.case;
    expect(ABLATIONS.demographics(c)).toEqual({ formatVersion: 1, patient: c.patient, lesion: { region: 'hip' } });
    expect(ABLATIONS.xray(c).imaging).toEqual({ calcification: c.imaging!.calcification, xray: c.imaging!.xray });
    expect(ABLATIONS.ct(c).imaging).toEqual({ calcification: c.imaging!.calcification, ct: c.imaging!.ct });
    expect(r.ablation.map((a) => a.id)).toEqual(['demographics', 'xray', 'ct', 'everything']);
    expect(r.ablation.at(-1)!.metrics).toEqual(r.metrics);
  });
});
