import { describe, expect, it } from 'vitest';
import { analyseCalcification, classifyPattern, MAX_COMPONENTS, EXTENT_EXTENSIVE_MIN_FRACTION, EXTENT_MODERATE_MIN_FRACTION, NOT_DETECTED_MORPHOLOGIES, type PatternResult } from './pattern.js';
import { measureComponents, type Measurements } from './measure.js';
import { labelComponents, type LabelOptions } from './label.js';
import { resolveRoi } from './roi.js';
import { makePhantom, type PhantomObjectKind } from '../test-support/phantom.js';
import { validateCase } from '../core/case-format/validate.js';
import { ImagingError } from './errors.js';
import type { Volume } from './volume.js';

function analyse(objects?: ReadonlyArray<PhantomObjectKind | number>, label: LabelOptions = {}): { m: Measurements; p: PatternResult } {
  const { volume, truth } = makePhantom({ objects });
  const roi = resolveRoi(volume, truth.roi);
  const m = measureComponents(volume, roi, labelComponents(volume, roi, label));
  return { m, p: classifyPattern(m) };
}

function expectValid(p: PatternResult): void {
  const r = validateCase({ formatVersion: 1, ...p.fragment });
  expect(r.ok, JSON.stringify(r)).toBe(true);
}

describe('classifyPattern: each phantom object in its own ROI', () => {
  const cases: [PhantomObjectKind, string[], string | null][] = [
    ['punctate', ['punctate'], null],
    ['linear', ['linear'], null],
    ['rim', ['rim'], 'peripheral'],
    ['dense_central', ['dense_central'], 'central'],
    ['ring_arc', ['ring_arc'], null],
    ['amorphous', ['amorphous'], null],
  ];
  for (const [kind, morphology, distribution] of cases) {
    it(`${kind} → ${morphology.join(', ')}${distribution ? `, ${distribution}` : ''}`, () => {
      const { p } = analyse([kind]);
      expect(p.fragment.imaging.calcification?.morphology).toEqual(morphology);
      expect(p.components.every((c) => c.value === kind)).toBe(true);
      if (distribution) expect(p.distribution?.value).toBe(distribution);
      expect(p.extent?.value).toBe('minimal');
      expectValid(p);
    });
  }

  it('the eggshell rim alone is zonal (mineral at the periphery, none in the centre); the dense centre is not', () => {
    expect(analyse(['rim']).p.zonal?.value).toBe(true);
    expect(analyse(['dense_central']).p.zonal?.value).toBe(false);
  });

  it('each label carries its rule, the measured numbers and the thresholds', () => {
    const { p } = analyse(['ring_arc']);
    const c = p.components[0]!;
    expect(c.rule).toBe('component.ring_arc');
    expect(c.measured.coverageDeg).toBeGreaterThanOrEqual(c.thresholds.minCoverageDeg!);
    expect(p.extent?.measured.calcifiedFraction).toBeCloseTo(51 / 187083, 6);
    expect(p.extent?.thresholds).toEqual({ moderateMinFraction: 0.1, extensiveAboveFraction: 0.5 });
    expect(p.distribution?.rule).toMatch(/^distribution\./);
    expect(NOT_DETECTED_MORPHOLOGIES).toContain('phlebolith');
  });
});

describe('classifyPattern: the whole phantom', () => {
  const { m, p } = analyse();

  it('finds every morphology, largest volume first, peripheral, minimal, not zonal', () => {
    expect(p.fragment.imaging.calcification).toEqual({
      morphology: ['rim', 'dense_central', 'amorphous', 'punctate', 'linear', 'ring_arc'],
      distribution: 'peripheral',
      zonal: false,
      extent: 'minimal',
    });
    expect(p.fragment.imaging.ct).toEqual({ maxHU: m.lesion.maxHU, meanHU: Math.round(m.lesion.meanHU! * 10) / 10 });
    expectValid(p);
    const counts = Object.fromEntries(p.morphology.map((x) => [x.value, x.components.length]));
    expect(counts).toEqual({ rim: 1, dense_central: 1, amorphous: 1, punctate: 5, linear: 3, ring_arc: 1 });
  });

  it('with 6-connectivity the corner-touching chain falls apart into punctate specks', () => {
    const six = analyse(['linear'], { connectivity: 6 }).p;
    const kinds = six.components.map((c) => c.value);
    expect(kinds.filter((k) => k === 'punctate').length).toBeGreaterThanOrEqual(10);
    expect(six.fragment.imaging.calcification?.morphology).toEqual(['linear', 'punctate']);
  });

  it('a single speck is not a punctate pattern', () => {
    const one = analyse([7]).p; // the single-voxel focus
    expect(one.components[0]!.value).toBe('punctate');
    expect(one.morphology).toEqual([]);
    expect(one.fragment.imaging.calcification?.morphology).toBeUndefined();
    expectValid(one);
  });

  it('a central ellipsoid that does not dominate the non-rim mineral is amorphous', () => {
    const t = analyse(undefined).m;
    const p2 = classifyPattern(t, { thresholds: { denseCentralMinShare: 0.9 } });
    const dc = p2.components.find((c) => c.rule === 'component.amorphous.not_dominant');
    expect(dc?.measured.shareOfNonRimVolume).toBeGreaterThan(0.5);
    expect(p2.fragment.imaging.calcification?.morphology).not.toContain('dense_central');
  });
});

describe('analyseCalcification', () => {
  it('runs the chain and refuses to run without an ROI', () => {
    const { volume, truth } = makePhantom({ objects: ['rim'] });
    const a = analyseCalcification(volume, truth.roi, { minVoxels: 5 });
    expect(a.components.count).toBe(1);
    expect(a.pattern.fragment.imaging.calcification?.morphology).toEqual(['rim']);
    expect(() => analyseCalcification(volume, undefined)).toThrow(/ROI is required/);
  });
});

describe('classifyPattern: extent and empty lesions', () => {
  const base = analyse(['punctate']).m;
  const withFraction = (f: number): Measurements => ({ ...base, lesion: { ...base.lesion, calcifiedFraction: f } });

  it('extent thresholds (expert estimates): minimal < 10 %, moderate 10–50 %, extensive > 50 %', () => {
    expect(EXTENT_MODERATE_MIN_FRACTION).toBe(0.1);
    expect(EXTENT_EXTENSIVE_MIN_FRACTION).toBe(0.5);
    expect(classifyPattern(withFraction(0.099)).extent?.value).toBe('minimal');
    expect(classifyPattern(withFraction(0.1)).extent?.value).toBe('moderate');
    expect(classifyPattern(withFraction(0.5)).extent?.value).toBe('moderate');
    expect(classifyPattern(withFraction(0.51)).extent?.value).toBe('extensive');
  });

  it('no calcification in the ROI: no calcification findings, still a valid fragment', () => {
    const { p } = analyse([]);
    expect(p.fragment).toEqual({ imaging: {} });
    expect(p.ct).toBeNull();
    expectValid(p);
  });
});

describe('analyseCalcification: many components (issue 13)', () => {
  /** n³ voxels alternating 1000 / -1000 HU: with 6-connectivity every calcified voxel is a component of its own. */
  function checkerboard(n: number): Volume {
    const data = new Int16Array(n * n * n);
    for (let k = 0; k < n; k++) for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) data[i + n * (j + n * k)] = (i + j + k) % 2 ? 1000 : -1000;
    return { dims: [n, n, n], spacing: [1, 1, 1], data, affine: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], warnings: [], source: { kind: 'nifti', files: 1 } };
  }

  it('more components than MAX_COMPONENTS is a too_large imaging error naming the volume, raised before they are measured', () => {
    const v = checkerboard(64);
    let caught: unknown;
    try { analyseCalcification(v, { kind: 'whole' }, { connectivity: 6, source: 'noise.nii' }); } catch (e) { caught = e; }
    expect(caught).toBeInstanceOf(ImagingError);
    expect(caught).toMatchObject({ code: 'too_large', file: 'noise.nii' });
    expect((caught as Error).message).toMatch(new RegExp(`131072 calcified components above 100 HU in the ROI, more than the ${MAX_COMPONENTS}`));
  });

  it('tens of thousands of components are classified in linear time (the lesion morphology was built by copying a list per component)', () => {
    // 48³: 55,296 components; quadratic list copies made this take minutes
    const a = analyseCalcification(checkerboard(48), { kind: 'whole' }, { connectivity: 6 });
    expect(a.components.count).toBe(48 ** 3 / 2);
    expect(a.pattern.morphology.map((m) => m.value)).toEqual(['punctate']);
    expect(a.pattern.morphology[0]!.components).toHaveLength(48 ** 3 / 2);
  }, 20_000);
});
