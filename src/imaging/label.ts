/**
 * Threshold + 3-D connected components inside an ROI.
 *
 * Run-based, one pass: each image row (fixed j, k) of the ROI's bounding box is scanned once;
 * maximal runs of voxels with HU > threshold become nodes of a union-find, and each run is
 * merged with the overlapping runs of the already-scanned neighbouring rows (26-connectivity:
 * rows (j-1,k), (j-1,k-1), (j,k-1), (j+1,k-1) with runs touching diagonally; 6-connectivity:
 * rows (j-1,k) and (j,k-1), runs sharing a column). No per-voxel label array: memory grows with
 * the number of runs, not with the volume. Components are numbered 1..n in raster order of
 * their first voxel (k, then j, then i), as scipy.ndimage.label numbers them.
 *
 * Speed (2-core dev machine, make_phantom.py geometry 512×512×300 int16, whole grid, threshold +
 * label): ~0.12-0.15 s against 0.61 s for (hu > 100) + scipy.ndimage.label in the same session;
 * with the 35 mm sphere ROI ~1-8 ms (only the ROI's bounding box is scanned).
 */
import type { Volume } from './volume.js';
import { RoiError, type Roi, type Vec3 } from './roi.js';

export interface LabelOptions {
  /** calcified means HU > thresholdHU (strictly). Default 100. */
  thresholdHU?: number;
  /** 26 (default: faces, edges and corners) or 6 (faces only) */
  connectivity?: 6 | 26;
  /** components with fewer voxels are dropped (label 0). Default 1 (keep everything). */
  minVoxels?: number;
}

export const DEFAULT_THRESHOLD_HU = 100;

/** Runs of foreground voxels, in raster order. Voxels of run r: i = start[r]..end[r] (inclusive) of row (j[r], k[r]). */
export interface Runs {
  count: number;
  j: Int32Array;
  k: Int32Array;
  start: Int32Array;
  end: Int32Array;
  /** component label 1..n; 0 = dropped by minVoxels */
  label: Int32Array;
}

export interface Components {
  dims: Vec3;
  thresholdHU: number;
  connectivity: 6 | 26;
  minVoxels: number;
  /** the scanned region: the ROI's bounding box */
  bbox: { min: Vec3; max: Vec3 };
  /** number of kept components */
  count: number;
  /** voxels per kept component, index label - 1 */
  voxels: Float64Array;
  runs: Runs;
  /** components and voxels removed by minVoxels */
  dropped: { components: number; voxels: number };
  /** ROI voxels (the denominator of the calcified fraction) */
  roiVoxels: number;
}

class Growable {
  a: Int32Array;
  constructor(n: number) { this.a = new Int32Array(n); }
  grow(): void { const b = new Int32Array(this.a.length * 2); b.set(this.a); this.a = b; }
}

/**
 * Labels the voxels with HU > threshold inside the ROI into connected components.
 * Throws when no ROI is given (resolveRoi does: bone is > 100 HU too).
 */
export function labelComponents(v: Volume, roi: Roi, options: LabelOptions = {}): Components {
  if (!roi) throw new RoiError('roi_required', {});
  const thr = options.thresholdHU ?? DEFAULT_THRESHOLD_HU;
  const conn = options.connectivity ?? 26;
  if (conn !== 6 && conn !== 26) throw new RangeError(`connectivity must be 6 or 26, found ${String(conn)}`);
  const minVoxels = Math.max(1, Math.floor(options.minVoxels ?? 1));
  if (!Number.isFinite(thr)) throw new RangeError(`thresholdHU must be a finite number, found ${thr}`);
  const [nx, ny] = v.dims;
  const data = v.data;
  const { min, max } = roi.bbox;
  const [, j0, k0] = min;
  const [, j1, k1] = max;
  const bw = j1 - j0 + 1;
  const rowsTotal = bw * (k1 - k0 + 1);
  /** rowStart[r]..rowStart[r+1] are the runs of bbox row r = (j - j0) + bw * (k - k0) */
  const rowStart = new Int32Array(rowsTotal + 1);
  let cap = 1 << 12;
  const S = new Growable(cap), E = new Growable(cap), J = new Growable(cap), K = new Growable(cap), P = new Growable(cap);
  let n = 0;
  const out = new Int32Array(2);
  const mask = roi.mask;
  const tol = conn === 26 ? 1 : 0;

  const find = (x: number): number => {
    const p = P.a;
    while (p[x]! !== x) { const q = p[p[x]!]!; p[x] = q; x = q; }
    return x;
  };
  /** union of the runs [a0, a1) of the current row with the runs [b0, b1) of a neighbouring row */
  const merge = (a0: number, a1: number, b0: number, b1: number): void => {
    const s = S.a, e = E.a, p = P.a;
    let x = a0, y = b0;
    while (x < a1 && y < b1) {
      if (e[y]! + tol < s[x]!) y++;
      else if (e[x]! + tol < s[y]!) x++;
      else {
        let rx = x; while (p[rx]! !== rx) rx = p[rx]!;
        let ry = y; while (p[ry]! !== ry) ry = p[ry]!;
        if (rx !== ry) { if (rx < ry) p[ry] = rx; else p[rx] = ry; }
        // compress the two paths to the new root
        const root = rx < ry ? rx : ry;
        let z = x; while (p[z]! !== root) { const q = p[z]!; p[z] = root; z = q; }
        z = y; while (p[z]! !== root) { const q = p[z]!; p[z] = root; z = q; }
        if (e[x]! < e[y]!) x++; else y++;
      }
    }
  };

  for (let k = k0; k <= k1; k++) {
    for (let j = j0; j <= j1; j++) {
      const r = (j - j0) + bw * (k - k0);
      rowStart[r] = n;
      if (!roi.rowRange(j, k, out)) { rowStart[r + 1] = n; continue; }
      const a = out[0]!, b = out[1]!;
      const base = nx * (j + ny * k);
      let i = a;
      while (i <= b) {
        // skip background
        if (mask) {
          while (i <= b && (mask[base + i] === 0 || !(data[base + i]! > thr))) i++;
        } else {
          while (i <= b && !(data[base + i]! > thr)) i++;
        }
        if (i > b) break;
        const s = i;
        if (mask) {
          while (i <= b && mask[base + i] !== 0 && data[base + i]! > thr) i++;
        } else {
          while (i <= b && data[base + i]! > thr) i++;
        }
        if (n === cap) { S.grow(); E.grow(); J.grow(); K.grow(); P.grow(); cap *= 2; }
        S.a[n] = s; E.a[n] = i - 1; J.a[n] = j; K.a[n] = k; P.a[n] = n;
        n++;
      }
      rowStart[r + 1] = n;
      const cur0 = rowStart[r]!;
      if (cur0 === n) continue;
      // neighbours already scanned
      if (j > j0) merge(cur0, n, rowStart[r - 1]!, rowStart[r]!);
      if (k > k0) {
        const rb = r - bw;
        merge(cur0, n, rowStart[rb]!, rowStart[rb + 1]!);
        if (conn === 26) {
          if (j > j0) merge(cur0, n, rowStart[rb - 1]!, rowStart[rb]!);
          if (j < j1) merge(cur0, n, rowStart[rb + 1]!, rowStart[rb + 2]!);
        }
      }
    }
  }

  // component sizes, then labels in raster order of the first run
  const size = new Float64Array(n);
  const roots = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    const root = find(r);
    roots[r] = root;
    size[root] = size[root]! + (E.a[r]! - S.a[r]! + 1);
  }
  const labelOfRoot = new Int32Array(n); // 0 unassigned, -1 dropped, else label
  const label = new Int32Array(n);
  const voxelsList: number[] = [];
  let count = 0, droppedC = 0, droppedV = 0;
  for (let r = 0; r < n; r++) {
    const root = roots[r]!;
    let l = labelOfRoot[root]!;
    if (l === 0) {
      if (size[root]! >= minVoxels) { l = ++count; voxelsList.push(size[root]!); } else { l = -1; droppedC++; droppedV += size[root]!; }
      labelOfRoot[root] = l;
    }
    label[r] = l > 0 ? l : 0;
  }
  return {
    dims: [...v.dims] as Vec3, thresholdHU: thr, connectivity: conn, minVoxels,
    bbox: { min: [...min] as Vec3, max: [...max] as Vec3 },
    count, voxels: Float64Array.from(voxelsList),
    runs: { count: n, j: J.a.subarray(0, n), k: K.a.subarray(0, n), start: S.a.subarray(0, n), end: E.a.subarray(0, n), label },
    dropped: { components: droppedC, voxels: droppedV },
    roiVoxels: roi.voxels,
  };
}

/**
 * The components as a label volume over the whole grid (0 = background), for NIfTI masks and
 * pictures. Uint8Array when there are at most 255 components, else Uint16Array (≤ 65535) or Int32Array.
 */
export function labelVolume(c: Components): Uint8Array | Uint16Array | Int32Array {
  const [nx, ny, nz] = c.dims;
  const n = nx * ny * nz;
  const out = c.count <= 255 ? new Uint8Array(n) : c.count <= 65535 ? new Uint16Array(n) : new Int32Array(n);
  const { runs } = c;
  for (let r = 0; r < runs.count; r++) {
    const l = runs.label[r]!;
    if (l === 0) continue;
    const base = nx * (runs.j[r]! + ny * runs.k[r]!);
    out.fill(l, base + runs.start[r]!, base + runs.end[r]! + 1);
  }
  return out;
}
