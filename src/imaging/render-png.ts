/**
 * PNG pictures of the analysis (pngjs): the axial slice with the most calcification, and a
 * maximum-intensity projection (along k) of the ROI; grey levels from a soft-tissue or bone
 * window, each component outlined in its own colour, the ROI outlined in yellow.
 * Image column = i, row = j (for the usual axial orientation: patient's right on the left,
 * anterior at the top). Pixels are square: an anisotropic in-plane spacing is not corrected.
 */
import { PNG } from 'pngjs';
import type { Volume } from './volume.js';
import type { Roi } from './roi.js';
import type { Components } from './label.js';

export interface HUWindow { center: number; width: number }
export const SOFT_TISSUE_WINDOW: HUWindow = { center: 40, width: 400 };
export const BONE_WINDOW: HUWindow = { center: 500, width: 2000 };

export interface RenderOptions {
  /** 'bone' (default: calcification stays readable), 'soft_tissue', or a custom window */
  window?: 'soft_tissue' | 'bone' | HUWindow;
  /** 'roi' (default): the ROI's bounding box plus a margin; 'full': the whole slice */
  crop?: 'roi' | 'full';
  /** margin around the ROI in voxels (default 6) */
  marginVoxels?: number;
  /** integer magnification, nearest neighbour (default: the smallest giving >= 256 pixels, at most 8) */
  scale?: number;
  /** outline the ROI (default true) */
  showRoi?: boolean;
}

export interface Picture { png: Buffer; width: number; height: number; scale: number; origin: [number, number] }

/** Component outline colours (RGB), cycled by label. */
export const PALETTE: ReadonlyArray<[number, number, number]> = [
  [255, 64, 64], [64, 200, 255], [80, 255, 80], [255, 160, 32], [220, 96, 255], [255, 96, 192], [32, 255, 200], [160, 160, 255],
];
const ROI_COLOUR: [number, number, number] = [255, 230, 0];

function windowOf(w: RenderOptions['window']): HUWindow {
  if (w === 'soft_tissue') return SOFT_TISSUE_WINDOW;
  if (w === undefined || w === 'bone') return BONE_WINDOW;
  if (!(w.width > 0)) throw new RangeError(`window width must be > 0, found ${w.width}`);
  return w;
}

/** The slice k with the most voxels of kept components (the first such; -1 when there are none). */
export function mostCalcifiedSlice(c: Components): number {
  const nz = c.dims[2];
  const per = new Float64Array(nz);
  const { runs } = c;
  for (let r = 0; r < runs.count; r++) if (runs.label[r]! > 0) per[runs.k[r]!] = per[runs.k[r]!]! + runs.end[r]! - runs.start[r]! + 1;
  let best = -1, bestN = 0;
  for (let k = 0; k < nz; k++) if (per[k]! > bestN) { bestN = per[k]!; best = k; }
  return best;
}

interface Frame { i0: number; j0: number; w: number; h: number }

function frameOf(v: Volume, roi: Roi, o: RenderOptions): Frame {
  const [nx, ny] = v.dims;
  if ((o.crop ?? 'roi') === 'full') return { i0: 0, j0: 0, w: nx, h: ny };
  const m = Math.max(0, Math.floor(o.marginVoxels ?? 6));
  const i0 = Math.max(0, roi.bbox.min[0] - m), j0 = Math.max(0, roi.bbox.min[1] - m);
  const i1 = Math.min(nx - 1, roi.bbox.max[0] + m), j1 = Math.min(ny - 1, roi.bbox.max[1] + m);
  return { i0, j0, w: i1 - i0 + 1, h: j1 - j0 + 1 };
}

/** grey: HU per frame pixel (NaN = no data → black); labels: component per pixel (0 none); roi: 1 inside */
function encode(f: Frame, grey: Float64Array, labels: Int32Array, roiIn: Uint8Array, o: RenderOptions): Picture {
  const win = windowOf(o.window);
  const scale = Math.max(1, Math.floor(o.scale ?? Math.min(8, Math.ceil(256 / Math.max(f.w, f.h)))));
  const W = f.w * scale, H = f.h * scale;
  const png = new PNG({ width: W, height: H, colorType: 2, inputColorType: 2, inputHasAlpha: false });
  const rgb = new Uint8Array(f.w * f.h * 3);
  const lo = win.center - win.width / 2;
  for (let p = 0; p < f.w * f.h; p++) {
    const g = grey[p]!;
    const x = Number.isNaN(g) ? 0 : Math.round(Math.min(255, Math.max(0, ((g - lo) / win.width) * 255)));
    rgb[3 * p] = x; rgb[3 * p + 1] = x; rgb[3 * p + 2] = x;
  }
  const edge = (arr: Int32Array | Uint8Array, p: number, x: number, y: number): boolean => {
    const l = arr[p]!;
    if (l === 0) return false;
    return x === 0 || y === 0 || x === f.w - 1 || y === f.h - 1 || arr[p - 1] !== l || arr[p + 1] !== l || arr[p - f.w] !== l || arr[p + f.w] !== l;
  };
  const paint = (p: number, c: readonly [number, number, number]): void => { rgb[3 * p] = c[0]; rgb[3 * p + 1] = c[1]; rgb[3 * p + 2] = c[2]; };
  for (let y = 0; y < f.h; y++) {
    for (let x = 0; x < f.w; x++) {
      const p = x + f.w * y;
      if ((o.showRoi ?? true) && edge(roiIn, p, x, y)) paint(p, ROI_COLOUR);
      if (edge(labels, p, x, y)) paint(p, PALETTE[(labels[p]! - 1) % PALETTE.length]!);
    }
  }
  const out = png.data;
  for (let Y = 0; Y < H; Y++) {
    const y = Math.floor(Y / scale);
    for (let X = 0; X < W; X++) {
      const p = Math.floor(X / scale) + f.w * y, q = (X + W * Y) * 4;
      out[q] = rgb[3 * p]!; out[q + 1] = rgb[3 * p + 1]!; out[q + 2] = rgb[3 * p + 2]!; out[q + 3] = 255;
    }
  }
  return { png: PNG.sync.write(png, { colorType: 2 }), width: W, height: H, scale, origin: [f.i0, f.j0] };
}

/** The axial slice k (default: the most calcified one, else the ROI's middle slice) with components and ROI outlined. */
export function renderSlicePng(v: Volume, roi: Roi, c: Components, options: RenderOptions & { k?: number } = {}): Picture & { k: number } {
  const [nx, ny, nz] = v.dims;
  let k = options.k ?? mostCalcifiedSlice(c);
  if (k < 0) k = Math.round((roi.bbox.min[2] + roi.bbox.max[2]) / 2);
  if (!Number.isInteger(k) || k < 0 || k >= nz) throw new RangeError(`slice ${k} is outside 0..${nz - 1}`);
  const f = frameOf(v, roi, options);
  const n = f.w * f.h;
  const grey = new Float64Array(n), labels = new Int32Array(n), roiIn = new Uint8Array(n);
  for (let y = 0; y < f.h; y++) {
    const base = nx * (f.j0 + y + ny * k);
    for (let x = 0; x < f.w; x++) grey[x + f.w * y] = v.data[base + f.i0 + x]!;
  }
  const out = new Int32Array(2);
  for (let y = 0; y < f.h; y++) {
    const j = f.j0 + y;
    if (!roi.rowRange(j, k, out)) continue;
    for (let i = Math.max(out[0]!, f.i0); i <= Math.min(out[1]!, f.i0 + f.w - 1); i++) if (!roi.mask || roi.mask[i + nx * (j + ny * k)]) roiIn[i - f.i0 + f.w * y] = 1;
  }
  const { runs } = c;
  for (let r = 0; r < runs.count; r++) {
    if (runs.k[r] !== k || runs.label[r] === 0) continue;
    const y = runs.j[r]! - f.j0;
    if (y < 0 || y >= f.h) continue;
    for (let i = Math.max(runs.start[r]!, f.i0); i <= Math.min(runs.end[r]!, f.i0 + f.w - 1); i++) labels[i - f.i0 + f.w * y] = runs.label[r]!;
  }
  return { ...encode(f, grey, labels, roiIn, options), k };
}

/** Maximum-intensity projection along k of the ROI's voxels (outside the ROI: black), components outlined. */
export function renderMipPng(v: Volume, roi: Roi, c: Components, options: RenderOptions = {}): Picture {
  const [nx, ny] = v.dims;
  const f = frameOf(v, roi, options);
  const n = f.w * f.h;
  const grey = new Float64Array(n).fill(Number.NaN), labels = new Int32Array(n), roiIn = new Uint8Array(n);
  const best = new Float64Array(n).fill(-Infinity);
  const out = new Int32Array(2);
  for (let k = roi.bbox.min[2]; k <= roi.bbox.max[2]; k++) {
    for (let j = Math.max(roi.bbox.min[1], f.j0); j <= Math.min(roi.bbox.max[1], f.j0 + f.h - 1); j++) {
      if (!roi.rowRange(j, k, out)) continue;
      const base = nx * (j + ny * k), y = j - f.j0;
      for (let i = Math.max(out[0]!, f.i0); i <= Math.min(out[1]!, f.i0 + f.w - 1); i++) {
        if (roi.mask && !roi.mask[base + i]) continue;
        const p = i - f.i0 + f.w * y, h = v.data[base + i]!;
        roiIn[p] = 1;
        if (Number.isNaN(grey[p]!) || h > grey[p]!) grey[p] = h;
      }
    }
  }
  const { runs } = c;
  for (let r = 0; r < runs.count; r++) {
    const l = runs.label[r]!;
    if (l === 0) continue;
    const y = runs.j[r]! - f.j0;
    if (y < 0 || y >= f.h) continue;
    const base = nx * (runs.j[r]! + ny * runs.k[r]!);
    for (let i = Math.max(runs.start[r]!, f.i0); i <= Math.min(runs.end[r]!, f.i0 + f.w - 1); i++) {
      const p = i - f.i0 + f.w * y, h = v.data[base + i]!;
      if (h > best[p]!) { best[p] = h; labels[p] = l; }
    }
  }
  return encode(f, grey, labels, roiIn, options);
}
