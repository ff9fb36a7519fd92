/**
 * Region of interest (the lesion) for CT calcification analysis.
 *
 * An ROI is required: bone is > 100 HU too, so thresholding a whole CT finds the skeleton.
 * Kinds (all inclusion rules are on voxel centres):
 * - box     inclusive voxel index corners, or two patient-space (LPS, mm) corners converted to
 *           voxel coordinates (for an oblique volume this is the voxel box spanned by the corners)
 * - sphere  centre in voxel indices or patient mm; radius in voxels (a sphere in index space, an
 *           ellipsoid in mm when the spacing is anisotropic) or in mm (a sphere in mm, inclusion
 *           ((i-ci)*sx)^2 + ((j-cj)*sy)^2 + ((k-ck)*sz)^2 <= r^2, evaluated exactly as the Python
 *           reference pipeline does so that voxel counts agree)
 * - mask    a Uint8Array over the whole volume, non-zero = inside (the caller reads the file)
 * - whole   explicit opt-in to the whole volume (bone included: for benchmarks and bone work)
 *
 * Radial position ρ (0 at the centre, 1 on the ROI surface) and depth (mm to the surface):
 * - sphere: ρ = normalised ellipsoidal distance from the centre; depth = R − r for a sphere in mm,
 *           and the distance along the ray from the centre for a sphere in voxels
 * - box:    ρ = ellipsoidal norm of the offset over the half-sizes (1 on the inscribed ellipsoid,
 *           up to √3 in the corners: the lesion is taken to be the inscribed ellipsoid);
 *           depth = distance to the nearest face
 * - mask:   depth = Euclidean distance (mm) to the nearest voxel centre outside the mask;
 *           ρ = 1 − depth / maxDepth
 */
import type { Volume } from './volume.js';
import { ROI_SPEC_HELP } from './roi-spec.js';
import { voxelToPatient } from './volume.js';

export type Vec3 = [number, number, number];
export type Units = 'voxel' | 'mm';

export type RoiSpec =
  | { kind: 'box'; min: Vec3; max: Vec3; units: Units }
  | { kind: 'sphere'; center: Vec3; radius: number; centerUnits: Units; radiusUnits: Units }
  | { kind: 'mask'; mask: Uint8Array; path?: string }
  | { kind: 'whole' };

/** What parseRoiSpec returns: a mask is named by its file, which the caller reads. */
export type ParsedRoiSpec = Exclude<RoiSpec, { kind: 'mask' }> | { kind: 'mask-file'; path: string };

export type RoiErrorCode =
  | 'roi_required' // no ROI given
  | 'roi_syntax' // a CLI spec that does not parse
  | 'roi_empty' // no voxel centre inside
  | 'roi_outside' // the ROI does not intersect the volume
  | 'roi_mask_size'; // mask length differs from the volume's voxel count

const ROI_MESSAGES: Record<RoiErrorCode, (p: Record<string, string | number>) => string> = {
  roi_required: (p) => `an ROI is required: bone is > 100 HU too, so the whole CT would count the skeleton as calcification (give ${String(p.allowed ?? ROI_SPEC_HELP)})`,
  roi_syntax: (p) => `ROI "${String(p.spec)}" does not parse: ${String(p.detail)} (allowed: ${String(p.allowed ?? ROI_SPEC_HELP)})`,
  roi_empty: (p) => `ROI ${String(p.roi)} is empty: ${String(p.detail)}`,
  roi_outside: (p) => `ROI ${String(p.roi ?? '')} lies outside the volume${p.dims ? ` ${String(p.dims)}` : ''}${p.detail ? `: ${String(p.detail)}` : ''}`,
  roi_mask_size: (p) => `ROI ${String(p.roi)} has ${String(p.found)} voxels, the volume ${String(p.dims)} has ${String(p.expected)}`,
};

export const ROI_ERROR_CODES = Object.keys(ROI_MESSAGES) as RoiErrorCode[];

/** Coded ROI error: `code` and `params` for a message catalogue, an English message for everyone else. */
export class RoiError extends Error {
  constructor(
    readonly code: RoiErrorCode,
    readonly params: Record<string, string | number> = {},
  ) {
    super(ROI_MESSAGES[code](params));
    this.name = 'RoiError';
  }
}

export { ROI_SPEC_HELP };

function numbers(text: string, n: number, spec: string): number[] {
  const parts = text.split(',').map((s) => s.trim());
  if (parts.length !== n) throw new RoiError('roi_syntax', { spec, detail: `expected ${n} comma-separated numbers, found ${parts.length}`, allowed: ROI_SPEC_HELP });
  return parts.map((p) => {
    const v = p === '' ? Number.NaN : Number(p);
    if (!Number.isFinite(v)) throw new RoiError('roi_syntax', { spec, detail: `not a number: "${p}"`, allowed: ROI_SPEC_HELP });
    return v;
  });
}

/** Parses a CLI ROI spec (see ROI_SPEC_HELP). Throws RoiError('roi_syntax' | 'roi_required'). */
export function parseRoiSpec(text: string | undefined): ParsedRoiSpec {
  if (text === undefined || text.trim() === '') {
    throw new RoiError('roi_required', { reason: 'bone is > 100 HU too: give the lesion as an ROI', allowed: ROI_SPEC_HELP });
  }
  const spec = text.trim();
  const colon = spec.indexOf(':');
  const kind = (colon < 0 ? spec : spec.slice(0, colon)).toLowerCase();
  const rest = colon < 0 ? '' : spec.slice(colon + 1);
  const v3 = (a: number[], o: number): Vec3 => [a[o]!, a[o + 1]!, a[o + 2]!];
  const positiveRadius = (r: number): number => {
    if (!(r > 0)) throw new RoiError('roi_syntax', { spec, detail: `radius must be > 0, found ${r}`, allowed: ROI_SPEC_HELP });
    return r;
  };
  switch (kind) {
    case 'box':
    case 'box-mm': {
      const a = numbers(rest, 6, spec);
      return { kind: 'box', min: v3(a, 0), max: v3(a, 3), units: kind === 'box' ? 'voxel' : 'mm' };
    }
    case 'sphere':
    case 'sphere-mm':
    case 'sphere-ijk-mm': {
      const a = numbers(rest, 4, spec);
      return {
        kind: 'sphere', center: v3(a, 0), radius: positiveRadius(a[3]!),
        centerUnits: kind === 'sphere-mm' ? 'mm' : 'voxel',
        radiusUnits: kind === 'sphere' ? 'voxel' : 'mm',
      };
    }
    case 'mask':
      if (rest.trim() === '') throw new RoiError('roi_syntax', { spec, detail: 'mask: needs a file path', allowed: ROI_SPEC_HELP });
      return { kind: 'mask-file', path: rest.trim() };
    case 'whole':
      if (rest.trim() !== '') throw new RoiError('roi_syntax', { spec, detail: 'whole takes no arguments', allowed: ROI_SPEC_HELP });
      return { kind: 'whole' };
    default:
      throw new RoiError('roi_syntax', { spec, detail: `unknown ROI kind "${kind}"`, allowed: ROI_SPEC_HELP });
  }
}

/** A resolved ROI: everything the labelling and measuring code needs, clipped to the volume. */
export interface Roi {
  kind: RoiSpec['kind'];
  /** short human description, e.g. "sphere r 35 mm at voxel (200, 230, 32)" */
  description: string;
  /** tight bounding box of the voxels inside, inclusive voxel indices */
  bbox: { min: Vec3; max: Vec3 };
  /** voxels whose centres are inside */
  voxels: number;
  volumeMm3: number;
  /** centre in voxel coordinates (fractional) and in patient LPS mm (mask: centroid) */
  centerVoxel: Vec3;
  centerMm: Vec3;
  /** the radius that ρ is normalised by, in mm (sphere: R; voxel sphere and box: geometric mean of the semi-axes; mask: max depth) */
  radiusMm: number;
  /** e.g. the ROI was clipped at the volume's edge */
  warnings: string[];
  /** full-volume mask, only for kind "mask": rowRange gives the bbox row, check the mask per voxel */
  mask: Uint8Array | null;
  /**
   * Inclusive i-range of row (j, k) that may be inside, written to out[0..1]; false when none.
   * Exact for box, sphere and whole; for a mask the bbox row (check `mask`).
   */
  rowRange(j: number, k: number, out: Int32Array): boolean;
  contains(i: number, j: number, k: number): boolean;
  /** radial position, 0 at the centre, 1 on the surface; fractional coordinates allowed (mask: nearest voxel) */
  rho(i: number, j: number, k: number): number;
  /** distance to the ROI surface in mm (negative outside, for box and sphere) */
  depthMm(i: number, j: number, k: number): number;
  /** number of ROI voxels with ρ <= rhoMax */
  countWithinRho(rhoMax: number): number;
}

function invertAffine(a: number[]): (x: number, y: number, z: number) => Vec3 {
  const m = [a[0]!, a[1]!, a[2]!, a[4]!, a[5]!, a[6]!, a[8]!, a[9]!, a[10]!];
  const [m0, m1, m2, m3, m4, m5, m6, m7, m8] = m as [number, number, number, number, number, number, number, number, number];
  const det = m0 * (m4 * m8 - m5 * m7) - m1 * (m3 * m8 - m5 * m6) + m2 * (m3 * m7 - m4 * m6);
  if (!Number.isFinite(det) || Math.abs(det) < 1e-12) throw new RoiError('roi_outside', { detail: 'the volume affine is singular' });
  const inv = [
    (m4 * m8 - m5 * m7) / det, (m2 * m7 - m1 * m8) / det, (m1 * m5 - m2 * m4) / det,
    (m5 * m6 - m3 * m8) / det, (m0 * m8 - m2 * m6) / det, (m2 * m3 - m0 * m5) / det,
    (m3 * m7 - m4 * m6) / det, (m1 * m6 - m0 * m7) / det, (m0 * m4 - m1 * m3) / det,
  ] as [number, number, number, number, number, number, number, number, number];
  const tx = a[3]!, ty = a[7]!, tz = a[11]!;
  return (x, y, z) => {
    const dx = x - tx, dy = y - ty, dz = z - tz;
    return [inv[0] * dx + inv[1] * dy + inv[2] * dz, inv[3] * dx + inv[4] * dy + inv[5] * dz, inv[6] * dx + inv[7] * dy + inv[8] * dz];
  };
}

/** Patient (LPS mm) → continuous voxel coordinates. */
export function patientToVoxel(v: Volume, x: number, y: number, z: number): Vec3 {
  return invertAffine(v.affine)(x, y, z);
}

const fmt = (x: number): string => String(Math.round(x * 1000) / 1000);
const fmt3 = (p: Vec3): string => `(${fmt(p[0])}, ${fmt(p[1])}, ${fmt(p[2])})`;

interface Shape {
  kind: Roi['kind'];
  description: string;
  /** loose scan box (may exceed the volume) */
  lo: Vec3;
  hi: Vec3;
  centerVoxel: Vec3;
  radiusMm: number;
  mask: Uint8Array | null;
  rowRange(j: number, k: number, out: Int32Array): boolean;
  contains(i: number, j: number, k: number): boolean;
  rho(i: number, j: number, k: number): number;
  depthMm(i: number, j: number, k: number): number;
  countWithinRho?: (rhoMax: number) => number;
}

/** Ellipsoid in voxel space: inside iff ((i-ci)*wi)^2 + ((j-cj)*wj)^2 + ((k-ck)*wk)^2 <= R^2. */
function ellipsoidShape(v: Volume, c: Vec3, w: Vec3, R: number, description: string, radiusMm: number, radialMm: boolean): Shape {
  const [ci, cj, ck] = c;
  const [wi, wj, wk] = w;
  const [sx, sy, sz] = v.spacing;
  const R2 = R * R;
  const nx = v.dims[0];
  const inside = (i: number, j: number, k: number): boolean => {
    const dx = (i - ci) * wi, dy = (j - cj) * wj, dz = (k - ck) * wk;
    return dx * dx + dy * dy + dz * dz <= R2;
  };
  const lo: Vec3 = [Math.ceil(ci - R / wi - 1e-6), Math.ceil(cj - R / wj - 1e-6), Math.ceil(ck - R / wk - 1e-6)];
  const hi: Vec3 = [Math.floor(ci + R / wi + 1e-6), Math.floor(cj + R / wj + 1e-6), Math.floor(ck + R / wk + 1e-6)];
  const rho = (i: number, j: number, k: number): number => {
    const dx = (i - ci) * wi, dy = (j - cj) * wj, dz = (k - ck) * wk;
    return Math.sqrt(dx * dx + dy * dy + dz * dz) / R;
  };
  return {
    kind: 'sphere', description, lo, hi, centerVoxel: c, radiusMm, mask: null,
    contains: inside,
    rowRange(j, k, out) {
      const dy = (j - cj) * wj, dz = (k - ck) * wk;
      const rest = dy * dy + dz * dz;
      const imin = Math.max(0, lo[0]), imax = Math.min(nx - 1, hi[0]);
      let a: number, b: number;
      if (rest <= R2) {
        const h = Math.sqrt(R2 - rest) / wi;
        a = Math.max(imin, Math.ceil(ci - h));
        b = Math.min(imax, Math.floor(ci + h));
      } else {
        a = Math.max(imin, Math.round(ci));
        b = a;
      }
      if (a > b) { a = Math.min(imax, Math.max(imin, Math.round(ci))); b = a; }
      // refine the ends with the exact predicate (the set is an interval along i)
      while (a <= b && !inside(a, j, k)) a++;
      while (b >= a && !inside(b, j, k)) b--;
      if (a > b) return false;
      while (a - 1 >= imin && inside(a - 1, j, k)) a--;
      while (b + 1 <= imax && inside(b + 1, j, k)) b++;
      out[0] = a; out[1] = b;
      return true;
    },
    rho,
    depthMm(i, j, k) {
      const dx = (i - ci) * sx, dy = (j - cj) * sy, dz = (k - ck) * sz;
      const rmm = Math.sqrt(dx * dx + dy * dy + dz * dz);
      if (radialMm) return R - rmm;
      const r = rho(i, j, k);
      if (r === 0) return R * Math.min(sx / wi, sy / wj, sz / wk);
      return (rmm * (1 - r)) / r;
    },
    countWithinRho(rhoMax) {
      const t2 = rhoMax * rhoMax * R2;
      let n = 0;
      const out = new Int32Array(2);
      for (let k = Math.max(0, lo[2]); k <= Math.min(v.dims[2] - 1, hi[2]); k++) {
        for (let j = Math.max(0, lo[1]); j <= Math.min(v.dims[1] - 1, hi[1]); j++) {
          if (!this.rowRange(j, k, out)) continue;
          const dy = (j - cj) * wj, dz = (k - ck) * wk;
          const rest = t2 - dy * dy - dz * dz;
          if (rest < 0) continue;
          const h = Math.sqrt(rest) / wi;
          const a = Math.max(out[0]!, Math.ceil(ci - h - 1e-9)), b = Math.min(out[1]!, Math.floor(ci + h + 1e-9));
          if (b >= a) n += b - a + 1;
        }
      }
      return n;
    },
  };
}

/** Axis-aligned voxel box [lo, hi] (inclusive, integer). */
function boxShape(v: Volume, lo: Vec3, hi: Vec3, kind: 'box' | 'whole', description: string): Shape {
  const c: Vec3 = [(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, (lo[2] + hi[2]) / 2];
  const h: Vec3 = [(hi[0] - lo[0]) / 2 + 0.5, (hi[1] - lo[1]) / 2 + 0.5, (hi[2] - lo[2]) / 2 + 0.5];
  const [sx, sy, sz] = v.spacing;
  const radiusMm = Math.cbrt(h[0] * sx * h[1] * sy * h[2] * sz);
  const nx = v.dims[0];
  const rho = (i: number, j: number, k: number): number => {
    const a = (i - c[0]) / h[0], b = (j - c[1]) / h[1], d = (k - c[2]) / h[2];
    return Math.sqrt(a * a + b * b + d * d);
  };
  return {
    kind, description, lo, hi, centerVoxel: c, radiusMm, mask: null,
    contains: (i, j, k) => i >= lo[0] && i <= hi[0] && j >= lo[1] && j <= hi[1] && k >= lo[2] && k <= hi[2],
    rowRange(j, k, out) {
      if (j < lo[1] || j > hi[1] || k < lo[2] || k > hi[2]) return false;
      const a = Math.max(0, lo[0]), b = Math.min(nx - 1, hi[0]);
      if (a > b) return false;
      out[0] = a; out[1] = b;
      return true;
    },
    rho,
    depthMm: (i, j, k) => Math.min((h[0] - Math.abs(i - c[0])) * sx, (h[1] - Math.abs(j - c[1])) * sy, (h[2] - Math.abs(k - c[2])) * sz),
    countWithinRho(rhoMax) {
      const t2 = rhoMax * rhoMax;
      let n = 0;
      const a0 = Math.max(0, lo[0]), b0 = Math.min(nx - 1, hi[0]);
      for (let k = Math.max(0, lo[2]); k <= Math.min(v.dims[2] - 1, hi[2]); k++) {
        const dk = (k - c[2]) / h[2];
        for (let j = Math.max(0, lo[1]); j <= Math.min(v.dims[1] - 1, hi[1]); j++) {
          const dj = (j - c[1]) / h[1];
          const rest = t2 - dj * dj - dk * dk;
          if (rest < 0) continue;
          const w = Math.sqrt(rest) * h[0];
          const a = Math.max(a0, Math.ceil(c[0] - w - 1e-9)), b = Math.min(b0, Math.floor(c[0] + w + 1e-9));
          if (b >= a) n += b - a + 1;
        }
      }
      return n;
    },
  };
}

/**
 * Squared-distance transform (Felzenszwalb & Huttenlocher) along one line: f[q] holds the input,
 * step is the spacing in mm; the result replaces f.
 */
function edt1d(f: Float64Array, n: number, step: number, d: Float64Array, vv: Int32Array, z: Float64Array): void {
  let k = 0;
  vv[0] = 0;
  z[0] = -Infinity;
  z[1] = Infinity;
  for (let q = 1; q < n; q++) {
    const fq = f[q]!;
    if (fq === Infinity) continue;
    if (f[vv[0]!] === Infinity) { vv[0] = q; z[0] = -Infinity; z[1] = Infinity; k = 0; continue; }
    const xq = q * step;
    let s: number;
    for (;;) {
      const p = vv[k]!, xp = p * step;
      s = ((fq + xq * xq) - (f[p]! + xp * xp)) / (2 * (xq - xp));
      if (s <= z[k]! && k > 0) k--;
      else break;
    }
    if (s <= z[k]!) { vv[k] = q; z[k] = -Infinity; z[k + 1] = Infinity; continue; }
    k++;
    vv[k] = q;
    z[k] = s;
    z[k + 1] = Infinity;
  }
  if (f[vv[0]!] === Infinity) { for (let q = 0; q < n; q++) d[q] = Infinity; return; }
  k = 0;
  for (let q = 0; q < n; q++) {
    const x = q * step;
    while (z[k + 1]! < x) k++;
    const p = vv[k]!, dx = x - p * step;
    d[q] = dx * dx + f[p]!;
  }
}

/** Euclidean distance (mm) from each mask voxel to the nearest voxel centre outside the mask, over the bbox grown by one. */
function maskDepth(v: Volume, mask: Uint8Array, lo: Vec3, hi: Vec3): { depth: Float32Array; g: Vec3; origin: Vec3 } {
  const origin: Vec3 = [lo[0] - 1, lo[1] - 1, lo[2] - 1];
  const g: Vec3 = [hi[0] - lo[0] + 3, hi[1] - lo[1] + 3, hi[2] - lo[2] + 3];
  const [gx, gy, gz] = g;
  const [nx, ny, nz] = v.dims;
  const n = gx * gy * gz;
  const sq = new Float32Array(n); // squared distances in mm², then distances in place
  for (let k = 0; k < gz; k++) {
    const vk = k + origin[2];
    for (let j = 0; j < gy; j++) {
      const vj = j + origin[1];
      const row = (k * gy + j) * gx;
      for (let i = 0; i < gx; i++) {
        const vi = i + origin[0];
        const ins = vi >= 0 && vj >= 0 && vk >= 0 && vi < nx && vj < ny && vk < nz && mask[vi + nx * (vj + ny * vk)] !== 0;
        sq[row + i] = ins ? Infinity : 0;
      }
    }
  }
  const m = Math.max(gx, gy, gz);
  const f = new Float64Array(m), d = new Float64Array(m), vv = new Int32Array(m), z = new Float64Array(m + 1);
  const pass = (len: number, stride: number, step: number, starts: Iterable<number>): void => {
    for (const s0 of starts) {
      for (let q = 0; q < len; q++) f[q] = sq[s0 + q * stride]!;
      edt1d(f, len, step, d, vv, z);
      for (let q = 0; q < len; q++) sq[s0 + q * stride] = d[q]!;
    }
  };
  function* startsI(): Generator<number> { for (let k = 0; k < gz; k++) for (let j = 0; j < gy; j++) yield (k * gy + j) * gx; }
  function* startsJ(): Generator<number> { for (let k = 0; k < gz; k++) for (let i = 0; i < gx; i++) yield k * gy * gx + i; }
  function* startsK(): Generator<number> { for (let j = 0; j < gy; j++) for (let i = 0; i < gx; i++) yield j * gx + i; }
  pass(gx, 1, v.spacing[0], startsI());
  pass(gy, gx, v.spacing[1], startsJ());
  pass(gz, gx * gy, v.spacing[2], startsK());
  for (let q = 0; q < n; q++) sq[q] = Math.sqrt(sq[q]!);
  return { depth: sq, g, origin };
}

function maskShape(v: Volume, mask: Uint8Array, path: string | undefined): Shape {
  const [nx, ny, nz] = v.dims;
  const lo: Vec3 = [nx, ny, nz], hi: Vec3 = [-1, -1, -1];
  let n = 0, si = 0, sj = 0, sk = 0;
  for (let k = 0, p = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, p++) {
        if (mask[p] === 0) continue;
        n++; si += i; sj += j; sk += k;
        if (i < lo[0]) lo[0] = i; if (i > hi[0]) hi[0] = i;
        if (j < lo[1]) lo[1] = j; if (j > hi[1]) hi[1] = j;
        if (k < lo[2]) lo[2] = k; if (k > hi[2]) hi[2] = k;
      }
    }
  }
  if (n === 0) throw new RoiError('roi_empty', { roi: path ? `mask:${path}` : 'mask', detail: 'the mask has no non-zero voxel' });
  const c: Vec3 = [si / n, sj / n, sk / n];
  let cache: { depth: Float32Array; g: Vec3; origin: Vec3; max: number } | null = null;
  const depthGrid = (): NonNullable<typeof cache> => {
    if (!cache) {
      const r = maskDepth(v, mask, lo, hi);
      let max = 0;
      for (let q = 0; q < r.depth.length; q++) if (r.depth[q]! > max) max = r.depth[q]!;
      cache = { ...r, max };
    }
    return cache;
  };
  const depthAt = (i: number, j: number, k: number): number => {
    const { depth, g, origin } = depthGrid();
    const a = Math.round(i) - origin[0], b = Math.round(j) - origin[1], d = Math.round(k) - origin[2];
    if (a < 0 || b < 0 || d < 0 || a >= g[0] || b >= g[1] || d >= g[2]) return 0;
    return depth[a + g[0] * (b + g[1] * d)]!;
  };
  const shape: Shape = {
    kind: 'mask', description: `mask${path ? ` ${path}` : ''} (${n} voxels)`, lo, hi, centerVoxel: c, radiusMm: 0, mask,
    contains: (i, j, k) => i >= 0 && j >= 0 && k >= 0 && i < nx && j < ny && k < nz && mask[i + nx * (j + ny * k)] !== 0,
    rowRange(j, k, out) {
      if (j < lo[1] || j > hi[1] || k < lo[2] || k > hi[2]) return false;
      out[0] = lo[0]; out[1] = hi[0];
      return true;
    },
    depthMm: depthAt,
    rho(i, j, k) {
      const max = depthGrid().max;
      return max > 0 ? 1 - depthAt(i, j, k) / max : 0;
    },
    countWithinRho(rhoMax) {
      const { depth, g, origin, max } = depthGrid();
      const minDepth = (1 - rhoMax) * max;
      let count = 0;
      for (let k = lo[2]; k <= hi[2]; k++) {
        for (let j = lo[1]; j <= hi[1]; j++) {
          const base = lo[0] - origin[0] + g[0] * (j - origin[1] + g[1] * (k - origin[2]));
          const mb = nx * (j + ny * k);
          for (let i = lo[0]; i <= hi[0]; i++) {
            if (mask[mb + i] !== 0 && depth[base + i - lo[0]]! >= minDepth - 1e-9) count++;
          }
        }
      }
      return count;
    },
  };
  Object.defineProperty(shape, 'radiusMm', { get: () => depthGrid().max, enumerable: true });
  return shape;
}

function shapeOf(v: Volume, spec: RoiSpec): Shape {
  const [sx, sy, sz] = v.spacing;
  const [nx, ny, nz] = v.dims;
  switch (spec.kind) {
    case 'whole':
      return boxShape(v, [0, 0, 0], [nx - 1, ny - 1, nz - 1], 'whole', 'whole volume (bone included)');
    case 'box': {
      let a: Vec3 = spec.min, b: Vec3 = spec.max;
      if (spec.units === 'mm') {
        a = patientToVoxel(v, ...spec.min);
        b = patientToVoxel(v, ...spec.max);
      }
      const lo: Vec3 = [0, 1, 2].map((d) => Math.ceil(Math.min(a[d]!, b[d]!) - 1e-6)) as Vec3;
      const hi: Vec3 = [0, 1, 2].map((d) => Math.floor(Math.max(a[d]!, b[d]!) + 1e-6)) as Vec3;
      const desc = spec.units === 'mm'
        ? `box ${fmt3(spec.min)}–${fmt3(spec.max)} mm = voxels ${fmt3(lo)}–${fmt3(hi)}`
        : `box voxels ${fmt3(lo)}–${fmt3(hi)}`;
      return boxShape(v, lo, hi, 'box', desc);
    }
    case 'sphere': {
      if (!(spec.radius > 0) || !Number.isFinite(spec.radius)) throw new RoiError('roi_empty', { roi: 'sphere', detail: `radius must be > 0, found ${spec.radius}` });
      // a centre given in mm that falls on a voxel centre (within 1e-6 voxel) is snapped to it, so that
      // voxels exactly on the surface are decided as for the same sphere given by its voxel centre
      const c = spec.centerUnits === 'mm'
        ? patientToVoxel(v, ...spec.center).map((x) => (Math.abs(x - Math.round(x)) < 1e-6 ? Math.round(x) : x)) as Vec3
        : spec.center;
      if (spec.radiusUnits === 'mm') {
        return ellipsoidShape(v, c, [sx, sy, sz], spec.radius, `sphere r ${fmt(spec.radius)} mm at voxel ${fmt3(c)}`, spec.radius, true);
      }
      const r = spec.radius;
      return ellipsoidShape(v, c, [1, 1, 1], r, `sphere r ${fmt(r)} voxels at voxel ${fmt3(c)}`, Math.cbrt(r * sx * r * sy * r * sz), false);
    }
    case 'mask': {
      if (spec.mask.length !== nx * ny * nz) {
        throw new RoiError('roi_mask_size', { roi: spec.path ? `mask:${spec.path}` : 'mask', found: spec.mask.length, expected: nx * ny * nz, dims: `${nx}x${ny}x${nz}` });
      }
      return maskShape(v, spec.mask, spec.path);
    }
  }
}

/**
 * Resolves an ROI spec against a volume: clips it, counts its voxels and finds its tight
 * bounding box. Throws RoiError: roi_required (no spec), roi_outside (no overlap with the
 * volume), roi_empty (no voxel centre inside), roi_mask_size.
 */
export function resolveRoi(v: Volume, spec: RoiSpec | undefined | null): Roi {
  if (!spec) throw new RoiError('roi_required', { reason: 'bone is > 100 HU too: give the lesion as an ROI', allowed: ROI_SPEC_HELP });
  const s = shapeOf(v, spec);
  const [nx, ny, nz] = v.dims;
  const name = s.description;
  if (s.hi[0] < 0 || s.hi[1] < 0 || s.hi[2] < 0 || s.lo[0] >= nx || s.lo[1] >= ny || s.lo[2] >= nz) {
    throw new RoiError('roi_outside', { roi: name, dims: `${nx}x${ny}x${nz}` });
  }
  const warnings: string[] = [];
  if (s.lo[0] < 0 || s.lo[1] < 0 || s.lo[2] < 0 || s.hi[0] >= nx || s.hi[1] >= ny || s.hi[2] >= nz) {
    warnings.push(`the ROI (${name}) reaches beyond the volume ${nx}x${ny}x${nz} and was clipped`);
  }
  if (spec.kind === 'whole') warnings.push('whole-volume ROI: bone and other dense tissue count as calcification');
  // count voxels and the tight bbox
  const out = new Int32Array(2);
  const lo: Vec3 = [nx, ny, nz], hi: Vec3 = [-1, -1, -1];
  let n = 0;
  const mask = s.mask;
  for (let k = Math.max(0, s.lo[2]); k <= Math.min(nz - 1, s.hi[2]); k++) {
    for (let j = Math.max(0, s.lo[1]); j <= Math.min(ny - 1, s.hi[1]); j++) {
      if (!s.rowRange(j, k, out)) continue;
      let a = out[0]!, b = out[1]!;
      if (mask) {
        const base = nx * (j + ny * k);
        let c = 0, first = -1, last = -1;
        for (let i = a; i <= b; i++) if (mask[base + i] !== 0) { c++; if (first < 0) first = i; last = i; }
        if (c === 0) continue;
        n += c; a = first; b = last;
      } else {
        n += b - a + 1;
      }
      if (a < lo[0]) lo[0] = a; if (b > hi[0]) hi[0] = b;
      if (j < lo[1]) lo[1] = j; if (j > hi[1]) hi[1] = j;
      if (k < lo[2]) lo[2] = k; if (k > hi[2]) hi[2] = k;
    }
  }
  if (n === 0) throw new RoiError('roi_empty', { roi: name, detail: 'no voxel centre lies inside the ROI' });
  const [sx, sy, sz] = v.spacing;
  const c = s.centerVoxel;
  const roi: Roi = {
    kind: s.kind, description: name, bbox: { min: lo, max: hi }, voxels: n, volumeMm3: n * sx * sy * sz,
    centerVoxel: c, centerMm: voxelToPatient(v, c[0], c[1], c[2]), radiusMm: 0, warnings, mask,
    rowRange: s.rowRange.bind(s), contains: s.contains, rho: s.rho, depthMm: s.depthMm,
    countWithinRho: (t) => (t >= 1e9 ? n : s.countWithinRho ? s.countWithinRho(t) : n),
  };
  Object.defineProperty(roi, 'radiusMm', { get: () => s.radiusMm, enumerable: true });
  return roi;
}
