/**
 * Hostile CT inputs generated on the fly for the hardening tests (issue 13): headers that declare
 * huge images, DICOM attributes with too few values, and compressed files that inflate to far more
 * than their header declares. Large inputs are written as streams (zeros compressed as they are
 * generated), so no big fixture is kept in the repository and none is held in memory.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import { createDeflateRaw, createGzip } from 'node:zlib';
import { encodeNiftiMask } from '../imaging/write-nifti.js';
import { concat, EXPLICIT_VR_LITTLE_ENDIAN, part10, u32, type El } from '../imaging/write-dicom.js';

/** A greyscale 16-bit CT image of `cols` × `rows` as DICOM elements (Pixel Data left out when `pixels` is undefined). */
export function ctImageElements(o: { rows?: number; cols?: number; pixels?: Uint8Array | { fragments: Uint8Array[]; offsets: number[] }; ipp?: string; pixelSpacing?: string } = {}): El[] {
  const rows = o.rows ?? 2;
  const cols = o.cols ?? 3;
  const els: El[] = [
    { tag: 0x00080060, vr: 'CS', value: 'CT' },
    { tag: 0x0020000e, vr: 'UI', value: '1.2.826.0.1.3680043.10.1337.99' },
    { tag: 0x00200032, vr: 'DS', value: o.ipp ?? '0\\0\\0' },
    { tag: 0x00200037, vr: 'DS', value: '1\\0\\0\\0\\1\\0' },
    { tag: 0x00280002, vr: 'US', value: [1] },
    { tag: 0x00280004, vr: 'CS', value: 'MONOCHROME2' },
    { tag: 0x00280010, vr: 'US', value: [rows] },
    { tag: 0x00280011, vr: 'US', value: [cols] },
    { tag: 0x00280030, vr: 'DS', value: o.pixelSpacing ?? '0.5\\0.5' },
    { tag: 0x00280100, vr: 'US', value: [16] },
    { tag: 0x00280101, vr: 'US', value: [16] },
    { tag: 0x00280102, vr: 'US', value: [15] },
    { tag: 0x00280103, vr: 'US', value: [1] },
    { tag: 0x00281052, vr: 'DS', value: '-1024' },
    { tag: 0x00281053, vr: 'DS', value: '1' },
  ];
  if (o.pixels) els.push({ tag: 0x7fe00010, vr: o.pixels instanceof Uint8Array ? 'OW' : 'OB', value: o.pixels });
  return els;
}

/** D1: a small CT file whose ImagePositionPatient has two values. */
export const dicomWithShortPosition = (): Buffer => part10(EXPLICIT_VR_LITTLE_ENDIAN, ctImageElements({ ipp: '0\\0', pixels: new Uint8Array(12) }));

/** D2: an RLE file whose header says 65535 × 65535 (its one frame holds 2 × 3 samples). */
export function rleDicom65535(): Buffer {
  const segment = new Uint8Array([5, 0, 0, 0, 0, 0, 0]); // a literal run of 6 bytes
  const header = new Uint8Array(64);
  header.set(u32(2, 64, 64 + 8));
  const frame = concat([header, segment, new Uint8Array([0x80]), segment, new Uint8Array([0x80])]);
  return part10('1.2.840.10008.1.2.5', ctImageElements({ rows: 65535, cols: 65535, pixels: { fragments: [frame], offsets: [] } }));
}

/** A NIfTI-1 header (+ the 4 bytes up to vox_offset 352, no data) declaring `dims` int16 voxels. */
export function niftiHeaderDeclaring(dims: [number, number, number]): Buffer {
  const b = encodeNiftiMask({ dims: [1, 1, 1], spacing: [1, 1, 1], affine: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1] }, new Int16Array(1), { intent: 'none' });
  dims.forEach((d, i) => b.writeInt16LE(d, 42 + 2 * i));
  return b.subarray(0, 352);
}

/** Writes `head` then `zeroBytes` zeros to `file` as one gzip stream (level 1), without holding either in memory. */
export async function writeGzipWithZeros(file: string, head: Uint8Array, zeroBytes: number): Promise<void> {
  await compressWithZeros(createGzip({ level: 1 }), file, undefined, head, zeroBytes);
}

/**
 * D3: a Deflated Explicit VR Little Endian DICOM file whose dataset is a 2 × 3 image, its deflate
 * stream going on with `zeroBytes` zeros after the dataset.
 */
export async function writeDeflatedDicomWithZeros(file: string, zeroBytes: number): Promise<void> {
  const meta = part10('1.2.840.10008.1.2.1.99', []);
  const dataset = part10(EXPLICIT_VR_LITTLE_ENDIAN, ctImageElements({ pixels: new Uint8Array(12) }), { preamble: false });
  await compressWithZeros(createDeflateRaw({ level: 1 }), file, meta, dataset, zeroBytes);
}

async function compressWithZeros(z: ReturnType<typeof createGzip>, file: string, plainPrefix: Uint8Array | undefined, head: Uint8Array, zeroBytes: number): Promise<void> {
  const out = createWriteStream(file);
  if (plainPrefix) out.write(plainPrefix);
  const done = pipeline(z, out);
  z.write(head);
  const zeros = Buffer.alloc(Math.min(zeroBytes, 4 * 1024 * 1024));
  for (let left = zeroBytes; left > 0; left -= zeros.length) {
    if (!z.write(left >= zeros.length ? zeros : zeros.subarray(0, left))) await once(z, 'drain');
  }
  z.end();
  await done;
}
