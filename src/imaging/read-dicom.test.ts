import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile, copyFile } from 'node:fs/promises';
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import { createDeflateRaw, deflateRawSync } from 'node:zlib';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import dicomParser from 'dicom-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDicom, SUPPORTED_TRANSFER_SYNTAXES } from './read-dicom.js';
import type { Volume } from './volume.js';
import { concat, encodeElement as encode, part10, u16, u32, type El } from './write-dicom.js';
import { ImagingError } from './errors.js';
import { expectImagingError } from '../test-support/imaging.js';

const FIXTURES = fileURLToPath(new URL('../../test/fixtures/dicom/', import.meta.url));
const fixture = (...p: string[]): string => path.join(FIXTURES, ...p);

interface RefEntry {
  seriesInstanceUid: string | null;
  description: string | null;
  modality: string | null;
  files: number;
  dims: [number, number, number];
  type: 'int16' | 'float32';
  min: number;
  max: number;
  mean: number;
  sliceMeans: number[];
  voxels: [number, number, number, number][];
  spacing: [number, number, number];
  affine: number[];
  transferSyntax?: string;
}
let reference: { pydicom: string; entries: Record<string, RefEntry> };

let tmp: string;
beforeAll(async () => {
  reference = JSON.parse(await readFile(fixture('reference.json'), 'utf8'));
  tmp = await mkdtemp(path.join(os.tmpdir(), 'calcdx-dicom-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

let tmpCount = 0;
const tmpDir = async (): Promise<string> => {
  const d = path.join(tmp, `case-${++tmpCount}`);
  await mkdir(d, { recursive: true });
  return d;
};

function stats(v: Volume): { min: number; max: number; mean: number; sliceMeans: number[] } {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  const n = v.dims[0] * v.dims[1];
  const sliceMeans: number[] = [];
  for (let k = 0; k < v.dims[2]; k++) {
    let s = 0;
    for (let p = k * n; p < (k + 1) * n; p++) {
      const x = v.data[p]!;
      if (x < min) min = x;
      if (x > max) max = x;
      s += x;
    }
    sliceMeans.push(s / n);
    sum += s;
  }
  return { min, max, mean: sum / v.data.length, sliceMeans };
}

const closeRel = (a: number, b: number, rel = 1e-6): boolean => Math.abs(a - b) <= rel * Math.max(1, Math.abs(b));

function expectMatchesReference(v: Volume, ref: RefEntry): void {
  expect(v.dims).toEqual(ref.dims);
  expect(v.data.length).toBe(ref.dims[0] * ref.dims[1] * ref.dims[2]);
  expect(v.data).toBeInstanceOf(ref.type === 'int16' ? Int16Array : Float32Array);
  const s = stats(v);
  // integers exactly; the float fixtures hold multiples of 0.25, exact in float32 too
  expect(s.min).toBe(ref.min);
  expect(s.max).toBe(ref.max);
  expect(closeRel(s.mean, ref.mean), `mean ${s.mean} vs ${ref.mean}`).toBe(true);
  s.sliceMeans.forEach((m, k) => expect(closeRel(m, ref.sliceMeans[k]!), `slice ${k}: ${m} vs ${ref.sliceMeans[k]}`).toBe(true));
  for (const [i, j, k, value] of ref.voxels) {
    expect(v.data[i + v.dims[0] * (j + v.dims[1] * k)], `voxel ${i},${j},${k}`).toBe(value);
  }
  ref.spacing.forEach((sp, a) => expect(v.spacing[a]).toBeCloseTo(sp, 6));
  ref.affine.forEach((x, a) => expect(v.affine[a], `affine[${a}]`).toBeCloseTo(x, 5));
  if (ref.modality) expect(v.modality).toBe(ref.modality);
  if (ref.seriesInstanceUid) expect(v.source.seriesInstanceUid).toBe(ref.seriesInstanceUid);
  expect(v.source.kind).toBe('dicom');
  expect(v.source.files).toBe(ref.files);
}


interface ImageOptions {
  rows?: number;
  cols?: number;
  pixels?: Uint8Array;
  bitsAllocated?: number;
  bitsStored?: number;
  signed?: boolean;
  ipp?: number[];
  iop?: number[];
  series?: string;
  modality?: string;
  rescale?: [number, number] | null;
  omit?: number[];
  extra?: El[];
}

const ds = (xs: number[]): string => xs.map((x) => String(x)).join('\\');

function image(o: ImageOptions = {}): El[] {
  const rows = o.rows ?? 2;
  const cols = o.cols ?? 3;
  const ba = o.bitsAllocated ?? 16;
  const els: El[] = [
    { tag: 0x00080060, vr: 'CS', value: o.modality ?? 'CT' },
    { tag: 0x0020000e, vr: 'UI', value: o.series ?? '1.2.3.9' },
    { tag: 0x00200032, vr: 'DS', value: ds(o.ipp ?? [0, 0, 0]) },
    { tag: 0x00200037, vr: 'DS', value: ds(o.iop ?? [1, 0, 0, 0, 1, 0]) },
    { tag: 0x00280002, vr: 'US', value: [1] },
    { tag: 0x00280004, vr: 'CS', value: 'MONOCHROME2' },
    { tag: 0x00280010, vr: 'US', value: [rows] },
    { tag: 0x00280011, vr: 'US', value: [cols] },
    { tag: 0x00280030, vr: 'DS', value: '0.5\\0.5' },
    { tag: 0x00280100, vr: 'US', value: [ba] },
    { tag: 0x00280101, vr: 'US', value: [o.bitsStored ?? ba] },
    { tag: 0x00280102, vr: 'US', value: [(o.bitsStored ?? ba) - 1] },
    { tag: 0x00280103, vr: 'US', value: [o.signed === false ? 0 : 1] },
    { tag: 0x7fe00010, vr: ba === 8 ? 'OB' : 'OW', value: o.pixels ?? new Uint8Array(rows * cols * (ba / 8)) },
  ];
  if (o.rescale !== null) {
    const [slope, intercept] = o.rescale ?? [1, -1024];
    els.push({ tag: 0x00281052, vr: 'DS', value: String(intercept) }, { tag: 0x00281053, vr: 'DS', value: String(slope) });
  }
  return [...els.filter((e) => !o.omit?.includes(e.tag)), ...(o.extra ?? [])];
}

const int16Pixels = (...xs: number[]): Uint8Array => {
  const b = new Uint8Array(xs.length * 2);
  const v = new DataView(b.buffer);
  xs.forEach((x, i) => v.setInt16(i * 2, x, true));
  return b;
};

const EXPLICIT_LE = '1.2.840.10008.1.2.1';

async function writeImage(dir: string, name: string, o: ImageOptions = {}, ts = EXPLICIT_LE): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, part10(ts, image(o)));
  return file;
}

/** The compressed frame (all fragments joined) of a fixture. */
async function codestreamOf(file: string): Promise<Uint8Array> {
  const bytes = await readFile(file);
  const set = dicomParser.parseDicom(bytes);
  const el = set.elements.x7fe00010!;
  return new Uint8Array(dicomParser.readEncapsulatedPixelDataFromFragments(set, el, 0, el.fragments!.length));
}

/** RLE-encodes 16-bit little-endian samples with literal runs only (valid, if not small). */
function rleEncode16(samples: Uint8Array): Uint8Array {
  const n = samples.length / 2;
  const segment = (byte: number): Uint8Array => {
    const plane = new Uint8Array(n);
    for (let p = 0; p < n; p++) plane[p] = samples[p * 2 + byte]!;
    const runs: Uint8Array[] = [];
    for (let p = 0; p < n; p += 128) {
      const chunk = plane.subarray(p, Math.min(n, p + 128));
      runs.push(new Uint8Array([chunk.length - 1]), chunk);
    }
    let out = concat(runs);
    if (out.length % 2) out = concat([out, new Uint8Array([0x80])]); // 0x80: no-op
    return out;
  };
  const high = segment(1);
  const low = segment(0);
  const header = new Uint8Array(64);
  header.set(u32(2, 64, 64 + high.length));
  return concat([header, high, low]);
}

// ---------------------------------------------------------------------------------------------

describe('readDicom: values against pydicom + numpy (test/fixtures/dicom/reference.json)', () => {
  it('the fixtures cover every supported transfer syntax', async () => {
    const ref = JSON.parse(await readFile(fixture('reference.json'), 'utf8')) as typeof reference;
    const covered = new Set(Object.values(ref.entries).map((e) => e.transferSyntax).filter(Boolean));
    for (const ts of SUPPORTED_TRANSFER_SYNTAXES) expect(covered.has(ts), ts).toBe(true);
  });

  it('single files: CT, MR, little / big endian, implicit, deflate, RLE, JPEG lossless, JPEG-LS, JPEG 2000', async () => {
    const singles = Object.entries(reference.entries).filter(([k]) => k.startsWith('single/'));
    expect(singles.length).toBeGreaterThanOrEqual(14);
    for (const [key, ref] of singles) {
      const v = await readDicom(fixture(key));
      expectMatchesReference(v, ref);
    }
  });

  it('series folders: sorting, spacing, per-slice rescale, affine, enhanced multi-frame', async () => {
    const series = Object.entries(reference.entries).filter(([k]) => k.startsWith('series/') && !k.includes('#'));
    expect(series.length).toBeGreaterThanOrEqual(10);
    for (const [key, ref] of series) {
      if (key === 'series/mixed') continue;
      const v = await readDicom(fixture(key));
      expectMatchesReference(v, ref);
    }
  });

  it('a folder with two series: each one chosen by seriesInstanceUid', async () => {
    const mixed = Object.entries(reference.entries).filter(([k]) => k.startsWith('series/mixed#'));
    expect(mixed).toHaveLength(2);
    for (const [, ref] of mixed) {
      const v = await readDicom(fixture('series/mixed'), { seriesInstanceUid: ref.seriesInstanceUid! });
      expectMatchesReference(v, ref);
      expect(v.source.description).toBe(ref.description);
    }
  });
});

describe('readDicom: series', () => {
  it('orders slices by position, not by file name or InstanceNumber, and takes k spacing from positions', async () => {
    const v = await readDicom(fixture('series/axial'));
    // SliceThickness says 5, the positions are 2.5 mm apart
    expect(v.spacing[2]).toBeCloseTo(2.5, 9);
    expect(v.affine.slice(8, 12)).toEqual([0, 0, 2.5, -40]);
    const s = stats(v);
    // slice means rise with z in this fixture (raw + 7 per slice, alternating −40, per-slice intercepts)
    expect(s.sliceMeans[1]! - s.sliceMeans[0]!).toBeCloseTo(107 - 40 + 24, 9);
    expect(v.warnings).toEqual([]);
  });

  it('sign-extends 12-bit signed values and applies each slice its own intercept', async () => {
    const v = await readDicom(fixture('series/axial'));
    // slice 0: raw −300 at (0,0), intercept −1024; slice 1: raw −300+107−40, intercept −1000
    expect(v.data[0]).toBe(-300 - 1024);
    expect(v.data[v.dims[0] * v.dims[1]]).toBe(-300 + 107 - 40 - 1000);
  });

  it('a list of files gives the same volume as their folder', async () => {
    const dir = fixture('series/ct5n');
    const files = (await readdir(dir)).map((f) => path.join(dir, f)).reverse();
    const a = await readDicom(files);
    const b = await readDicom(dir);
    expect(a.dims).toEqual(b.dims);
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    expect(a.affine).toEqual(b.affine);
  });

  it('with a region, reads only its slices and converts only its box: the same HU inside, 0 outside', async () => {
    for (const name of ['series/ct5n', 'series/axial', 'series/uint16-wide', 'series/enhanced']) {
      const full = await readDicom(fixture(name));
      const [nx, ny, nz] = full.dims;
      const want = { min: [1, 1, Math.min(1, nz - 1)] as [number, number, number], max: [nx - 2, Math.floor(ny / 2), Math.max(0, nz - 2)] as [number, number, number] };
      let seen: unknown;
      const calls: [number, number][] = [];
      const part = await readDicom(fixture(name), { region: (g) => { seen = g; return want; }, onProgress: (d, t) => calls.push([d, t]) });
      expect(seen).toEqual({ dims: full.dims, spacing: full.spacing, affine: full.affine });
      expect(part.region).toEqual(want);
      expect(part.dims).toEqual(full.dims);
      expect(part.data.constructor).toBe(full.data.constructor);
      for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) {
        const p = i + nx * (j + ny * k);
        const inside = i >= want.min[0] && i <= want.max[0] && j >= want.min[1] && j <= want.max[1] && k >= want.min[2] && k <= want.max[2];
        if (part.data[p] !== (inside ? full.data[p] : 0)) throw new Error(`${name}: voxel (${i}, ${j}, ${k}) is ${part.data[p]}, expected ${inside ? full.data[p] : 0}`);
      }
      // progress counts the slices read, not the volume's
      expect(calls.at(-1)![0]).toBe(calls.at(-1)![1]);
    }
  });

  it('a region beyond the volume is clipped to it; none reads everything', async () => {
    const full = await readDicom(fixture('series/ct5n'));
    const clipped = await readDicom(fixture('series/ct5n'), { region: () => ({ min: [-5, -5, -5], max: [1e6, 1e6, 1e6] }) });
    expect(clipped.region).toEqual({ min: [0, 0, 0], max: full.dims.map((d) => d - 1) });
    expect(Array.from(clipped.data)).toEqual(Array.from(full.data));
    const none = await readDicom(fixture('series/ct5n'), { region: () => undefined });
    expect(none.region).toBeUndefined();
    expect(Array.from(none.data)).toEqual(Array.from(full.data));
  });

  it('warns on gantry tilt, and gives the sheared affine of the true positions', async () => {
    const v = await readDicom(fixture('series/tilt'));
    expect(v.warnings.join('\n')).toMatch(/gantry tilt.*20°/);
    expect(v.warnings).toHaveLength(1);
  });

  it('warns on irregular spacing (synthetic and real series)', async () => {
    for (const name of ['irregular', 'ct2-irregular']) {
      const v = await readDicom(fixture('series', name));
      expect(v.warnings.join('\n')).toMatch(/irregular slice spacing/);
    }
  });

  it('does not warn on an oblique series stacked along its normal', async () => {
    const v = await readDicom(fixture('series/oblique'));
    expect(v.warnings).toEqual([]);
  });

  it('warns that HU do not apply to MR', async () => {
    const v = await readDicom(fixture('series/mr'));
    expect(v.modality).toBe('MR');
    expect(v.warnings.join('\n')).toMatch(/MR, not CT.*not Hounsfield units/);
  });

  it('switches to Float32Array when HU leave the int16 range', async () => {
    const v = await readDicom(fixture('series/uint16-wide'));
    expect(v.data).toBeInstanceOf(Float32Array);
    expect(stats(v).max).toBe(54876);
  });

  it('reports progress up to files + slices', async () => {
    const calls: [number, number][] = [];
    await readDicom(fixture('series/axial'), { onProgress: (d, t) => calls.push([d, t]) });
    expect(calls.at(-1)).toEqual([10, 10]);
    for (let i = 1; i < calls.length; i++) expect(calls[i]![0]).toBeGreaterThanOrEqual(calls[i - 1]![0]);
    const enhanced: [number, number][] = [];
    await readDicom(fixture('series/enhanced'), { onProgress: (d, t) => enhanced.push([d, t]) });
    expect(enhanced.at(-1)).toEqual([4, 4]); // 1 file, 3 frames
  });

  it('lists the series found when a folder holds several and none is chosen', async () => {
    const folder = fixture('series/mixed');
    const err = await expectImagingError(() => readDicom(folder), 'multiple_series', folder, /2 series found/);
    expect(err.series.map((s) => s.description).sort()).toEqual(['axial', 'float']);
    expect(err.series.map((s) => s.files).sort()).toEqual([4, 5]);
    expect(err.series.every((s) => s.modality === 'CT')).toBe(true);
    for (const s of err.series) expect(err.message).toContain(s.seriesInstanceUid);
  });

  it('says which series exist when the chosen one is not there', async () => {
    const folder = fixture('series/mixed');
    const err = await expectImagingError(() => readDicom(folder, { seriesInstanceUid: '1.2.3' }), 'series_not_found', folder, /1\.2\.3 is not among/);
    expect(err.series).toHaveLength(2);
  });

  it('reads a series in nested folders and skips files that are not DICOM, saying so', async () => {
    const dir = await tmpDir();
    await mkdir(path.join(dir, 'a', 'b'), { recursive: true });
    for (const f of await readdir(fixture('series/ct5n'))) await copyFile(fixture('series/ct5n', f), path.join(dir, 'a', 'b', f));
    await writeFile(path.join(dir, 'README.txt'), 'exported by a PACS\n');
    await writeFile(path.join(dir, '.DS_Store'), 'hidden');
    const v = await readDicom(dir);
    expectMatchesReference(v, reference.entries['series/ct5n']!);
    expect(v.warnings.join('\n')).toMatch(/1 file that are not DICOM skipped \(e\.g\. README\.txt\)/);
  });

  it('ignores a non-image DICOM object (no pixel data) next to the series', async () => {
    const dir = await tmpDir();
    for (const f of await readdir(fixture('series/ct5n'))) await copyFile(fixture('series/ct5n', f), path.join(dir, f));
    const sr = image({ series: '1.2.3.77', omit: [0x7fe00010] });
    await writeFile(path.join(dir, 'report'), part10(EXPLICIT_LE, sr));
    const v = await readDicom(dir);
    expect(v.dims).toEqual([16, 16, 5]);
    expect(v.warnings.join('\n')).toMatch(/1 other DICOM series without image data ignored/);
  });
});

describe('readDicom: bad input, each a clear error naming the file', () => {
  it('truncated file', async () => {
    const file = fixture('bad/MR_truncated.dcm');
    await expectImagingError(() => readDicom(file), 'truncated', file, /truncated/);
  });

  it('truncated header', async () => {
    const file = path.join(await tmpDir(), 'cut.dcm');
    await writeFile(file, (await readFile(fixture('single/CT_small.dcm'))).subarray(0, 700));
    await expectImagingError(() => readDicom(file), 'truncated', file);
  });

  it('compressed files cut anywhere: an ImagingError naming the file, never a crash or a hang', async () => {
    const dir = await tmpDir();
    for (const name of ['CT_small_rle.dcm', 'CT_small_jpeg_lossless.dcm', 'CT_small_jpeg_ls_lossless.dcm', 'CT_small_j2k_lossless.dcm', 'CT_small_bigendian.dcm']) {
      const bytes = await readFile(fixture('single', name));
      for (const frac of [0.05, 0.2, 0.5, 0.8, 0.95, 0.999]) {
        const file = path.join(dir, `${frac}-${name}`);
        await writeFile(file, bytes.subarray(0, Math.floor(bytes.length * frac)));
        let caught: unknown;
        try {
          await readDicom(file);
        } catch (e) {
          caught = e;
        }
        // a cut inside the last sequence delimiter may leave a complete image: then no error
        if (caught !== undefined) {
          expect(caught, `${name} cut at ${frac}`).toBeInstanceOf(ImagingError);
          expect((caught as ImagingError).file).toBe(file);
          expect(['truncated', 'decode_failed', 'no_pixel_data']).toContain((caught as ImagingError).code);
        } else {
          expect(frac).toBeGreaterThan(0.99);
        }
      }
    }
  });

  it('a file that is not DICOM', async () => {
    const file = fixture('bad/not_dicom.txt');
    await expectImagingError(() => readDicom(file), 'unknown_format', file, /not a DICOM file/);
  });

  it('an empty file', async () => {
    const file = path.join(await tmpDir(), 'empty.dcm');
    await writeFile(file, '');
    await expectImagingError(() => readDicom(file), 'unknown_format', file, /empty/);
  });

  it('a "DICM" file full of garbage', async () => {
    const file = path.join(await tmpDir(), 'garbage.dcm');
    const bytes = Buffer.alloc(4000, 0xab);
    bytes.fill(0, 0, 128);
    bytes.write('DICM', 128, 'latin1');
    await writeFile(file, bytes);
    await expectImagingError(() => readDicom(file), 'truncated', file, /cannot parse/);
  });

  it('missing pixel data', async () => {
    const file = fixture('bad/no_pixel_data.dcm');
    await expectImagingError(() => readDicom(file), 'no_pixel_data', file, /no Pixel Data/);
  });

  it('missing PixelRepresentation is an error, not a guess', async () => {
    const file = fixture('bad/no_pixel_representation.dcm');
    await expectImagingError(() => readDicom(file), 'missing_attribute', file, /PixelRepresentation \(0028,0103\) is missing/);
  });

  it('unsupported transfer syntaxes are named', async () => {
    const ext = fixture('bad/JPGExtended.dcm');
    await expectImagingError(() => readDicom(ext), 'unsupported_transfer_syntax', ext, /1\.2\.840\.10008\.1\.2\.4\.51 \(JPEG Extended/);
    const dir = await tmpDir();
    const odd = await writeImage(dir, 'odd.dcm', { pixels: int16Pixels(1, 2, 3, 4, 5, 6) }, '1.2.3.4.5');
    await expectImagingError(() => readDicom(odd), 'unsupported_transfer_syntax', odd, /1\.2\.3\.4\.5 \(unknown transfer syntax\)/);
  });

  it('an empty folder, a folder without DICOM, an empty list, a missing path', async () => {
    const empty = await tmpDir();
    await expectImagingError(() => readDicom(empty), 'empty', empty, /folder is empty/);
    const noDicom = await tmpDir();
    await writeFile(path.join(noDicom, 'a.txt'), 'hello');
    await writeFile(path.join(noDicom, 'scan.nii'), 'not really');
    await expectImagingError(() => readDicom(noDicom), 'empty', noDicom, /no DICOM file found.*NIfTI/);
    await expect(readDicom([])).rejects.toMatchObject({ code: 'empty' });
    const missing = path.join(empty, 'nope');
    await expectImagingError(() => readDicom(missing), 'not_found', missing);
  });

  it('a folder of DICOM files none of which is an image', async () => {
    const dir = await tmpDir();
    await writeFile(path.join(dir, 'sr1'), part10(EXPLICIT_LE, image({ omit: [0x7fe00010] })));
    await writeFile(path.join(dir, 'sr2'), part10(EXPLICIT_LE, image({ omit: [0x7fe00010] })));
    await expectImagingError(() => readDicom(dir), 'no_pixel_data', dir, /none of the 2 DICOM files has Pixel Data/);
  });
});

describe('readDicom: synthetic files', () => {
  it('pixel data at an odd byte offset (typed-array views would throw: copied first)', async () => {
    const dir = await tmpDir();
    const file = await writeImage(dir, 'odd.dcm', {
      pixels: int16Pixels(-5, 0, 7, 1000, -1000, 32),
      extra: [{ tag: 0x00091010, vr: 'OB', value: new Uint8Array([1, 2, 3]) }],
    });
    const set = dicomParser.parseDicom(await readFile(file));
    expect(set.elements.x7fe00010!.dataOffset % 2).toBe(1);
    const v = await readDicom(file);
    expect(Array.from(v.data)).toEqual([-5, 0, 7, 1000, -1000, 32].map((x) => x - 1024));
  });

  it('unsigned 12-bit stored values: bits above BitsStored are not part of the value', async () => {
    const file = await writeImage(await tmpDir(), 'u12.dcm', { signed: false, bitsStored: 12, rescale: [1, 0], pixels: u16(0xf00a, 0x0fff, 0, 1, 2, 3) });
    const v = await readDicom(file);
    expect(Array.from(v.data)).toEqual([10, 4095, 0, 1, 2, 3]);
  });

  it('8-bit signed and unsigned, and 32-bit signed values', async () => {
    const dir = await tmpDir();
    const u8 = await writeImage(dir, 'u8.dcm', { bitsAllocated: 8, signed: false, rescale: [2, -100], pixels: new Uint8Array([0, 1, 2, 127, 128, 255]) });
    expect(Array.from((await readDicom(u8)).data)).toEqual([-100, -98, -96, 154, 156, 410]);
    const s8 = await writeImage(dir, 's8.dcm', { bitsAllocated: 8, signed: true, rescale: [1, 0], pixels: new Uint8Array([0, 1, 0xff, 0x80, 0x7f, 2]) });
    expect(Array.from((await readDicom(s8)).data)).toEqual([0, 1, -1, -128, 127, 2]);
    const i32 = new Uint8Array(24);
    const dv = new DataView(i32.buffer);
    [-70000, 5, 70000, 0, -1, 1].forEach((x, i) => dv.setInt32(i * 4, x, true));
    const s32 = await writeImage(dir, 's32.dcm', { bitsAllocated: 32, rescale: [1, 0], pixels: i32 });
    const v = await readDicom(s32);
    expect(v.data).toBeInstanceOf(Float32Array);
    expect(Array.from(v.data)).toEqual([-70000, 5, 70000, 0, -1, 1]);
  });

  it('a raw dataset without preamble or file meta (explicit VR little endian)', async () => {
    const file = path.join(await tmpDir(), 'raw');
    await writeFile(file, part10(EXPLICIT_LE, image({ pixels: int16Pixels(1, 2, 3, 4, 5, 6) }), { preamble: false }));
    const v = await readDicom(file);
    expect(Array.from(v.data)).toEqual([1, 2, 3, 4, 5, 6].map((x) => x - 1024));
  });

  it('geometry of one slice: affine from IOP, IPP and PixelSpacing', async () => {
    const file = await writeImage(await tmpDir(), 'one.dcm', { ipp: [10, 20, 30], iop: [0, 1, 0, 0, 0, -1] });
    const v = await readDicom(file);
    // sagittal: i along +y (0.5 mm), j along −z (0.5 mm), normal = row × col = (−1, 0, 0)
    expect(v.affine).toEqual([0, 0, -1, 10, 0.5, 0, 0, 20, 0, -0.5, 0, 30, 0, 0, 0, 1]);
    expect(v.spacing).toEqual([0.5, 0.5, 1]);
  });

  it('a CT image without rescale, without PixelSpacing: warnings', async () => {
    const file = await writeImage(await tmpDir(), 'bare.dcm', { rescale: null, omit: [0x00280030] });
    const v = await readDicom(file);
    expect(v.warnings.join('\n')).toMatch(/RescaleSlope \/ RescaleIntercept missing/);
    expect(v.warnings.join('\n')).toMatch(/PixelSpacing is missing: 1 mm is assumed/);
    expect(v.spacing.slice(0, 2)).toEqual([1, 1]);
  });

  it('a header longer than the 64 KiB probe, and a large file cut inside its pixel data', async () => {
    const dir = await tmpDir();
    const big = await writeImage(dir, 'big-header.dcm', {
      pixels: int16Pixels(1, 2, 3, 4, 5, 6),
      extra: [{ tag: 0x00091010, vr: 'OB', value: new Uint8Array(100_000).fill(7) }],
    });
    expect(Array.from((await readDicom(big)).data)).toEqual([1, 2, 3, 4, 5, 6].map((x) => x - 1024));
    const whole = part10(EXPLICIT_LE, image({ rows: 256, cols: 256, pixels: new Uint8Array(256 * 256 * 2) }));
    const cut = path.join(dir, 'cut.dcm');
    await writeFile(cut, whole.subarray(0, 100_000));
    await expectImagingError(() => readDicom(cut), 'truncated', cut, /the file is truncated: Pixel Data needs 131072 bytes/);
  });

  it('a Modality LUT Sequence instead of rescale is refused', async () => {
    const file = await writeImage(await tmpDir(), 'mlut.dcm', {
      rescale: null,
      extra: [{ tag: 0x00283000, vr: 'SQ', value: [[{ tag: 0x00283002, vr: 'US', value: [4096, 0, 12] }]] }],
    });
    await expectImagingError(() => readDicom(file), 'unsupported_image', file, /Modality LUT Sequence/);
  });

  it('a colour image is refused', async () => {
    const els = image({ omit: [0x00280002] });
    els.push({ tag: 0x00280002, vr: 'US', value: [3] });
    const file = path.join(await tmpDir(), 'rgb.dcm');
    await writeFile(file, part10(EXPLICIT_LE, els));
    await expectImagingError(() => readDicom(file), 'unsupported_image', file, /colour image/);
  });

  it('slices without position, at the same position, of different sizes or orientations', async () => {
    const noPos = await tmpDir();
    await writeImage(noPos, 'a', { ipp: [0, 0, 0] });
    const b = await writeImage(noPos, 'b', { omit: [0x00200032] });
    await expectImagingError(() => readDicom(noPos), 'missing_attribute', b, /ImagePositionPatient/);

    const dup = await tmpDir();
    await writeImage(dup, 'a', { ipp: [0, 0, 5] });
    await writeImage(dup, 'b', { ipp: [0, 0, 5] });
    const err = await expectImagingError(() => readDicom(dup), 'inconsistent_series', path.join(dup, 'b'), /same position/);
    expect(err.message).toMatch(/phases, echoes or repeats/);

    const size = await tmpDir();
    await writeImage(size, 'a', { ipp: [0, 0, 0] });
    const big = await writeImage(size, 'b', { ipp: [0, 0, 1], rows: 3, pixels: new Uint8Array(18) });
    await expectImagingError(() => readDicom(size), 'inconsistent_series', big, /image size 3×3 differs/);

    const orient = await tmpDir();
    await writeImage(orient, 'a', { ipp: [0, 0, 0] });
    const loc = await writeImage(orient, 'b', { ipp: [0, 0, 1], iop: [0, 1, 0, 0, 0, -1] });
    await expectImagingError(() => readDicom(orient), 'inconsistent_series', loc, /mixes orientations/);
  });

  it('multi-frame without a position per frame is refused', async () => {
    const els = image({ pixels: new Uint8Array(24) });
    els.push({ tag: 0x00280008, vr: 'IS', value: '2' });
    const file = path.join(await tmpDir(), 'mf.dcm');
    await writeFile(file, part10(EXPLICIT_LE, els));
    await expectImagingError(() => readDicom(file), 'unsupported_image', file, /multi-frame image \(2 frames\) without a position per frame/);
  });

  it('encapsulated single frame split in several fragments, empty Basic Offset Table', async () => {
    const j2k = await codestreamOf(fixture('single/CT_small_j2k_lossless.dcm'));
    const source = (await readFile(fixture('single/CT_small_j2k_lossless.dcm')));
    const set = dicomParser.parseDicom(source);
    const pixelStart = set.elements.x7fe00010!.dataOffset - 12;
    const a = Math.floor(j2k.length / 3) & ~1;
    const b = Math.floor((2 * j2k.length) / 3) & ~1;
    const pixel = encode({ tag: 0x7fe00010, vr: 'OB', value: { fragments: [j2k.subarray(0, a), j2k.subarray(a, b), j2k.subarray(b)], offsets: [] } });
    const file = path.join(await tmpDir(), 'fragments.dcm');
    await writeFile(file, Buffer.concat([source.subarray(0, pixelStart), pixel]));
    const v = await readDicom(file);
    expectMatchesReference(v, reference.entries['single/CT_small_j2k_lossless.dcm']!);
  });

  it('encapsulated multi-frame: frames found by the offset table, or by codestream starts when it is empty', async () => {
    const j2k = await codestreamOf(fixture('single/CT_small_j2k_lossless.dcm'));
    const ref = reference.entries['single/CT_small_j2k_lossless.dcm']!;
    const rows = 128;
    const cols = 128;
    const perFrame = (z: number, intercept: number): El[] => [
      { tag: 0x00209113, vr: 'SQ', value: [[{ tag: 0x00200032, vr: 'DS', value: ds([0, 0, z]) }]] },
      { tag: 0x00289145, vr: 'SQ', value: [[{ tag: 0x00281052, vr: 'DS', value: String(intercept) }, { tag: 0x00281053, vr: 'DS', value: '1' }]] },
    ];
    const half = Math.floor(j2k.length / 2) & ~1;
    const variants: { name: string; fragments: Uint8Array[]; offsets: number[] }[] = [
      { name: 'bot', fragments: [j2k, j2k], offsets: [0, j2k.length + 8] },
      { name: 'one-fragment-per-frame', fragments: [j2k, j2k], offsets: [] },
      { name: 'split-empty-bot', fragments: [j2k.subarray(0, half), j2k.subarray(half), j2k.subarray(0, half), j2k.subarray(half)], offsets: [] },
    ];
    for (const variant of variants) {
      const els = image({ rows, cols, omit: [0x7fe00010, 0x00200032, 0x00281052, 0x00281053] });
      els.push(
        { tag: 0x00280008, vr: 'IS', value: '2' },
        // frame 1 is above frame 2: the reader sorts them
        { tag: 0x52009230, vr: 'SQ', value: [perFrame(3, -1024), perFrame(0, -1000)] },
        { tag: 0x7fe00010, vr: 'OB', value: { fragments: variant.fragments, offsets: variant.offsets } },
      );
      const file = path.join(await tmpDir(), `${variant.name}.dcm`);
      await writeFile(file, part10('1.2.840.10008.1.2.4.90', els));
      const v = await readDicom(file);
      expect(v.dims, variant.name).toEqual([cols, rows, 2]);
      expect(v.spacing[2]).toBe(3);
      const s = stats(v);
      // sorted: the frame at z = 0 (intercept −1000) first
      expect(s.sliceMeans[0]).toBeCloseTo(ref.mean + 24, 6);
      expect(s.sliceMeans[1]).toBeCloseTo(ref.mean, 6);
    }
  });

  it('RLE multi-frame with an empty offset table; a corrupt RLE frame is a decode error', async () => {
    const f1 = int16Pixels(1, 2, 3, 4, 5, 6);
    const f2 = int16Pixels(-1, -2, -3, 300, 400, 500);
    const els = image({ omit: [0x7fe00010, 0x00200032] });
    els.push(
      { tag: 0x00280008, vr: 'IS', value: '2' },
      {
        tag: 0x52009230, vr: 'SQ', value: [
          [{ tag: 0x00209113, vr: 'SQ', value: [[{ tag: 0x00200032, vr: 'DS', value: '0\\0\\0' }]] }],
          [{ tag: 0x00209113, vr: 'SQ', value: [[{ tag: 0x00200032, vr: 'DS', value: '0\\0\\2' }]] }],
        ],
      },
      { tag: 0x7fe00010, vr: 'OB', value: { fragments: [rleEncode16(f1), rleEncode16(f2)], offsets: [] } },
    );
    const dir = await tmpDir();
    const file = path.join(dir, 'rle.dcm');
    await writeFile(file, part10('1.2.840.10008.1.2.5', els));
    const v = await readDicom(file);
    expect(Array.from(v.data)).toEqual([1, 2, 3, 4, 5, 6, -1, -2, -3, 300, 400, 500].map((x) => x - 1024));

    const bad = els.filter((e) => e.tag !== 0x7fe00010);
    const short = rleEncode16(f1).subarray(0, 70);
    bad.push({ tag: 0x7fe00010, vr: 'OB', value: { fragments: [short, rleEncode16(f2)], offsets: [] } });
    const badFile = path.join(dir, 'rle-bad.dcm');
    await writeFile(badFile, part10('1.2.840.10008.1.2.5', bad));
    await expectImagingError(() => readDicom(badFile), 'decode_failed', badFile, /RLE: segment/);
  });

  it('a corrupt JPEG 2000 codestream is a decode error', async () => {
    const j2k = await codestreamOf(fixture('single/CT_small_j2k_lossless.dcm'));
    const els = image({ rows: 128, cols: 128, omit: [0x7fe00010] });
    els.push({ tag: 0x7fe00010, vr: 'OB', value: { fragments: [j2k.subarray(0, 60)], offsets: [] } });
    const file = path.join(await tmpDir(), 'j2k-bad.dcm');
    await writeFile(file, part10('1.2.840.10008.1.2.4.91', els));
    await expectImagingError(() => readDicom(file), 'decode_failed', file, /JPEG 2000/);
  });
});

// ---------------------------------------------------------------------------------------------
// hostile headers: generated inputs (issue 13, D1-D3)

/** Where a codestream declares its size: the SOF3 / SOF55 marker of JPEG, the SIZ marker of JPEG 2000. */
function withDeclaredSize(codestream: Uint8Array, width: number, height: number): Uint8Array {
  const b = new Uint8Array(codestream);
  const v = new DataView(b.buffer);
  for (let i = 0; i + 12 < b.length; i++) {
    if (b[i] !== 0xff) continue;
    const m = b[i + 1];
    if (m === 0xc3 || m === 0xf7) { v.setUint16(i + 5, height); v.setUint16(i + 7, width); return b; }
    if (m === 0x51 && b[i - 1] === 0x4f) { v.setUint32(i + 6, width); v.setUint32(i + 10, height); v.setUint32(i + 14, 0); v.setUint32(i + 18, 0); return b; }
  }
  throw new Error('no frame header in the codestream');
}

describe('readDicom: hostile headers (issue 13)', () => {
  it('D1: a multi-valued decimal attribute with too few values, or one that is not a number, names the file and the attribute', async () => {
    const dir = await tmpDir();
    const cases: Array<[string, El, RegExp]> = [
      ['ipp2', { tag: 0x00200032, vr: 'DS', value: '0\\0' }, /ImagePositionPatient \(0020,0032\) has 2 values \("0\\0"\), 3 are required/],
      ['ps1', { tag: 0x00280030, vr: 'DS', value: '0.5' }, /PixelSpacing \(0028,0030\) has 1 value \("0.5"\), 2 are required/],
      ['iop5', { tag: 0x00200037, vr: 'DS', value: '1\\0\\0\\0\\1' }, /ImageOrientationPatient \(0020,0037\) has 5 values/],
      ['ipp-nan', { tag: 0x00200032, vr: 'DS', value: 'a\\b\\c' }, /ImagePositionPatient \(0020,0032\) "a\\b\\c" holds a value that is not a number/],
      ['ps-empty-value', { tag: 0x00280030, vr: 'DS', value: '0.5\\' }, /PixelSpacing \(0028,0030\) "0.5\\" holds a value that is not a number/],
    ];
    for (const [name, el, message] of cases) {
      const file = path.join(dir, name);
      await writeFile(file, part10(EXPLICIT_LE, [...image({ omit: [el.tag] }), el]));
      await expectImagingError(() => readDicom(file), 'missing_attribute', file, message);
    }
    // in a per-frame functional group of an enhanced multi-frame image too
    const els = image({ omit: [0x7fe00010, 0x00200032] });
    els.push(
      { tag: 0x00280008, vr: 'IS', value: '2' },
      {
        tag: 0x52009230, vr: 'SQ', value: [
          [{ tag: 0x00209113, vr: 'SQ', value: [[{ tag: 0x00200032, vr: 'DS', value: '0\\0\\0' }]] }],
          [{ tag: 0x00209113, vr: 'SQ', value: [[{ tag: 0x00200032, vr: 'DS', value: '0\\0' }]] }],
        ],
      },
      { tag: 0x7fe00010, vr: 'OW', value: new Uint8Array(2 * 3 * 2 * 2) },
    );
    const enhanced = path.join(dir, 'enhanced');
    await writeFile(enhanced, part10(EXPLICIT_LE, els));
    await expectImagingError(() => readDicom(enhanced), 'missing_attribute', enhanced, /ImagePositionPatient \(0020,0032\) has 2 values/);
  });

  it('D2: Rows = Columns = 65535 is refused from the header for every transfer syntax, before anything is allocated', async () => {
    const dir = await tmpDir();
    const huge = { rows: 65535, cols: 65535, pixels: new Uint8Array(0), omit: [0x7fe00010] };
    const frame = (ts: string, fragment: Uint8Array): Buffer => part10(ts, [...image(huge), { tag: 0x7fe00010, vr: 'OB', value: { fragments: [fragment], offsets: [] } }]);
    const rle = rleEncode16(int16Pixels(1, 2, 3, 4, 5, 6));
    const files: Array<[string, Buffer]> = [
      ['native', part10(EXPLICIT_LE, [...image(huge), { tag: 0x7fe00010, vr: 'OW', value: new Uint8Array(12) }])],
      ['rle', frame('1.2.840.10008.1.2.5', rle)],
      ['jpeg-lossless', frame('1.2.840.10008.1.2.4.70', await codestreamOf(fixture('single/CT_small_jpeg_lossless.dcm')))],
      ['jpeg-ls', frame('1.2.840.10008.1.2.4.80', await codestreamOf(fixture('single/CT_small_jpeg_ls_lossless.dcm')))],
      ['j2k', frame('1.2.840.10008.1.2.4.90', await codestreamOf(fixture('single/CT_small_j2k_lossless.dcm')))],
    ];
    for (const [name, bytes] of files) {
      const file = path.join(dir, name);
      await writeFile(file, bytes);
      await expectImagingError(() => readDicom(file), 'too_large', file, /65535×65535 16-bit samples: 4294\.8 million voxels, more than the limit of 268\.4 million/);
    }
  });

  it('D2: a codestream declaring a larger image than its header is refused before it is decoded', async () => {
    const dir = await tmpDir();
    for (const [name, ts, fixtureName] of [
      ['jpeg-lossless', '1.2.840.10008.1.2.4.70', 'CT_small_jpeg_lossless.dcm'],
      ['jpeg-ls', '1.2.840.10008.1.2.4.80', 'CT_small_jpeg_ls_lossless.dcm'],
      ['j2k', '1.2.840.10008.1.2.4.90', 'CT_small_j2k_lossless.dcm'],
    ] as const) {
      const stream = withDeclaredSize(await codestreamOf(fixture('single', fixtureName)), 65535, 65535);
      const file = path.join(dir, name);
      await writeFile(file, part10(ts, [...image({ rows: 128, cols: 128, pixels: new Uint8Array(0), omit: [0x7fe00010] }), { tag: 0x7fe00010, vr: 'OB', value: { fragments: [stream], offsets: [] } }]));
      await expectImagingError(() => readDicom(file), 'decode_failed', file, /the codestream declares 65535×65535×1, the header says 128×128×1/);
    }
  });

  it('the limits apply to the whole series, not only to each file; they can be set', async () => {
    const dir = await tmpDir();
    for (let k = 0; k < 3; k++) await writeImage(dir, `s${k}`, { ipp: [0, 0, k] });
    expect((await readDicom(dir, { limits: { maxVoxels: 18 } })).dims).toEqual([3, 2, 3]);
    await expectImagingError(() => readDicom(dir, { limits: { maxVoxels: 17 } }), 'too_large', dir, /3 slices of 3×2 16-bit samples: 18 voxels, more than the limit of 17/);
    await expectImagingError(() => readDicom(dir, { limits: { maxBytes: 35 } }), 'too_large', dir, /36 bytes|0 MiB of image data/);
  });

  it('D3: a deflated dataset is never inflated past what it declares (a stream of 256 MiB of zeros after a 2×3 image)', async () => {
    const dir = await tmpDir();
    const file = path.join(dir, 'bomb.dcm');
    // the file meta header, then the dataset of a 2×3 image deflated, the stream going on with zeros
    const meta = part10('1.2.840.10008.1.2.1.99', []);
    const dataset = part10(EXPLICIT_LE, image(), { preamble: false });
    const out = createWriteStream(file);
    out.write(meta);
    const deflate = createDeflateRaw({ level: 1 });
    const done = pipeline(deflate, out);
    deflate.write(dataset);
    const zeros = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < 256; i++) if (!deflate.write(zeros)) await once(deflate, 'drain');
    deflate.end();
    await done;
    expect((await stat(file)).size).toBeLessThan(2 * 1024 * 1024);
    const before = process.memoryUsage().rss;
    await expectImagingError(() => readDicom(file), 'too_large', file, /inflates to more than \d+ bytes \(what its header declares/);
    // at most the declared size + 16 MiB of slack is ever inflated (a few copies of it)
    expect(process.memoryUsage().rss - before).toBeLessThan(128 * 1024 * 1024);
    // the same dataset without the zeros reads
    const good = path.join(dir, 'good.dcm');
    await writeFile(good, Buffer.concat([meta, deflateRawSync(dataset)]));
    expect((await readDicom(good)).dims).toEqual([3, 2, 1]);
  });
});

describe('readDicom: NumberOfFrames out of range (issue 13)', () => {
  it('a 1×1 image declaring 100 million frames is refused at once, not walked frame by frame', async () => {
    const file = path.join(await tmpDir(), 'frames.dcm');
    await writeFile(file, part10(EXPLICIT_LE, [...image({ rows: 1, cols: 1, pixels: new Uint8Array(2) }), { tag: 0x00280008, vr: 'IS', value: '100000000' }]));
    await expectImagingError(() => readDicom(file), 'unsupported_image', file, /multi-frame image \(100000000 frames\) without a position per frame/);
    const over = path.join(await tmpDir(), 'frames-over.dcm');
    await writeFile(over, part10(EXPLICIT_LE, [...image({ rows: 1, cols: 1, pixels: new Uint8Array(2) }), { tag: 0x00280008, vr: 'IS', value: '999999999' }]));
    await expectImagingError(() => readDicom(over), 'too_large', over, /999999999 frames of 1×1 16-bit samples/);
  }, 10_000);
});

describe('readDicom: many series (issue 13)', () => {
  it('an error about 300 series lists 50 of them and counts the rest', async () => {
    const dir = await tmpDir();
    for (let i = 0; i < 300; i++) await writeImage(dir, `s${i}`, { series: `1.2.3.${i}` });
    const e = await expectImagingError(() => readDicom(dir), 'multiple_series', dir, /300 series found, choose one .*; and 250 more$/);
    expect(e.series).toHaveLength(50);
    expect(e.detail.length).toBeLessThan(5000);
  });
});
