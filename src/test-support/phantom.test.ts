import { describe, expect, it } from 'vitest';
import { makePhantom, MASS_RADIUS_MM } from './phantom.js';
import { resolveRoi } from '../imaging/roi.js';
import { labelComponents } from '../imaging/label.js';

describe('makePhantom', () => {
  it('is deterministic for a seed; another seed changes the noise, not the truth counts', () => {
    const a = makePhantom({ seed: 3 }), b = makePhantom({ seed: 3 }), c = makePhantom({ seed: 4 });
    expect(Buffer.from(a.volume.data.buffer).equals(Buffer.from(b.volume.data.buffer))).toBe(true);
    expect(Buffer.from(a.volume.data.buffer).equals(Buffer.from(c.volume.data.buffer))).toBe(false);
    expect(c.truth.objects.map((o) => o.voxels)).toEqual(a.truth.objects.map((o) => o.voxels));
  });

  it('truncated noise: inside the mass, > 100 HU is exactly the objects; soft tissue stays within ±55 HU', () => {
    const { volume, truth } = makePhantom();
    const [nx, ny, nz] = volume.dims;
    const [ci, cj, ck] = truth.massCenterVoxel;
    let above = 0, mn = Infinity, mx = -Infinity, inside = 0;
    const objectVoxels = truth.calcifiedVoxels;
    for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) {
      const dx = (i - ci) * 0.8, dy = (j - cj) * 0.8, dz = (k - ck) * 1.5;
      if (dx * dx + dy * dy + dz * dz > MASS_RADIUS_MM ** 2) continue;
      inside++;
      const h = volume.data[i + nx * (j + ny * k)]!;
      if (h > 100) above++;
      else { mn = Math.min(mn, h); mx = Math.max(mx, h); }
    }
    expect(inside).toBe(truth.roiVoxels);
    expect(above).toBe(objectVoxels);
    expect(mn).toBeGreaterThanOrEqual(35 - 55);
    expect(mx).toBeLessThanOrEqual(35 + 55);
  });

  it('objects can be chosen by kind or id; bones can be left out', () => {
    const { volume, truth } = makePhantom({ objects: ['rim', 3], bones: false });
    expect(truth.objects.map((o) => [o.id, o.kind])).toEqual([[2, 'rim'], [3, 'punctate']]);
    const c = labelComponents(volume, resolveRoi(volume, { kind: 'whole' }));
    expect(c.count).toBe(2);
    expect(c.voxels.reduce((a, b) => a + b, 0)).toBe(10146 + 9);
    expect(truth.bones).toEqual([]);
  });

  it('the small preset keeps one hollow bone just outside the mass', () => {
    const { volume, truth } = makePhantom({ objects: [] });
    expect(volume.dims).toEqual([96, 96, 64]);
    const [bone] = truth.bones;
    const c = labelComponents(volume, resolveRoi(volume, { kind: 'whole' }));
    expect(c.count).toBe(1);
    expect(c.voxels[0]).toBe(bone!.voxels);
    expect(labelComponents(volume, resolveRoi(volume, truth.roi)).count).toBe(0);
  });

  it('the reference preset reproduces make_phantom.py --slices 64: whole-volume counts and bones (truth.json)', () => {
    const { volume, truth } = makePhantom({ preset: 'reference', slices: 64 });
    expect(volume.dims).toEqual([512, 512, 64]);
    expect(truth.roi.center).toEqual([200, 230, 32]);
    expect(truth.bones.map((b) => b.voxels)).toEqual([70464, 31296, 11328]);
    const roi = resolveRoi(volume, truth.roi);
    expect(roi.voxels).toBe(187083);
    // expected_in_roi_bbox: the sphere's bounding box also holds a piece of the adjacent bone
    const box = labelComponents(volume, resolveRoi(volume, { kind: 'box', min: roi.bbox.min, max: roi.bbox.max, units: 'voxel' }));
    expect([box.count, box.voxels.reduce((a, b) => a + b, 0)]).toEqual([13, 18246]);
    // expected_whole_volume
    const whole = labelComponents(volume, resolveRoi(volume, { kind: 'whole' }));
    expect([whole.count, whole.voxels.reduce((a, b) => a + b, 0)]).toEqual([15, 125271]);
    expect(volume.affine.slice(0, 12)).toEqual([0.8, 0, 0, -204.4, 0, 0.8, 0, -204.4, 0, 0, 1.5, -48]);
  });
});
