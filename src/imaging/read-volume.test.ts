import { copyFile, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readVolume } from './read-volume.js';
import { expectImagingError } from '../test-support/imaging.js';

const FIXTURES = fileURLToPath(new URL('../../test/fixtures/', import.meta.url));
const fixture = (...p: string[]): string => path.join(FIXTURES, ...p);

let tmp: string;
let n = 0;
const tmpFile = (name: string): string => path.join(tmp, `${++n}-${name}`);
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'calcdx-volume-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});


describe('readVolume: dispatch by content', () => {
  it('a folder → its DICOM series', async () => {
    const v = await readVolume(fixture('dicom/series/ct5n'));
    expect(v.source).toMatchObject({ kind: 'dicom', files: 5 });
    expect(v.dims).toEqual([16, 16, 5]);
  });

  it('a single DICOM file, whatever its name', async () => {
    const file = tmpFile('scan.nii'); // a misleading name: the content decides
    await copyFile(fixture('dicom/single/CT_small.dcm'), file);
    const v = await readVolume(file);
    expect(v.source.kind).toBe('dicom');
    expect(v.dims).toEqual([128, 128, 1]);
  });

  it('.nii and .nii.gz, even without the extension', async () => {
    const nii = await readVolume(fixture('nifti/ct-int16.nii'));
    expect(nii.source.kind).toBe('nifti');
    const file = tmpFile('volume.bin');
    await copyFile(fixture('nifti/ct-int16.nii.gz'), file);
    const gz = await readVolume(file);
    expect(gz.source.kind).toBe('nifti');
    expect(Array.from(gz.data)).toEqual(Array.from(nii.data));
  });

  it('a list of DICOM files → one series; a list of one path is that path', async () => {
    const dir = fixture('dicom/series/axial');
    const files = (await readdir(dir)).map((f) => path.join(dir, f));
    const v = await readVolume(files);
    expect(v.dims).toEqual([8, 6, 5]);
    const single = await readVolume([fixture('nifti/ct-int16.nii.gz')]);
    expect(single.source.kind).toBe('nifti');
  });

  it('passes the options on: series choice and progress', async () => {
    const calls: number[] = [];
    const ref = JSON.parse(await readFile(fixture('dicom/reference.json'), 'utf8')) as { entries: Record<string, { seriesInstanceUid: string }> };
    const uid = ref.entries['series/float']!.seriesInstanceUid;
    const v = await readVolume(fixture('dicom/series/mixed'), { seriesInstanceUid: uid, onProgress: (d) => calls.push(d) });
    expect(v.source.seriesInstanceUid).toBe(uid);
    expect(v.data).toBeInstanceOf(Float32Array);
    expect(calls.length).toBeGreaterThan(0);
    const nifti: [number, number][] = [];
    await readVolume(fixture('nifti/ct-int16.nii'), { onProgress: (d, t) => nifti.push([d, t]) });
    expect(nifti.at(-1)).toEqual([2, 2]);
  });
});

describe('readVolume: bad input', () => {
  it('a file that is neither DICOM nor NIfTI', async () => {
    const file = fixture('dicom/bad/not_dicom.txt');
    await expectImagingError(() => readVolume(file), 'unknown_format', file, /neither DICOM .* nor NIfTI/);
  });

  it('an empty file, a missing path, an empty list', async () => {
    const empty = tmpFile('empty');
    await writeFile(empty, '');
    await expectImagingError(() => readVolume(empty), 'unknown_format', empty, /empty/);
    const missing = tmpFile('missing');
    await expectImagingError(() => readVolume(missing), 'not_found', missing, /no such file/);
    await expect(readVolume([])).rejects.toMatchObject({ code: 'empty' });
  });

  it('a NIfTI file in a list of DICOM files', async () => {
    const nii = fixture('nifti/ct-int16.nii');
    await expectImagingError(() => readVolume([fixture('dicom/single/CT_small.dcm'), nii]), 'unknown_format', nii, /read a NIfTI file on its own/);
  });

  it('a non-DICOM file in a list', async () => {
    const txt = fixture('dicom/bad/not_dicom.txt');
    await expectImagingError(() => readVolume([fixture('dicom/single/CT_small.dcm'), txt]), 'unknown_format', txt, /not a DICOM file/);
  });

  it('a broken .nii named as such goes to the NIfTI reader and says so', async () => {
    const file = tmpFile('broken.nii');
    await writeFile(file, 'z'.repeat(400));
    await expectImagingError(() => readVolume(file), 'nifti_invalid', file, /not a NIfTI file/);
  });

  it('errors of the readers come through (truncated DICOM, corrupted .nii.gz, several series)', async () => {
    const truncated = fixture('dicom/bad/MR_truncated.dcm');
    await expectImagingError(() => readVolume(truncated), 'truncated', truncated);
    const gz = Buffer.from(await readFile(fixture('nifti/ct-int16.nii.gz')));
    gz.fill(0, 30, 80);
    const corrupt = tmpFile('corrupt.nii.gz');
    await writeFile(corrupt, gz);
    await expectImagingError(() => readVolume(corrupt), 'nifti_invalid', corrupt);
    const mixed = fixture('dicom/series/mixed');
    await expectImagingError(() => readVolume(mixed), 'multiple_series', mixed);
  });
});
