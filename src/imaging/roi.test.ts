import { describe, expect, it } from 'vitest';
import { parseRoiSpec, patientToVoxel, resolveRoi, RoiError, type RoiSpec } from './roi.js';
import { makePhantom } from '../test-support/phantom.js';
import { voxelToPatient, type Volume } from './volume.js';

/** A blank volume with the phantom's geometry. */
function blank(dims: [number, number, number] = [40, 30, 20], spacing: [number, number, number] = [0.8, 0.8, 1.5]): Volume {
  return {
    dims, spacing, data: new Int16Array(dims[0] * dims[1] * dims[2]),
    affine: [spacing[0], 0, 0, -10, 0, spacing[1], 0, 20, 0, 0, spacing[2], -5, 0, 0, 0, 1], warnings: [], source: { kind: 'nifti', files: 1 },
  };
}

function code(f: () => unknown): string {
  try { f(); } catch (e) { if (e instanceof RoiError) return e.code; throw e; }
  return 'no error';
}

describe('parseRoiSpec', () => {
  it('parses every kind', () => {
    expect(parseRoiSpec('box:1,2,3,10,20,30')).toEqual({ kind: 'box', min: [1, 2, 3], max: [10, 20, 30], units: 'voxel' });
    expect(parseRoiSpec('box-mm:-1.5,2,3,10,20,30.25')).toEqual({ kind: 'box', min: [-1.5, 2, 3], max: [10, 20, 30.25], units: 'mm' });
    expect(parseRoiSpec('sphere:48,48,32,10')).toEqual({ kind: 'sphere', center: [48, 48, 32], radius: 10, centerUnits: 'voxel', radiusUnits: 'voxel' });
    expect(parseRoiSpec(' sphere-mm: -44.4, -20.4, 0, 35 ')).toEqual({ kind: 'sphere', center: [-44.4, -20.4, 0], radius: 35, centerUnits: 'mm', radiusUnits: 'mm' });
    expect(parseRoiSpec('sphere-ijk-mm:200,230,32,35')).toEqual({ kind: 'sphere', center: [200, 230, 32], radius: 35, centerUnits: 'voxel', radiusUnits: 'mm' });
    expect(parseRoiSpec('mask:/data/lesion mask.nii.gz')).toEqual({ kind: 'mask-file', path: '/data/lesion mask.nii.gz' });
    expect(parseRoiSpec('whole')).toEqual({ kind: 'whole' });
  });

  it('rejects a missing ROI and bad specs with coded errors', () => {
    expect(code(() => parseRoiSpec(undefined))).toBe('roi_required');
    expect(code(() => parseRoiSpec('  '))).toBe('roi_required');
    for (const bad of ['box:1,2,3', 'box:1,2,3,4,5,x', 'sphere:1,2,3,0', 'sphere:1,2,3,-2', 'cube:1,2,3,4', 'mask:', 'box:1,,3,4,5,6', 'whole:1']) {
      expect(code(() => parseRoiSpec(bad)), bad).toBe('roi_syntax');
    }
    try { parseRoiSpec(undefined); } catch (e) { expect((e as Error).message).toMatch(/bone/); }
  });
});

describe('resolveRoi', () => {
  it('requires an ROI', () => {
    expect(code(() => resolveRoi(blank(), undefined))).toBe('roi_required');
  });

  it('a voxel box is inclusive and clipped to the volume with a warning', () => {
    const v = blank();
    const r = resolveRoi(v, { kind: 'box', min: [2, 3, 4], max: [5, 6, 7], units: 'voxel' });
    expect(r.voxels).toBe(4 * 4 * 4);
    expect(r.bbox).toEqual({ min: [2, 3, 4], max: [5, 6, 7] });
    expect(r.warnings).toEqual([]);
    const c = resolveRoi(v, { kind: 'box', min: [30, 20, 10], max: [60, 60, 60], units: 'voxel' });
    expect(c.voxels).toBe(10 * 10 * 10);
    expect(c.warnings[0]).toMatch(/clipped/);
    // corners in any order
    expect(resolveRoi(v, { kind: 'box', min: [5, 6, 7], max: [2, 3, 4], units: 'voxel' }).voxels).toBe(64);
  });

  it('a box in patient mm selects the voxels whose centres lie inside', () => {
    const v = blank();
    const a = voxelToPatient(v, 2, 3, 4), b = voxelToPatient(v, 5, 6, 7);
    const r = resolveRoi(v, { kind: 'box', min: a, max: b, units: 'mm' });
    expect(r.bbox).toEqual({ min: [2, 3, 4], max: [5, 6, 7] });
    expect(patientToVoxel(v, ...voxelToPatient(v, 7, 8, 9)).map((x) => Math.round(x * 1e9) / 1e9)).toEqual([7, 8, 9]);
  });

  it('ROI outside the volume and empty ROIs are errors', () => {
    const v = blank();
    expect(code(() => resolveRoi(v, { kind: 'box', min: [100, 0, 0], max: [120, 5, 5], units: 'voxel' }))).toBe('roi_outside');
    expect(code(() => resolveRoi(v, { kind: 'sphere', center: [-50, -50, -50], radius: 5, centerUnits: 'voxel', radiusUnits: 'voxel' }))).toBe('roi_outside');
    // a sphere between voxel centres
    expect(code(() => resolveRoi(v, { kind: 'sphere', center: [10.5, 10.5, 10.5], radius: 0.3, centerUnits: 'voxel', radiusUnits: 'voxel' }))).toBe('roi_empty');
    expect(code(() => resolveRoi(v, { kind: 'mask', mask: new Uint8Array(v.data.length) }))).toBe('roi_empty');
    expect(code(() => resolveRoi(v, { kind: 'mask', mask: new Uint8Array(10), path: 'm.nii' }))).toBe('roi_mask_size');
    try { resolveRoi(v, { kind: 'mask', mask: new Uint8Array(10), path: 'm.nii' }); } catch (e) { expect((e as Error).message).toContain('m.nii'); }
  });

  it('a sphere in mm around a voxel centre has the reference pipeline voxel count (make_phantom.py truth.json)', () => {
    const { volume, truth } = makePhantom();
    const r = resolveRoi(volume, truth.roi);
    expect(r.voxels).toBe(187083); // truth.json roi.voxels for make_phantom.py --slices 64
    expect(r.bbox).toEqual({ min: [5, 5, 9], max: [91, 91, 55] }); // (157,187,9)-(243,273,55) shifted by the mass centre
    expect(r.radiusMm).toBe(35);
    // the same sphere given in patient mm
    const mm: RoiSpec = { kind: 'sphere', center: voxelToPatient(volume, 48, 48, 32), radius: 35, centerUnits: 'mm', radiusUnits: 'mm' };
    expect(resolveRoi(volume, mm).voxels).toBe(187083);
    expect(r.rho(48, 48, 32)).toBe(0);
    expect(r.depthMm(48, 48, 32)).toBe(35);
    expect(r.rho(48 + 25, 48, 32)).toBeCloseTo(20 / 35, 12);
    expect(r.depthMm(48 + 25, 48, 32)).toBeCloseTo(15, 12);
    expect(r.countWithinRho(1)).toBe(187083);
    const half = r.countWithinRho(0.5);
    expect(half / 187083).toBeGreaterThan(0.12);
    expect(half / 187083).toBeLessThan(0.13); // 0.5³
  });

  it('a sphere in voxels is a sphere in index space', () => {
    const v = blank([21, 21, 21], [1, 1, 2]);
    const r = resolveRoi(v, { kind: 'sphere', center: [10, 10, 10], radius: 2, centerUnits: 'voxel', radiusUnits: 'voxel' });
    let n = 0;
    for (let k = -2; k <= 2; k++) for (let j = -2; j <= 2; j++) for (let i = -2; i <= 2; i++) if (i * i + j * j + k * k <= 4) n++;
    expect(r.voxels).toBe(n);
    expect(r.rho(12, 10, 10)).toBe(1);
    expect(r.rho(10, 10, 11)).toBe(0.5);
  });

  it('a mask ROI: bbox, centroid, depth from the distance transform', () => {
    const { volume, truth } = makePhantom({ objects: [] });
    const sphere = resolveRoi(volume, truth.roi);
    const [nx, ny, nz] = volume.dims;
    const mask = new Uint8Array(nx * ny * nz);
    for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) if (sphere.contains(i, j, k)) mask[i + nx * (j + ny * k)] = 1;
    const r = resolveRoi(volume, { kind: 'mask', mask, path: 'lesion.nii.gz' });
    expect(r.voxels).toBe(187083);
    expect(r.bbox).toEqual(sphere.bbox);
    expect(r.centerVoxel.map((x) => Math.round(x * 1e6) / 1e6)).toEqual([48, 48, 32]);
    // depth to the nearest outside voxel centre: close to the sphere's R - r (within a voxel)
    expect(Math.abs(r.depthMm(48, 48, 32) - 35)).toBeLessThan(1.6);
    expect(Math.abs(r.depthMm(48 + 25, 48, 32) - 15)).toBeLessThan(1.6);
    expect(r.radiusMm).toBeGreaterThan(34);
    expect(r.rho(48, 48, 32)).toBe(0);
    expect(Math.abs(r.rho(48 + 25, 48, 32) - 20 / 35)).toBeLessThan(0.05);
    expect(r.contains(48, 48, 32)).toBe(true);
    expect(r.contains(0, 0, 0)).toBe(false);
    const inner = r.countWithinRho(0.5) / 187083;
    expect(inner).toBeGreaterThan(0.1);
    expect(inner).toBeLessThan(0.16);
  });

  it('the whole volume must be asked for explicitly, and warns that bone counts', () => {
    const v = blank();
    const r = resolveRoi(v, { kind: 'whole' });
    expect(r.voxels).toBe(v.data.length);
    expect(r.warnings.join(' ')).toMatch(/bone/);
  });
});
