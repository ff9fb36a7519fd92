/**
 * Generated phantoms written by the test itself as a DICOM series and as NIfTI, read back and
 * measured: exact component voxel counts, the right pattern labels, the same result from both.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyseCalcification } from '../imaging/pattern.js';
import { makePhantom } from './phantom.js';
import { readVolume } from '../imaging/read-volume.js';
import { encodeNiftiMask } from '../imaging/write-nifti.js';
import { writeCtSeries } from '../imaging/write-dicom.js';
import type { Volume } from '../imaging/volume.js';

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'calcdx-phantom-')); });
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

const { volume, truth } = makePhantom({ preset: 'small' });

function writeBoth(v: Volume, name: string): { dicom: string; nifti: string } {
  const dicom = join(dir, `${name}-dicom`);
  writeCtSeries(dicom, v, { shuffle: true });
  const nifti = join(dir, `${name}.nii.gz`);
  writeFileSync(nifti, encodeNiftiMask(v, v.data instanceof Int16Array ? v.data : Int16Array.from(v.data), { gzip: true, intent: 'none', description: 'calcdx phantom HU' }));
  return { dicom, nifti };
}

describe('phantom written as DICOM and NIfTI', () => {
  it('reads back the same HU volume and geometry from both formats', async () => {
    const files = writeBoth(volume, 'all');
    const d = await readVolume(files.dicom);
    const n = await readVolume(files.nifti);
    for (const v of [d, n]) {
      expect(v.dims).toEqual(volume.dims);
      for (let a = 0; a < 3; a++) expect(v.spacing[a]!).toBeCloseTo(volume.spacing[a]!, 4);
      for (let a = 0; a < 12; a++) expect(v.affine[a]!).toBeCloseTo(volume.affine[a]!, 3);
      expect(Array.from(v.data)).toEqual(Array.from(volume.data));
    }
  });

  it('finds every calcification with its exact voxel count, and the same from both formats', async () => {
    const files = writeBoth(volume, 'counts');
    const results = [];
    for (const f of [files.dicom, files.nifti]) {
      const v = await readVolume(f);
      const a = analyseCalcification(v, truth.roi);
      expect(a.components.count).toBe(truth.objects.length);
      const got = [...a.measurements.components.map((c) => c.voxels)].sort((x, y) => x - y);
      const want = truth.objects.map((o) => o.voxels).sort((x, y) => x - y);
      expect(got).toEqual(want);
      expect(a.measurements.lesion.calcifiedVoxels).toBe(truth.calcifiedVoxels);
      results.push(a.pattern.fragment);
    }
    expect(results[0]).toEqual(results[1]);
  });

  const cases: Array<[kind: 'punctate' | 'rim' | 'dense_central' | 'linear', expect: Record<string, unknown>]> = [
    ['punctate', { morphology: ['punctate'] }],
    ['rim', { morphology: ['rim'], distribution: 'peripheral' }],
    ['dense_central', { morphology: ['dense_central'], distribution: 'central' }],
    ['linear', { morphology: ['linear'] }],
  ];
  for (const [kind, want] of cases) {
    it(`labels a ${kind} phantom as ${JSON.stringify(want)} from DICOM and from NIfTI`, async () => {
      const p = makePhantom({ preset: 'small', objects: [kind] });
      const files = writeBoth(p.volume, kind);
      for (const f of [files.dicom, files.nifti]) {
        const a = analyseCalcification(await readVolume(f), p.truth.roi);
        expect(a.pattern.fragment.imaging.calcification).toMatchObject(want);
        expect(a.components.count).toBe(p.truth.objects.length);
      }
    });
  }

  it('keeps the adjacent bone outside the ROI out of the measurement', async () => {
    const p = makePhantom({ preset: 'small', objects: [] });
    const files = writeBoth(p.volume, 'bone');
    const v = await readVolume(files.dicom);
    expect(analyseCalcification(v, p.truth.roi).components.count).toBe(0);
    expect(analyseCalcification(v, { kind: 'whole' }).components.count).toBeGreaterThan(0);
  });
});
