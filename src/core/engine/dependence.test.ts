import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { CaseFile } from '../case-format/schema.js';
import { associatedJoint, compileKnowledgeBase, type KnowledgeBase } from '../knowledge/compile.js';
import { loadKnowledgeBase, readRawKnowledgeBase } from '../../io/kb-files.js';
import { arbitraryCase } from '../../test-support/arbitrary-case.js';
import { assess } from './assess.js';
import { computeDifferential } from './differential.js';
import { observe } from './findings.js';
import { nextQuestions } from './next-questions.js';

const kb = loadKnowledgeBase();
const raw = readRawKnowledgeBase();
const lr = (finding: string, entity: string, value: string): number => {
  const f = kb.findings[kb.findingIndex.get(finding)!]!;
  return Math.exp(f.logLr[kb.entityIndex.get(entity)! * f.values.length + f.values.indexOf(value)]!);
};

describe('per-finding evidence weight', () => {
  it('a known cancer is not tempered: plain likelihood ratios (metastasis 0.12 / 0.015 = 8 for breast; an entity without its own figure 1)', () => {
    expect(kb.findings[kb.findingIndex.get('history.knownPrimaryCancer')!]!.def.evidenceWeight?.value).toBe(1);
    expect(lr('history.knownPrimaryCancer', 'soft_tissue_metastasis', 'breast')).toBeCloseTo(8, 6);
    // 0.997: the likelihood floor (0.5%) lifts the rarest reference values before renormalising
    expect(lr('history.knownPrimaryCancer', 'calcific_tendinitis', 'breast')).toBeCloseTo(1, 2);
  });

  it('without the override the finding is tempered by thresholds.evidenceWeight like the others', () => {
    const r = structuredClone(raw);
    const f = (r.findings as { findings: Array<{ id: string; evidenceWeight?: unknown }> }).findings.find((x) => x.id === 'history.knownPrimaryCancer')!;
    delete f.evidenceWeight;
    const c = compileKnowledgeBase(r);
    if (!c.ok) throw new Error('compile');
    const F = c.kb.findings[c.kb.findingIndex.get('history.knownPrimaryCancer')!]!;
    const m = c.kb.entityIndex.get('soft_tissue_metastasis')!;
    const t = c.kb.entityIndex.get('calcific_tendinitis')!;
    const b = F.values.indexOf('breast');
    const ratio = Math.exp(F.logLr[m * F.values.length + b]! - F.logLr[t * F.values.length + b]!);
    expect(ratio).toBeLessThan(5);
    expect(ratio).toBeGreaterThan(3);
  });
});

type RawFinding = { id: string; dependsOn?: { finding: string; association: { value: number } } };
const withFindings = (edit: (fs: RawFinding[]) => void): ReturnType<typeof compileKnowledgeBase> => {
  const r = structuredClone(raw);
  edit((r.findings as { findings: RawFinding[] }).findings);
  return compileKnowledgeBase(r);
};
const compiled = (edit: (fs: RawFinding[]) => void): KnowledgeBase => {
  const c = withFindings(edit);
  if (!c.ok) throw new Error(JSON.stringify(c.problems));
  return c.kb;
};
const size = (fs: RawFinding[]) => fs.find((f) => f.id === 'lesion.sizeCm')!;
const independent = compiled((fs) => { size(fs).dependsOn!.association.value = 0; });
const noDependence = compiled((fs) => { delete size(fs).dependsOn; });

describe('dependence of size on depth (tree-augmented naive Bayes)', () => {
  it('the joint keeps both margins, whatever the association (property)', () => {
    const dist = (n: number) => fc.array(fc.double({ min: 0.01, max: 1, noNaN: true }), { minLength: n, maxLength: n }).map((xs) => { const s = xs.reduce((a, b) => a + b, 0); return xs.map((x) => x / s); });
    fc.assert(fc.property(dist(2), dist(4), fc.double({ min: -3, max: 3, noNaN: true }), (pa, pb, g) => {
      const j = associatedJoint(pa, pb, g);
      for (let a = 0; a < 2; a++) expect(j[a * 4]! + j[a * 4 + 1]! + j[a * 4 + 2]! + j[a * 4 + 3]!).toBeCloseTo(pa[a]!, 9);
      for (let b = 0; b < 4; b++) expect(j[b]! + j[4 + b]!).toBeCloseTo(pb[b]!, 9);
    }));
  });

  it('the joint has the association asked for: log odds ratio of adjacent cells = association', () => {
    const j = associatedJoint([0.4, 0.6], [0.08, 0.35, 0.37, 0.2], 1.4);
    for (let b = 0; b < 3; b++) expect(Math.log((j[b]! * j[4 + b + 1]!) / (j[b + 1]! * j[4 + b]!))).toBeCloseTo(1.4, 6);
  });

  it('the knowledge base\'s association reproduces the sarcoma series: > 5 cm in 30% superficial and 75% deep', () => {
    const j = associatedJoint([0.4, 0.6], [0.08, 0.35, 0.37, 0.2], kb.findings[kb.findingIndex.get('lesion.sizeCm')!]!.def.dependsOn!.association.value);
    expect((j[2]! + j[3]!) / 0.4).toBeCloseTo(0.3, 1);
    expect((j[6]! + j[7]!) / 0.6).toBeCloseTo(0.75, 1);
  });

  it('with association 0 the assessment is exactly naive Bayes (property)', () => {
    fc.assert(fc.property(arbitraryCase, (c) => {
      const a = assess(independent, c), b = assess(noDependence, c);
      for (let i = 0; i < a.differential.length; i++) expect(a.differential[i]!.probability).toBeCloseTo(b.differential[i]!.probability, 12);
    }), { numRuns: 100 });
  });

  it('size alone or depth alone counts as before; only the two together change', () => {
    const cases: CaseFile[] = [
      { formatVersion: 1, lesion: { sizeCm: 12 } }, { formatVersion: 1, lesion: { depth: 'deep' } },
      { formatVersion: 1, patient: { age: 60, sex: 'male' }, lesion: { region: 'thigh', sizeCm: 3 }, symptoms: { pain: false } },
    ];
    for (const c of cases) expect(assess(kb, c).malignancy.probability).toBeCloseTo(assess(noDependence, c).malignancy.probability, 12);
    const both: CaseFile = { formatVersion: 1, lesion: { depth: 'deep', sizeCm: 12 } };
    expect(assess(kb, both).malignancy.probability).not.toBeCloseTo(assess(noDependence, both).malignancy.probability, 3);
  });

  it('deep and large are not two independent signs: less malignant than naive Bayes; small and superficial: less reassuring', () => {
    const p = (k: KnowledgeBase, depth: 'deep' | 'superficial', sizeCm: number) => assess(k, { formatVersion: 1, lesion: { depth, sizeCm } }).malignancy.probability;
    expect(p(kb, 'deep', 12)).toBeLessThan(p(noDependence, 'deep', 12));
    expect(p(kb, 'superficial', 1.5)).toBeGreaterThan(p(noDependence, 'superficial', 1.5));
  });

  it('P(size | depth, entity) is a distribution for every entity and depth', () => {
    const f = kb.findings[kb.findingIndex.get('lesion.sizeCm')!]!;
    const kp = kb.findings[f.parent!]!.values.length, kc = f.values.length;
    const refJoint = associatedJoint(kb.findings[f.parent!]!.reference, f.reference, f.def.dependsOn!.association.value);
    // the likelihood ratios are against the reference row tempered like the entity's (P^w, renormalised)
    const w = f.def.evidenceWeight?.value ?? kb.rules.thresholds.evidenceWeight.value;
    for (let e = 0; e < kb.entities.length; e++) {
      for (let v = 0; v < kp; v++) {
        const row = refJoint.subarray(v * kc, (v + 1) * kc).reduce((a, b) => a + b ** w, 0);
        let s = 0;
        for (let b = 0; b < kc; b++) s += Math.exp(f.condLogLr![e * kp * kc + v * kc + b]!) * refJoint[v * kc + b]! ** w / row;
        expect(s).toBeCloseTo(1, 9);
      }
    }
  });

  it('the next question about size, with depth known, predicts what the answer will do (leader and its probability)', () => {
    const c: CaseFile = { formatVersion: 1, patient: { age: 45, sex: 'female' }, lesion: { region: 'thigh', depth: 'superficial' }, symptoms: { pain: false } };
    for (const k of [kb, noDependence]) {
      const obs = observe(k, c);
      const q = nextQuestions(k, computeDifferential(k, c, obs).posterior, obs, false, k.findings.length).find((x) => x.finding === 'lesion.sizeCm')!;
      const cm: Record<string, number> = { le2: 1, '2to5': 3, '5to10': 8, gt10: 12 };
      for (const o of q.outcomes) {
        const after = assess(k, { ...c, lesion: { ...c.lesion, sizeCm: cm[o.value]! } });
        expect(o.leader, o.value).toBe(after.differential[0]!.id);
        expect(o.leaderProbability, o.value).toBeCloseTo(after.differential[0]!.probability, 9);
      }
    }
  });

  it('the next question about depth, with size known, predicts what the answer will do', () => {
    const c: CaseFile = { formatVersion: 1, patient: { age: 60, sex: 'male' }, lesion: { region: 'thigh', sizeCm: 12 }, imaging: { calcification: { morphology: ['amorphous'] } } };
    for (const k of [kb, noDependence]) {
      const obs = observe(k, c);
      const q = nextQuestions(k, computeDifferential(k, c, obs).posterior, obs, false, k.findings.length).find((x) => x.finding === 'lesion.depth')!;
      for (const o of q.outcomes) {
        const after = assess(k, { ...c, lesion: { ...c.lesion, depth: o.value as 'deep' | 'superficial' } });
        expect(o.leader, o.value).toBe(after.differential[0]!.id);
        expect(o.leaderProbability, o.value).toBeCloseTo(after.differential[0]!.probability, 9);
      }
    }
  });

  it('the explanation says the size was counted given the depth', () => {
    const a = assess(kb, { formatVersion: 1, lesion: { depth: 'deep', sizeCm: 12 } });
    const t = a.differential.find((d) => d.id === 'liposarcoma')!.evidence.find((x) => x.finding === 'lesion.sizeCm')!;
    expect(t.given).toEqual({ finding: 'lesion.depth', value: 'deep' });
  });

  it('a dependence on an unknown, a morphology-member or a dependent finding is a knowledge-base problem naming the path', () => {
    for (const finding of ['no.such.finding', 'imaging.calcification.morphology.rim', 'lesion.sizeCm']) {
      const c = withFindings((fs) => { fs.find((f) => f.id === 'lesion.count')!.dependsOn = { finding, association: { value: 1, src: 'expert', note: { en: 'x', zh: 'x' } } as never }; });
      expect(c.ok, finding).toBe(false);
      expect(c.problems.map((p) => p.path)).toContain('findings.lesion.count.dependsOn.finding');
    }
  });
});
