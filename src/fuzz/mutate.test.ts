import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../test-support/cases.js';
import { FAMILIES, loadFixtures, makeMutant } from './families.js';
import { dicomElements, makeZip, mutantSeed, Rng } from './mutate.js';

describe('fuzz mutants', () => {
  const fx = loadFixtures(ROOT);

  it('finds the seeds of every family', () => {
    expect(fx.cases.length).toBeGreaterThanOrEqual(10);
    expect(fx.dicomSingles.map((f) => f.name)).toEqual(expect.arrayContaining(['single/CT_small_rle.dcm', 'single/CT_small_jpeg_ls_near.dcm', 'single/CT_small_j2k.dcm', 'single/MR_small_implicit.dcm', 'single/CT_small_bigendian.dcm']));
    expect(fx.dicomSeries.length).toBeGreaterThan(5);
    expect(fx.nifti.some((f) => f.gz) && fx.nifti.some((f) => !f.gz)).toBe(true);
  });

  it('are reproducible from (seed, family, index) alone, and differ between indices', () => {
    for (const family of FAMILIES) {
      for (const index of [0, 7, 123]) {
        const a = makeMutant(fx, family, 5, index);
        const b = makeMutant(fx, family, 5, index);
        expect(b.what).toBe(a.what);
        expect(Buffer.concat(b.files.map((f) => f.data)).equals(Buffer.concat(a.files.map((f) => f.data)))).toBe(true);
      }
      const whats = new Set(Array.from({ length: 30 }, (_, i) => makeMutant(fx, family, 5, i).what));
      expect(whats.size).toBeGreaterThan(15);
    }
    expect(mutantSeed(1, 'case', 1)).not.toBe(mutantSeed(2, 'case', 1));
    expect(new Rng(3).next()).toBe(new Rng(3).next());
  });

  it('walks DICOM elements (explicit little endian, big endian, implicit) to the header fields it mutates', () => {
    const rows = (file: string) => {
      const b = readFileSync(join(ROOT, 'test', 'fixtures', 'dicom', 'single', file));
      const el = dicomElements(b).find((e) => e.tag === 0x00280010)!;
      return el.big ? b.readUInt16BE(el.valueOffset) : b.readUInt16LE(el.valueOffset);
    };
    expect(rows('CT_small.dcm')).toBe(128);
    expect(rows('CT_small_bigendian.dcm')).toBe(128);
    expect(rows('MR_small_implicit.dcm')).toBe(64);
  });

  it('writes zips that declare what it is told', () => {
    const z = makeZip([{ name: 'a', data: Buffer.from('xyz'), declaredSize: 0xffffffff }]);
    expect(z.readUInt32LE(0)).toBe(0x04034b50);
    expect(z.readUInt32LE(22)).toBe(0xffffffff);
  });
});
