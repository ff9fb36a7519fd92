/**
 * Maps CT calcification measurements to the case-format vocabulary
 * (imaging.calcification: morphology, distribution, zonal, extent; imaging.ct: maxHU, meanHU).
 *
 * Every label comes with the rule that decided it, the measured numbers and the thresholds.
 * ALL THRESHOLDS ARE EXPERT ESTIMATES chosen for clear-cut shapes and checked on the synthetic
 * phantom (src/test-support/phantom.ts / make_phantom.py); none has been calibrated on patient CTs. They are
 * overridable through PatternOptions.thresholds.
 *
 * Per component, the first matching rule decides (order matters):
 *   1. rim          a piece of shell at the lesion surface (eggshell)
 *   2. ring_arc     a curved arc or ring around an empty centre
 *   3. linear       elongated and long
 *   4. punctate     small (equivalent sphere radius <= 3 mm)
 *   5. dense_central  large, compact, centred, and the dominant mass of mineral outside the rim
 *   6. amorphous    any other large component
 * Not detected (never emitted): phlebolith, rice_grain, trabecular, sheet — they need features a
 * threshold component does not carry (lamination with a lucent centre, organised cortex and
 * trabeculae, vascular context) or have no phantom to check them on.
 * Margin (well/ill defined) is not assessed and is left out of the fragment (omitted = unknown).
 */
import { ImagingError } from './errors.js';
import type { CaseFile } from '../core/case-format/schema.js';
import { CALC_DISTRIBUTIONS, EXTENTS, MORPHOLOGIES } from '../core/case-format/schema.js';
import type { ComponentMeasure, MeasureOptions, Measurements } from './measure.js';
import { measureComponents } from './measure.js';
import { labelComponents, type Components, type LabelOptions } from './label.js';
import { resolveRoi, type Roi, type RoiSpec } from './roi.js';
import type { Volume } from './volume.js';

export type Morphology = (typeof MORPHOLOGIES)[number];
export type CalcDistribution = (typeof CALC_DISTRIBUTIONS)[number];
export type Extent = (typeof EXTENTS)[number];

// ---- extent: calcified fraction of the ROI (the lesion). Expert estimates.
/** extent "moderate" from 10 % of the lesion calcified (below: "minimal"). Expert estimate. */
export const EXTENT_MODERATE_MIN_FRACTION = 0.1;
/** extent "extensive" above 50 % of the lesion (the case format: "more than half of the lesion"). Expert estimate. */
export const EXTENT_EXTENSIVE_MIN_FRACTION = 0.5;

// ---- morphology, per component. Expert estimates.
/** punctate: equivalent-sphere radius <= 3 mm (foci up to ~6 mm across: "stippled", "dot-like") */
export const PUNCTATE_MAX_EQ_RADIUS_MM = 3;
/** punctate is reported for the lesion from 2 such foci ("many small"): one speck is not a pattern */
export const PUNCTATE_MIN_COMPONENTS = 2;
/** linear: principal SD ratio sd1/sd2 >= 3 … */
export const LINEAR_MIN_ELONGATION = 3;
/** … and at least 5 mm long along the main axis */
export const LINEAR_MIN_LENGTH_MM = 5;
/** rim: >= 80 % of the component's voxels in the outer shell of the ROI (ρ >= measure's shellRho, 0.75) … */
export const RIM_MIN_SHELL_FRACTION = 0.8;
/** … radially thin: depth range <= max(5 mm, 15 % of the ROI radius) … */
export const RIM_MAX_THICKNESS_MM = 5;
export const RIM_MAX_THICKNESS_FRACTION = 0.15;
/** … and spread along the surface: main extent >= 3 × the thickness (a shell piece, not a nodule) */
export const RIM_MIN_EXTENT_TO_THICKNESS = 3;
/** ring_arc: a circle fitted in the plane of the two main axes covers >= 120° … */
export const ARC_MIN_COVERAGE_DEG = 120;
/** … the voxels lie near it (RMS residual <= 25 % of its radius) … */
export const ARC_MAX_RESIDUAL_FRACTION = 0.25;
/** … its centre is empty (<= 5 % of the voxels within half its radius) … */
export const ARC_MAX_HOLLOW_FRACTION = 0.05;
/** … radius >= 1.5 mm, and the component has >= 8 voxels (smaller ones are punctate) */
export const ARC_MIN_RADIUS_MM = 1.5;
export const ARC_MIN_VOXELS = 8;
/** dense_central: centroid at ρ <= 0.4 … */
export const DENSE_CENTRAL_MAX_RHO = 0.4;
/** … compact: sd1/sd2 <= 2 and ellipsoid fill >= 0.75 (solid, not lumpy) … */
export const DENSE_CENTRAL_MAX_ELONGATION = 2;
export const DENSE_CENTRAL_MIN_FILL = 0.75;
/** … and dominant: >= 50 % of the calcified volume outside rim components */
export const DENSE_CENTRAL_MIN_SHARE = 0.5;

// ---- distribution and zonal, from the calcified voxels' radial positions. Expert estimates.
/** central: >= 60 % of the calcified voxels in the inner zone (ρ <= 0.5, 12.5 % of a sphere's volume) */
export const CENTRAL_MIN_INNER_SHARE = 0.6;
/** peripheral: >= 80 % of the calcified voxels in the outer zone (ρ >= 0.7; uniform spread gives ~66 %) */
export const PERIPHERAL_MIN_OUTER_SHARE = 0.8;
/** eccentric: otherwise, when the calcified centroid lies at ρ >= 0.35 (off-centre, one-sided) */
export const ECCENTRIC_MIN_CENTROID_RHO = 0.35;
/** zonal: the outer zone is >= 3 × as densely calcified (calcified / zone voxels) as the inner zone … */
export const ZONAL_MIN_DENSITY_RATIO = 3;
/** … and >= 2 % of the outer zone is calcified */
export const ZONAL_MIN_OUTER_DENSITY = 0.02;

export const DEFAULT_PATTERN_THRESHOLDS = {
  extentModerateMinFraction: EXTENT_MODERATE_MIN_FRACTION,
  extentExtensiveMinFraction: EXTENT_EXTENSIVE_MIN_FRACTION,
  punctateMaxEqRadiusMm: PUNCTATE_MAX_EQ_RADIUS_MM,
  punctateMinComponents: PUNCTATE_MIN_COMPONENTS,
  linearMinElongation: LINEAR_MIN_ELONGATION,
  linearMinLengthMm: LINEAR_MIN_LENGTH_MM,
  rimMinShellFraction: RIM_MIN_SHELL_FRACTION,
  rimMaxThicknessMm: RIM_MAX_THICKNESS_MM,
  rimMaxThicknessFraction: RIM_MAX_THICKNESS_FRACTION,
  rimMinExtentToThickness: RIM_MIN_EXTENT_TO_THICKNESS,
  arcMinCoverageDeg: ARC_MIN_COVERAGE_DEG,
  arcMaxResidualFraction: ARC_MAX_RESIDUAL_FRACTION,
  arcMaxHollowFraction: ARC_MAX_HOLLOW_FRACTION,
  arcMinRadiusMm: ARC_MIN_RADIUS_MM,
  arcMinVoxels: ARC_MIN_VOXELS,
  denseCentralMaxRho: DENSE_CENTRAL_MAX_RHO,
  denseCentralMaxElongation: DENSE_CENTRAL_MAX_ELONGATION,
  denseCentralMinFill: DENSE_CENTRAL_MIN_FILL,
  denseCentralMinShare: DENSE_CENTRAL_MIN_SHARE,
  centralMinInnerShare: CENTRAL_MIN_INNER_SHARE,
  peripheralMinOuterShare: PERIPHERAL_MIN_OUTER_SHARE,
  eccentricMinCentroidRho: ECCENTRIC_MIN_CENTROID_RHO,
  zonalMinDensityRatio: ZONAL_MIN_DENSITY_RATIO,
  zonalMinOuterDensity: ZONAL_MIN_OUTER_DENSITY,
};
export type PatternThresholds = typeof DEFAULT_PATTERN_THRESHOLDS;

export const NOT_DETECTED_MORPHOLOGIES: readonly Morphology[] = ['phlebolith', 'rice_grain', 'trabecular', 'sheet'];

export interface PatternOptions {
  thresholds?: Partial<PatternThresholds>;
}

type Numbers = Record<string, number | null>;

/** A decision: the value, the rule id that produced it, the measured numbers and the thresholds used. */
export interface Decision<T> {
  value: T;
  rule: string;
  measured: Numbers;
  thresholds: Numbers;
}

export interface ComponentPattern extends Decision<Morphology | null> {
  label: number;
  /** share of the lesion's calcified volume */
  volumeShare: number;
}

export interface MorphologyFinding extends Decision<Morphology> {
  /** labels of the components with this morphology */
  components: number[];
  volumeShare: number;
}

export type CaseFragment = { imaging: NonNullable<CaseFile['imaging']> };

export interface PatternResult {
  components: ComponentPattern[];
  /** lesion morphologies, largest calcified volume share first */
  morphology: MorphologyFinding[];
  distribution: Decision<CalcDistribution> | null;
  zonal: Decision<boolean> | null;
  extent: Decision<Extent> | null;
  ct: { maxHU: number; meanHU: number } | null;
  notDetected: readonly Morphology[];
  /** the case-format fragment: { imaging: { ct: { maxHU, meanHU }, calcification: {...} } } */
  fragment: CaseFragment;
}

const r3 = (x: number | null): number | null => (x === null ? null : Math.round(x * 1000) / 1000);

function classifyComponent(c: ComponentMeasure, roiRadiusMm: number, t: PatternThresholds): Decision<Morphology | null> {
  const rimMaxThickness = Math.max(t.rimMaxThicknessMm, t.rimMaxThicknessFraction * roiRadiusMm);
  const length = c.extentMm[0];
  // 1. rim
  if (c.radial.shellFraction >= t.rimMinShellFraction && c.radial.thicknessMm <= rimMaxThickness && length >= t.rimMinExtentToThickness * Math.max(c.radial.thicknessMm, 1e-9)) {
    return {
      value: 'rim', rule: 'component.rim',
      measured: { shellFraction: r3(c.radial.shellFraction), thicknessMm: r3(c.radial.thicknessMm), extentMm: r3(length) },
      thresholds: { minShellFraction: t.rimMinShellFraction, maxThicknessMm: r3(rimMaxThickness), minExtentToThickness: t.rimMinExtentToThickness },
    };
  }
  // 2. ring / arc
  const a = c.arc;
  if (a && c.voxels >= t.arcMinVoxels && a.radiusMm >= t.arcMinRadiusMm && a.coverageDeg >= t.arcMinCoverageDeg
    && a.residualMm <= t.arcMaxResidualFraction * a.radiusMm && a.hollowFraction <= t.arcMaxHollowFraction) {
    return {
      value: 'ring_arc', rule: 'component.ring_arc',
      measured: { arcRadiusMm: r3(a.radiusMm), coverageDeg: r3(a.coverageDeg), residualFraction: r3(a.residualMm / a.radiusMm), hollowFraction: r3(a.hollowFraction), voxels: c.voxels },
      thresholds: { minCoverageDeg: t.arcMinCoverageDeg, maxResidualFraction: t.arcMaxResidualFraction, maxHollowFraction: t.arcMaxHollowFraction, minRadiusMm: t.arcMinRadiusMm, minVoxels: t.arcMinVoxels },
    };
  }
  // 3. linear (elongation null = sd2 is 0: a line of voxels)
  const elong = c.elongation ?? (c.principalSdMm[0] > 0 ? Infinity : null);
  if (elong !== null && elong >= t.linearMinElongation && length >= t.linearMinLengthMm) {
    return {
      value: 'linear', rule: 'component.linear',
      measured: { elongation: Number.isFinite(elong) ? r3(elong) : null, lengthMm: r3(length) },
      thresholds: { minElongation: t.linearMinElongation, minLengthMm: t.linearMinLengthMm },
    };
  }
  // 4. punctate
  if (c.equivalentRadiusMm <= t.punctateMaxEqRadiusMm) {
    return {
      value: 'punctate', rule: 'component.punctate',
      measured: { equivalentRadiusMm: r3(c.equivalentRadiusMm), volumeMm3: r3(c.volumeMm3) },
      thresholds: { maxEquivalentRadiusMm: t.punctateMaxEqRadiusMm },
    };
  }
  // 5./6. large: dense_central candidate (dominance is a lesion-level check) or amorphous
  const measured = {
    equivalentRadiusMm: r3(c.equivalentRadiusMm), centroidRho: r3(c.position.rho), elongation: r3(c.elongation), ellipsoidFill: r3(c.ellipsoidFill), meanHU: r3(c.meanHU),
  };
  const thresholds = { minEquivalentRadiusMm: t.punctateMaxEqRadiusMm, maxCentroidRho: t.denseCentralMaxRho, maxElongation: t.denseCentralMaxElongation, minEllipsoidFill: t.denseCentralMinFill };
  if (c.position.rho <= t.denseCentralMaxRho && (c.elongation ?? Infinity) <= t.denseCentralMaxElongation && c.ellipsoidFill >= t.denseCentralMinFill) {
    return { value: 'dense_central', rule: 'component.dense_central', measured, thresholds };
  }
  return { value: 'amorphous', rule: 'component.amorphous', measured, thresholds };
}

/** Classifies the measured calcifications and builds the case-format fragment. */
export function classifyPattern(m: Measurements, options: PatternOptions = {}): PatternResult {
  const t: PatternThresholds = { ...DEFAULT_PATTERN_THRESHOLDS, ...options.thresholds };
  const L = m.lesion;
  const total = L.calcifiedVoxels;
  const comps: ComponentPattern[] = m.components.map((c) => ({ label: c.label, volumeShare: total > 0 ? c.voxels / total : 0, ...classifyComponent(c, m.roi.radiusMm, t) }));

  // dense_central must dominate the mineral outside the rim; otherwise it is amorphous
  const nonRim = m.components.reduce((s, c, n) => s + (comps[n]!.value === 'rim' ? 0 : c.voxels), 0);
  const dense = comps.filter((c) => c.value === 'dense_central');
  for (const c of dense) {
    const share = nonRim > 0 ? m.components[c.label - 1]!.voxels / nonRim : 0;
    c.measured.shareOfNonRimVolume = r3(share);
    c.thresholds.minShareOfNonRimVolume = t.denseCentralMinShare;
    if (share < t.denseCentralMinShare) { c.value = 'amorphous'; c.rule = 'component.amorphous.not_dominant'; }
  }

  // lesion morphology
  const byKind = new Map<Morphology, ComponentPattern[]>();
  for (const c of comps) {
    if (!c.value) continue;
    const list = byKind.get(c.value);
    if (list) list.push(c);
    else byKind.set(c.value, [c]);
  }
  const morphology: MorphologyFinding[] = [];
  for (const [kind, list] of byKind) {
    const share = list.reduce((s, c) => s + c.volumeShare, 0);
    if (kind === 'punctate' && list.length < t.punctateMinComponents) continue;
    morphology.push({
      value: kind, rule: `lesion.${kind}`, components: list.map((c) => c.label), volumeShare: share,
      measured: { components: list.length, volumeShare: r3(share) },
      thresholds: kind === 'punctate' ? { minComponents: t.punctateMinComponents } : { minComponents: 1 },
    });
  }
  morphology.sort((a, b) => b.volumeShare - a.volumeShare || MORPHOLOGIES.indexOf(a.value) - MORPHOLOGIES.indexOf(b.value));

  let distribution: Decision<CalcDistribution> | null = null;
  let zonal: Decision<boolean> | null = null;
  let extent: Decision<Extent> | null = null;
  let ct: PatternResult['ct'] = null;
  if (total > 0) {
    const z = L.zones;
    const innerShare = z.inner.calcifiedVoxels / total, outerShare = z.outer.calcifiedVoxels / total;
    const measured = { innerShare: r3(innerShare), outerShare: r3(outerShare), centroidRho: r3(L.centroidRho), meanRho: r3(L.meanRho), innerRho: z.innerRho, outerRho: z.outerRho };
    const thresholds = { centralMinInnerShare: t.centralMinInnerShare, peripheralMinOuterShare: t.peripheralMinOuterShare, eccentricMinCentroidRho: t.eccentricMinCentroidRho };
    let value: CalcDistribution;
    if (innerShare >= t.centralMinInnerShare) value = 'central';
    else if (outerShare >= t.peripheralMinOuterShare) value = 'peripheral';
    else if ((L.centroidRho ?? 0) >= t.eccentricMinCentroidRho) value = 'eccentric';
    else value = 'diffuse';
    distribution = { value, rule: `distribution.${value}`, measured, thresholds };

    const dIn = z.inner.roiVoxels > 0 ? z.inner.calcifiedVoxels / z.inner.roiVoxels : 0;
    const dOut = z.outer.roiVoxels > 0 ? z.outer.calcifiedVoxels / z.outer.roiVoxels : 0;
    const ratio = dIn > 0 ? dOut / dIn : dOut > 0 ? Infinity : 0;
    const isZonal = dOut >= t.zonalMinOuterDensity && ratio >= t.zonalMinDensityRatio;
    zonal = {
      value: isZonal, rule: isZonal ? 'zonal.true' : 'zonal.false',
      measured: { outerDensity: r3(dOut), innerDensity: r3(dIn), densityRatio: Number.isFinite(ratio) ? r3(ratio) : null },
      thresholds: { minDensityRatio: t.zonalMinDensityRatio, minOuterDensity: t.zonalMinOuterDensity },
    };

    const f = L.calcifiedFraction;
    const ev: Extent = f > t.extentExtensiveMinFraction ? 'extensive' : f >= t.extentModerateMinFraction ? 'moderate' : 'minimal';
    extent = {
      value: ev, rule: `extent.${ev}`,
      measured: { calcifiedFraction: Math.round(f * 1e6) / 1e6, calcifiedVolumeMm3: r3(L.calcifiedVolumeMm3), roiVolumeMm3: r3(L.roiVolumeMm3) },
      thresholds: { moderateMinFraction: t.extentModerateMinFraction, extensiveAboveFraction: t.extentExtensiveMinFraction },
    };
    // the case format bounds HU to [-1024, 30000]
    const clampHU = (x: number): number => Math.min(30000, Math.max(-1024, x));
    ct = { maxHU: clampHU(Math.round(L.maxHU!)), meanHU: clampHU(Math.round(L.meanHU! * 10) / 10) };
  }

  const fragment: CaseFragment = { imaging: {} };
  if (ct) {
    fragment.imaging.ct = { maxHU: ct.maxHU, meanHU: ct.meanHU };
    fragment.imaging.calcification = {
      ...(morphology.length ? { morphology: morphology.map((x) => x.value) } : {}),
      distribution: distribution!.value,
      zonal: zonal!.value,
      extent: extent!.value,
    };
  }
  return { components: comps, morphology, distribution, zonal, extent, ct, notDetected: NOT_DETECTED_MORPHOLOGIES, fragment };
}

export interface AnalysisOptions extends LabelOptions, MeasureOptions, PatternOptions {
  /**
   * Most components measured (default MAX_COMPONENTS): each is measured, classified and reported
   * one by one, so a noisy volume with a low threshold (hundreds of thousands of specks) would take
   * memory and time without meaning anything; it is refused with a too_large error instead.
   */
  maxComponents?: number;
  /** the volume's name in errors (a file or folder) */
  source?: string;
}

/** No calcified lesion has this many separate components; noise at a threshold that is too low does. */
export const MAX_COMPONENTS = 100_000;

export interface Analysis {
  roi: Roi;
  components: Components;
  measurements: Measurements;
  pattern: PatternResult;
}

/**
 * The whole chain: resolve the ROI (required: throws RoiError roi_required without one),
 * threshold + label, measure, classify. The fragment is in `pattern.fragment`.
 */
export function analyseCalcification(v: Volume, roiSpec: RoiSpec | undefined | null, options: AnalysisOptions = {}): Analysis {
  const roi = resolveRoi(v, roiSpec);
  const components = labelComponents(v, roi, options);
  const max = options.maxComponents ?? MAX_COMPONENTS;
  if (components.count > max) {
    throw new ImagingError('too_large', options.source ?? 'volume', `${components.count} calcified components above ${options.thresholdHU ?? 100} HU in the ROI, more than the ${max} measured at most: a noisy volume or a threshold that is too low (raise the threshold or the minimum component size, or narrow the ROI)`);
  }
  const measurements = measureComponents(v, roi, components, options);
  return { roi, components, measurements, pattern: classifyPattern(measurements, options) };
}
