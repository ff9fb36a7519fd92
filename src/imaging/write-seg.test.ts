import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import dicomParser from 'dicom-parser';
import { readDicom } from './read-dicom.js';
import { analyseCalcification } from './pattern.js';
import { labelVolume } from './label.js';
import { describeSourceSeries, SourceSeriesError } from './dicom-source.js';
import { buildSegmentation, packFrames, SEG_SOP_CLASS_UID } from './write-seg.js';
import { ds, newUid } from './dicom-out.js';
import { writePhantomStudy, PHANTOM_FRAME_OF_REFERENCE_UID, PHANTOM_SERIES_UID, PHANTOM_STUDY_UID } from '../test-support/dicom-series.js';

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'calcdx-seg-')); });
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

describe('DICOM output helpers', () => {
  it('makes UUID-derived UIDs of at most 64 characters, all different', () => {
    const uids = new Set(Array.from({ length: 200 }, newUid));
    expect(uids.size).toBe(200);
    for (const u of uids) expect(u).toMatch(/^2\.25\.(0|[1-9]\d*)$/);
    for (const u of uids) expect(u.length).toBeLessThanOrEqual(64);
  });
  it('writes DS values in at most 16 characters', () => {
    expect(ds(0.30000000000000004)).toBe('0.3');
    expect(ds(-123.456789012345)).toBe('-123.4567890123');
    expect(ds(1.5)).toBe('1.5');
    for (const x of [1e-7, 123456789.123456, -0.000123456789]) expect(ds(x).length).toBeLessThanOrEqual(16);
  });
  it('packs binary frames first pixel in the lowest bit, frames back to back, even length', () => {
    expect([...packFrames([1, 0, 0, 0, 0, 0, 0, 1, 0, 1], 5, 2)]).toEqual([0x81, 0x02]);
    expect(packFrames(new Uint8Array(9), 9, 1).length).toBe(2);
  });
});

describe('buildSegmentation', () => {
  it('writes one frame per source slice, with the source geometry and references, voxel for voxel the label mask', async () => {
    const { files, instances, truth } = writePhantomStudy(join(dir, 'ph'));
    const volume = await readDicom(files);
    const a = analyseCalcification(volume, truth.roi);
    const labels = labelVolume(a.components);
    const source = describeSourceSeries(instances, volume);
    expect(source.studyInstanceUid).toBe(PHANTOM_STUDY_UID);
    expect(source.seriesInstanceUid).toBe(PHANTOM_SERIES_UID);
    expect(source.patientStudy.PatientID).toBe('CALCDX-PHANTOM');
    const seg = buildSegmentation({ labels, source, algorithmDescription: 'test' });
    // read back with dicom-parser (not the dcmjs that wrote it)
    const p = dicomParser.parseDicom(seg.bytes);
    expect(p.string('x00080016')).toBe(SEG_SOP_CLASS_UID);
    expect(p.string('x00020010')).toBe('1.2.840.10008.1.2.1');
    expect(p.string('x00080060')).toBe('SEG');
    expect(p.string('x0020000d')).toBe(PHANTOM_STUDY_UID);
    expect(p.string('x00200052')).toBe(PHANTOM_FRAME_OF_REFERENCE_UID);
    expect(p.intString('x00280008')).toBe(volume.dims[2]);
    expect(p.uint16('x00280100')).toBe(1);
    // the patient name comes through in UTF-8
    expect(p.string('x00080005')).toBe('ISO_IR 192');
    expect(Buffer.from(p.byteArray.buffer, p.byteArray.byteOffset + p.elements.x00100010!.dataOffset, p.elements.x00100010!.length).toString('utf8').trim()).toBe('Phantom^Test=张^三');
    const seq = p.elements.x52009230!.items!;
    expect(seq.length).toBe(volume.dims[2]);
    for (let k = 0; k < seq.length; k++) {
      const f = seq[k]!.dataSet!;
      const ipp = f.elements.x00209113!.items![0]!.dataSet!.string('x00200032');
      expect(ipp).toBe(source.slices[k]!.imagePositionPatient);
      const ref = f.elements.x00089124!.items![0]!.dataSet!.elements.x00082112!.items![0]!.dataSet!.string('x00081155');
      expect(ref).toBe(source.slices[k]!.sopInstanceUid);
    }
    const seg0 = p.elements.x00620002!.items![0]!.dataSet!;
    expect(seg0.string('x00620005')).toBe('calcification');
    expect(seg0.elements.x00620003!.items![0]!.dataSet!.string('x00080100')).toBe('49755003');
    expect(seg0.elements.x0062000f!.items![0]!.dataSet!.string('x00080100')).toBe('18115005');
    // pixel data: bit p of the data = voxel p of the mask
    const px = p.elements.x7fe00010!;
    const bits = new Uint8Array(p.byteArray.buffer, p.byteArray.byteOffset + px.dataOffset, px.length);
    let ones = 0, mismatches = 0;
    for (let v = 0; v < labels.length; v++) {
      const bit = (bits[v >> 3]! >> (v & 7)) & 1;
      if (bit) ones++;
      if (bit !== (labels[v] ? 1 : 0)) mismatches++;
    }
    expect(mismatches).toBe(0);
    expect(ones).toBe(a.measurements.lesion.calcifiedVoxels);
    expect(ones).toBe(truth.calcifiedVoxels);
  });

  it('describes an irregularly spaced source slice by slice, in the reader\'s order, without a spacing between slices', async () => {
    const folder = fileURLToPath(new URL('../../test/fixtures/dicom/series/irregular/', import.meta.url));
    const files = readdirSync(folder).map((f) => join(folder, f));
    const volume = await readDicom(files);
    const source = describeSourceSeries(files.map((f) => new Uint8Array(readFileSync(f))), volume);
    expect(source.spacingBetweenSlices).toBeUndefined();
    const z = source.slices.map((x) => Number(x.imagePositionPatient.split('\\')[2]));
    expect(z.map((v) => v - z[0]!)).toEqual([0, 2, 4, 8, 10]);
    // a volume whose origin is not the first slice (another series of the same size) is refused
    expect(() => describeSourceSeries(files.map((f) => new Uint8Array(readFileSync(f))), { ...volume, affine: volume.affine.map((x, i) => (i === 11 ? x + 5 : x)) })).toThrow(/not the volume's origin/);
  });

  it('refuses a source it cannot reference: instances that do not match the slices, no frame of reference', async () => {
    const { files, instances } = writePhantomStudy(join(dir, 'ph2'));
    const volume = await readDicom(files);
    expect(() => describeSourceSeries(instances.slice(1), volume)).toThrow(SourceSeriesError);
    const noFor = instances.map((b) => { const c = new Uint8Array(b); const p = dicomParser.parseDicom(c); const e = p.elements.x00200052!; c.set(new Uint8Array(e.length).fill(0), e.dataOffset); return c; });
    expect(() => describeSourceSeries(noFor, volume)).toThrow(/FrameOfReferenceUID/);
  });
});
