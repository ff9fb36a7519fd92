import { describe, expect, it } from 'vitest';
import { measureComponents, symmetricEigen3 } from './measure.js';
import { labelComponents } from './label.js';
import { resolveRoi } from './roi.js';
import { makePhantom, type PhantomOptions } from '../test-support/phantom.js';
import type { Volume } from './volume.js';

/**
 * Principal SDs (mm) per object, numpy: sqrt(eigvalsh(np.cov(points_mm))) as ref_pipeline.py
 * computes them, on make_phantom.py's masks (--slices 64).
 */
const PYTHON_PRINCIPAL_SD: [number, number, number][] = [
  [3.579, 3.1367, 2.6851], [15.605, 15.5846, 5.8591], [0.6928, 0.6928, 0], [0.7303, 0.7075, 0.6124],
  [1.0324, 0.8802, 0.8802], [1.1619, 1.1151, 1.1151], [0, 0, 0], [6.8259, 0.5161, 0.4198],
  [6.1098, 0.4448, 0.4175], [5.6884, 0, 0], [3.241, 1.9734, 0], [2.0982, 2.0089, 1.835],
];

function setup(objects?: PhantomOptions['objects']) {
  const { volume, truth } = makePhantom({ objects });
  const roi = resolveRoi(volume, truth.roi);
  const comps = labelComponents(volume, roi);
  return { volume, truth, roi, comps, m: measureComponents(volume, roi, comps) };
}

/** the truth object whose centroid is that of the component */
function match<T extends { centroidVoxel: [number, number, number] }>(objs: T[], c: [number, number, number]): T {
  return objs.reduce((best, o) => (Math.hypot(...o.centroidVoxel.map((x, d) => x - c[d]!)) < Math.hypot(...best.centroidVoxel.map((x, d) => x - c[d]!)) ? o : best));
}

describe('measureComponents', () => {
  const { volume, truth, m } = setup();

  it('per component: voxels, volume, HU, centroid and bbox equal the phantom truth', () => {
    expect(m.components).toHaveLength(12);
    for (const c of m.components) {
      const o = match(truth.objects, c.centroidVoxel);
      expect(c.voxels, o.kind).toBe(o.voxels);
      expect(c.volumeMm3).toBeCloseTo(o.voxels * 0.8 * 0.8 * 1.5, 9);
      expect(c.maxHU).toBe(o.maxHU);
      expect(c.minHU).toBe(o.minHU);
      expect(c.meanHU).toBeCloseTo(o.meanHU, 9);
      c.centroidVoxel.forEach((x, d) => expect(x).toBeCloseTo(o.centroidVoxel[d]!, 9));
      expect(c.bboxMin).toEqual(o.bboxMin);
      expect(c.bboxMax).toEqual(o.bboxMax);
    }
  });

  it('centroids in patient mm follow the affine', () => {
    const c = m.components.find((x) => x.voxels === 1471)!; // the central ellipsoid, at voxel (48, 48, 32)
    expect(c.centroidVoxel).toEqual([48, 48, 32]);
    expect(c.centroidMm[0]).toBeCloseTo(-204.4 + 48 * 0.8, 9);
    expect(c.centroidMm[1]).toBeCloseTo(-204.4 + 48 * 0.8, 9);
    expect(c.centroidMm[2]).toBeCloseTo(volume.affine[11]! + 32 * 1.5, 9);
    expect(c.position.rho).toBe(0);
    expect(c.position.depthMm).toBe(35);
    expect(c.position.distanceFromCenterMm).toBe(0);
  });

  it('principal SDs and elongation agree with numpy (np.cov, n − 1)', () => {
    for (const c of m.components) {
      const o = match(truth.objects, c.centroidVoxel);
      const want = PYTHON_PRINCIPAL_SD[o.id - 1]!;
      c.principalSdMm.forEach((x, d) => expect(x, `${o.id} ${o.kind}`).toBeCloseTo(want[d]!, 3));
      if (want[1] > 0) expect(c.elongation!).toBeCloseTo(want[0] / want[1], 2);
      else expect(c.elongation).toBeNull();
    }
  });

  it('the linear streak points along its segment and is ~22 mm long', () => {
    const c = m.components.find((x) => x.voxels === 66)!;
    const d = [14, -6, 15];
    const len = Math.hypot(...d);
    const cos = Math.abs(c.principalAxes[0].reduce((s, x, n) => s + x * d[n]! / len, 0));
    expect(cos).toBeGreaterThan(0.99);
    expect(c.extentMm[0]).toBeGreaterThan(20);
    expect(c.extentMm[0]).toBeLessThan(24);
  });

  it('the rim lies in the outer shell, thin; the ring arc fits a 4 mm circle over 240°', () => {
    const rim = m.components.find((x) => x.voxels === 10146)!;
    expect(rim.radial.shellFraction).toBe(1);
    expect(rim.radial.minRho).toBeGreaterThanOrEqual(29.5 / 35 - 1e-9);
    expect(rim.radial.maxRho).toBeLessThanOrEqual(32 / 35 + 1e-9);
    expect(rim.radial.thicknessMm).toBeLessThanOrEqual(2.5 + 1e-9);
    const arc = m.components.find((x) => x.voxels === 51)!.arc!;
    expect(arc.radiusMm).toBeGreaterThan(3.6);
    expect(arc.radiusMm).toBeLessThan(4.4);
    expect(arc.coverageDeg).toBeGreaterThanOrEqual(220);
    expect(arc.coverageDeg).toBeLessThanOrEqual(260);
    expect(arc.hollowFraction).toBe(0);
  });

  it('per lesion: calcified volume and fraction, count, HU, zones', () => {
    const L = m.lesion;
    expect(L.roiVoxels).toBe(187083);
    expect(L.calcifiedVoxels).toBe(12183);
    expect(L.calcifiedFraction).toBeCloseTo(12183 / 187083, 12);
    expect(L.calcifiedVolumeMm3).toBeCloseTo(11695.68, 6); // truth.json calcified_volume_mm3
    expect(L.componentCount).toBe(12);
    expect(L.maxHU).toBe(Math.max(...truth.objects.map((o) => o.maxHU)));
    const sum = truth.objects.reduce((s, o) => s + o.sumHU, 0);
    expect(L.meanHU).toBeCloseTo(sum / 12183, 9);
    expect(L.zones.inner.roiVoxels + L.zones.outer.roiVoxels).toBeLessThan(187083);
    expect(L.zones.outer.calcifiedVoxels).toBeGreaterThan(10146);
    expect(m.roi.description).toMatch(/sphere r 35 mm/);
  });

  it('no calcification: an empty list and null HU', () => {
    const { m: e } = setup([]);
    expect(e.components).toEqual([]);
    expect(e.lesion.calcifiedVoxels).toBe(0);
    expect(e.lesion.maxHU).toBeNull();
    expect(e.lesion.meanHU).toBeNull();
  });

  it('an oblique affine rotates the axes but keeps the principal SDs', () => {
    const dims: [number, number, number] = [20, 20, 5];
    const data = new Int16Array(20 * 20 * 5);
    for (let t = 2; t < 17; t++) data[t + 20 * (4 + 20 * 2)] = 500; // a line along i
    const c = Math.cos(0.5), s = Math.sin(0.5);
    const v: Volume = { dims, spacing: [0.5, 0.5, 2], data, affine: [0.5 * c, -0.5 * s, 0, 0, 0.5 * s, 0.5 * c, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1], warnings: [], source: { kind: 'nifti', files: 1 } };
    const roi = resolveRoi(v, { kind: 'whole' });
    const r = measureComponents(v, roi, labelComponents(v, roi)).components[0]!;
    expect(r.principalSdMm[0]).toBeCloseTo(0.5 * Math.sqrt((15 * 15 - 1) / 12 * 15 / 14), 9);
    expect(Math.abs(r.principalAxes[0][0])).toBeCloseTo(c, 9);
    expect(Math.abs(r.principalAxes[0][1])).toBeCloseTo(s, 9);
    expect(r.extentMm[0]).toBeCloseTo(7, 9);
  });
});

describe('symmetricEigen3', () => {
  it('diagonalises a symmetric matrix, values descending', () => {
    const { values, vectors } = symmetricEigen3([4, 1, 0, 1, 3, 1, 0, 1, 2]);
    // check A v = λ v
    const A = [[4, 1, 0], [1, 3, 1], [0, 1, 2]];
    values.forEach((l, n) => {
      const v = vectors[n]!;
      for (let r = 0; r < 3; r++) expect(A[r]!.reduce((s, x, c) => s + x * v[c]!, 0)).toBeCloseTo(l * v[r]!, 10);
    });
    expect(values[0]).toBeGreaterThanOrEqual(values[1]);
    expect(values[1]).toBeGreaterThanOrEqual(values[2]);
    expect(values.reduce((a, b) => a + b, 0)).toBeCloseTo(9, 10);
  });
});
