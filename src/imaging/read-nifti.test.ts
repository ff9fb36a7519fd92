import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readNifti } from './read-nifti.js';
import type { Volume } from './volume.js';
import { expectImagingError } from '../test-support/imaging.js';
import { niftiHeaderDeclaring, writeGzipWithZeros } from '../test-support/hostile-images.js';

const FIXTURES = fileURLToPath(new URL('../../test/fixtures/nifti/', import.meta.url));
const fixture = (name: string): string => path.join(FIXTURES, name);

interface RefEntry {
  version: 1 | 2;
  datatype: string;
  dims: [number, number, number];
  type: 'int16' | 'float32';
  min: number;
  max: number;
  mean: number;
  voxels: [number, number, number, number][];
  spacing: [number, number, number];
  affine: number[];
  sformCode: number;
  qformCode: number;
}
let reference: { nibabel: string; entries: Record<string, RefEntry> };
let tmp: string;
let n = 0;
const tmpFile = (name: string): string => path.join(tmp, `${++n}-${name}`);

beforeAll(async () => {
  reference = JSON.parse(await readFile(fixture('reference.json'), 'utf8'));
  tmp = await mkdtemp(path.join(os.tmpdir(), 'calcdx-nifti-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function stats(v: Volume): { min: number; max: number; mean: number } {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const x of v.data) {
    if (x < min) min = x;
    if (x > max) max = x;
    sum += x;
  }
  return { min, max, mean: sum / v.data.length };
}

function expectMatchesReference(v: Volume, ref: RefEntry, name: string): void {
  expect(v.dims, name).toEqual(ref.dims);
  expect(v.data, name).toBeInstanceOf(ref.type === 'int16' ? Int16Array : Float32Array);
  const s = stats(v);
  expect(s.min, name).toBe(ref.min);
  expect(s.max, name).toBe(ref.max);
  expect(Math.abs(s.mean - ref.mean), name).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(ref.mean)));
  for (const [i, j, k, value] of ref.voxels) expect(v.data[i + v.dims[0] * (j + v.dims[1] * k)], `${name} ${i},${j},${k}`).toBe(value);
  ref.spacing.forEach((x, a) => expect(v.spacing[a], name).toBeCloseTo(x, 6));
  ref.affine.forEach((x, a) => expect(v.affine[a], `${name} affine[${a}]`).toBeCloseTo(x, 5));
  expect(v.source).toMatchObject({ kind: 'nifti', files: 1 });
}


/** ct-int16.nii with some header bytes changed (NIfTI-1, little endian). */
async function patched(name: string, patch: (v: DataView, b: Buffer) => void, gzip = false): Promise<string> {
  const b = Buffer.from(await readFile(fixture('ct-int16.nii')));
  patch(new DataView(b.buffer, b.byteOffset, b.length), b);
  const file = tmpFile(name);
  await writeFile(file, gzip ? gzipSync(b) : b);
  return file;
}

describe('readNifti: values against nibabel (test/fixtures/nifti/reference.json)', () => {
  it('every fixture: NIfTI-1 and -2, .nii and .nii.gz, both byte orders, 8 datatypes, scaling, sform / qform', async () => {
    const entries = Object.entries(reference.entries);
    expect(entries.length).toBeGreaterThanOrEqual(13);
    const versions = new Set(entries.map(([, e]) => e.version));
    expect([...versions].sort()).toEqual([1, 2]);
    for (const [name, ref] of entries) expectMatchesReference(await readNifti(fixture(name)), ref, name);
  });

  it('.nii and .nii.gz give the same volume', async () => {
    const a = await readNifti(fixture('ct-int16.nii'));
    const b = await readNifti(fixture('ct-int16.nii.gz'));
    expect(Array.from(b.data)).toEqual(Array.from(a.data));
    expect(b.affine).toEqual(a.affine);
  });

  it('scl_slope 0 means no scaling (scl_inter ignored too)', async () => {
    const v = await readNifti(fixture('noscale-slope0.nii'));
    expect(v.data[0]).toBe(-200);
  });

  it('applies scl_slope / scl_inter, keeping Int16Array when they are integers', async () => {
    const v = await readNifti(fixture('ct-int16.nii'));
    expect(v.data).toBeInstanceOf(Int16Array);
    expect(v.data[0]).toBe(-200 * 2 - 1024);
    const f = await readNifti(fixture('float32-scaled.nii'));
    expect(f.data).toBeInstanceOf(Float32Array);
  });

  it('sform wins over qform; RAS is turned into LPS', async () => {
    const v = await readNifti(fixture('ct-int16.nii'));
    // the sform puts voxel 0 at RAS (−20, 30, −45): LPS (20, −30, −45)
    expect(v.affine.slice(0, 12).filter((_, i) => i % 4 === 3)).toEqual([20, -30, -45]);
    const q = await readNifti(fixture('qform-only.nii'));
    // qform: RAS diag(−0.8, 0.7, 2.5) at (10, −5, 7.5) → LPS diag(0.8, −0.7, 2.5) at (−10, 5, 7.5)
    const a = q.affine;
    expect([a[0], a[5], a[10], a[3], a[7], a[11]].map((x) => Number(x!.toFixed(6)))).toEqual([0.8, -0.7, 2.5, -10, 5, 7.5]);
  });

  it('no qform and no sform: pixdim diagonal and a warning', async () => {
    const file = await patched('noform.nii', (v) => {
      v.setInt16(252, 0, true);
      v.setInt16(254, 0, true);
    });
    const vol = await readNifti(file);
    expect(vol.affine.map((x) => Number(x.toFixed(6)))).toEqual([-0.8, 0, 0, 0, 0, -0.7, 0, 0, 0, 0, 2.5, 0, 0, 0, 0, 1]);
    expect(vol.warnings.join('\n')).toMatch(/no orientation/);
  });

  it('spatial units in metres are converted to mm', async () => {
    const file = await patched('metres.nii', (_v, b) => {
      b[123] = 1 | 8; // metres, seconds
    });
    const vol = await readNifti(file);
    expect(vol.spacing[2]).toBeCloseTo(2500, 6);
    expect(vol.affine[11]).toBeCloseTo(-45000, 3);
    expect(vol.warnings.join('\n')).toMatch(/metres: converted to mm/);
  });

  it('4-D: the first volume, with a warning', async () => {
    const b = Buffer.from(await readFile(fixture('ct-int16.nii')));
    const v = new DataView(b.buffer, b.byteOffset, b.length);
    v.setInt16(40, 4, true);
    v.setInt16(48, 2, true); // dim[4] = 2
    const file = tmpFile('4d.nii');
    await writeFile(file, Buffer.concat([b, b.subarray(352)]));
    const vol = await readNifti(file);
    expect(vol.dims).toEqual([7, 5, 4]);
    expect(vol.warnings.join('\n')).toMatch(/4-D NIfTI \(7×5×4×2\): only the first 3-D volume/);
  });

  it('reports progress', async () => {
    const calls: [number, number][] = [];
    await readNifti(fixture('ct-int16.nii.gz'), { onProgress: (d, t) => calls.push([d, t]) });
    expect(calls).toEqual([[1, 2], [2, 2]]);
  });
});

describe('readNifti: bad input, each a clear error naming the file', () => {
  it('corrupted .nii.gz', async () => {
    const gz = Buffer.from(await readFile(fixture('ct-int16.nii.gz')));
    for (let i = 20; i < 60; i++) gz[i] = gz[i]! ^ 0x5a;
    const file = tmpFile('corrupt.nii.gz');
    await writeFile(file, gz);
    await expectImagingError(() => readNifti(file), 'nifti_invalid', file, /gzip data is corrupted or truncated/);
  });

  it('truncated .nii.gz and truncated .nii', async () => {
    const gz = await readFile(fixture('ct-int16.nii.gz'));
    const file = tmpFile('cut.nii.gz');
    await writeFile(file, gz.subarray(0, gz.length - 30));
    await expectImagingError(() => readNifti(file), 'nifti_invalid', file, /corrupted or truncated/);
    const nii = await readFile(fixture('ct-int16.nii'));
    const short = tmpFile('cut.nii');
    await writeFile(short, nii.subarray(0, 500));
    await expectImagingError(() => readNifti(short), 'nifti_invalid', short, /truncated: 7×5×4 int16 voxels from byte 352 need 632 bytes, it has 500/);
    const header = tmpFile('header.nii');
    await writeFile(header, nii.subarray(0, 200));
    await expectImagingError(() => readNifti(header), 'nifti_invalid', header, /shorter than a NIfTI-1 header/);
  });

  it('not NIfTI, plain or gzip-compressed', async () => {
    const text = tmpFile('text.nii');
    await writeFile(text, 'x'.repeat(1000));
    await expectImagingError(() => readNifti(text), 'nifti_invalid', text, /not a NIfTI file/);
    const gz = tmpFile('text.nii.gz');
    await writeFile(gz, gzipSync(Buffer.from('y'.repeat(1000))));
    await expectImagingError(() => readNifti(gz), 'nifti_invalid', gz, /not a NIfTI file/);
  });

  it('unsupported datatype, .hdr/.img pair header, bad vox_offset, bad dims', async () => {
    const rgb = await patched('rgb.nii', (v) => v.setInt16(70, 128, true));
    await expectImagingError(() => readNifti(rgb), 'nifti_unsupported', rgb, /datatype 128 \(RGB24\) is not supported/);
    const pair = await patched('pair.nii', (_v, b) => {
      b[345] = 0x69; // "ni1"
    });
    await expectImagingError(() => readNifti(pair), 'nifti_unsupported', pair, /\.hdr\/\.img pair/);
    const offset = await patched('offset.nii', (v) => v.setFloat32(108, 10, true));
    await expectImagingError(() => readNifti(offset), 'nifti_invalid', offset, /invalid vox_offset 10/);
    const dims = await patched('dims.nii', (v) => v.setInt16(42, 0, true));
    await expectImagingError(() => readNifti(dims), 'nifti_invalid', dims, /invalid dimensions 0×5×4/);
    const ndim = await patched('ndim.nii', (v) => v.setInt16(40, 9, true));
    await expectImagingError(() => readNifti(ndim), 'nifti_invalid', ndim, /invalid dim\[0\] = 9/);
  });

  it('a missing file', async () => {
    const file = tmpFile('missing.nii');
    await expectImagingError(() => readNifti(file), 'not_found', file);
  });

  it('a valid .nii.gz still decompresses to the .nii bytes (fixture sanity)', async () => {
    const a = gunzipSync(await readFile(fixture('ct-int16.nii.gz')));
    expect(Buffer.compare(a, await readFile(fixture('ct-int16.nii')))).toBe(0);
  });
});

describe('readNifti: hostile headers and streams (issue 13, D3)', () => {
  it('a header declaring 2048³ int16 voxels is refused from the header, .nii and .nii.gz', async () => {
    const head = niftiHeaderDeclaring([2048, 2048, 2048]);
    const plain = tmpFile('huge.nii');
    await writeFile(plain, head);
    await expectImagingError(() => readNifti(plain), 'too_large', plain, /the header declares 2048×2048×2048 int16 voxels: 8589\.9 million voxels, more than the limit of 268\.4 million/);
    const gz = tmpFile('huge.nii.gz');
    // the header and 64 MiB of zeros after it: refused once the header is in, without reading on
    await writeGzipWithZeros(gz, head, 64 * 1024 * 1024);
    await expectImagingError(() => readNifti(gz), 'too_large', gz, /2048×2048×2048/);
    // within the voxel limit but not the byte limit (as set here)
    const small = tmpFile('small.nii');
    await writeFile(small, Buffer.concat([niftiHeaderDeclaring([4, 4, 4]), Buffer.alloc(128)]));
    expect((await readNifti(small)).dims).toEqual([4, 4, 4]);
    await expectImagingError(() => readNifti(small, { limits: { maxBytes: 100 } }), 'too_large', small, /128 bytes|0 MiB of image data, more than the limit/);
  });

  it('a .nii.gz with 1 GiB of trailing zeros is read as its header declares, without inflating the zeros', async () => {
    const gz = tmpFile('trailing.nii.gz');
    const data = Buffer.alloc(4 * 4 * 4 * 2);
    for (let p = 0; p < 64; p++) data.writeInt16LE(p * 10 - 300, 2 * p);
    await writeGzipWithZeros(gz, Buffer.concat([niftiHeaderDeclaring([4, 4, 4]), data]), 1024 * 1024 * 1024);
    const before = process.memoryUsage().rss;
    const v = await readNifti(gz);
    expect(v.dims).toEqual([4, 4, 4]);
    expect(Array.from(v.data.subarray(0, 3))).toEqual([-300, -290, -280]);
    // the gigabyte inflated would be in memory: the read stops after the first chunks
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 * 1024);
  }, 60_000);

  it('vox_offset far past the header is refused before anything is read', async () => {
    const file = tmpFile('offset.nii');
    const head = niftiHeaderDeclaring([2, 2, 2]);
    head.writeFloatLE(2 ** 30, 108);
    await writeFile(file, head);
    await expectImagingError(() => readNifti(file), 'too_large', file, /vox_offset 1073741824/);
  });
});
