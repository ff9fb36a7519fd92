import fc from 'fast-check';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CaseFile } from '../core/case-format/schema.js';
import { ROOT } from '../test-support/cases.js';
import { decide, evaluateGiven, evaluateTri, parseAnchors, readAnchors, type AnchorCondition, type AnchorRule } from './anchors.js';

const rules = readAnchors(join(ROOT, 'eval', 'anchors.yaml'));
const rule = (id: string): AnchorRule => rules.find((r) => r.id === id)!;
const c = (x: Omit<CaseFile, 'formatVersion'>): CaseFile => ({ formatVersion: 1, ...x });

describe('three-valued conditions', () => {
  const size: AnchorCondition = { field: 'lesion.sizeCm', gt: 5 };
  it('a leaf on an unknown field is unknown, and does not hold in the decision', () => {
    expect(evaluateTri(size, c({}))).toBeUndefined();
    expect(evaluateGiven(size, c({}))).toBe(false);
    expect(evaluateTri(size, c({ lesion: { sizeCm: 6 } }))).toBe(true);
    expect(evaluateTri(size, c({ lesion: { sizeCm: 5 } }))).toBe(false);
  });
  it('any / all / not follow Kleene logic', () => {
    const any: AnchorCondition = { any: [size, { field: 'symptoms.pain', eq: true }] };
    expect(evaluateTri(any, c({ symptoms: { pain: true } }))).toBe(true);
    expect(evaluateTri(any, c({ symptoms: { pain: false } }))).toBeUndefined();
    expect(evaluateTri(any, c({ symptoms: { pain: false }, lesion: { sizeCm: 2 } }))).toBe(false);
    const all: AnchorCondition = { all: [size, { field: 'symptoms.pain', eq: true }] };
    expect(evaluateTri(all, c({ symptoms: { pain: false } }))).toBe(false);
    expect(evaluateTri(all, c({ symptoms: { pain: true } }))).toBeUndefined();
    expect(evaluateTri({ not: size }, c({}))).toBeUndefined();
    expect(evaluateGiven({ not: size }, c({}))).toBe(true);
  });
  it('property: where the three-valued result is known, the decision on the facts given agrees with it', () => {
    const leafArb: fc.Arbitrary<AnchorCondition> = fc.oneof(
      fc.constant<AnchorCondition>({ field: 'lesion.sizeCm', gt: 5 }),
      fc.constant<AnchorCondition>({ field: 'lesion.depth', eq: 'deep' }),
      fc.constant<AnchorCondition>({ field: 'symptoms.pain', eq: true }),
      fc.constant<AnchorCondition>({ field: 'imaging.calcification.morphology', includes: 'phlebolith' }),
    );
    const condArb = fc.letrec<{ c: AnchorCondition }>((tie) => ({
      c: fc.oneof({ depthSize: 'small', withCrossShrink: true },
        leafArb,
        fc.array(tie('c'), { minLength: 1, maxLength: 3 }).map((all) => ({ all })),
        fc.array(tie('c'), { minLength: 1, maxLength: 3 }).map((any) => ({ any })),
        tie('c').map((not) => ({ not }))),
    })).c;
    const caseArb = fc.record({
      size: fc.option(fc.constantFrom(2, 8), { nil: undefined }),
      depth: fc.option(fc.constantFrom('deep' as const, 'superficial' as const), { nil: undefined }),
      pain: fc.option(fc.boolean(), { nil: undefined }),
      phl: fc.constantFrom('seen', 'absent', 'unknown'),
    }).map(({ size, depth, pain, phl }) => c({
      lesion: { ...(size !== undefined ? { sizeCm: size } : {}), ...(depth ? { depth } : {}) },
      ...(pain !== undefined ? { symptoms: { pain } } : {}),
      imaging: { calcification: { morphology: phl === 'seen' ? ['phlebolith'] : ['punctate'], ...(phl === 'absent' ? { morphologyAbsent: ['phlebolith'] } : {}) } },
    }));
    fc.assert(fc.property(condArb, caseArb, (cond, kase) => {
      const tri = evaluateTri(cond, kase);
      if (tri !== undefined) expect(evaluateGiven(cond, kase)).toBe(tri);
    }));
  });
  it('includes: a listed pattern holds, an excluded one does not, an unlisted one is unknown', () => {
    const phl: AnchorCondition = { field: 'imaging.calcification.morphology', includes: 'phlebolith' };
    expect(evaluateTri(phl, c({ imaging: { calcification: { morphology: ['phlebolith', 'punctate'] } } }))).toBe(true);
    expect(evaluateTri(phl, c({ imaging: { calcification: { morphology: ['punctate'] } } }))).toBeUndefined();
    expect(evaluateTri(phl, c({ imaging: { calcification: { morphology: ['punctate'], morphologyAbsent: ['phlebolith'] } } }))).toBe(false);
  });
});

describe('the guideline rules of eval/anchors.yaml', () => {
  it('UK red flags: any flag refers; none given is not referred but decided by the unknowns', () => {
    const r = rule('uk_red_flags');
    expect(decide(r, c({ lesion: { sizeCm: 6 } }))).toEqual({ refer: true, decidedByUnknown: false });
    expect(decide(r, c({ history: { recurrenceAfterExcision: true } })).refer).toBe(true);
    expect(decide(r, c({ imaging: { evolution: 'growing' } })).refer).toBe(true);
    expect(decide(r, c({}))).toEqual({ refer: false, decidedByUnknown: true });
    const allKnownNegative = c({
      lesion: { sizeCm: 3, depth: 'superficial' }, symptoms: { pain: false, growth: 'stable' }, history: { recurrenceAfterExcision: false }, imaging: { evolution: 'stable' },
    });
    expect(decide(r, allKnownNegative)).toEqual({ refer: false, decidedByUnknown: false });
  });
  it('NICE NG12: a lump increasing in size, and nothing else', () => {
    const r = rule('nice_ng12');
    expect(decide(r, c({ symptoms: { growth: 'rapid' } })).refer).toBe(true);
    expect(decide(r, c({ symptoms: { growth: 'slow' } })).refer).toBe(true);
    expect(decide(r, c({ lesion: { sizeCm: 12, depth: 'deep' }, symptoms: { pain: true, growth: 'stable' } })).refer).toBe(false);
  });
  it('ACR/ESSR indeterminate: refers unless a benign-specific sign is given; bone destruction always refers', () => {
    const r = rule('indeterminate_to_centre');
    expect(decide(r, c({ patient: { age: 40 } }))).toEqual({ refer: true, decidedByUnknown: true });
    expect(decide(r, c({ imaging: { calcification: { morphology: ['phlebolith'] } } })).refer).toBe(false);
    expect(decide(r, c({ imaging: { calcification: { zonal: true } } })).refer).toBe(false);
    expect(decide(r, c({ imaging: { calcification: { zonal: true }, xray: { boneInvolvement: 'destruction' } } })).refer).toBe(true);
    // an amorphous deposit is benign-specific in a tendon or bursa only
    expect(decide(r, c({ lesion: { compartment: 'tendon_bursa' }, imaging: { calcification: { morphology: ['amorphous'] } } })).refer).toBe(false);
    expect(decide(r, c({ lesion: { compartment: 'intramuscular' }, imaging: { calcification: { morphology: ['amorphous'] } } })).refer).toBe(true);
    // a metabolic cause needs the multifocal / widespread distribution
    expect(decide(r, c({ history: { dialysis: true }, lesion: { distribution: 'multifocal_periarticular' } })).refer).toBe(false);
    expect(decide(r, c({ history: { dialysis: true }, lesion: { distribution: 'localized' } })).refer).toBe(true);
    // fat is not a benign sign
    expect(decide(r, c({ imaging: { ct: { fatInLesion: true } } })).refer).toBe(true);
    // every sign known absent: indeterminate, and no unknown decided it
    const negative = c({
      lesion: { compartment: 'intramuscular', distribution: 'localized' },
      history: { gout: false, connectiveTissueDisease: 'none', chronicKidneyDisease: false, dialysis: false, hyperparathyroidism: false, vitaminDExcess: false },
      imaging: { calcification: { zonal: false, morphology: ['punctate'], morphologyAbsent: ['phlebolith', 'amorphous', 'rice_grain'] }, ct: { fluidCalciumLevels: false }, xray: { boneInvolvement: 'none' } },
    });
    expect(decide(r, negative)).toEqual({ refer: true, decidedByUnknown: false });
  });
});

describe('parseAnchors', () => {
  const base = { id: 'x', label: 'x', name: 'x', guideline: 'g', operationalised: 'o', unknown: 'u', sources: [{ url: 'https://example.org', title: 't' }] };
  it('refuses a field the case format does not have, a value its enum does not allow, includes on a scalar', () => {
    expect(() => parseAnchors({ rules: [{ ...base, refer: { field: 'lesion.sizecm', gt: 5 } }] })).toThrow(/no field lesion.sizecm/);
    expect(() => parseAnchors({ rules: [{ ...base, refer: { field: 'lesion.depth', eq: 'deeep' } }] })).toThrow(/no value .*deeep.* \(allowed: superficial, deep\)/);
    expect(() => parseAnchors({ rules: [{ ...base, refer: { field: 'lesion.depth', includes: 'deep' } }] })).toThrow(/not a list/);
  });
  it('refuses a condition without a test, duplicate ids and missing sources', () => {
    expect(() => parseAnchors({ rules: [{ ...base, refer: { field: 'lesion.depth' } }] })).toThrow(/needs one of eq/);
    expect(() => parseAnchors({ rules: [{ ...base, refer: { field: 'lesion.depth', eq: 'deep' } }, { ...base, refer: { field: 'lesion.depth', eq: 'deep' } }] })).toThrow(/unique/);
    expect(() => parseAnchors({ rules: [{ ...base, sources: [], refer: { field: 'lesion.depth', eq: 'deep' } }] })).toThrow(/sources/);
  });
  it('every rule of eval/anchors.yaml cites at least one source', () => {
    expect(rules.map((r) => r.id)).toEqual(['uk_red_flags', 'nice_ng12', 'indeterminate_to_centre']);
    for (const r of rules) expect(r.sources.length).toBeGreaterThan(0);
  });
});
