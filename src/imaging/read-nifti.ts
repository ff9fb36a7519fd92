/**
 * NIfTI-1 / NIfTI-2 (.nii, .nii.gz) → Volume.
 *
 * A small parser of our own (fixed header layouts of nifti1.h / nifti2.h): nifti-reader-js
 * 0.8 takes the affine from the sform alone for NIfTI-2 and does not expose srow_* when it prefers
 * the qform, so the best-affine rule below (sform, else qform, as nibabel) could not be built on it.
 *
 * Values: raw × scl_slope + scl_inter, no scaling when scl_slope is 0 (or not finite).
 * Geometry: sform when sform_code > 0, else qform when qform_code > 0, else the pixdim diagonal;
 * RAS+ (NIfTI) is turned into LPS (DICOM) by negating the x and y rows of the affine.
 */
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { ImagingError, thrownMessage } from './errors.js';
import { checkVolumeSize, volumeLimits, type VolumeLimits } from './limits.js';
import type { Volume } from './volume.js';

export interface ReadNiftiOptions {
  /** called as the file is read (1 of 2) and converted (2 of 2) */
  onProgress?: (done: number, total: number) => void;
  /** size limits (default DEFAULT_VOLUME_LIMITS), checked on the header before the data is read or inflated */
  limits?: Partial<VolumeLimits>;
}

/** bytes allowed between the header and the data (NIfTI extensions) */
const MAX_EXTENSION_BYTES = 64 * 1024 * 1024;

export const isGzip = (b: Uint8Array): boolean => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

/** NIfTI-1 or NIfTI-2 header at the start of (uncompressed) bytes: its version and byte order. */
export function niftiKind(b: Uint8Array): { version: 1 | 2; littleEndian: boolean } | undefined {
  if (b.length < 348) return undefined;
  const v = new DataView(b.buffer, b.byteOffset, b.length);
  for (const littleEndian of [true, false]) {
    const size = v.getInt32(0, littleEndian);
    // magic "n+1\0" (single file) or "ni1\0" (.hdr/.img pair) at 344; "n+2\0" / "ni2\0" at 4
    if (size === 348 && b[344] === 0x6e && (b[345] === 0x2b || b[345] === 0x69) && b[346] === 0x31 && b[347] === 0) {
      return { version: 1, littleEndian };
    }
    if (size === 540 && b.length >= 540 && b[4] === 0x6e && (b[5] === 0x2b || b[5] === 0x69) && b[6] === 0x32 && b[7] === 0) {
      return { version: 2, littleEndian };
    }
  }
  return undefined;
}

interface DataType {
  name: string;
  bytes: number;
  integer: boolean;
  view: (buffer: ArrayBuffer, offset: number, length: number) => ArrayLike<number>;
}

const DATATYPES: Record<number, DataType> = {
  2: { name: 'uint8', bytes: 1, integer: true, view: (b, o, n) => new Uint8Array(b, o, n) },
  4: { name: 'int16', bytes: 2, integer: true, view: (b, o, n) => new Int16Array(b, o, n) },
  8: { name: 'int32', bytes: 4, integer: true, view: (b, o, n) => new Int32Array(b, o, n) },
  16: { name: 'float32', bytes: 4, integer: false, view: (b, o, n) => new Float32Array(b, o, n) },
  64: { name: 'float64', bytes: 8, integer: false, view: (b, o, n) => new Float64Array(b, o, n) },
  256: { name: 'int8', bytes: 1, integer: true, view: (b, o, n) => new Int8Array(b, o, n) },
  512: { name: 'uint16', bytes: 2, integer: true, view: (b, o, n) => new Uint16Array(b, o, n) },
  768: { name: 'uint32', bytes: 4, integer: true, view: (b, o, n) => new Uint32Array(b, o, n) },
};
const UNSUPPORTED_DATATYPES: Record<number, string> = {
  1: 'binary (1 bit)', 32: 'complex64', 128: 'RGB24', 1024: 'int64', 1280: 'uint64', 1536: 'float128',
  1792: 'complex128', 2048: 'complex256', 2304: 'RGBA32',
};

interface Header {
  version: 1 | 2;
  littleEndian: boolean;
  dim: number[];
  datatype: number;
  pixdim: number[];
  voxOffset: number;
  sclSlope: number;
  sclInter: number;
  xyztUnits: number;
  qformCode: number;
  sformCode: number;
  quatern: [number, number, number];
  qoffset: [number, number, number];
  srow: number[];
  descrip: string;
  headerSize: number;
}

function readHeader(b: Uint8Array, kind: { version: 1 | 2; littleEndian: boolean }): Header {
  const v = new DataView(b.buffer, b.byteOffset, b.length);
  const le = kind.littleEndian;
  const ascii = (from: number, len: number): string => {
    let s = '';
    for (let i = from; i < from + len && b[i]; i++) s += String.fromCharCode(b[i]!);
    return s.trim();
  };
  if (kind.version === 1) {
    const f32 = (o: number): number => v.getFloat32(o, le);
    return {
      version: 1,
      littleEndian: le,
      dim: Array.from({ length: 8 }, (_, i) => v.getInt16(40 + 2 * i, le)),
      datatype: v.getInt16(70, le),
      pixdim: Array.from({ length: 8 }, (_, i) => f32(76 + 4 * i)),
      voxOffset: f32(108),
      sclSlope: f32(112),
      sclInter: f32(116),
      xyztUnits: b[123]!,
      qformCode: v.getInt16(252, le),
      sformCode: v.getInt16(254, le),
      quatern: [f32(256), f32(260), f32(264)],
      qoffset: [f32(268), f32(272), f32(276)],
      srow: Array.from({ length: 12 }, (_, i) => f32(280 + 4 * i)),
      descrip: ascii(148, 80),
      headerSize: 348,
    };
  }
  const f64 = (o: number): number => v.getFloat64(o, le);
  const i64 = (o: number): number => Number(v.getBigInt64(o, le));
  return {
    version: 2,
    littleEndian: le,
    dim: Array.from({ length: 8 }, (_, i) => i64(16 + 8 * i)),
    datatype: v.getInt16(12, le),
    pixdim: Array.from({ length: 8 }, (_, i) => f64(104 + 8 * i)),
    voxOffset: i64(168),
    sclSlope: f64(176),
    sclInter: f64(184),
    xyztUnits: v.getInt32(500, le),
    qformCode: v.getInt32(344, le),
    sformCode: v.getInt32(348, le),
    quatern: [f64(352), f64(360), f64(368)],
    qoffset: [f64(376), f64(384), f64(392)],
    srow: Array.from({ length: 12 }, (_, i) => f64(400 + 8 * i)),
    descrip: ascii(240, 80),
    headerSize: 540,
  };
}

/** qform → 4×4 (RAS), as nifti1_io's quatern_to_mat44. */
function qformMatrix(h: Header, spacing: [number, number, number]): number[] {
  let [b, c, d] = h.quatern;
  let a = 1 - (b * b + c * c + d * d);
  if (a < 1e-7) {
    // a 180° rotation: normalise (b, c, d)
    const s = 1 / Math.sqrt(b * b + c * c + d * d);
    b *= s;
    c *= s;
    d *= s;
    a = 0;
  } else {
    a = Math.sqrt(a);
  }
  const qfac = h.pixdim[0]! < 0 ? -1 : 1;
  const [dx, dy, dz] = [spacing[0], spacing[1], spacing[2] * qfac];
  const r = [
    [a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
    [2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b)],
    [2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - c * c - b * b],
  ];
  return [
    r[0]![0]! * dx, r[0]![1]! * dy, r[0]![2]! * dz, h.qoffset[0],
    r[1]![0]! * dx, r[1]![1]! * dy, r[1]![2]! * dz, h.qoffset[1],
    r[2]![0]! * dx, r[2]![1]! * dy, r[2]![2]! * dz, h.qoffset[2],
    0, 0, 0, 1,
  ];
}

/**
 * Reads a .nii or .nii.gz file (NIfTI-1 or NIfTI-2, either byte order). Only what the header
 * declares is read: a .nii.gz is inflated as a stream that stops once the header and the first
 * volume are in (trailing data, however much, is never inflated), and a header declaring more than
 * the limits is refused as soon as it has arrived.
 */
export async function readNifti(file: string, options: ReadNiftiOptions = {}): Promise<Volume> {
  const limits = volumeLimits(options.limits);
  const fail = (e: unknown): never => {
    if (e instanceof ImagingError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new ImagingError('not_found', file, 'no such file', [], { cause: e });
    throw new ImagingError('unreadable', file, `cannot read the file (${thrownMessage(e)})`, [], { cause: e });
  };
  let size = 0;
  let head = Buffer.alloc(0);
  try {
    const st = await stat(file);
    if (!st.isFile()) throw new ImagingError('unreadable', file, 'not a file');
    size = st.size;
    const fh = await open(file, 'r');
    try {
      head = Buffer.alloc(Math.min(size, 540));
      await fh.read(head, 0, head.length, 0);
      if (!isGzip(head)) {
        // uncompressed: the header, then only the bytes it declares
        const need = declaredBytes(file, head, limits) ?? head.length;
        const bytes = Buffer.allocUnsafe(Math.min(need, size));
        let got = 0;
        while (got < bytes.length) {
          const { bytesRead } = await fh.read(bytes, got, bytes.length - got, got);
          if (bytesRead === 0) break;
          got += bytesRead;
        }
        options.onProgress?.(1, 2);
        return niftiFromBytes(file, bytes.subarray(0, got), options);
      }
    } finally {
      await fh.close();
    }
  } catch (e) {
    fail(e);
  }
  const bytes = await inflateDeclared(file, limits);
  options.onProgress?.(1, 2);
  return niftiFromBytes(file, bytes, options);
}

/**
 * The bytes of a NIfTI file that its header declares (vox_offset + the first 3-D volume), checked
 * against the limits; undefined when the bytes do not (yet) hold a whole header. Invalid headers are
 * left to niftiFromBytes to describe.
 */
function declaredBytes(file: string, b: Uint8Array, limits: VolumeLimits): number | undefined {
  const kind = niftiKind(b);
  if (!kind) return undefined;
  const h = readHeader(b, kind);
  const ndim = h.dim[0]!;
  const type = DATATYPES[h.datatype];
  if (!(ndim >= 1 && ndim <= 7) || !type) return undefined;
  const dims = [1, 2, 3].map((i) => (i <= ndim ? h.dim[i]! : 1));
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 1)) return undefined;
  checkVolumeSize(file, dims, type.bytes, limits, `the header declares ${dims.join('×')} ${type.name} voxels`);
  const offset = h.voxOffset;
  if (!Number.isFinite(offset) || offset < h.headerSize || offset !== Math.floor(offset)) return undefined;
  if (offset - h.headerSize > MAX_EXTENSION_BYTES) {
    throw new ImagingError('too_large', file, `vox_offset ${offset}: ${offset - h.headerSize} bytes of extensions before the data, more than the limit of ${MAX_EXTENSION_BYTES}`);
  }
  return offset + dims[0]! * dims[1]! * dims[2]! * type.bytes;
}

/** Inflates a .nii.gz as a stream, stopping once the bytes its header declares have arrived. */
async function inflateDeclared(file: string, limits: VolumeLimits): Promise<Uint8Array> {
  const source = createReadStream(file);
  const gunzip = createGunzip();
  source.on('error', (e) => gunzip.destroy(e));
  source.pipe(gunzip);
  const chunks: Buffer[] = [];
  let got = 0;
  let need: number | undefined;
  let out: Buffer | undefined;
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      if (!out) {
        chunks.push(chunk);
        got += chunk.length;
        if (got < 540 && need === undefined) continue;
        const start = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
        need = declaredBytes(file, start, limits);
        if (need === undefined) return start; // not a (valid) NIfTI header: niftiFromBytes says why
        out = Buffer.allocUnsafe(need);
        got = start.copy(out, 0, 0, Math.min(start.length, need));
        chunks.length = 0;
      } else {
        got += chunk.copy(out, got, 0, Math.min(chunk.length, out.length - got));
      }
      if (got >= out.length) return out;
    }
  } catch (e) {
    if (e instanceof ImagingError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') throw new ImagingError('unreadable', file, `cannot read the file (${thrownMessage(e)})`, [], { cause: e });
    throw new ImagingError('nifti_invalid', file, `the gzip data is corrupted or truncated (${thrownMessage(e)})`, [], { cause: e });
  } finally {
    source.destroy();
    gunzip.destroy();
  }
  // the stream ended before the declared bytes: what arrived (niftiFromBytes reports the truncation)
  return out ? out.subarray(0, got) : Buffer.concat(chunks);
}

export function niftiFromBytes(file: string, bytes: Uint8Array, options: ReadNiftiOptions = {}): Volume {
  const kind = niftiKind(bytes);
  if (!kind) {
    if (bytes.length < 348) throw new ImagingError('nifti_invalid', file, `not a NIfTI file: ${bytes.length} bytes, shorter than a NIfTI-1 header (348)`);
    throw new ImagingError('nifti_invalid', file, 'not a NIfTI file (no NIfTI-1 / NIfTI-2 header: sizeof_hdr must be 348 or 540, with magic "n+1" / "n+2")');
  }
  if (bytes[kind.version === 1 ? 345 : 5] === 0x69) {
    throw new ImagingError('nifti_unsupported', file, 'a NIfTI header of a .hdr/.img pair: the image data is in another file; convert it to a single .nii');
  }
  const h = readHeader(bytes, kind);
  const warnings: string[] = [];

  // dimensions
  const ndim = h.dim[0]!;
  if (!(ndim >= 1 && ndim <= 7)) throw new ImagingError('nifti_invalid', file, `invalid dim[0] = ${ndim} (must be 1 to 7)`);
  const dimAt = (i: number): number => (i <= ndim ? h.dim[i]! : 1);
  const dims: [number, number, number] = [dimAt(1), dimAt(2), dimAt(3)];
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 1)) throw new ImagingError('nifti_invalid', file, `invalid dimensions ${dims.join('×')}`);
  let extra = 1;
  for (let i = 4; i <= ndim; i++) extra *= Math.max(1, h.dim[i]!);
  if (extra > 1) warnings.push(`${ndim}-D NIfTI (${h.dim.slice(1, ndim + 1).join('×')}): only the first 3-D volume is read`);

  const type = DATATYPES[h.datatype];
  if (!type) {
    throw new ImagingError('nifti_unsupported', file, `datatype ${h.datatype}${UNSUPPORTED_DATATYPES[h.datatype] ? ` (${UNSUPPORTED_DATATYPES[h.datatype]})` : ''} is not supported: uint8, int8, int16, uint16, int32, uint32, float32, float64 are`);
  }
  checkVolumeSize(file, dims, type.bytes, volumeLimits(options.limits), `the header declares ${dims.join('×')} ${type.name} voxels`);
  const n = dims[0] * dims[1] * dims[2];
  const offset = h.voxOffset;
  if (!Number.isFinite(offset) || offset < h.headerSize || offset !== Math.floor(offset)) {
    throw new ImagingError('nifti_invalid', file, `invalid vox_offset ${offset} (the data must start after the ${h.headerSize}-byte header)`);
  }
  const need = offset + n * type.bytes;
  if (need > bytes.length) {
    throw new ImagingError('nifti_invalid', file, `the file is truncated: ${dims.join('×')} ${type.name} voxels from byte ${offset} need ${need} bytes, it has ${bytes.length}`);
  }

  // typed view in native byte order, aligned (copy otherwise)
  let src: ArrayLike<number>;
  const abs = bytes.byteOffset + offset;
  if (h.littleEndian && abs % type.bytes === 0) {
    src = type.view(bytes.buffer as ArrayBuffer, abs, n);
  } else {
    const copy = new Uint8Array(n * type.bytes);
    if (h.littleEndian) {
      copy.set(bytes.subarray(offset, offset + n * type.bytes));
    } else {
      const w = type.bytes;
      for (let p = 0, q = offset; p < n * w; p += w, q += w) {
        for (let k = 0; k < w; k++) copy[p + k] = bytes[q + w - 1 - k]!;
      }
    }
    src = type.view(copy.buffer, 0, n);
  }

  // scaling: none when scl_slope is 0 or not finite
  const scaled = h.sclSlope !== 0 && Number.isFinite(h.sclSlope);
  const slope = scaled ? h.sclSlope : 1;
  const inter = scaled && Number.isFinite(h.sclInter) ? h.sclInter : 0;
  let data: Int16Array | Float32Array;
  if (type.integer && Number.isInteger(slope) && Number.isInteger(inter)) {
    data = new Int16Array(n);
    let fits = true;
    for (let p = 0; p < n; p++) {
      const v = src[p]! * slope + inter;
      if (v < -32768 || v > 32767) {
        fits = false;
        break;
      }
      data[p] = v;
    }
    if (!fits) data = scaleToFloat(src, n, slope, inter);
  } else {
    data = scaleToFloat(src, n, slope, inter);
  }

  // geometry
  const units = h.xyztUnits & 0x07;
  const toMm = units === 1 ? 1000 : units === 3 ? 0.001 : 1;
  if (units === 1 || units === 3) warnings.push(`spatial units are ${units === 1 ? 'metres' : 'micrometres'}: converted to mm`);
  const spacing = [1, 2, 3].map((i) => Math.abs(h.pixdim[i]!) * toMm) as [number, number, number];
  if (spacing.some((s) => !(s > 0) || !Number.isFinite(s))) {
    warnings.push(`invalid voxel size (pixdim ${h.pixdim.slice(1, 4).join(', ')}): 1 mm is assumed, sizes and volumes are not in true mm`);
    for (let i = 0; i < 3; i++) if (!(spacing[i]! > 0) || !Number.isFinite(spacing[i]!)) spacing[i] = 1;
  }
  let ras: number[];
  if (h.sformCode > 0) {
    ras = [...h.srow.map((x) => x * toMm), 0, 0, 0, 1];
  } else if (h.qformCode > 0) {
    ras = qformMatrix(h, spacing);
    for (const i of [3, 7, 11]) ras[i]! *= toMm;
  } else {
    ras = [spacing[0], 0, 0, 0, 0, spacing[1], 0, 0, 0, 0, spacing[2], 0, 0, 0, 0, 1];
    warnings.push('no orientation in the NIfTI header (qform_code and sform_code are 0): patient coordinates are nominal');
  }
  if (ras.some((x) => !Number.isFinite(x))) throw new ImagingError('nifti_invalid', file, 'the qform / sform holds values that are not finite numbers');
  // RAS → LPS: negate the x and y rows (0 - x, not -x: no negative zeros)
  const affine = ras.map((x, i) => (i < 8 ? 0 - x : x));
  warnings.push('NIfTI has no modality: the values are taken to be Hounsfield units');

  options.onProgress?.(2, 2);
  const volume: Volume = { dims, spacing, data, affine, warnings, source: { kind: 'nifti', files: 1 } };
  if (h.descrip) volume.source.description = h.descrip;
  return volume;
}

function scaleToFloat(src: ArrayLike<number>, n: number, slope: number, inter: number): Float32Array {
  const out = new Float32Array(n);
  for (let p = 0; p < n; p++) out[p] = src[p]! * slope + inter;
  return out;
}
