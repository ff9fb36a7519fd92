/**
 * DICOM Part 10 series → Volume in Hounsfield units.
 *
 * Two passes: the first reads the header of every file (only the first 64 KiB when that holds the
 * whole header) to group the files by SeriesInstanceUID and sort the slices along the slice normal;
 * the second reads each file of the chosen series once, decodes its frames and writes HU straight
 * into one preallocated typed array.
 *
 * Transfer syntaxes: implicit / explicit VR little endian, explicit VR big endian, deflated explicit
 * VR little endian, RLE lossless, JPEG lossless (process 14, .57 and .70: jpeg-lossless-decoder-js),
 * JPEG-LS (.80, .81: CharLS compiled to WebAssembly, @cornerstonejs/codec-charls),
 * JPEG 2000 (.90, .91: OpenJPEG compiled to WebAssembly, @cornerstonejs/codec-openjpeg).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { constants as zlibConstants, inflateRawSync } from 'node:zlib';
import path from 'node:path';
import dicomParser from 'dicom-parser';
import type { DataSet, Element } from 'dicom-parser';
import { describeSeries, ImagingError, thrownMessage, type SeriesSummary } from './errors.js';
import { checkVolumeSize, volumeLimits, type VolumeLimits } from './limits.js';
import type { Volume, VoxelBox } from './volume.js';

export interface ReadDicomOptions {
  /** the series to read when the files hold several */
  seriesInstanceUid?: string;
  /**
   * Called after each file read in the first pass and each slice decoded in the second.
   * total = files + slices; until the series is chosen, slices are counted as one per file.
   */
  onProgress?: (done: number, total: number) => void;
  /**
   * DICOM instances held in memory (e.g. retrieved over DICOMweb), by name: the input is then a list
   * of these names, read from here instead of the file system (errors name the instance by it).
   */
  instances?: ReadonlyMap<string, Uint8Array>;
  /** size limits (default DEFAULT_VOLUME_LIMITS): checked on what the headers declare, before decoding */
  limits?: Partial<VolumeLimits>;
  /**
   * The part of the volume that will be used, from its geometry (known from the headers, before any
   * pixel is read): voxel box, inclusive. Only the slices it spans are read and decoded, and only its
   * rows and columns converted to HU (Volume.region); the voxels outside stay 0. Undefined: all.
   */
  region?: (geometry: VolumeGeometry) => VoxelBox | undefined;
}

/** What the headers say of the volume: its size and its voxel → patient mapping. */
export type VolumeGeometry = Pick<Volume, 'dims' | 'spacing' | 'affine'>;

// ---------------------------------------------------------------------------------------------
// transfer syntaxes

type Codec = 'native' | 'rle' | 'jpeg-lossless' | 'jpeg-ls' | 'j2k';

const TRANSFER_SYNTAXES: Record<string, { name: string; codec?: Codec }> = {
  '1.2.840.10008.1.2': { name: 'Implicit VR Little Endian', codec: 'native' },
  '1.2.840.10008.1.2.1': { name: 'Explicit VR Little Endian', codec: 'native' },
  '1.2.840.10008.1.2.1.99': { name: 'Deflated Explicit VR Little Endian', codec: 'native' },
  '1.2.840.10008.1.2.2': { name: 'Explicit VR Big Endian', codec: 'native' },
  '1.2.840.10008.1.2.5': { name: 'RLE Lossless', codec: 'rle' },
  '1.2.840.10008.1.2.4.57': { name: 'JPEG Lossless, Non-Hierarchical (Process 14)', codec: 'jpeg-lossless' },
  '1.2.840.10008.1.2.4.70': { name: 'JPEG Lossless, Non-Hierarchical, First-Order Prediction', codec: 'jpeg-lossless' },
  '1.2.840.10008.1.2.4.90': { name: 'JPEG 2000 Image Compression (Lossless Only)', codec: 'j2k' },
  '1.2.840.10008.1.2.4.91': { name: 'JPEG 2000 Image Compression', codec: 'j2k' },
  // known but not supported: named in the error
  '1.2.840.10008.1.2.4.50': { name: 'JPEG Baseline (Process 1)' },
  '1.2.840.10008.1.2.4.51': { name: 'JPEG Extended (Process 2 & 4)' },
  '1.2.840.10008.1.2.4.80': { name: 'JPEG-LS Lossless', codec: 'jpeg-ls' },
  '1.2.840.10008.1.2.4.81': { name: 'JPEG-LS Lossy (Near-Lossless)', codec: 'jpeg-ls' },
  '1.2.840.10008.1.2.4.92': { name: 'JPEG 2000 Part 2 Multi-component (Lossless Only)' },
  '1.2.840.10008.1.2.4.93': { name: 'JPEG 2000 Part 2 Multi-component' },
  '1.2.840.10008.1.2.4.100': { name: 'MPEG2 Main Profile / Main Level' },
  '1.2.840.10008.1.2.4.102': { name: 'MPEG-4 AVC/H.264' },
  '1.2.840.10008.1.2.4.201': { name: 'High-Throughput JPEG 2000 (Lossless Only)' },
  '1.2.840.10008.1.2.4.202': { name: 'High-Throughput JPEG 2000 with RPCL Options (Lossless Only)' },
  '1.2.840.10008.1.2.4.203': { name: 'High-Throughput JPEG 2000' },
};

export const SUPPORTED_TRANSFER_SYNTAXES: readonly string[] = Object.entries(TRANSFER_SYNTAXES)
  .filter(([, t]) => t.codec).map(([uid]) => uid);

const transferSyntaxName = (uid: string): string => TRANSFER_SYNTAXES[uid]?.name ?? 'unknown transfer syntax';

// ---------------------------------------------------------------------------------------------
// file headers (first pass)

type Vec3 = [number, number, number];

interface FrameGeometry {
  position?: Vec3;
  orientation?: [number, number, number, number, number, number];
  /** [row spacing, column spacing] as in PixelSpacing */
  pixelSpacing?: [number, number];
  slope: number;
  intercept: number;
  /** true when RescaleSlope / RescaleIntercept were absent */
  defaultRescale: boolean;
}

interface FileHeader {
  file: string;
  size: number;
  transferSyntax: string;
  seriesInstanceUid: string;
  seriesDescription?: string;
  seriesNumber?: number;
  modality?: string;
  hasPixelData: boolean;
  /** a problem that matters only if this file's series is read */
  problem?: ImagingError;
  rows: number;
  columns: number;
  bitsAllocated: number;
  bitsStored: number;
  pixelRepresentation: number;
  frames: FrameGeometry[];
  sliceThickness?: number;
}

const HEADER_PROBE = 64 * 1024;
const PIXEL_DATA = 'x7fe00010';

/**
 * Reads the start of a file (or all of it) into one scratch buffer, reused from file to file.
 * Synchronous reads: for hundreds of small files they are several times faster than fs/promises;
 * readDicom yields to the event loop between files (see `breathe`) so a progress bar still moves.
 */
class FileReader {
  private scratch = Buffer.alloc(0);

  /**
   * `maxWhole`: the largest file read whole (a larger one is refused as too_large); `memory`: instances
   * held in memory, read instead of files of the same name
   */
  constructor(private readonly maxWhole = Infinity, private readonly memory?: ReadonlyMap<string, Uint8Array>) {}

  read(file: string, limit = Infinity): { bytes: Buffer; size: number } {
    const m = this.memory?.get(file);
    if (m) {
      if (limit === Infinity && m.length > this.maxWhole) {
        throw new ImagingError('too_large', file, `the instance is ${m.length} bytes, more than the limit of ${this.maxWhole} for one DICOM file`);
      }
      return { bytes: Buffer.from(m.buffer, m.byteOffset, Math.min(m.length, limit)), size: m.length };
    }
    let fd: number | undefined;
    try {
      fd = openSync(file, 'r');
      const size = fstatSync(fd).size;
      if (limit === Infinity && size > this.maxWhole) {
        throw new ImagingError('too_large', file, `the file is ${size} bytes, more than the limit of ${this.maxWhole} for one DICOM file`);
      }
      const length = Math.min(size, limit);
      if (this.scratch.length < length) this.scratch = Buffer.allocUnsafeSlow(Math.max(length, Math.min(2 * this.scratch.length, 1 << 30)));
      let got = 0;
      while (got < length) {
        const n = readSync(fd, this.scratch, got, length - got, got);
        if (n === 0) break;
        got += n;
      }
      return { bytes: this.scratch.subarray(0, got), size };
    } catch (e) {
      if (e instanceof ImagingError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new ImagingError('not_found', file, 'no such file (it disappeared while the folder was read)', [], { cause: e });
      throw new ImagingError('unreadable', file, `cannot read the file (${thrownMessage(e)})`, [], { cause: e });
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
}

/** Lets the event loop run (progress output, signals) about every 30 ms of synchronous work. */
function breather(): () => Promise<void> {
  let last = performance.now();
  return async () => {
    if (performance.now() - last < 30) return;
    await new Promise((resolve) => setImmediate(resolve));
    last = performance.now();
  };
}

const hasDicmPrefix = (b: Uint8Array): boolean =>
  b.length >= 132 && b[128] === 0x44 && b[129] === 0x49 && b[130] === 0x43 && b[131] === 0x4d;

/**
 * A raw dataset without preamble and file meta (old ACR-NEMA style exports): starts with a tag of
 * group 0008 (or 0002), little endian. Returns the transfer syntax to parse it with, or undefined.
 */
function rawDatasetSyntax(b: Uint8Array): string | undefined {
  if (b.length < 12 || b[1] !== 0x00 || (b[0] !== 0x08 && b[0] !== 0x02) || b[3] === undefined) return undefined;
  const isLetter = (c: number | undefined): boolean => c !== undefined && c >= 0x41 && c <= 0x5a;
  if (isLetter(b[4]) && isLetter(b[5])) return '1.2.840.10008.1.2.1';
  // implicit VR: a 4-byte length that fits in the file
  const len = (b[4] ?? 0) | ((b[5] ?? 0) << 8) | ((b[6] ?? 0) << 16) | ((b[7] ?? 0) << 24);
  return len >= 0 && len < b.length ? '1.2.840.10008.1.2' : undefined;
}

/** True when the bytes look like DICOM (Part 10 or a raw dataset). */
export function looksLikeDicom(b: Uint8Array): boolean {
  return hasDicmPrefix(b) || rawDatasetSyntax(b) !== undefined;
}

/** dicom-parser throws strings and objects; this turns them into one message. */
function parserMessage(e: unknown): string {
  if (e && typeof e === 'object' && 'exception' in e) return String((e as { exception: unknown }).exception);
  return thrownMessage(e);
}

/** bytes a deflated dataset may hold besides its Pixel Data (other elements, before and after it) */
const DEFLATE_SLACK = 16 * 1024 * 1024;

const concatBytes = (a: Uint8Array, b: Uint8Array): Uint8Array => {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
};

/**
 * The inflater given to dicom-parser for Deflated Explicit VR Little Endian: never inflates past
 * what the dataset declares. It first inflates growing prefixes of the deflated bytes (each
 * prefix's output is bounded) until the Pixel Data element's header is reached, checks the length it
 * declares against the limits, then inflates the whole dataset with the output capped at that length
 * (+ slack for the other elements): a stream that inflates to more is refused, not inflated whole.
 */
function boundedInflater(file: string, limits: VolumeLimits): (bytes: Uint8Array, position: number) => Uint8Array {
  const tooLarge = (detail: string, cause?: unknown) => new ImagingError('too_large', file, detail, [], { cause });
  const inflate = (input: Uint8Array, cap: number, partial: boolean): Buffer => {
    try {
      return inflateRawSync(input, { maxOutputLength: cap, ...(partial ? { finishFlush: zlibConstants.Z_SYNC_FLUSH } : {}) });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) {
        throw tooLarge(`the deflated dataset inflates to more than ${cap} bytes${partial ? ' before its Pixel Data' : ' (what its header declares, with room for the other elements)'}`, e);
      }
      throw new ImagingError('truncated', file, `the deflated dataset cannot be inflated (${thrownMessage(e)})`, [], { cause: e });
    }
  };
  return (bytes, position) => {
    const meta = bytes.subarray(0, position);
    const deflated = bytes.subarray(position);
    const headerCap = limits.maxBytes + DEFLATE_SLACK;
    let declared: number | undefined;
    for (let k = 16 * 1024; declared === undefined; k *= 4) {
      const prefix = concatBytes(meta, inflate(deflated.subarray(0, k), Math.min(headerCap, 4 * DEFLATE_SLACK), true));
      try {
        const pixel = dicomParser.parseDicom(prefix, { untilTag: PIXEL_DATA, inflater: () => prefix } as never).elements[PIXEL_DATA];
        if (pixel && pixel.length !== 0xffffffff) declared = pixel.dataOffset - position + pixel.length;
      } catch {
        // the prefix ends inside an element: inflate a longer one
      }
      if (k >= deflated.length) break;
    }
    if (declared !== undefined && declared > headerCap) {
      throw tooLarge(`the deflated dataset declares Pixel Data up to byte ${declared}, more than the limit of ${headerCap}`);
    }
    return concatBytes(meta, inflate(deflated, declared !== undefined ? declared + DEFLATE_SLACK : headerCap, false));
  };
}

function parse(file: string, bytes: Uint8Array, untilPixelData: boolean, limits: VolumeLimits): DataSet {
  const options: { untilTag?: string; TransferSyntaxUID?: string; inflater?: (b: Uint8Array, p: number) => Uint8Array } = { inflater: boundedInflater(file, limits) };
  if (untilPixelData) options.untilTag = PIXEL_DATA;
  if (!hasDicmPrefix(bytes)) {
    const ts = rawDatasetSyntax(bytes);
    if (!ts) throw new ImagingError('unknown_format', file, 'not a DICOM file (no "DICM" prefix at byte 128)');
    options.TransferSyntaxUID = ts;
  }
  try {
    return dicomParser.parseDicom(bytes, options as { untilTag: string });
  } catch (e) {
    if (e instanceof ImagingError) throw e;
    throw new ImagingError('truncated', file, `cannot parse the DICOM file, it may be truncated or corrupted (${parserMessage(e)})`, [], { cause: e });
  }
}

const str = (ds: DataSet, tag: string): string | undefined => {
  const s = ds.string(tag);
  return s === undefined || s === '' ? undefined : s;
};

/** The first value of a decimal string (DS) attribute; undefined when absent or not a finite number. */
const decimal = (ds: DataSet, tag: string): number | undefined => {
  if (!ds.elements[tag]?.length) return undefined;
  const v = ds.floatString(tag, 0);
  return v === undefined || !Number.isFinite(v) ? undefined : v;
};

const ATTRIBUTE_NAMES: Record<string, string> = {
  x00200032: 'ImagePositionPatient',
  x00200037: 'ImageOrientationPatient',
  x00280030: 'PixelSpacing',
};
const attributeName = (tag: string): string => `${ATTRIBUTE_NAMES[tag] ?? 'attribute'} (${tag.slice(1, 5)},${tag.slice(5)})`;

/**
 * The n values of a multi-valued decimal string attribute (ImagePositionPatient: 3, …); undefined
 * when the attribute is absent or empty. Fewer values than n, or a value that is not a finite
 * number, is an error naming the attribute (dicom-parser would throw a TypeError on a missing value).
 */
function decimals(file: string, ds: DataSet, tag: string, n: number): number[] | undefined {
  const el = ds.elements[tag];
  if (!el?.length) return undefined;
  const text = ds.string(tag) ?? '';
  if (text === '') return undefined;
  const parts = text.split('\\');
  const shown = text.length > 80 ? `${text.slice(0, 77)}…` : text;
  if (parts.length < n) {
    throw new ImagingError('missing_attribute', file, `${attributeName(tag)} has ${parts.length} value${parts.length === 1 ? '' : 's'} ("${shown}"), ${n} are required`);
  }
  const out = parts.slice(0, n).map((p) => (p.trim() === '' ? NaN : Number(p.trim())));
  if (out.some((v) => !Number.isFinite(v))) {
    throw new ImagingError('missing_attribute', file, `${attributeName(tag)} "${shown}" holds a value that is not a number (${n} decimal numbers are required)`);
  }
  return out;
}

const uint16 = (ds: DataSet, tag: string): number | undefined => (ds.elements[tag]?.length ? ds.uint16(tag) : undefined);

/** The first item of a sequence, as a dataset. */
const item = (ds: DataSet | undefined, tag: string): DataSet | undefined => ds?.elements[tag]?.items?.[0]?.dataSet;

function frameGeometry(file: string, own: DataSet, groups: (DataSet | undefined)[]): FrameGeometry {
  // functional groups (enhanced multi-frame) first, then the top-level attributes
  const find = (seq: string, attr: string): DataSet => {
    for (const g of groups) {
      const it = item(g, seq);
      if (it?.elements[attr]) return it;
    }
    return own;
  };
  const ipp = decimals(file, find('x00209113', 'x00200032'), 'x00200032', 3);
  const iop = decimals(file, find('x00209116', 'x00200037'), 'x00200037', 6);
  const ps = decimals(file, find('x00289110', 'x00280030'), 'x00280030', 2);
  const rescale = find('x00289145', 'x00281053');
  const slope = decimal(rescale, 'x00281053');
  const intercept = decimal(find('x00289145', 'x00281052'), 'x00281052');
  return {
    position: ipp as Vec3 | undefined,
    orientation: iop as FrameGeometry['orientation'],
    pixelSpacing: ps && ps[0]! > 0 && ps[1]! > 0 ? (ps as [number, number]) : undefined,
    slope: slope === undefined || slope === 0 ? 1 : slope,
    intercept: intercept ?? 0,
    defaultRescale: slope === undefined && intercept === undefined,
  };
}

function readHeader(file: string, size: number, ds: DataSet, rawSyntax: string | undefined, limits: VolumeLimits): FileHeader {
  // a Part 10 file without TransferSyntaxUID in its meta header: implicit VR little endian
  const transferSyntax = rawSyntax ?? str(ds, 'x00020010') ?? '1.2.840.10008.1.2';
  const pixel = ds.elements[PIXEL_DATA];
  const h: FileHeader = {
    file,
    size,
    transferSyntax,
    seriesInstanceUid: str(ds, 'x0020000e') ?? '',
    seriesDescription: str(ds, 'x0008103e'),
    seriesNumber: ds.elements.x00200011?.length ? ds.intString('x00200011') : undefined,
    modality: str(ds, 'x00080060'),
    hasPixelData: pixel !== undefined,
    rows: 0,
    columns: 0,
    bitsAllocated: 0,
    bitsStored: 0,
    pixelRepresentation: 0,
    frames: [],
    sliceThickness: decimal(ds, 'x00180050'),
  };
  if (!pixel) return h;
  const problem = (code: ConstructorParameters<typeof ImagingError>[0], detail: string): FileHeader => {
    h.problem = new ImagingError(code, file, detail);
    return h;
  };
  const codec = TRANSFER_SYNTAXES[transferSyntax]?.codec;
  if (!codec) {
    return problem('unsupported_transfer_syntax', `transfer syntax ${transferSyntax} (${transferSyntaxName(transferSyntax)}) is not supported; supported: ${SUPPORTED_TRANSFER_SYNTAXES.map((u) => `${u} (${transferSyntaxName(u)})`).join(', ')}`);
  }
  const required: [string, string][] = [['x00280010', 'Rows'], ['x00280011', 'Columns'], ['x00280100', 'BitsAllocated'], ['x00280103', 'PixelRepresentation']];
  for (const [tag, name] of required) {
    if (uint16(ds, tag) === undefined) return problem('missing_attribute', `${name} (${tag.slice(1, 5)},${tag.slice(5)}) is missing: the pixel values cannot be read without it`);
  }
  h.rows = uint16(ds, 'x00280010')!;
  h.columns = uint16(ds, 'x00280011')!;
  h.bitsAllocated = uint16(ds, 'x00280100')!;
  h.bitsStored = uint16(ds, 'x00280101') ?? h.bitsAllocated;
  h.pixelRepresentation = uint16(ds, 'x00280103')!;
  const samples = uint16(ds, 'x00280002') ?? 1;
  if (h.rows === 0 || h.columns === 0) return problem('unsupported_image', `empty image (${h.columns}×${h.rows})`);
  if (h.pixelRepresentation !== 0 && h.pixelRepresentation !== 1) return problem('missing_attribute', `invalid PixelRepresentation ${h.pixelRepresentation} (must be 0 or 1)`);
  if (![8, 16, 32].includes(h.bitsAllocated)) return problem('unsupported_image', `BitsAllocated ${h.bitsAllocated} is not supported (8, 16 or 32)`);
  if (h.bitsStored < 1 || h.bitsStored > h.bitsAllocated) return problem('missing_attribute', `invalid BitsStored ${h.bitsStored} for BitsAllocated ${h.bitsAllocated}`);
  if (samples !== 1) return problem('unsupported_image', `colour image (SamplesPerPixel ${samples}, ${str(ds, 'x00280004') ?? 'no PhotometricInterpretation'}): only greyscale CT images give HU`);
  const nFrames = ds.elements.x00280008?.length ? ds.intString('x00280008') ?? 1 : 1;
  if (!Number.isInteger(nFrames) || nFrames < 1) return problem('missing_attribute', `invalid NumberOfFrames "${str(ds, 'x00280008')}"`);
  // what the header declares, before anything is allocated or decoded for it
  try {
    checkVolumeSize(file, [h.columns, h.rows, nFrames], h.bitsAllocated / 8, limits, `the header declares ${nFrames} frame${nFrames === 1 ? '' : 's'} of ${h.columns}×${h.rows} ${h.bitsAllocated}-bit samples`);
  } catch (e) {
    h.problem = e as ImagingError;
    return h;
  }
  const shared = item(ds, 'x52009229');
  const perFrame = ds.elements.x52009230?.items;
  // checked before the frames are walked: NumberOfFrames may say hundreds of millions
  const framePositions = perFrame?.filter((f) => item(f.dataSet, 'x00209113')?.elements.x00200032).length ?? 0;
  if (nFrames > 1 && framePositions < nFrames) {
    return problem('unsupported_image', `multi-frame image (${nFrames} frames) without a position per frame (PerFrameFunctionalGroupsSequence / PlanePositionSequence)`);
  }
  try {
    for (let f = 0; f < nFrames; f++) h.frames.push(frameGeometry(file, ds, [perFrame?.[f]?.dataSet, shared]));
  } catch (e) {
    if (!(e instanceof ImagingError)) throw e;
    h.frames = [];
    h.problem = e;
    return h;
  }
  if (ds.elements.x00283000 && !ds.elements.x00281053) {
    return problem('unsupported_image', 'the stored values are mapped by a Modality LUT Sequence (0028,3000), which is not supported (only RescaleSlope / RescaleIntercept)');
  }
  if (codec === 'native' && pixel.length !== 0xffffffff) {
    const need = h.rows * h.columns * (h.bitsAllocated / 8) * nFrames;
    // the end of the data: the bytes parsed when the whole file was read (inflated for deflate), else the file size
    const end = ds.byteArray.length >= size ? ds.byteArray.length : size;
    if (pixel.dataOffset + need > end) {
      return problem('truncated', `the file is truncated: Pixel Data needs ${need} bytes from byte ${pixel.dataOffset}, the file has ${end - pixel.dataOffset}`);
    }
    if (pixel.length < need) return problem('truncated', `Pixel Data holds ${pixel.length} bytes, ${h.columns}×${h.rows}×${nFrames} frame(s) of ${h.bitsAllocated} bits need ${need}`);
  }
  return h;
}

// ---------------------------------------------------------------------------------------------
// listing files

async function listFolder(folder: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      throw new ImagingError('unreadable', dir, `cannot list the folder (${thrownMessage(e)})`, [], { cause: e });
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const p = path.join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() || e.isSymbolicLink()) out.push(p);
    }
  };
  await walk(folder);
  return out;
}

async function statOrThrow(p: string): Promise<import('node:fs').Stats> {
  try {
    return await stat(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new ImagingError('not_found', p, 'no such file or folder', [], { cause: e });
    throw new ImagingError('unreadable', p, `cannot read (${thrownMessage(e)})`, [], { cause: e });
  }
}

// ---------------------------------------------------------------------------------------------
// geometry

const dot = (a: readonly number[], b: readonly number[]): number => a[0]! * b[0]! + a[1]! * b[1]! + a[2]! * b[2]!;
const cross = (a: readonly number[], b: readonly number[]): Vec3 => [
  a[1]! * b[2]! - a[2]! * b[1]!,
  a[2]! * b[0]! - a[0]! * b[2]!,
  a[0]! * b[1]! - a[1]! * b[0]!,
];
const sub = (a: readonly number[], b: readonly number[]): Vec3 => [a[0]! - b[0]!, a[1]! - b[1]!, a[2]! - b[2]!];
const norm = (a: readonly number[]): number => Math.sqrt(dot(a, a));
const scale = (a: readonly number[], s: number): Vec3 => [a[0]! * s, a[1]! * s, a[2]! * s];
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const fmt = (x: number, digits = 3): string => String(Number(x.toFixed(digits)));

interface Slice {
  header: FileHeader;
  frame: number;
  geometry: FrameGeometry;
  /** projection of the position on the slice normal */
  d: number;
}

interface Geometry {
  slices: Slice[];
  spacing: [number, number, number];
  affine: number[];
  warnings: string[];
}

function geometry(slices: Slice[]): Geometry {
  const warnings: string[] = [];
  const first = slices[0]!;
  const { rows, columns } = first.header;
  let orientation = first.geometry.orientation;
  let pixelSpacing = first.geometry.pixelSpacing;
  for (const s of slices) {
    const h = s.header;
    if (h.rows !== rows || h.columns !== columns) {
      throw new ImagingError('inconsistent_series', h.file, `image size ${h.columns}×${h.rows} differs from ${columns}×${rows} in ${first.header.file}`);
    }
    const o = s.geometry.orientation;
    if (orientation && o && o.some((v, i) => Math.abs(v - orientation![i]!) > 1e-4)) {
      throw new ImagingError('inconsistent_series', h.file, `ImageOrientationPatient [${o.join(', ')}] differs from [${orientation.join(', ')}] in ${first.header.file}: the series mixes orientations (a localizer?)`);
    }
    const p = s.geometry.pixelSpacing;
    if (pixelSpacing && p && p.some((v, i) => Math.abs(v - pixelSpacing![i]!) > 1e-4 * Math.max(1, v))) {
      throw new ImagingError('inconsistent_series', h.file, `PixelSpacing [${p.join(', ')}] differs from [${pixelSpacing.join(', ')}] in ${first.header.file}`);
    }
  }
  if (slices.length > 1) {
    for (const s of slices) {
      if (!s.geometry.position) throw new ImagingError('missing_attribute', s.header.file, 'ImagePositionPatient (0020,0032) is missing: the slices cannot be ordered');
      if (!s.geometry.orientation) throw new ImagingError('missing_attribute', s.header.file, 'ImageOrientationPatient (0020,0037) is missing: the slices cannot be ordered');
    }
  }
  if (!orientation) {
    orientation = [1, 0, 0, 0, 1, 0];
    warnings.push('ImageOrientationPatient is missing: an axial orientation is assumed, patient coordinates are nominal');
  }
  if (!first.geometry.position) warnings.push('ImagePositionPatient is missing: the origin is set to 0, patient coordinates are nominal');
  if (!pixelSpacing) {
    pixelSpacing = [1, 1];
    warnings.push('PixelSpacing is missing: 1 mm is assumed, sizes and volumes are not in true mm');
  }
  const rowCos = orientation.slice(0, 3);
  const colCos = orientation.slice(3, 6);
  if (Math.abs(norm(rowCos) - 1) > 1e-3 || Math.abs(norm(colCos) - 1) > 1e-3 || Math.abs(dot(rowCos, colCos)) > 1e-3) {
    throw new ImagingError('missing_attribute', first.header.file, `ImageOrientationPatient [${orientation.join(', ')}] is not two orthogonal unit vectors`);
  }
  const normal = cross(rowCos, colCos);
  for (const s of slices) s.d = s.geometry.position ? dot(s.geometry.position, normal) : 0;
  slices.sort((a, b) => a.d - b.d);

  let kStep: Vec3;
  let spacingK: number;
  if (slices.length > 1) {
    const gaps: number[] = [];
    for (let k = 1; k < slices.length; k++) {
      const gap = slices[k]!.d - slices[k - 1]!.d;
      if (gap < 1e-3) {
        throw new ImagingError('inconsistent_series', slices[k]!.header.file,
          `${describeSlice(slices[k]!)} and ${describeSlice(slices[k - 1]!)} lie at the same position (${fmt(slices[k]!.d)} mm along the slice normal): the series holds several images per position (phases, echoes or repeats?)`);
      }
      gaps.push(gap);
    }
    spacingK = median(gaps);
    const lo = Math.min(...gaps);
    const hi = Math.max(...gaps);
    if (hi - spacingK > 0.01 * spacingK || spacingK - lo > 0.01 * spacingK) {
      const odd = gaps.map((g, k) => [g, k] as const).filter(([g]) => Math.abs(g - spacingK) > 0.01 * spacingK);
      warnings.push(`irregular slice spacing: gaps from ${fmt(lo)} to ${fmt(hi)} mm (median ${fmt(spacingK)} mm; ${odd.length} of ${gaps.length} gaps differ by more than 1%${hi > 1.5 * spacingK ? ', slices may be missing' : ''}); measurements along k use ${fmt(spacingK)} mm`);
    }
    const span = sub(slices[slices.length - 1]!.geometry.position!, slices[0]!.geometry.position!);
    const along = dot(span, normal);
    const lateral = norm(sub(span, scale(normal, along)));
    // the stacking direction, scaled so that its step along the normal is the k spacing
    kStep = scale(span, spacingK / along);
    const angle = (Math.atan2(lateral, along) * 180) / Math.PI;
    if (lateral > 0.5 * Math.min(pixelSpacing[0], pixelSpacing[1]) && angle > 0.05) {
      warnings.push(`gantry tilt: the slices are stacked ${fmt(angle, 2)}° off the slice normal; the affine follows the true (sheared) slice positions, but a tool assuming orthogonal axes would misplace voxels by up to ${fmt(lateral, 1)} mm`);
    }
  } else {
    spacingK = first.header.sliceThickness && first.header.sliceThickness > 0 ? first.header.sliceThickness : 1;
    kStep = scale(normal, spacingK);
  }
  const origin = slices[0]!.geometry.position ?? [0, 0, 0];
  const [rowSpacing, colSpacing] = pixelSpacing;
  const affine = [
    rowCos[0]! * colSpacing, colCos[0]! * rowSpacing, kStep[0], origin[0],
    rowCos[1]! * colSpacing, colCos[1]! * rowSpacing, kStep[1], origin[1],
    rowCos[2]! * colSpacing, colCos[2]! * rowSpacing, kStep[2], origin[2],
    0, 0, 0, 1,
  ];
  return { slices, spacing: [colSpacing, rowSpacing, spacingK], affine, warnings };
}

const describeSlice = (s: Slice): string =>
  s.header.frames.length > 1 ? `frame ${s.frame + 1} of ${s.header.file}` : s.header.file;

// ---------------------------------------------------------------------------------------------
// pixel decoding

/** Stored values of one frame, plus how to turn the raw bits into integers. */
interface StoredFrame {
  values: Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array;
  /** sign-extend from this many bits (0: no) */
  signBits: number;
  /** keep only the low bits (0: no) */
  maskBits: number;
}

function nativeFrame(h: FileHeader, ds: DataSet, el: Element, frame: number, bigEndian: boolean): StoredFrame {
  const n = h.rows * h.columns;
  const bytes = h.bitsAllocated / 8;
  const start = el.dataOffset + frame * n * bytes;
  const buf = ds.byteArray;
  if (start + n * bytes > buf.length) throw new ImagingError('truncated', h.file, `the file is truncated: frame ${frame + 1} needs bytes up to ${start + n * bytes}, the data has ${buf.length}`);
  const signed = h.pixelRepresentation === 1;
  const bits = { signBits: signed && h.bitsStored < h.bitsAllocated ? h.bitsStored : 0, maskBits: !signed && h.bitsStored < h.bitsAllocated ? h.bitsStored : 0 };
  if (bytes === 1) {
    const values = signed ? new Int8Array(buf.buffer, buf.byteOffset + start, n) : new Uint8Array(buf.buffer, buf.byteOffset + start, n);
    return { values, ...bits };
  }
  // typed-array views need aligned offsets, and native byte order: otherwise copy
  let ab: ArrayBuffer;
  let off: number;
  const abs = buf.byteOffset + start;
  if (!bigEndian && abs % bytes === 0) {
    ab = buf.buffer as ArrayBuffer;
    off = abs;
  } else {
    const copy = new Uint8Array(n * bytes);
    if (bigEndian) {
      for (let p = 0, q = start; p < n * bytes; p += bytes, q += bytes) {
        for (let b = 0; b < bytes; b++) copy[p + b] = buf[q + bytes - 1 - b]!;
      }
    } else {
      copy.set(buf.subarray(start, start + n * bytes));
    }
    ab = copy.buffer;
    off = 0;
  }
  if (bytes === 2) return { values: signed && !bits.signBits ? new Int16Array(ab, off, n) : new Uint16Array(ab, off, n), ...bits };
  return { values: signed ? new Int32Array(ab, off, n) : new Uint32Array(ab, off, n), ...bits };
}

/** The compressed bytes of each frame. Fragments are not frames: uses the Basic Offset Table when present. */
function encapsulatedFrames(h: FileHeader, ds: DataSet, el: Element, codec: Codec): Uint8Array[] {
  const fragments = el.fragments ?? [];
  const nFrames = h.frames.length;
  const bytesOf = (from: number, count: number): Uint8Array => {
    if (count === 1) {
      const f = fragments[from]!;
      return ds.byteArray.subarray(f.position, f.position + f.length);
    }
    const parts = fragments.slice(from, from + count);
    const out = new Uint8Array(parts.reduce((s, f) => s + f.length, 0));
    let o = 0;
    for (const f of parts) {
      out.set(ds.byteArray.subarray(f.position, f.position + f.length), o);
      o += f.length;
    }
    return out;
  };
  if (fragments.length === 0) throw new ImagingError('no_pixel_data', h.file, 'the encapsulated Pixel Data holds no fragment');
  for (const f of fragments) {
    if (f.position + f.length > ds.byteArray.length) throw new ImagingError('truncated', h.file, 'the file is truncated inside the encapsulated Pixel Data');
  }
  if (nFrames === 1) return [bytesOf(0, fragments.length)];
  const starts: number[] = [];
  const bot = el.basicOffsetTable ?? [];
  if (bot.length === nFrames) {
    for (const offset of bot) {
      const i = fragments.findIndex((f) => f.offset === offset);
      if (i < 0) throw new ImagingError('decode_failed', h.file, `the Basic Offset Table points to ${offset}, where no fragment starts`);
      starts.push(i);
    }
  } else if (fragments.length === nFrames) {
    for (let i = 0; i < nFrames; i++) starts.push(i);
  } else {
    // empty offset table and more fragments than frames: a frame starts where its codestream starts
    fragments.forEach((f, i) => {
      const b = ds.byteArray;
      const p = f.position;
      const isStart = codec === 'j2k'
        ? (b[p] === 0xff && b[p + 1] === 0x4f && b[p + 2] === 0xff && b[p + 3] === 0x51) || (b[p + 4] === 0x6a && b[p + 5] === 0x50)
        : codec === 'jpeg-lossless' || codec === 'jpeg-ls'
          ? b[p] === 0xff && b[p + 1] === 0xd8
          : b[p + 4] === 64 && b[p + 5] === 0 && b[p + 6] === 0 && b[p + 7] === 0 && (b[p] ?? 0) >= 1 && (b[p] ?? 0) <= 15;
      if (isStart) starts.push(i);
    });
    if (starts.length !== nFrames) {
      throw new ImagingError('decode_failed', h.file, `cannot tell the ${nFrames} frames apart among ${fragments.length} fragments (empty Basic Offset Table, ${starts.length} codestream starts found)`);
    }
  }
  return starts.map((s, i) => bytesOf(s, (starts[i + 1] ?? fragments.length) - s));
}

/** RLE Lossless (PS3.5 annex G), greyscale. */
function decodeRle(h: FileHeader, data: Uint8Array): StoredFrame {
  const n = h.rows * h.columns;
  const bytes = h.bitsAllocated / 8;
  const fail = (why: string): never => { throw new ImagingError('decode_failed', h.file, `RLE: ${why}`); };
  if (data.length < 64) fail('the frame is shorter than its 64-byte header');
  const view = new DataView(data.buffer, data.byteOffset, data.length);
  const segments = view.getUint32(0, true);
  if (segments !== bytes) fail(`${segments} segments where BitsAllocated ${h.bitsAllocated} needs ${bytes}`);
  const out = new Uint8Array(n * bytes); // little-endian samples
  for (let s = 0; s < segments; s++) {
    const start = view.getUint32(4 + 4 * s, true);
    const end = s + 1 < segments ? view.getUint32(8 + 4 * s, true) : data.length;
    if (start < 64 || end > data.length || start > end) fail(`segment ${s + 1} has invalid offsets`);
    const byteIndex = bytes - 1 - s; // segment 0 holds the most significant bytes
    let p = 0;
    let i = start;
    while (p < n && i < end) {
      const c = data[i++]!;
      if (c < 128) {
        const count = c + 1;
        if (i + count > end) fail(`segment ${s + 1} ends inside a literal run`);
        for (let r = 0; r < count && p < n; r++) out[(p++) * bytes + byteIndex] = data[i++]!;
      } else if (c > 128) {
        const count = 257 - c;
        if (i >= end) fail(`segment ${s + 1} ends inside a repeat run`);
        const v = data[i++]!;
        for (let r = 0; r < count && p < n; r++) out[(p++) * bytes + byteIndex] = v;
      }
    }
    if (p < n) fail(`segment ${s + 1} decodes to ${p} of ${n} pixels`);
  }
  return typedFromLittleEndian(h, out, n, bytes);
}

function typedFromLittleEndian(h: FileHeader, out: Uint8Array, n: number, bytes: number): StoredFrame {
  const signed = h.pixelRepresentation === 1;
  const signBits = signed && h.bitsStored < h.bitsAllocated ? h.bitsStored : 0;
  const maskBits = !signed && h.bitsStored < h.bitsAllocated ? h.bitsStored : 0;
  const ab = out.buffer;
  if (bytes === 1) return { values: signed ? new Int8Array(ab, 0, n) : new Uint8Array(ab, 0, n), signBits, maskBits };
  if (bytes === 2) return { values: signed && !signBits ? new Int16Array(ab, 0, n) : new Uint16Array(ab, 0, n), signBits, maskBits };
  return { values: signed ? new Int32Array(ab, 0, n) : new Uint32Array(ab, 0, n), signBits, maskBits };
}

/**
 * The size a JPEG (SOFn), JPEG-LS (SOF55) or JPEG 2000 (SIZ) codestream declares, read from its
 * frame header before any decoder sees it: the decoders allocate what the codestream declares, so a
 * codestream declaring 65535 × 65535 must be refused before it is decoded. `tiles`: JPEG 2000 tiles.
 */
export function codestreamSize(codec: 'jpeg-lossless' | 'jpeg-ls' | 'j2k', b: Uint8Array): { width: number; height: number; components: number; tiles: number } | undefined {
  const u16 = (i: number): number => ((b[i] ?? 0) << 8) | (b[i + 1] ?? 0);
  const u32 = (i: number): number => u16(i) * 65536 + u16(i + 2);
  if (codec === 'j2k') {
    const end = Math.min(b.length - 42, 64 * 1024);
    for (let i = 0; i < end; i++) {
      if (b[i] !== 0xff || b[i + 1] !== 0x4f || b[i + 2] !== 0xff || b[i + 3] !== 0x51) continue;
      const m = i + 2; // SIZ: Lsiz Rsiz Xsiz Ysiz XOsiz YOsiz XTsiz YTsiz XTOsiz YTOsiz Csiz
      const [x, y, xo, yo, xt, yt, xto, yto] = [0, 1, 2, 3, 4, 5, 6, 7].map((k) => u32(m + 6 + 4 * k)) as [number, number, number, number, number, number, number, number];
      const tiles = xt > 0 && yt > 0 ? Math.ceil((x - xto) / xt) * Math.ceil((y - yto) / yt) : Infinity;
      return { width: x - xo, height: y - yo, components: u16(m + 38), tiles };
    }
    return undefined;
  }
  if (b[0] !== 0xff || b[1] !== 0xd8) return undefined;
  let p = 2;
  while (p + 4 <= b.length) {
    if (b[p] !== 0xff) return undefined;
    const marker = b[p + 1]!;
    if (marker === 0xff) { p++; continue; }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) { p += 2; continue; }
    const isSof = (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) || marker === 0xf7;
    if (isSof) {
      if (p + 10 > b.length) return undefined;
      return { height: u16(p + 5), width: u16(p + 7), components: b[p + 9]!, tiles: 1 };
    }
    if (marker === 0xda || marker === 0xd9) return undefined; // scan or end before any frame header
    p += 2 + u16(p + 2);
  }
  return undefined;
}

/** Checks the codestream's declared size against the DICOM header before decoding it. */
function checkCodestream(name: string, codec: 'jpeg-lossless' | 'jpeg-ls' | 'j2k', h: FileHeader, data: Uint8Array): void {
  const d = codestreamSize(codec, data);
  if (!d) throw new ImagingError('decode_failed', h.file, `${name}: no frame header (${codec === 'j2k' ? 'SIZ' : 'SOF'} marker) found in the codestream`);
  if (d.width !== h.columns || d.height !== h.rows || d.components !== 1) {
    throw new ImagingError('decode_failed', h.file, `${name}: the codestream declares ${d.width}×${d.height}×${d.components}, the header says ${h.columns}×${h.rows}×1`);
  }
  if (d.tiles > 4096) throw new ImagingError('decode_failed', h.file, `${name}: the codestream declares ${d.tiles} tiles (at most 4096 are read)`);
}

interface LosslessDecoder {
  decode(buffer: ArrayBuffer, offset: number, length: number, numBytes: number): ArrayBuffer | Uint8Array | Uint16Array;
  xDim: number;
  yDim: number;
  numComp: number;
  precision: number;
}
let losslessModule: Promise<{ Decoder: new () => LosslessDecoder }> | undefined;

async function decodeJpegLossless(h: FileHeader, data: Uint8Array): Promise<StoredFrame> {
  // the package ships no type declarations: a computed specifier keeps TypeScript from looking for them
  const specifier = 'jpeg-lossless-decoder-js';
  losslessModule ??= import(specifier) as Promise<{ Decoder: new () => LosslessDecoder }>;
  const { Decoder } = await losslessModule;
  const bytes = h.bitsAllocated / 8;
  if (bytes > 2) throw new ImagingError('decode_failed', h.file, `JPEG lossless with BitsAllocated ${h.bitsAllocated} is not supported`);
  const n = h.rows * h.columns;
  checkCodestream('JPEG lossless', 'jpeg-lossless', h, data);
  let decoded: ArrayBuffer | Uint8Array | Uint16Array;
  const dec = new Decoder();
  try {
    // copy into a buffer of its own (Buffer#slice would not copy): the decoder takes an ArrayBuffer
    const copy = new Uint8Array(data);
    decoded = dec.decode(copy.buffer, 0, copy.length, bytes);
  } catch (e) {
    throw new ImagingError('decode_failed', h.file, `JPEG lossless: ${thrownMessage(e)}`, [], { cause: e });
  }
  if (dec.xDim !== h.columns || dec.yDim !== h.rows || dec.numComp !== 1) {
    throw new ImagingError('decode_failed', h.file, `JPEG lossless: the codestream is ${dec.xDim}×${dec.yDim}×${dec.numComp}, the header says ${h.columns}×${h.rows}×1`);
  }
  const raw = decoded instanceof ArrayBuffer ? new Uint8Array(decoded) : new Uint8Array(decoded.buffer, decoded.byteOffset, decoded.byteLength);
  if (raw.length < n * bytes) throw new ImagingError('decode_failed', h.file, `JPEG lossless: ${raw.length} bytes decoded, ${n * bytes} expected`);
  return typedFromLittleEndian(h, raw.slice(0, n * bytes), n, bytes);
}

/** The shape both @cornerstonejs wasm decoders (OpenJPEG, CharLS) share. */
interface WasmDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  decode(): void;
  getDecodedBuffer(): Uint8Array;
  getFrameInfo(): { width: number; height: number; bitsPerSample: number; componentCount: number; isSigned?: boolean };
  delete(): void;
}
type WasmCodec = { J2KDecoder?: new () => WasmDecoder; JpegLSDecoder?: new () => WasmDecoder };

const wasmCodecs = new Map<string, Promise<WasmCodec>>();

/** Loads a codec's wasm module once (silenced: OpenJPEG logs [INFO] lines to stdout otherwise). */
function loadWasmCodec(module: string): Promise<WasmCodec> {
  let p = wasmCodecs.get(module);
  if (!p) {
    const require = createRequire(import.meta.url);
    const factory = require(module) as (m: object) => Promise<WasmCodec>;
    p = factory({ print: () => undefined, printErr: () => undefined });
    p.catch(() => { wasmCodecs.delete(module); });
    wasmCodecs.set(module, p);
  }
  return p;
}

/** Runs a wasm decoder on one frame: checks the frame size and returns its info and a copy of the samples. */
function runWasmDecoder(name: string, h: FileHeader, data: Uint8Array, dec: WasmDecoder): { info: ReturnType<WasmDecoder['getFrameInfo']>; raw: Uint8Array; bytes: 1 | 2 } {
  const n = h.rows * h.columns;
  try {
    dec.getEncodedBuffer(data.length).set(data);
    dec.decode();
    const info = dec.getFrameInfo();
    if (info.width !== h.columns || info.height !== h.rows || info.componentCount !== 1) {
      throw new ImagingError('decode_failed', h.file, `${name}: the codestream is ${info.width}×${info.height}×${info.componentCount}, the header says ${h.columns}×${h.rows}×1`);
    }
    const bytes = info.bitsPerSample > 8 ? 2 : 1;
    const decoded = dec.getDecodedBuffer();
    if (decoded.length < n * bytes) throw new ImagingError('decode_failed', h.file, `${name}: ${decoded.length} bytes decoded, ${n * bytes} expected`);
    return { info, raw: new Uint8Array(decoded.subarray(0, n * bytes)), bytes };
  } catch (e) {
    if (e instanceof ImagingError) throw e;
    throw new ImagingError('decode_failed', h.file, `${name}: ${typeof e === 'number' ? `decoder error (code ${e})` : thrownMessage(e)}`, [], { cause: e });
  } finally {
    dec.delete();
  }
}

async function decodeJ2k(h: FileHeader, data: Uint8Array): Promise<StoredFrame> {
  checkCodestream('JPEG 2000', 'j2k', h, data);
  const mod = await loadWasmCodec('@cornerstonejs/codec-openjpeg/decodewasmjs');
  const { info, raw, bytes } = runWasmDecoder('JPEG 2000', h, data, new mod.J2KDecoder!());
  // the codestream says whether samples are signed; unsigned samples with PixelRepresentation 1
  // are two's complement of bitsPerSample bits (as pydicom and GDCM read them)
  const ab = raw.buffer;
  if (bytes === 1) return { values: info.isSigned ? new Int8Array(ab) : new Uint8Array(ab), signBits: !info.isSigned && h.pixelRepresentation === 1 ? info.bitsPerSample : 0, maskBits: 0 };
  if (info.isSigned) return { values: new Int16Array(ab), signBits: 0, maskBits: 0 };
  return { values: new Uint16Array(ab), signBits: h.pixelRepresentation === 1 ? info.bitsPerSample : 0, maskBits: 0 };
}

async function decodeJpegLs(h: FileHeader, data: Uint8Array): Promise<StoredFrame> {
  checkCodestream('JPEG-LS', 'jpeg-ls', h, data);
  const mod = await loadWasmCodec('@cornerstonejs/codec-charls/decodewasmjs');
  const { raw, bytes } = runWasmDecoder('JPEG-LS', h, data, new mod.JpegLSDecoder!());
  // JPEG-LS samples are unsigned: two's complement of BitsStored bits when PixelRepresentation is 1
  const values = bytes === 1 ? raw : new Uint16Array(raw.buffer);
  const signed = h.pixelRepresentation === 1;
  return { values, signBits: signed ? Math.min(h.bitsStored, bytes * 8) : 0, maskBits: !signed && h.bitsStored < bytes * 8 ? h.bitsStored : 0 };
}

// ---------------------------------------------------------------------------------------------
// HU output

type Samples = StoredFrame['values'];

/** stored → HU into an int16 slice; false when a value leaves the int16 range (nothing else is promised then). */
// A monomorphic kernel for the commonest CT layout (stored unsigned 16-bit, slope 1, an integer
// intercept): one tight loop with no per-voxel range check when the whole stored range
// is known to fit int16 after rescaling.
function maskedU16(src: Uint16Array, o: Int16Array, mask: number, intercept: number): void {
  const n = o.length;
  for (let p = 0; p < n; p++) o[p] = (src[p]! & mask) + intercept;
}

function toInt16(src: Samples, o: Int16Array, sh: number, mask: number, slope: number, intercept: number): boolean {
  const n = o.length;
  if (slope === 1 && Number.isInteger(intercept) && !sh) {
    if (src instanceof Uint16Array) {
      const m = mask || 0xffff;
      if (intercept >= -32768 && m + intercept <= 32767) { maskedU16(src, o, m, intercept); return true; }
    } else if (src instanceof Int16Array && !mask && intercept === 0) {
      o.set(src);
      return true;
    }
  }
  if (!sh && !mask && slope === 1) {
    if (intercept === 0 && (src instanceof Int16Array || src instanceof Uint8Array || src instanceof Int8Array)) {
      o.set(src);
      return true;
    }
    for (let p = 0; p < n; p++) {
      const hu = src[p]! + intercept;
      if (hu < -32768 || hu > 32767) return false;
      o[p] = hu;
    }
    return true;
  }
  for (let p = 0; p < n; p++) {
    let v = src[p]!;
    if (sh) v = (v << sh) >> sh;
    else if (mask) v &= mask;
    const hu = v * slope + intercept;
    if (hu < -32768 || hu > 32767) return false;
    o[p] = hu;
  }
  return true;
}

function toFloat32(src: Samples, o: Float32Array, sh: number, mask: number, slope: number, intercept: number): void {
  const n = o.length;
  if (!sh && !mask) {
    for (let p = 0; p < n; p++) o[p] = src[p]! * slope + intercept;
    return;
  }
  for (let p = 0; p < n; p++) {
    let v = src[p]!;
    if (sh) v = (v << sh) >> sh;
    else if (mask) v = (v & mask) >>> 0;
    o[p] = v * slope + intercept;
  }
}

class HuWriter {
  data: Int16Array | Float32Array;

  constructor(readonly sliceSize: number, slices: number, integral: boolean, where: string) {
    try {
      this.data = integral ? new Int16Array(sliceSize * slices) : new Float32Array(sliceSize * slices);
    } catch (e) {
      throw new ImagingError('unsupported_image', where, `the volume (${sliceSize} × ${slices} voxels) is too large to hold in memory (${thrownMessage(e)})`, [], { cause: e });
    }
  }

  /**
   * HU = stored × slope + intercept for slice k (for `rows`, only its rows j0..j1 between columns
   * i0..i1, of a slice `columns` wide); switches to Float32Array when a value leaves int16.
   */
  write(k: number, f: StoredFrame, slope: number, intercept: number, rows?: { columns: number; i0: number; i1: number; j0: number; j1: number }): void {
    const n = this.sliceSize;
    const sh = f.signBits ? 32 - f.signBits : 0;
    // maskBits < 32 here: a 32-bit mask is no mask
    const mask = f.maskBits && f.maskBits < 32 ? (1 << f.maskBits) - 1 : 0;
    // the stretches of the slice to convert: the whole slice, or one per row of the region
    const spans: Array<[number, number]> = [];
    if (!rows) spans.push([0, n]);
    else for (let j = rows.j0; j <= rows.j1; j++) spans.push([j * rows.columns + rows.i0, j * rows.columns + rows.i1 + 1]);
    const base = k * n;
    let s = 0;
    if (this.data instanceof Int16Array) {
      const out = this.data;
      for (; s < spans.length; s++) {
        const [a, b] = spans[s]!;
        if (!toInt16(f.values.subarray(a, b), out.subarray(base + a, base + b), sh, mask, slope, intercept)) break;
      }
      if (s === spans.length) return;
      this.data = Float32Array.from(out);
    }
    const out = this.data as Float32Array;
    for (; s < spans.length; s++) {
      const [a, b] = spans[s]!;
      toFloat32(f.values.subarray(a, b), out.subarray(base + a, base + b), sh, mask, slope, intercept);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// main

/** Series named in an error (a folder of thousands of one-file series would make a huge message). */
const MAX_SERIES_LISTED = 50;
const listSeries = (all: SeriesSummary[]): string =>
  all.slice(0, MAX_SERIES_LISTED).map(describeSeries).join('; ') + (all.length > MAX_SERIES_LISTED ? `; and ${all.length - MAX_SERIES_LISTED} more` : '');

/**
 * Reads a DICOM series from a folder (searched recursively), a list of files, or one file.
 * In a folder, files that are not DICOM are skipped (and counted in the warnings); a file named
 * explicitly must be DICOM.
 */
export async function readDicom(input: string | readonly string[], options: ReadDicomOptions = {}): Promise<Volume> {
  const limits = volumeLimits(options.limits);
  const inputs = typeof input === 'string' ? [input] : [...input];
  const where = typeof input === 'string' ? input : inputs.length === 1 ? inputs[0]! : `${inputs.length} files`;
  if (inputs.length === 0) throw new ImagingError('empty', '(no files)', 'no DICOM file was given');

  // 1. the files
  const files: { file: string; explicit: boolean }[] = [];
  for (const p of options.instances ? [] : inputs) {
    const st = await statOrThrow(p);
    if (st.isDirectory()) {
      const listed = await listFolder(p);
      if (listed.length === 0) throw new ImagingError('empty', p, 'the folder is empty');
      for (const f of listed) files.push({ file: f, explicit: false });
    } else {
      files.push({ file: p, explicit: true });
    }
  }

  if (options.instances) {
    for (const p of inputs) {
      if (!options.instances.has(p)) throw new ImagingError('not_found', p, 'no such instance among those given');
      files.push({ file: p, explicit: true });
    }
  }

  // 2. headers
  const reader = new FileReader(limits.maxBytes + DEFLATE_SLACK, options.instances);
  const headers: FileHeader[] = [];
  const skipped: string[] = [];
  const niftiSeen: string[] = [];
  let done = 0;
  const progress = (total: number): void => options.onProgress?.(++done, total);
  const breathe = breather();
  for (const { file, explicit } of files) {
    await breathe();
    let { bytes, size } = reader.read(file, HEADER_PROBE);
    if (size === 0) {
      if (explicit) throw new ImagingError('unknown_format', file, 'the file is empty (0 bytes), not DICOM');
      skipped.push(file);
      progress(files.length * 2);
      continue;
    }
    if (!looksLikeDicom(bytes)) {
      if (explicit) throw new ImagingError('unknown_format', file, 'not a DICOM file (no "DICM" prefix at byte 128, and not a raw DICOM dataset)');
      if (/\.nii(\.gz)?$/i.test(file)) niftiSeen.push(file);
      skipped.push(file);
      progress(files.length * 2);
      continue;
    }
    let ds: DataSet | undefined;
    if (bytes.length < size) {
      try {
        ds = parse(file, bytes, true, limits);
        if (!ds.elements[PIXEL_DATA]) ds = undefined; // the header goes on past the probe
      } catch {
        ds = undefined;
      }
    }
    if (!ds) {
      ({ bytes, size } = reader.read(file));
      ds = parse(file, bytes, true, limits);
    }
    headers.push(readHeader(file, size, ds, hasDicmPrefix(bytes) ? undefined : rawDatasetSyntax(bytes), limits));
    progress(files.length * 2);
  }

  if (headers.length === 0) {
    const hint = niftiSeen.length ? `; it holds NIfTI files (${niftiSeen.slice(0, 3).map((f) => path.basename(f)).join(', ')}): give the .nii / .nii.gz file itself` : '';
    throw new ImagingError('empty', where, `no DICOM file found (${skipped.length} file${skipped.length === 1 ? '' : 's'} that are not DICOM${skipped.length ? `, e.g. ${path.basename(skipped[0]!)}` : ''})${hint}`);
  }

  // 3. the series
  const bySeries = new Map<string, FileHeader[]>();
  for (const h of headers) {
    const list = bySeries.get(h.seriesInstanceUid);
    if (list) list.push(h);
    else bySeries.set(h.seriesInstanceUid, [h]);
  }
  const summary = (list: FileHeader[]): SeriesSummary => {
    const h = list[0]!;
    const s: SeriesSummary = { seriesInstanceUid: h.seriesInstanceUid || '(none)', files: list.length };
    if (h.seriesDescription) s.description = h.seriesDescription;
    if (h.modality) s.modality = h.modality;
    if (h.seriesNumber !== undefined && Number.isFinite(h.seriesNumber)) s.seriesNumber = h.seriesNumber;
    return s;
  };
  const images = [...bySeries.values()].filter((list) => list.some((h) => h.hasPixelData));
  let chosen: FileHeader[];
  if (options.seriesInstanceUid !== undefined) {
    const list = bySeries.get(options.seriesInstanceUid);
    if (!list) {
      const all = [...bySeries.values()].map(summary);
      throw new ImagingError('series_not_found', where, `series ${options.seriesInstanceUid} is not among the ${all.length} series found: ${listSeries(all)}`, all.slice(0, MAX_SERIES_LISTED));
    }
    chosen = list;
  } else if (images.length === 0) {
    const first = headers[0]!;
    throw new ImagingError('no_pixel_data', headers.length === 1 ? first.file : where,
      headers.length === 1 ? 'the DICOM file has no Pixel Data (7FE0,0010): it is not an image' : `none of the ${headers.length} DICOM files has Pixel Data (7FE0,0010): no image to read`);
  } else if (images.length > 1) {
    const all = images.map(summary);
    throw new ImagingError('multiple_series', where, `${all.length} series found, choose one (seriesInstanceUid): ${listSeries(all)}`, all.slice(0, MAX_SERIES_LISTED));
  } else {
    chosen = images[0]!;
  }
  for (const h of chosen) {
    if (!h.hasPixelData) throw new ImagingError('no_pixel_data', h.file, `the file has no Pixel Data (7FE0,0010), unlike the other ${chosen.length - 1} file(s) of series ${h.seriesInstanceUid}`);
    if (h.problem) throw h.problem;
  }

  // 4. geometry
  const slices: Slice[] = chosen.flatMap((header) => header.frames.map((g, frame) => ({ header, frame, geometry: g, d: 0 })));
  if (slices.length === 0) throw new ImagingError('empty', where, 'the series holds 0 slices');
  const geo = geometry(slices);
  const warnings = [...geo.warnings];
  const first = chosen[0]!;
  const modality = first.modality;
  if (!modality) warnings.push('Modality is missing: the values cannot be confirmed to be Hounsfield units');
  else if (modality !== 'CT') warnings.push(`Modality is ${modality}, not CT: the values are not Hounsfield units and HU thresholds do not apply`);
  if (modality === 'CT' && geo.slices.some((s) => s.geometry.defaultRescale)) {
    warnings.push('RescaleSlope / RescaleIntercept missing in a CT image: stored values are taken as HU unchanged');
  }
  if (skipped.length) warnings.push(`${skipped.length} file${skipped.length === 1 ? '' : 's'} that are not DICOM skipped (e.g. ${path.basename(skipped[0]!)})`);
  const otherSeries = bySeries.size - 1;
  if (otherSeries > 0 && options.seriesInstanceUid === undefined) {
    warnings.push(`${otherSeries} other DICOM series without image data ignored`);
  }

  // 5. pixels: the whole volume within the limits before it is allocated (each file was checked alone)
  const [rows, columns] = [first.rows, first.columns];
  checkVolumeSize(where, [columns, rows, geo.slices.length], first.bitsAllocated / 8, limits,
    `the series declares ${geo.slices.length} slices of ${columns}×${rows} ${first.bitsAllocated}-bit samples`);
  const integral = geo.slices.every((s) => Number.isInteger(s.geometry.slope) && Number.isInteger(s.geometry.intercept));
  const dims: [number, number, number] = [columns, rows, geo.slices.length];
  // the region used (an ROI's bounding box), clipped to the volume: only its slices are read
  const wanted = options.region?.({ dims, spacing: geo.spacing, affine: geo.affine });
  const region: VoxelBox | undefined = wanted && {
    min: [0, 1, 2].map((a) => Math.max(0, Math.min(dims[a]! - 1, Math.floor(wanted.min[a]!)))) as VoxelBox['min'],
    max: [0, 1, 2].map((a) => Math.max(0, Math.min(dims[a]! - 1, Math.ceil(wanted.max[a]!)))) as VoxelBox['max'],
  };
  const rowsOf = region && { columns, i0: region.min[0], i1: region.max[0], j0: region.min[1], j1: region.max[1] };
  const [kFirst, kLast] = region ? [region.min[2], region.max[2]] : [0, geo.slices.length - 1];
  const out = new HuWriter(rows * columns, geo.slices.length, integral, where);
  const total = files.length + (kLast - kFirst + 1);
  done = files.length;
  options.onProgress?.(done, total);
  let cached: { file: string; ds: DataSet; frames?: Uint8Array[] } | undefined;
  for (let k = kFirst; k <= kLast; k++) {
    const s = geo.slices[k]!;
    const h = s.header;
    const codec = TRANSFER_SYNTAXES[h.transferSyntax]!.codec!;
    await breathe();
    if (cached?.file !== h.file) {
      const { bytes } = reader.read(h.file);
      if (bytes.length < h.size) throw new ImagingError('truncated', h.file, 'the file became shorter while it was read');
      const ds = parse(h.file, bytes, codec === 'native', limits);
      cached = { file: h.file, ds };
    }
    const ds = cached.ds;
    const el = ds.elements[PIXEL_DATA];
    if (!el) throw new ImagingError('no_pixel_data', h.file, 'Pixel Data (7FE0,0010) is missing');
    let frame: StoredFrame;
    if (codec === 'native') {
      if (el.length === 0xffffffff || el.encapsulatedPixelData) throw new ImagingError('decode_failed', h.file, `Pixel Data is encapsulated but the transfer syntax ${h.transferSyntax} is not a compressed one`);
      frame = nativeFrame(h, ds, el, s.frame, h.transferSyntax === '1.2.840.10008.1.2.2');
    } else {
      if (!el.encapsulatedPixelData) throw new ImagingError('decode_failed', h.file, `transfer syntax ${h.transferSyntax} (${transferSyntaxName(h.transferSyntax)}) needs encapsulated Pixel Data, found native data`);
      cached.frames ??= encapsulatedFrames(h, ds, el, codec);
      const data = cached.frames[s.frame]!;
      frame = codec === 'rle' ? decodeRle(h, data)
        : codec === 'j2k' ? await decodeJ2k(h, data)
          : codec === 'jpeg-ls' ? await decodeJpegLs(h, data)
            : await decodeJpegLossless(h, data);
    }
    out.write(k, frame, s.geometry.slope, s.geometry.intercept, rowsOf);
    options.onProgress?.(++done, total);
  }

  const volume: Volume = {
    dims,
    spacing: geo.spacing,
    data: out.data,
    affine: geo.affine,
    warnings,
    source: { kind: 'dicom', files: chosen.length },
  };
  if (region) volume.region = region;
  if (modality) volume.modality = modality;
  if (first.seriesInstanceUid) volume.source.seriesInstanceUid = first.seriesInstanceUid;
  if (first.seriesDescription) volume.source.description = first.seriesDescription;
  return volume;
}
