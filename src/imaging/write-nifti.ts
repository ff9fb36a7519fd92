/**
 * NIfTI-1 writer for label masks (the calcified components), so that a viewer (ITK-SNAP, 3D Slicer,
 * NiiVue…) can overlay them on the CT. Single file (.nii, magic "n+1", data at byte 352), gzip for
 * .nii.gz with node:zlib. The Volume affine (DICOM LPS) is converted to NIfTI's RAS and written as
 * both sform and qform (code 1, scanner anatomical), intent NIFTI_INTENT_LABEL.
 */
import { writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import type { Volume } from './volume.js';

export type MaskData = Uint8Array | Int16Array | Uint16Array | Int32Array | Float32Array;

export interface NiftiMaskOptions {
  /** gzip the output (default: false; writeNiftiMask decides by the file name) */
  gzip?: boolean;
  /** header description, at most 79 ASCII characters */
  description?: string;
  /** NIFTI_INTENT_LABEL (1002, default) or none (0) */
  intent?: 'label' | 'none';
}

export const NIFTI_HEADER_SIZE = 348;
export const NIFTI_VOX_OFFSET = 352;
export const NIFTI_INTENT_LABEL = 1002;

const DATATYPE: Record<string, [code: number, bitpix: number]> = {
  Uint8Array: [2, 8], Int16Array: [4, 16], Int32Array: [8, 32], Float32Array: [16, 32], Uint16Array: [512, 16],
};

/** 4×4 row-major DICOM LPS affine → NIfTI RAS affine (x and y negated). */
export function lpsToRasAffine(a: readonly number[]): number[] {
  const r = [...a];
  for (let c = 0; c < 4; c++) { r[c] = -a[c]!; r[4 + c] = -a[4 + c]!; }
  return r;
}

/** Quaternion parameters of the rotation part of a (RAS) affine, as nifti1_io's nifti_mat44_to_quatern. */
export function affineToQuatern(m: readonly number[]): { b: number; c: number; d: number; qfac: number; pixdim: [number, number, number]; offset: [number, number, number] } {
  const col = (j: number): [number, number, number] => [m[j]!, m[4 + j]!, m[8 + j]!];
  const cols = [col(0), col(1), col(2)];
  const pixdim = cols.map((v) => Math.hypot(...v) || 1) as [number, number, number];
  const R = cols.map((v, j) => v.map((x) => x / pixdim[j]!)) as [number, number, number][]; // R[j] = column j
  const r = (i: number, j: number): number => R[j]![i]!;
  const det = r(0, 0) * (r(1, 1) * r(2, 2) - r(2, 1) * r(1, 2)) - r(0, 1) * (r(1, 0) * r(2, 2) - r(2, 0) * r(1, 2)) + r(0, 2) * (r(1, 0) * r(2, 1) - r(2, 0) * r(1, 1));
  let qfac = 1;
  if (det < 0) { qfac = -1; R[2] = R[2]!.map((x) => -x) as [number, number, number]; }
  let a = r(0, 0) + r(1, 1) + r(2, 2) + 1, b: number, c: number, d: number;
  if (a > 0.5) {
    a = 0.5 * Math.sqrt(a);
    b = (0.25 * (r(2, 1) - r(1, 2))) / a;
    c = (0.25 * (r(0, 2) - r(2, 0))) / a;
    d = (0.25 * (r(1, 0) - r(0, 1))) / a;
  } else {
    const xd = 1 + r(0, 0) - (r(1, 1) + r(2, 2)), yd = 1 + r(1, 1) - (r(0, 0) + r(2, 2)), zd = 1 + r(2, 2) - (r(0, 0) + r(1, 1));
    if (xd > 1) {
      b = 0.5 * Math.sqrt(xd); c = (0.25 * (r(0, 1) + r(1, 0))) / b; d = (0.25 * (r(0, 2) + r(2, 0))) / b; a = (0.25 * (r(2, 1) - r(1, 2))) / b;
    } else if (yd > 1) {
      c = 0.5 * Math.sqrt(yd); b = (0.25 * (r(0, 1) + r(1, 0))) / c; d = (0.25 * (r(1, 2) + r(2, 1))) / c; a = (0.25 * (r(0, 2) - r(2, 0))) / c;
    } else {
      d = 0.5 * Math.sqrt(zd); b = (0.25 * (r(0, 2) + r(2, 0))) / d; c = (0.25 * (r(1, 2) + r(2, 1))) / d; a = (0.25 * (r(1, 0) - r(0, 1))) / d;
    }
    if (a < 0) { b = -b; c = -c; d = -d; }
  }
  return { b, c, d, qfac, pixdim, offset: [m[3]!, m[7]!, m[11]!] };
}

/** Encodes a mask over the volume's grid (index i + nx·(j + ny·k), as Volume.data) as a NIfTI-1 file. */
export function encodeNiftiMask(v: Pick<Volume, 'dims' | 'spacing' | 'affine'>, data: MaskData, options: NiftiMaskOptions = {}): Buffer {
  const [nx, ny, nz] = v.dims;
  if (data.length !== nx * ny * nz) throw new RangeError(`mask has ${data.length} voxels, the volume ${nx}x${ny}x${nz} = ${nx * ny * nz}`);
  const dt = DATATYPE[data.constructor.name];
  if (!dt) throw new TypeError(`unsupported mask type ${data.constructor.name}`);
  const h = Buffer.alloc(NIFTI_VOX_OFFSET);
  h.writeInt32LE(NIFTI_HEADER_SIZE, 0);
  h.write('r', 38, 'latin1');
  [3, nx, ny, nz, 1, 1, 1, 1].forEach((x, n) => h.writeInt16LE(x, 40 + 2 * n));
  h.writeInt16LE(options.intent === 'none' ? 0 : NIFTI_INTENT_LABEL, 68);
  h.writeInt16LE(dt[0], 70);
  h.writeInt16LE(dt[1], 72);
  const ras = lpsToRasAffine(v.affine);
  const q = affineToQuatern(ras);
  [q.qfac, q.pixdim[0], q.pixdim[1], q.pixdim[2], 1, 0, 0, 0].forEach((x, n) => h.writeFloatLE(x, 76 + 4 * n));
  h.writeFloatLE(NIFTI_VOX_OFFSET, 108);
  h.writeFloatLE(1, 112); // scl_slope
  h.writeFloatLE(0, 116); // scl_inter
  h.writeUInt8(2 | 8, 123); // xyzt_units: mm, s
  let max = 0;
  for (let p = 0; p < data.length; p++) if (data[p]! > max) max = data[p]!;
  h.writeFloatLE(max, 124); // cal_max
  h.writeFloatLE(0, 128); // cal_min
  const desc = (options.description ?? 'calcdx calcification labels').replace(/[^\x20-\x7e]/g, '?').slice(0, 79);
  h.write(desc, 148, 'latin1');
  h.writeInt16LE(1, 252); // qform_code: scanner anatomical
  h.writeInt16LE(1, 254); // sform_code
  h.writeFloatLE(q.b, 256); h.writeFloatLE(q.c, 260); h.writeFloatLE(q.d, 264);
  h.writeFloatLE(q.offset[0], 268); h.writeFloatLE(q.offset[1], 272); h.writeFloatLE(q.offset[2], 276);
  for (let n = 0; n < 12; n++) h.writeFloatLE(ras[n]!, 280 + 4 * n);
  h.write(options.intent === 'none' ? '' : 'calcification', 328, 'latin1');
  h.write('n+1\0', 344, 'latin1');
  // bytes 348..351: extension flag 0 (no extensions)
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const le = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  if (!le) throw new Error('big-endian hosts are not supported');
  const file = Buffer.concat([h, body]);
  return options.gzip ? gzipSync(file, { level: 6 }) : file;
}

/** Writes a NIfTI-1 mask; gzip when the path ends in .gz. */
export async function writeNiftiMask(path: string, v: Pick<Volume, 'dims' | 'spacing' | 'affine'>, data: MaskData, options: Omit<NiftiMaskOptions, 'gzip'> = {}): Promise<void> {
  await writeFile(path, encodeNiftiMask(v, data, { ...options, gzip: path.toLowerCase().endsWith('.gz') }));
}
