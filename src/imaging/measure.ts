/**
 * Measurements of labelled calcifications: per component (size, HU, centroid, bounding box,
 * principal axes, position in the ROI, shell and arc features) and per lesion (calcified volume
 * and fraction of the ROI, count, HU, radial zones).
 *
 * All passes run over the foreground runs only (never over the whole grid), as the
 * "foreground statistics" variant of the Python reference does. Definitions follow
 * /work/shared/bench-reference/ref_pipeline.py where it has them: covariance of voxel positions
 * in mm with n − 1 (np.cov), principal SDs in descending order, elongation = sd1 / sd2,
 * flatness = sd2 / sd3, centroid radial distance and depth (R − r for a sphere in mm).
 */
import type { Volume } from './volume.js';
import { voxelToPatient } from './volume.js';
import type { Roi, Vec3 } from './roi.js';
import type { Components } from './label.js';

/** Voxels with ρ >= this are "in the shell" (outer quarter of the radius). */
export const DEFAULT_SHELL_RHO = 0.75;
/** Inner zone of the lesion: ρ <= 0.5 (12.5 % of a sphere's volume). */
export const DEFAULT_INNER_RHO = 0.5;
/** Outer zone: ρ >= 0.7 (66 % of a sphere's volume). */
export const DEFAULT_OUTER_RHO = 0.7;
/** Angular bins for the arc coverage (10° each). */
export const ARC_BINS = 36;

export interface MeasureOptions {
  shellRho?: number;
  innerRho?: number;
  outerRho?: number;
}

export interface ComponentMeasure {
  label: number;
  voxels: number;
  volumeMm3: number;
  maxHU: number;
  minHU: number;
  meanHU: number;
  centroidVoxel: Vec3;
  /** patient LPS, mm */
  centroidMm: Vec3;
  bboxMin: Vec3;
  bboxMax: Vec3;
  /** square roots of the eigenvalues of the position covariance (mm, n − 1), descending */
  principalSdMm: Vec3;
  /** unit eigenvectors in patient space, in the order of principalSdMm */
  principalAxes: [Vec3, Vec3, Vec3];
  /** sd1 / sd2 (null when sd2 = 0) */
  elongation: number | null;
  /** sd2 / sd3 (null when sd3 = 0) */
  flatness: number | null;
  /** extent along the principal axes, voxel centre to voxel centre, mm */
  extentMm: Vec3;
  /** radius of the sphere of the same volume, mm */
  equivalentRadiusMm: number;
  /**
   * volume / volume of the ellipsoid with semi-axes √5·sd (sd corrected for the voxel size):
   * ≈ 1 for a solid ellipsoid, lower for hollow, branched or lumpy shapes
   */
  ellipsoidFill: number;
  /** where the centroid lies in the ROI */
  position: { rho: number; depthMm: number; distanceFromCenterMm: number };
  /** where the voxels lie in the ROI */
  radial: { meanRho: number; minRho: number; maxRho: number; shellFraction: number; minDepthMm: number; maxDepthMm: number; thicknessMm: number };
  /** circle fitted in the plane of the two main principal axes (null when degenerate) */
  arc: { radiusMm: number; residualMm: number; coverageDeg: number; hollowFraction: number } | null;
}

export interface LesionMeasure {
  roiVoxels: number;
  roiVolumeMm3: number;
  calcifiedVoxels: number;
  calcifiedVolumeMm3: number;
  /** calcified voxels / ROI voxels */
  calcifiedFraction: number;
  componentCount: number;
  /** over the calcified voxels of the kept components (null when none) */
  maxHU: number | null;
  meanHU: number | null;
  /** ρ of the calcified-voxel centroid, and its distance from the ROI centre in mm */
  centroidRho: number | null;
  centroidOffsetMm: number | null;
  /** volume-weighted mean ρ of the calcified voxels */
  meanRho: number | null;
  /** calcified voxels in the inner zone (ρ <= innerRho), the outer zone (ρ >= outerRho) and the shell (ρ >= shellRho) */
  zones: {
    innerRho: number; outerRho: number; shellRho: number;
    inner: { roiVoxels: number; calcifiedVoxels: number };
    outer: { roiVoxels: number; calcifiedVoxels: number };
    shell: { calcifiedVoxels: number };
  };
}

export interface Measurements {
  thresholdHU: number;
  connectivity: 6 | 26;
  voxelVolumeMm3: number;
  roi: { kind: Roi['kind']; description: string; voxels: number; volumeMm3: number; radiusMm: number; centerVoxel: Vec3; centerMm: Vec3; warnings: string[] };
  components: ComponentMeasure[];
  lesion: LesionMeasure;
}

/** Eigen-decomposition of a symmetric 3×3 matrix (cyclic Jacobi). Values descending, vectors as columns → returned as rows. */
export function symmetricEigen3(m: number[]): { values: Vec3; vectors: [Vec3, Vec3, Vec3] } {
  const a = [[m[0]!, m[1]!, m[2]!], [m[3]!, m[4]!, m[5]!], [m[6]!, m[7]!, m[8]!]] as number[][];
  const v = [[1, 0, 0], [0, 1, 0], [0, 0, 1]] as number[][];
  const A = (r: number, c: number): number => a[r]![c]!;
  for (let sweep = 0; sweep < 60; sweep++) {
    const off = A(0, 1) ** 2 + A(0, 2) ** 2 + A(1, 2) ** 2;
    const scale = A(0, 0) ** 2 + A(1, 1) ** 2 + A(2, 2) ** 2;
    if (off <= 1e-30 * Math.max(scale, 1e-300) || off === 0) break;
    for (const [p, q] of [[0, 1], [0, 2], [1, 2]] as [number, number][]) {
      const apq = A(p, q);
      if (apq === 0) continue;
      const theta = (A(q, q) - A(p, p)) / (2 * apq);
      const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
      const c = 1 / Math.sqrt(t * t + 1), s = t * c;
      for (let k = 0; k < 3; k++) {
        const akp = A(k, p), akq = A(k, q);
        a[k]![p] = c * akp - s * akq;
        a[k]![q] = s * akp + c * akq;
      }
      for (let k = 0; k < 3; k++) {
        const apk = A(p, k), aqk = A(q, k);
        a[p]![k] = c * apk - s * aqk;
        a[q]![k] = s * apk + c * aqk;
      }
      for (let k = 0; k < 3; k++) {
        const vkp = v[k]![p]!, vkq = v[k]![q]!;
        v[k]![p] = c * vkp - s * vkq;
        v[k]![q] = s * vkp + c * vkq;
      }
    }
  }
  const order = [0, 1, 2].sort((x, y) => A(y, y) - A(x, x));
  const values = order.map((i) => A(i, i)) as Vec3;
  const vectors = order.map((i) => [v[0]![i]!, v[1]![i]!, v[2]![i]!] as Vec3) as [Vec3, Vec3, Vec3];
  return { values, vectors };
}

const P1 = 14; // pass-1 accumulators per label
// 0 n, 1 sumHU, 2 max, 3 min, 4 si, 5 sj, 6 sk, 7 sii, 8 sjj, 9 skk, 10 sij, 11 sik, 12 sjk, 13 sumRho
const R1 = 5; // 0 minRho, 1 maxRho, 2 shell count, 3 minDepth, 4 maxDepth

/** Measures every kept component and the lesion. */
export function measureComponents(v: Volume, roi: Roi, comps: Components, options: MeasureOptions = {}): Measurements {
  const shellRho = options.shellRho ?? DEFAULT_SHELL_RHO;
  const innerRho = options.innerRho ?? DEFAULT_INNER_RHO;
  const outerRho = options.outerRho ?? DEFAULT_OUTER_RHO;
  const [nx, ny] = v.dims;
  const [sx, sy, sz] = v.spacing;
  const vox = sx * sy * sz;
  const data = v.data;
  const n = comps.count;
  const { runs } = comps;
  const o = comps.bbox.min;
  const acc = new Float64Array(n * P1);
  const rad = new Float64Array(n * R1);
  const bb = new Int32Array(n * 6);
  for (let l = 0; l < n; l++) {
    acc[l * P1 + 2] = -Infinity; acc[l * P1 + 3] = Infinity;
    rad[l * R1] = Infinity; rad[l * R1 + 1] = -Infinity; rad[l * R1 + 3] = Infinity; rad[l * R1 + 4] = -Infinity;
    bb.set([2 ** 30, 2 ** 30, 2 ** 30, -1, -1, -1], l * 6);
  }
  let innerCalc = 0, outerCalc = 0, shellCalc = 0;

  // pass 1: counts, HU, moments, bbox, radial position of every voxel
  for (let r = 0; r < runs.count; r++) {
    const l = runs.label[r]! - 1;
    if (l < 0) continue;
    const j = runs.j[r]!, k = runs.k[r]!, s = runs.start[r]!, e = runs.end[r]!;
    const base = nx * (j + ny * k);
    const a = l * P1, q = l * R1, b6 = l * 6;
    const dj = j - o[1], dk = k - o[2];
    let sumHU = 0, mx = acc[a + 2]!, mn = acc[a + 3]!, si = 0, sii = 0, sumRho = 0;
    let minRho = rad[q]!, maxRho = rad[q + 1]!, shell = 0, minD = rad[q + 3]!, maxD = rad[q + 4]!;
    for (let i = s; i <= e; i++) {
      const h = data[base + i]!;
      sumHU += h;
      if (h > mx) mx = h;
      if (h < mn) mn = h;
      const di = i - o[0];
      si += di; sii += di * di;
      const rho = roi.rho(i, j, k);
      sumRho += rho;
      if (rho < minRho) minRho = rho;
      if (rho > maxRho) maxRho = rho;
      if (rho >= shellRho) shell++;
      if (rho <= innerRho) innerCalc++;
      if (rho >= outerRho) outerCalc++;
      const d = roi.depthMm(i, j, k);
      if (d < minD) minD = d;
      if (d > maxD) maxD = d;
    }
    const len = e - s + 1;
    acc[a] = acc[a]! + len;
    acc[a + 1] = acc[a + 1]! + sumHU;
    acc[a + 2] = mx; acc[a + 3] = mn;
    acc[a + 4] = acc[a + 4]! + si;
    acc[a + 5] = acc[a + 5]! + dj * len;
    acc[a + 6] = acc[a + 6]! + dk * len;
    acc[a + 7] = acc[a + 7]! + sii;
    acc[a + 8] = acc[a + 8]! + dj * dj * len;
    acc[a + 9] = acc[a + 9]! + dk * dk * len;
    acc[a + 10] = acc[a + 10]! + si * dj;
    acc[a + 11] = acc[a + 11]! + si * dk;
    acc[a + 12] = acc[a + 12]! + dj * dk * len;
    acc[a + 13] = acc[a + 13]! + sumRho;
    rad[q] = minRho; rad[q + 1] = maxRho; rad[q + 2] = rad[q + 2]! + shell; rad[q + 3] = minD; rad[q + 4] = maxD;
    shellCalc += shell;
    if (s < bb[b6]!) bb[b6] = s;
    if (j < bb[b6 + 1]!) bb[b6 + 1] = j;
    if (k < bb[b6 + 2]!) bb[b6 + 2] = k;
    if (e > bb[b6 + 3]!) bb[b6 + 3] = e;
    if (j > bb[b6 + 4]!) bb[b6 + 4] = j;
    if (k > bb[b6 + 5]!) bb[b6 + 5] = k;
  }

  const A = v.affine;
  const L = [A[0]!, A[1]!, A[2]!, A[4]!, A[5]!, A[6]!, A[8]!, A[9]!, A[10]!];
  const mulL = (x: number, y: number, z: number): Vec3 => [L[0]! * x + L[1]! * y + L[2]! * z, L[3]! * x + L[4]! * y + L[5]! * z, L[6]! * x + L[7]! * y + L[8]! * z];
  const rc = roi.centerVoxel;

  const comp: ComponentMeasure[] = [];
  const cen = new Float64Array(n * 3); // centroid, voxel coordinates (relative to o)
  const axes = new Float64Array(n * 9);
  for (let l = 0; l < n; l++) {
    const a = l * P1;
    const cnt = acc[a]!;
    const mi = acc[a + 4]! / cnt, mj = acc[a + 5]! / cnt, mk = acc[a + 6]! / cnt;
    cen.set([mi, mj, mk], l * 3);
    const dd = cnt > 1 ? cnt - 1 : 1;
    const cii = (acc[a + 7]! - cnt * mi * mi) / dd, cjj = (acc[a + 8]! - cnt * mj * mj) / dd, ckk = (acc[a + 9]! - cnt * mk * mk) / dd;
    const cij = (acc[a + 10]! - cnt * mi * mj) / dd, cik = (acc[a + 11]! - cnt * mi * mk) / dd, cjk = (acc[a + 12]! - cnt * mj * mk) / dd;
    const C = [cii, cij, cik, cij, cjj, cjk, cik, cjk, ckk];
    // C_mm = L C Lᵀ
    const LC = new Array<number>(9).fill(0), M = new Array<number>(9).fill(0);
    for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) for (let t = 0; t < 3; t++) LC[r * 3 + c]! += L[r * 3 + t]! * C[t * 3 + c]!;
    for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) for (let t = 0; t < 3; t++) M[r * 3 + c]! += LC[r * 3 + t]! * L[c * 3 + t]!;
    const eig = cnt > 1 ? symmetricEigen3(M) : { values: [0, 0, 0] as Vec3, vectors: [[1, 0, 0], [0, 1, 0], [0, 0, 1]] as [Vec3, Vec3, Vec3] };
    const sd = eig.values.map((x) => Math.sqrt(Math.max(0, x))) as Vec3;
    axes.set([...eig.vectors[0], ...eig.vectors[1], ...eig.vectors[2]], l * 9);
    const ci = mi + o[0], cj = mj + o[1], ck = mk + o[2];
    const cmm = voxelToPatient(v, ci, cj, ck);
    const off = mulL(ci - rc[0], cj - rc[1], ck - rc[2]);
    const volume = cnt * vox;
    // sd corrected for the voxel extent (uniform within a voxel: h²/12 along each voxel axis)
    const corr = eig.vectors.map((e) => {
      const ex = (e[0] * L[0]! + e[1] * L[3]! + e[2] * L[6]!), ey = (e[0] * L[1]! + e[1] * L[4]! + e[2] * L[7]!), ez = (e[0] * L[2]! + e[1] * L[5]! + e[2] * L[8]!);
      return (ex * ex + ey * ey + ez * ez) / 12;
    });
    const ellVol = (4 / 3) * Math.PI * 5 ** 1.5 * Math.sqrt((sd[0] ** 2 + corr[0]!) * (sd[1] ** 2 + corr[1]!) * (sd[2] ** 2 + corr[2]!));
    const q = l * R1, b6 = l * 6;
    comp.push({
      label: l + 1,
      voxels: cnt,
      volumeMm3: volume,
      maxHU: acc[a + 2]!,
      minHU: acc[a + 3]!,
      meanHU: acc[a + 1]! / cnt,
      centroidVoxel: [ci, cj, ck],
      centroidMm: cmm,
      bboxMin: [bb[b6]!, bb[b6 + 1]!, bb[b6 + 2]!],
      bboxMax: [bb[b6 + 3]!, bb[b6 + 4]!, bb[b6 + 5]!],
      principalSdMm: sd,
      principalAxes: eig.vectors,
      elongation: sd[1] > 1e-6 * sd[0] ? sd[0] / sd[1] : null,
      flatness: sd[2] > 1e-6 * sd[0] ? sd[1] / sd[2] : null,
      extentMm: [0, 0, 0],
      equivalentRadiusMm: Math.cbrt((3 * volume) / (4 * Math.PI)),
      ellipsoidFill: ellVol > 0 ? volume / ellVol : 1,
      position: { rho: roi.rho(ci, cj, ck), depthMm: roi.depthMm(ci, cj, ck), distanceFromCenterMm: Math.hypot(...off) },
      radial: {
        meanRho: acc[a + 13]! / cnt, minRho: rad[q]!, maxRho: rad[q + 1]!, shellFraction: rad[q + 2]! / cnt,
        minDepthMm: rad[q + 3]!, maxDepthMm: rad[q + 4]!, thicknessMm: rad[q + 4]! - rad[q + 3]!,
      },
      arc: null,
    });
  }

  // pass 2: extents along the principal axes and the circle fit sums (in the e1-e2 plane)
  const P2 = 11; // 0..5 min/max along e1..e3, 6 suu, 7 svv, 8 suv, 9 suz, 10 svz (+ sz below)
  const acc2 = new Float64Array(n * P2);
  const sZ = new Float64Array(n);
  for (let l = 0; l < n; l++) acc2.set([Infinity, -Infinity, Infinity, -Infinity, Infinity, -Infinity], l * P2);
  const proj = (l: number, i: number, j: number, k: number, out: Float64Array): void => {
    const x = i - o[0] - cen[l * 3]!, y = j - o[1] - cen[l * 3 + 1]!, z = k - o[2] - cen[l * 3 + 2]!;
    const px = L[0]! * x + L[1]! * y + L[2]! * z, py = L[3]! * x + L[4]! * y + L[5]! * z, pz = L[6]! * x + L[7]! * y + L[8]! * z;
    const ax = l * 9;
    out[0] = px * axes[ax]! + py * axes[ax + 1]! + pz * axes[ax + 2]!;
    out[1] = px * axes[ax + 3]! + py * axes[ax + 4]! + pz * axes[ax + 5]!;
    out[2] = px * axes[ax + 6]! + py * axes[ax + 7]! + pz * axes[ax + 8]!;
  };
  const uvw = new Float64Array(3);
  for (let r = 0; r < runs.count; r++) {
    const l = runs.label[r]! - 1;
    if (l < 0) continue;
    const j = runs.j[r]!, k = runs.k[r]!;
    const b = l * P2;
    for (let i = runs.start[r]!; i <= runs.end[r]!; i++) {
      proj(l, i, j, k, uvw);
      const u = uvw[0]!, w = uvw[1]!, t = uvw[2]!;
      if (u < acc2[b]!) acc2[b] = u; if (u > acc2[b + 1]!) acc2[b + 1] = u;
      if (w < acc2[b + 2]!) acc2[b + 2] = w; if (w > acc2[b + 3]!) acc2[b + 3] = w;
      if (t < acc2[b + 4]!) acc2[b + 4] = t; if (t > acc2[b + 5]!) acc2[b + 5] = t;
      const z = u * u + w * w;
      acc2[b + 6] = acc2[b + 6]! + u * u;
      acc2[b + 7] = acc2[b + 7]! + w * w;
      acc2[b + 8] = acc2[b + 8]! + u * w;
      acc2[b + 9] = acc2[b + 9]! + u * z;
      acc2[b + 10] = acc2[b + 10]! + w * z;
      sZ[l] = sZ[l]! + z;
    }
  }
  // circle: u² + w² = 2au + 2bw + c, least squares (Kåsa); u, w are centred so Σu = Σw = 0
  const circle = new Float64Array(n * 3).fill(Number.NaN);
  for (let l = 0; l < n; l++) {
    const b = l * P2, c = comp[l]!;
    c.extentMm = [acc2[b + 1]! - acc2[b]!, acc2[b + 3]! - acc2[b + 2]!, acc2[b + 5]! - acc2[b + 4]!];
    const suu = acc2[b + 6]!, sww = acc2[b + 7]!, suw = acc2[b + 8]!;
    const det = suu * sww - suw * suw;
    if (c.voxels < 4 || !(det > 1e-9 * Math.max(suu * sww, 1e-12))) continue;
    const ru = acc2[b + 9]! / 2, rw = acc2[b + 10]! / 2;
    const ca = (ru * sww - rw * suw) / det, cb = (suu * rw - suw * ru) / det;
    const cc = sZ[l]! / c.voxels;
    const R2 = cc + ca * ca + cb * cb;
    if (!(R2 > 0) || !Number.isFinite(R2)) continue;
    circle.set([ca, cb, Math.sqrt(R2)], l * 3);
  }
  // pass 3: residual, hollowness and angular coverage of the fitted circle
  const res = new Float64Array(n), hollow = new Float64Array(n);
  const bins = new Uint8Array(n * ARC_BINS);
  for (let r = 0; r < runs.count; r++) {
    const l = runs.label[r]! - 1;
    if (l < 0 || Number.isNaN(circle[l * 3]!)) continue;
    const ca = circle[l * 3]!, cb = circle[l * 3 + 1]!, R = circle[l * 3 + 2]!;
    const j = runs.j[r]!, k = runs.k[r]!;
    for (let i = runs.start[r]!; i <= runs.end[r]!; i++) {
      proj(l, i, j, k, uvw);
      const du = uvw[0]! - ca, dw = uvw[1]! - cb;
      const d = Math.hypot(du, dw);
      res[l] = res[l]! + (d - R) * (d - R);
      if (d < 0.5 * R) hollow[l] = hollow[l]! + 1;
      let bin = Math.floor(((Math.atan2(dw, du) + Math.PI) / (2 * Math.PI)) * ARC_BINS);
      if (bin >= ARC_BINS) bin = ARC_BINS - 1;
      bins[l * ARC_BINS + bin] = 1;
    }
  }
  for (let l = 0; l < n; l++) {
    if (Number.isNaN(circle[l * 3]!)) continue;
    const c = comp[l]!;
    // coverage = 360° minus the largest circular run of empty bins
    let maxGap = 0, gap = 0;
    for (let t = 0; t < 2 * ARC_BINS; t++) {
      if (bins[l * ARC_BINS + (t % ARC_BINS)] === 0) { gap++; if (gap > maxGap) maxGap = gap; } else gap = 0;
    }
    if (maxGap > ARC_BINS) maxGap = ARC_BINS;
    c.arc = {
      radiusMm: circle[l * 3 + 2]!,
      residualMm: Math.sqrt(res[l]! / c.voxels),
      coverageDeg: (360 * (ARC_BINS - maxGap)) / ARC_BINS,
      hollowFraction: hollow[l]! / c.voxels,
    };
  }

  // lesion
  let calc = 0, sumHU = 0, mx = -Infinity, sumRho = 0, ci = 0, cj = 0, ck = 0;
  for (const c of comp) {
    calc += c.voxels; sumHU += acc[(c.label - 1) * P1 + 1]!; if (c.maxHU > mx) mx = c.maxHU;
    sumRho += c.radial.meanRho * c.voxels;
    ci += c.centroidVoxel[0] * c.voxels; cj += c.centroidVoxel[1] * c.voxels; ck += c.centroidVoxel[2] * c.voxels;
  }
  let centroidRho: number | null = null, centroidOffsetMm: number | null = null;
  if (calc > 0) {
    ci /= calc; cj /= calc; ck /= calc;
    centroidRho = roi.rho(ci, cj, ck);
    centroidOffsetMm = Math.hypot(...mulL(ci - rc[0], cj - rc[1], ck - rc[2]));
  }
  const roiInner = roi.countWithinRho(innerRho);
  const roiOuter = roi.voxels - roi.countWithinRho(outerRho - 1e-9);
  const lesion: LesionMeasure = {
    roiVoxels: roi.voxels,
    roiVolumeMm3: roi.voxels * vox,
    calcifiedVoxels: calc,
    calcifiedVolumeMm3: calc * vox,
    calcifiedFraction: calc / roi.voxels,
    componentCount: n,
    maxHU: calc > 0 ? mx : null,
    meanHU: calc > 0 ? sumHU / calc : null,
    centroidRho,
    centroidOffsetMm,
    meanRho: calc > 0 ? sumRho / calc : null,
    zones: {
      innerRho, outerRho, shellRho,
      inner: { roiVoxels: roiInner, calcifiedVoxels: innerCalc },
      outer: { roiVoxels: roiOuter, calcifiedVoxels: outerCalc },
      shell: { calcifiedVoxels: shellCalc },
    },
  };
  return {
    thresholdHU: comps.thresholdHU,
    connectivity: comps.connectivity,
    voxelVolumeMm3: vox,
    roi: { kind: roi.kind, description: roi.description, voxels: roi.voxels, volumeMm3: roi.volumeMm3, radiusMm: roi.radiusMm, centerVoxel: roi.centerVoxel, centerMm: roi.centerMm, warnings: roi.warnings },
    components: comp,
    lesion,
  };
}
