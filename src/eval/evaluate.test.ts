import { describe, expect, it } from 'vitest';
import { loadKnowledgeBase } from '../io/kb-files.js';
import { exampleCases } from '../test-support/cases.js';
import type { AnchorRule } from './anchors.js';
import { ABLATIONS, evaluate, setReport, type CaseResult, type LabelledCase } from './evaluate.js';

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

describe('referral beside guideline rules, by set', () => {
  const rule: AnchorRule = {
    id: 'deep', label: 'deep', name: 'deep lesions', guideline: 'g', operationalised: 'o', unknown: 'u',
    sources: [{ url: 'https://example.org', title: 't' }], refer: { field: 'lesion.depth', eq: 'deep' },
  };
  const split = new Map(labelled.map((c, i) => [c.file, i % 2 ? 'holdout' as const : 'development' as const]));
  const r = evaluate(kb, labelled, { anchors: [rule], split });
  it('reports all, development and holdout; the halves partition the cases', () => {
    expect(r.sets.map((s) => s.set)).toEqual(['all', 'development', 'holdout']);
    expect(r.sets[1]!.n + r.sets[2]!.n).toBe(r.sets[0]!.n);
    for (const half of ['development', 'holdout'] as const) expect(r.cases.filter((c) => c.set === half).length).toBe(r.sets.find((s) => s.set === half)!.n);
    expect(r.anchorRules).toEqual([rule]);
    expect(evaluate(kb, labelled).sets.map((s) => s.set)).toEqual(['all']);
  });
  it('counts malignant and benign referred for calcdx, the prior and each rule, with Wilson intervals', () => {
    const all = r.sets[0]!;
    expect(all.referral.map((x) => x.id)).toEqual(['calcdx', 'prior_only', 'deep']);
    const mal = r.cases.filter((c) => c.group === 'malignant');
    const ben = r.cases.filter((c) => c.group !== 'malignant');
    const deep = all.referral[2]!;
    expect(deep.malignant.k).toBe(labelled.filter((l, i) => r.cases[i]!.group === 'malignant' && l.case.lesion?.depth === 'deep').length);
    expect(deep.benign.k).toBe(labelled.filter((l, i) => r.cases[i]!.group !== 'malignant' && l.case.lesion?.depth === 'deep').length);
    expect(deep.benign.n).toBe(ben.length);
    expect(deep.decidedByUnknown).toEqual({ malignant: mal.filter((c) => c.anchors.deep!.decidedByUnknown).length, benign: ben.filter((c) => c.anchors.deep!.decidedByUnknown).length });
    expect(all.referral[0]!.malignant.k).toBe(r.safety.urgentReferred);
    expect(all.referral[0]!.benign.k).toBe(r.safety.benignUrgent);
    for (const x of all.referral) { expect(x.benign.low).toBeLessThanOrEqual(x.benign.rate); expect(x.benign.high).toBeGreaterThanOrEqual(x.benign.rate); }
    expect(all.top1).toMatchObject({ k: r.intervals.top1.k, n: r.intervals.top1.n });
    expect(all.malignancyAuc).toBe(r.safety.malignancyAuc);
  });
  it('prior only is the engine given no finding: the same decision for every case without a setting', () => {
    expect(new Set(r.cases.map((c) => c.priorOnlyReferral)).size).toBe(1);
  });
  it('the ROC curve runs from (0, 0) to (1, 1) through calcdx thresholds', () => {
    const roc = r.sets[0]!.roc;
    expect(roc[0]).toMatchObject({ fpr: 0, tpr: 0 });
    expect(roc.at(-1)).toMatchObject({ fpr: 1, tpr: 1 });
  });
  it('setReport on hand-made results: rates, points and unknown counts', () => {
    const mk = (group: string, p: number, urgent: boolean, refer: boolean, unknown: boolean): CaseResult => ({
      file: 'f', truth: 't', group, rank: 1, probability: 1, top: [], malignancyProbability: p, urgentReferral: urgent, redFlags: [], flaggedAsPossiblyMalignant: urgent,
      findingsKnown: 0, priorOnlyReferral: true, anchors: { deep: { refer, decidedByUnknown: unknown } },
    });
    const s = setReport('all', [mk('malignant', 0.9, true, true, false), mk('malignant', 0.2, true, false, true), mk('benign', 0.1, false, true, false), mk('benign', 0.5, true, false, true)], [rule]);
    expect(s.referral[0]).toMatchObject({ malignant: { k: 2, n: 2, rate: 1 }, benign: { k: 1, n: 2, rate: 0.5 } });
    expect(s.referral[1]).toMatchObject({ malignant: { k: 2, n: 2 }, benign: { k: 2, n: 2 } });
    expect(s.referral[2]).toMatchObject({ malignant: { k: 1, n: 2 }, benign: { k: 1, n: 2 }, decidedByUnknown: { malignant: 1, benign: 1 } });
    expect(s.malignancyAuc).toBe(0.75);
    expect(s.roc.map((p) => [p.fpr, p.tpr])).toEqual([[0, 0], [0, 0.5], [0.5, 0.5], [0.5, 1], [1, 1]]);
  });
});
