import { describe, expect, it } from 'vitest';
import { labelComponents, labelVolume } from './label.js';
import { resolveRoi } from './roi.js';
import { makePhantom } from '../test-support/phantom.js';
import type { Volume } from './volume.js';

/** Voxel counts per object from make_phantom.py --slices 64 (truth.json), in its object order. */
const PYTHON_TRUTH_VOXELS = [1471, 10146, 9, 13, 39, 71, 1, 66, 56, 10, 51, 250];
/** Components per object with 6-connectivity (truth.json components_6conn). */
const PYTHON_TRUTH_6CONN = [1, 1, 1, 1, 1, 1, 1, 1, 2, 10, 1, 1];

function volumeOf(dims: [number, number, number], fill: (i: number, j: number, k: number) => number, spacing: [number, number, number] = [1, 1, 1]): Volume {
  const data = new Int16Array(dims[0] * dims[1] * dims[2]);
  for (let k = 0, p = 0; k < dims[2]; k++) for (let j = 0; j < dims[1]; j++) for (let i = 0; i < dims[0]; i++, p++) data[p] = fill(i, j, k);
  return { dims, spacing, data, affine: [spacing[0], 0, 0, 0, 0, spacing[1], 0, 0, 0, 0, spacing[2], 0, 0, 0, 0, 1], warnings: [], source: { kind: 'nifti', files: 1 } };
}

/** Reference labelling: breadth-first flood fill, labels in raster order of the first voxel. */
function floodFill(v: Volume, inside: (i: number, j: number, k: number) => boolean, thr: number, conn: 6 | 26, minVoxels = 1): Int32Array {
  const [nx, ny, nz] = v.dims;
  const lab = new Int32Array(v.data.length);
  const fg = (i: number, j: number, k: number): boolean => i >= 0 && j >= 0 && k >= 0 && i < nx && j < ny && k < nz && inside(i, j, k) && v.data[i + nx * (j + ny * k)]! > thr;
  const offs: [number, number, number][] = [];
  for (let c = -1; c <= 1; c++) for (let b = -1; b <= 1; b++) for (let a = -1; a <= 1; a++) {
    const n = Math.abs(a) + Math.abs(b) + Math.abs(c);
    if (n === 0 || (conn === 6 && n > 1)) continue;
    offs.push([a, b, c]);
  }
  let next = 0;
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) {
    const p = i + nx * (j + ny * k);
    if (lab[p] !== 0 || !fg(i, j, k)) continue;
    const id = ++next;
    const queue: [number, number, number][] = [[i, j, k]];
    const members: number[] = [p];
    lab[p] = id;
    while (queue.length) {
      const [x, y, z] = queue.pop()!;
      for (const [a, b, c] of offs) {
        const X = x + a, Y = y + b, Z = z + c;
        if (!fg(X, Y, Z)) continue;
        const q = X + nx * (Y + ny * Z);
        if (lab[q] !== 0) continue;
        lab[q] = id;
        members.push(q);
        queue.push([X, Y, Z]);
      }
    }
    if (members.length < minVoxels) { for (const q of members) lab[q] = -1; next--; }
  }
  for (let p = 0; p < lab.length; p++) if (lab[p]! < 0) lab[p] = 0;
  return lab;
}

/** Seeded uniform numbers for the random volumes. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 4294967296; };
}

describe('labelComponents', () => {
  it('finds every phantom object with the exact voxel count of the Python reference (26-connectivity)', () => {
    const { volume, truth } = makePhantom();
    const roi = resolveRoi(volume, truth.roi);
    const c = labelComponents(volume, roi);
    expect(c.count).toBe(12);
    expect(c.connectivity).toBe(26);
    expect(c.thresholdHU).toBe(100);
    expect(truth.objects.map((o) => o.voxels)).toEqual(PYTHON_TRUTH_VOXELS);
    expect([...c.voxels].sort((a, b) => a - b)).toEqual([...PYTHON_TRUTH_VOXELS].sort((a, b) => a - b));
    expect(c.voxels.reduce((a, b) => a + b, 0)).toBe(12183);
    expect(c.roiVoxels).toBe(187083);
  });

  it('6-connectivity splits the corner-touching chain and the thin streak (22 components, as scipy)', () => {
    const { volume, truth } = makePhantom();
    const c = labelComponents(volume, resolveRoi(volume, truth.roi), { connectivity: 6 });
    expect(c.count).toBe(PYTHON_TRUTH_6CONN.reduce((a, b) => a + b, 0));
    expect(c.count).toBe(22);
  });

  it('26 vs 6 connectivity on a diagonal chain', () => {
    const chain = new Set(['2,2,2', '3,3,3', '4,4,4', '5,5,5', '6,6,6', '7,6,6']);
    const v = volumeOf([10, 10, 10], (i, j, k) => (chain.has(`${i},${j},${k}`) ? 300 : 0));
    const roi = resolveRoi(v, { kind: 'box', min: [0, 0, 0], max: [9, 9, 9], units: 'voxel' });
    expect(labelComponents(v, roi, { connectivity: 26 }).count).toBe(1);
    const six = labelComponents(v, roi, { connectivity: 6 });
    expect(six.count).toBe(5); // (6,6,6)-(7,6,6) share a face
    expect([...six.voxels]).toEqual([1, 1, 1, 1, 2]);
    // edge contact only (same slice, diagonal in-plane)
    const w = volumeOf([6, 6, 3], (i, j, k) => (k === 1 && ((i === 1 && j === 1) || (i === 2 && j === 2)) ? 300 : 0));
    const r = resolveRoi(w, { kind: 'whole' });
    expect(labelComponents(w, r, { connectivity: 26 }).count).toBe(1);
    expect(labelComponents(w, r, { connectivity: 6 }).count).toBe(2);
  });

  it('minimum size drops small components and renumbers the rest', () => {
    const { volume, truth } = makePhantom();
    const roi = resolveRoi(volume, truth.roi);
    const c = labelComponents(volume, roi, { minVoxels: 10 });
    // dropped: the 9-voxel and the 1-voxel punctate foci
    expect(c.count).toBe(10);
    expect(c.dropped).toEqual({ components: 2, voxels: 10 });
    expect([...c.voxels].every((n) => n >= 10)).toBe(true);
    const labels = new Set<number>();
    for (let r = 0; r < c.runs.count; r++) labels.add(c.runs.label[r]!);
    expect([...labels].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('Float32 HU give the same components as Int16', () => {
    const { volume, truth } = makePhantom({ objects: ['amorphous', 'linear'] });
    const f32: Volume = { ...volume, data: Float32Array.from(volume.data, (x) => x + 0.25) };
    const a = labelComponents(volume, resolveRoi(volume, truth.roi));
    const b = labelComponents(f32, resolveRoi(f32, truth.roi));
    expect([...b.voxels]).toEqual([...a.voxels]);
    expect(() => labelComponents(volume, undefined as never)).toThrow(/ROI is required/);
  });

  it('the threshold is strict and configurable', () => {
    const v = volumeOf([5, 1, 1], (i) => [99, 100, 101, 250, 400][i]!);
    const roi = resolveRoi(v, { kind: 'whole' });
    expect(labelComponents(v, roi).voxels[0]).toBe(3);
    expect(labelComponents(v, roi, { thresholdHU: 250 }).voxels[0]).toBe(1);
    expect(labelComponents(v, roi, { thresholdHU: 500 }).count).toBe(0);
  });

  it('the ROI decides: a box around the mass picks up the adjacent bone, the sphere does not', () => {
    const { volume, truth } = makePhantom();
    const sphere = resolveRoi(volume, truth.roi);
    const box = resolveRoi(volume, { kind: 'box', min: sphere.bbox.min, max: sphere.bbox.max, units: 'voxel' });
    const c = labelComponents(volume, box);
    expect(c.count).toBe(13);
    expect(c.voxels.reduce((a, b) => a + b, 0)).toBeGreaterThan(12183);
  });

  it('matches a flood-fill reference on random volumes, both connectivities, with ROI kinds and min size', () => {
    const rand = rng(7);
    for (let trial = 0; trial < 12; trial++) {
      const dims: [number, number, number] = [7 + Math.floor(rand() * 12), 5 + Math.floor(rand() * 10), 3 + Math.floor(rand() * 8)];
      const density = 0.15 + rand() * 0.4;
      const v = volumeOf(dims, () => (rand() < density ? 150 + Math.floor(rand() * 500) : Math.floor(rand() * 200) - 100));
      const specs = [
        { kind: 'whole' as const },
        { kind: 'sphere' as const, center: [dims[0] / 2, dims[1] / 2, dims[2] / 2] as [number, number, number], radius: Math.max(dims[0], dims[1]) / 2.5, centerUnits: 'voxel' as const, radiusUnits: 'voxel' as const },
        { kind: 'box' as const, min: [1, 1, 1] as [number, number, number], max: [dims[0] - 2, dims[1] - 2, dims[2] - 1] as [number, number, number], units: 'voxel' as const },
      ];
      const mask = new Uint8Array(v.data.length).map(() => (rand() < 0.8 ? 1 : 0));
      for (const spec of [...specs, { kind: 'mask' as const, mask }]) {
        const roi = resolveRoi(v, spec);
        for (const conn of [6, 26] as const) {
          const minVoxels = trial % 3 === 0 ? 3 : 1;
          const got = labelVolume(labelComponents(v, roi, { connectivity: conn, minVoxels }));
          const want = floodFill(v, (i, j, k) => roi.contains(i, j, k), 100, conn, minVoxels);
          expect(Array.from(got), `trial ${trial} ${spec.kind} ${conn}`).toEqual(Array.from(want));
        }
      }
    }
  });

  it('labelVolume paints the kept components on the full grid', () => {
    const { volume, truth } = makePhantom({ objects: ['punctate'] });
    const c = labelComponents(volume, resolveRoi(volume, truth.roi));
    const lv = labelVolume(c);
    expect(lv).toBeInstanceOf(Uint8Array);
    expect(lv.length).toBe(volume.data.length);
    let n = 0;
    for (const x of lv) if (x) n++;
    expect(n).toBe(9 + 13 + 39 + 71 + 1);
  });
});
