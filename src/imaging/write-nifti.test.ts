import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { affineToQuatern, encodeNiftiMask, lpsToRasAffine, NIFTI_INTENT_LABEL, writeNiftiMask } from './write-nifti.js';
import { labelComponents, labelVolume } from './label.js';
import { resolveRoi } from './roi.js';
import { makePhantom } from '../test-support/phantom.js';

/** Minimal NIfTI-1 header reader for the round trip (independent of the writer). */
function parseHeader(b: Buffer) {
  const f = (o: number) => b.readFloatLE(o);
  const qb = f(256), qc = f(260), qd = f(264);
  const qa = Math.sqrt(Math.max(0, 1 - (qb * qb + qc * qc + qd * qd)));
  const qfac = f(76) < 0 ? -1 : 1;
  // nifti1 quaternion → rotation matrix, then × pixdim (qfac on the third column)
  const R = [
    [qa * qa + qb * qb - qc * qc - qd * qd, 2 * (qb * qc - qa * qd), 2 * (qb * qd + qa * qc)],
    [2 * (qb * qc + qa * qd), qa * qa + qc * qc - qb * qb - qd * qd, 2 * (qc * qd - qa * qb)],
    [2 * (qb * qd - qa * qc), 2 * (qc * qd + qa * qb), qa * qa + qd * qd - qc * qc - qb * qb],
  ];
  const pix = [f(80), f(84), f(88) * qfac];
  const qform = [0, 1, 2].flatMap((r) => [R[r]![0]! * pix[0]!, R[r]![1]! * pix[1]!, R[r]![2]! * pix[2]!, f(268 + 4 * r)]);
  return {
    sizeofHdr: b.readInt32LE(0),
    dim: [0, 1, 2, 3, 4, 5, 6, 7].map((n) => b.readInt16LE(40 + 2 * n)),
    intentCode: b.readInt16LE(68),
    datatype: b.readInt16LE(70),
    bitpix: b.readInt16LE(72),
    pixdim: [0, 1, 2, 3].map((n) => f(76 + 4 * n)),
    voxOffset: f(108),
    sclSlope: f(112),
    xyztUnits: b.readUInt8(123),
    calMax: f(124),
    descrip: b.toString('latin1', 148, 228).replace(/\0.*$/s, ''),
    qformCode: b.readInt16LE(252),
    sformCode: b.readInt16LE(254),
    srow: [0, 1, 2].flatMap((r) => [0, 1, 2, 3].map((c) => f(280 + 16 * r + 4 * c))),
    qform,
    magic: b.toString('latin1', 344, 348),
  };
}

describe('NIfTI-1 label mask', () => {
  const { volume, truth } = makePhantom({ objects: ['punctate', 'ring_arc'] });
  const comps = labelComponents(volume, resolveRoi(volume, truth.roi));
  const labels = labelVolume(comps);

  it('round trip: header fields, RAS affine as sform and qform, data', () => {
    const buf = encodeNiftiMask(volume, labels, { description: 'calcdx test' });
    const h = parseHeader(buf);
    expect(h.sizeofHdr).toBe(348);
    expect(h.magic).toBe('n+1\0');
    expect(h.dim).toEqual([3, 96, 96, 64, 1, 1, 1, 1]);
    expect(h.datatype).toBe(2); // uint8
    expect(h.bitpix).toBe(8);
    expect(h.voxOffset).toBe(352);
    expect(h.intentCode).toBe(NIFTI_INTENT_LABEL);
    expect(h.sclSlope).toBe(1);
    expect(h.xyztUnits).toBe(10);
    expect(h.calMax).toBe(6);
    expect(h.descrip).toBe('calcdx test');
    expect([h.qformCode, h.sformCode]).toEqual([1, 1]);
    expect(h.pixdim[1]).toBeCloseTo(0.8, 6);
    expect(h.pixdim[3]).toBeCloseTo(1.5, 6);
    // LPS → RAS: x and y negated
    const ras = [-0.8, 0, 0, 204.4, 0, -0.8, 0, 204.4, 0, 0, 1.5, volume.affine[11]!];
    h.srow.forEach((x, n) => expect(x).toBeCloseTo(ras[n]!, 4));
    h.qform.forEach((x, n) => expect(x).toBeCloseTo(ras[n]!, 4));
    expect(buf.length).toBe(352 + labels.length);
    expect(buf.subarray(352).equals(Buffer.from(labels.buffer, labels.byteOffset, labels.byteLength))).toBe(true);
  });

  it('.nii.gz is gzip of the same bytes; written by extension', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'calcdx-nifti-'));
    try {
      const gz = join(dir, 'labels.nii.gz'), raw = join(dir, 'labels.nii');
      await writeNiftiMask(gz, volume, labels);
      await writeNiftiMask(raw, volume, labels);
      const a = readFileSync(gz), b = readFileSync(raw);
      expect(a[0]).toBe(0x1f);
      expect(a[1]).toBe(0x8b);
      expect(gunzipSync(a).equals(b)).toBe(true);
      expect(parseHeader(b).magic).toBe('n+1\0');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('wider label types, a rejected size, an oblique affine with a reflection', () => {
    const big = new Uint16Array(labels.length);
    big[5] = 300;
    const h = parseHeader(encodeNiftiMask(volume, big));
    expect([h.datatype, h.bitpix, h.calMax]).toEqual([512, 16, 300]);
    expect(() => encodeNiftiMask(volume, new Uint8Array(3))).toThrow(/voxels/);
    const c = Math.cos(0.3), s = Math.sin(0.3);
    // rotation about z, slices running in -z (det < 0 → qfac -1)
    const aff = [0.7 * c, -0.7 * s, 0, 10, 0.7 * s, 0.7 * c, 0, -20, 0, 0, -2, 30, 0, 0, 0, 1];
    const v = { dims: [4, 3, 2] as [number, number, number], spacing: [0.7, 0.7, 2] as [number, number, number], affine: aff };
    const hh = parseHeader(encodeNiftiMask(v, new Uint8Array(24)));
    expect(hh.pixdim[0]).toBe(-1);
    const ras = lpsToRasAffine(aff);
    hh.qform.forEach((x, n) => expect(x).toBeCloseTo(ras[n]!, 5));
    hh.srow.forEach((x, n) => expect(x).toBeCloseTo(ras[n]!, 5));
    expect(affineToQuatern(lpsToRasAffine(volume.affine)).qfac).toBe(1);
  });
});
