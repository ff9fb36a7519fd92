/**
 * fast-check arbitrary of valid case files (format v1), every field optional.
 */
import fc from 'fast-check';
import {
  BONE_INVOLVEMENT, CALC_DISTRIBUTIONS, COMPARTMENTS, CONNECTIVE_TISSUE_DISEASES, EDEMA, ENHANCEMENT, ENTITY_IDS,
  EVOLUTION, EXTENTS, GROWTH, LESION_DISTRIBUTION, MARGINS, MORPHOLOGIES, PRIMARY_CANCERS, REGIONS, SETTINGS, T1_SIGNALS,
  T2_SIGNALS, VASCULARITY, type CaseFile,
} from '../core/case-format/schema.js';

const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined, freq: 2 });
const oneOf = <T extends string>(xs: readonly T[]) => fc.constantFrom(...xs);
const num = (min: number, max: number) => fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
const rec = <T extends Record<string, fc.Arbitrary<unknown>>>(shape: T) => fc.record(shape, { requiredKeys: [] });

const strip = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

export const arbitraryCase: fc.Arbitrary<CaseFile> = fc.record({
  formatVersion: fc.constant(1 as const),
  setting: opt(oneOf(SETTINGS)),
  patient: opt(rec({ age: num(0, 120), sex: oneOf(['male', 'female'] as const) })),
  history: opt(rec({
    trauma: rec({ present: fc.boolean(), weeksAgo: num(0, 3000) }).map((t) => ({ present: t.present ?? false, ...(t.weeksAgo !== undefined ? { weeksAgo: t.weeksAgo } : {}) })),
    knownPrimaryCancer: oneOf(PRIMARY_CANCERS),
    chronicKidneyDisease: fc.boolean(),
    dialysis: fc.boolean(),
    hyperparathyroidism: fc.boolean(),
    vitaminDExcess: fc.boolean(),
    connectiveTissueDisease: oneOf(CONNECTIVE_TISSUE_DISEASES),
    gout: fc.boolean(),
    neurologicInjuryOrBurns: fc.boolean(),
    surgeryAtSite: fc.boolean(),
    recurrenceAfterExcision: fc.boolean(),
    parasiteExposure: fc.boolean(),
  })),
  symptoms: opt(rec({
    pain: fc.boolean(), restrictedMotion: fc.boolean(), palpableMass: fc.boolean(), growth: oneOf(GROWTH),
    durationWeeks: num(0, 1000), weightLoss: fc.boolean(), fever: fc.boolean(),
  })),
  lesion: opt(rec({
    region: oneOf(REGIONS), compartment: oneOf(COMPARTMENTS), depth: oneOf(['superficial', 'deep'] as const),
    sizeCm: num(0.1, 60), count: oneOf(['single', 'multiple'] as const), distribution: oneOf(LESION_DISTRIBUTION),
  })),
  imaging: opt(rec({
    calcification: rec({
      morphology: fc.uniqueArray(oneOf(MORPHOLOGIES), { maxLength: 4 }),
      morphologyAbsent: fc.uniqueArray(oneOf(MORPHOLOGIES), { maxLength: 4 }),
      distribution: oneOf(CALC_DISTRIBUTIONS), zonal: fc.boolean(), extent: oneOf(EXTENTS), margin: oneOf(MARGINS),
    }).map((c) => {
      const seen = (c.morphology ?? []) as readonly string[];
      const absent = c.morphologyAbsent as ReadonlyArray<(typeof MORPHOLOGIES)[number]> | undefined;
      // a pattern is seen or excluded, not both
      return absent ? { ...c, morphologyAbsent: absent.filter((m) => !seen.includes(m)) } : c;
    }),
    xray: rec({ boneInvolvement: oneOf(BONE_INVOLVEMENT), periostealReaction: fc.boolean(), cleftFromBone: fc.boolean(), attachedToBone: fc.boolean() }),
    ct: rec({ maxHU: num(-100, 3000), meanHU: num(-100, 2000), fluidCalciumLevels: fc.boolean(), fatInLesion: fc.boolean(), softTissueMass: fc.boolean() }),
    mri: rec({
      t1: oneOf(T1_SIGNALS), t2: oneOf(T2_SIGNALS), enhancement: oneOf(ENHANCEMENT), edema: oneOf(EDEMA),
      fluidFluidLevels: fc.boolean(), neurovascularEncasement: fc.boolean(), fatInLesion: fc.boolean(),
    }),
    ultrasound: rec({ shadowing: fc.boolean(), vascularity: oneOf(VASCULARITY) }),
    evolution: oneOf(EVOLUTION),
  })),
  labs: opt(rec({
    calciumMmolL: num(1, 4), phosphateMmolL: num(0.3, 4), pthPgMl: num(1, 2000), vitaminD25NmolL: num(5, 900),
    uricAcidUmolL: num(100, 900), creatinineUmolL: num(30, 1500),
  })),
  pathology: fc.option(rec({
    diagnosis: oneOf(ENTITY_IDS),
    fnclcc: fc.record({
      differentiation: fc.constantFrom(1 as const, 2 as const, 3 as const),
      mitoses: fc.constantFrom(1 as const, 2 as const, 3 as const),
      necrosis: fc.constantFrom(0 as const, 1 as const, 2 as const),
    }),
    grade: fc.constantFrom(1 as const, 2 as const, 3 as const),
  }), { nil: undefined, freq: 5 }),
  staging: opt(rec({ nodes: oneOf(['N0', 'N1'] as const), metastasis: oneOf(['M0', 'M1'] as const) })),
  treatment: opt(rec({ surgeryDate: fc.date({ min: new Date('2000-01-01'), max: new Date('2040-12-31'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)) })),
}, { requiredKeys: ['formatVersion'] }).map(strip) as fc.Arbitrary<CaseFile>;
