/**
 * Seeded mutators for the fuzz harness: a small PRNG, byte-level mutations, and mutations that
 * know the formats (DICOM elements, NIfTI-1/2 header fields, zip entries, case YAML/JSON).
 * Every mutator returns the mutant and a description of what it did, so a failure can be read
 * and reproduced from (seed, family, index).
 */
import { crc32, deflateRawSync, gunzipSync, gzipSync } from 'node:zlib';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';

// ---- PRNG (mulberry32) and helpers

export class Rng {
  private s: number;
  constructor(seed: number) { this.s = seed >>> 0; }
  /** uniform in [0, 1) */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number { return Math.floor(this.next() * n); }
  pick<T>(xs: readonly T[]): T { return xs[this.int(xs.length)]!; }
  chance(p: number): boolean { return this.next() < p; }
}

/** A seed per (run seed, family, mutant index): every mutant is reproducible on its own. */
export function mutantSeed(seed: number, family: string, index: number): number {
  let h = 2166136261 ^ seed;
  for (const c of `${family}:${index}`) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  return h >>> 0;
}

export interface Mutated { data: Buffer; what: string }

// ---- byte level

const EXTREME_U32 = [0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 0x10000, 0x40000000];

export function truncate(rng: Rng, b: Buffer): Mutated {
  const at = rng.int(b.length + 1);
  return { data: Buffer.from(b.subarray(0, at)), what: `truncate at ${at}/${b.length}` };
}

export function flipBytes(rng: Rng, b: Buffer): Mutated {
  const out = Buffer.from(b);
  const n = 1 + rng.int(8);
  const at: number[] = [];
  for (let i = 0; i < n && out.length; i++) {
    const p = rng.int(out.length);
    out[p] = rng.chance(0.5) ? out[p]! ^ (1 << rng.int(8)) : rng.int(256);
    at.push(p);
  }
  return { data: out, what: `flip bytes at ${at.join(',')}` };
}

export function overwriteU32(rng: Rng, b: Buffer): Mutated {
  const out = Buffer.from(b);
  if (out.length < 4) return { data: out, what: 'u32 (too short)' };
  const p = rng.int(out.length - 3);
  const v = rng.pick(EXTREME_U32);
  if (rng.chance(0.5)) out.writeUInt32LE(v, p); else out.writeUInt32BE(v, p);
  return { data: out, what: `u32 ${v} at ${p}` };
}

export function duplicateChunk(rng: Rng, b: Buffer): Mutated {
  if (b.length < 2) return { data: Buffer.from(b), what: 'duplicate (too short)' };
  const a = rng.int(b.length);
  const len = 1 + rng.int(Math.min(4096, b.length - a));
  const at = rng.int(b.length);
  return { data: Buffer.concat([b.subarray(0, at), b.subarray(a, a + len), b.subarray(at)]), what: `duplicate ${len} bytes from ${a} at ${at}` };
}

export function bytesMutation(rng: Rng, b: Buffer): Mutated {
  return rng.pick([truncate, flipBytes, overwriteU32, duplicateChunk])(rng, b);
}

// ---- DICOM

export interface DicomElement { tag: number; vr: string; lenOffset: number; lenSize: 2 | 4; valueOffset: number; length: number; big: boolean }

const LONG_VR = new Set(['OB', 'OW', 'OF', 'SQ', 'UT', 'UN', 'UC', 'UR', 'OD', 'OL', 'OV', 'SV', 'UV']);

/**
 * The elements of a DICOM Part 10 file, walked linearly (entering sequences and items), as far
 * as they can be read; the data set of a deflated file is not entered.
 */
export function dicomElements(b: Buffer): DicomElement[] {
  const out: DicomElement[] = [];
  if (b.length < 132 || b.toString('latin1', 128, 132) !== 'DICM') return out;
  let p = 132;
  let ts = '1.2.840.10008.1.2.1';
  let guard = 0;
  while (p + 8 <= b.length && guard++ < 100_000) {
    const inMeta = b.readUInt16LE(p) === 0x0002;
    const big = !inMeta && ts === '1.2.840.10008.1.2.2';
    const explicit = inMeta || ts !== '1.2.840.10008.1.2';
    if (!inMeta && ts === '1.2.840.10008.1.2.1.99') break;
    const g = big ? b.readUInt16BE(p) : b.readUInt16LE(p);
    const e = big ? b.readUInt16BE(p + 2) : b.readUInt16LE(p + 2);
    const tag = ((g << 16) | e) >>> 0;
    if (g === 0xfffe) {
      const length = big ? b.readUInt32BE(p + 4) : b.readUInt32LE(p + 4);
      out.push({ tag, vr: '--', lenOffset: p + 4, lenSize: 4, valueOffset: p + 8, length, big });
      p += 8; // enter items; delimiters have length 0
      continue;
    }
    let vr = 'UN';
    let lenOffset: number;
    let lenSize: 2 | 4;
    if (explicit) {
      vr = b.toString('latin1', p + 4, p + 6);
      if (!/^[A-Z]{2}$/.test(vr)) break;
      if (LONG_VR.has(vr)) { lenOffset = p + 8; lenSize = 4; } else { lenOffset = p + 6; lenSize = 2; }
    } else { lenOffset = p + 4; lenSize = 4; }
    if (lenOffset + lenSize > b.length) break;
    const length = lenSize === 2 ? (big ? b.readUInt16BE(lenOffset) : b.readUInt16LE(lenOffset)) : (big ? b.readUInt32BE(lenOffset) : b.readUInt32LE(lenOffset));
    const valueOffset = lenOffset + lenSize;
    out.push({ tag, vr, lenOffset, lenSize, valueOffset, length, big });
    if (tag === 0x00020010) ts = b.toString('latin1', valueOffset, valueOffset + length).replace(/[\0 ]+$/, '');
    if (length === 0xffffffff || vr === 'SQ') { p = valueOffset; continue; }
    p = valueOffset + length;
  }
  return out;
}

/** Replaces an element's value (and its length field), keeping an even length. */
function replaceValue(b: Buffer, el: DicomElement, value: Buffer): Buffer {
  const v = value.length % 2 ? Buffer.concat([value, Buffer.from(el.vr === 'UI' ? '\0' : ' ')]) : value;
  const head = Buffer.from(b.subarray(0, el.valueOffset));
  if (el.lenSize === 2) { if (el.big) head.writeUInt16BE(Math.min(v.length, 0xffff), el.lenOffset); else head.writeUInt16LE(Math.min(v.length, 0xffff), el.lenOffset); }
  else if (el.big) head.writeUInt32BE(v.length, el.lenOffset); else head.writeUInt32LE(v.length, el.lenOffset);
  return Buffer.concat([head, v, b.subarray(el.valueOffset + (el.length === 0xffffffff ? 0 : el.length))]);
}

const TAGS: Record<string, number> = {
  SamplesPerPixel: 0x00280002, NumberOfFrames: 0x00280008, Rows: 0x00280010, Columns: 0x00280011, BitsAllocated: 0x00280100,
  BitsStored: 0x00280101, HighBit: 0x00280102, PixelRepresentation: 0x00280103, PlanarConfiguration: 0x00280006,
  ImagePositionPatient: 0x00200032, ImageOrientationPatient: 0x00200037, PixelSpacing: 0x00280030, SliceThickness: 0x00180050,
  RescaleSlope: 0x00281053, RescaleIntercept: 0x00281052, SeriesInstanceUID: 0x0020000e, Modality: 0x00080060,
  TransferSyntaxUID: 0x00020010, PixelData: 0x7fe00010, PhotometricInterpretation: 0x00280004,
};
const US_VALUES = [0, 1, 3, 7, 8, 12, 16, 17, 24, 32, 33, 64, 255, 4096, 32767, 65535];
const DS_VALUES = ['', '1', '1\\2', '0\\0\\0', 'NaN\\NaN\\NaN', '1e400\\1e400\\1e400', '-1e308\\1e308\\0', 'abc', '\\\\\\', '0', '-0', '1e-320', '   ', '1\\0\\0\\0\\1', '9'.repeat(60)];
const IS_VALUES = ['0', '1', '-1', '2147483647', '99999999999', 'x', ''];
const TRANSFER_SYNTAXES = ['1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.2', '1.2.840.10008.1.2.1.99', '1.2.840.10008.1.2.4.50',
  '1.2.840.10008.1.2.4.57', '1.2.840.10008.1.2.4.70', '1.2.840.10008.1.2.4.80', '1.2.840.10008.1.2.4.81', '1.2.840.10008.1.2.4.90',
  '1.2.840.10008.1.2.4.91', '1.2.840.10008.1.2.5', '1.2.3.4.5', ''];

/** A DICOM-aware mutation (a header value out of range, a length field set huge, another transfer syntax), else a byte one. */
export function dicomMutation(rng: Rng, b: Buffer): Mutated {
  const els = dicomElements(b);
  if (!els.length || rng.chance(0.2)) return bytesMutation(rng, b);
  const kind = rng.int(5);
  const byTag = (name: string) => els.find((x) => x.tag === TAGS[name]);
  if (kind === 0) {
    const el = rng.pick(els);
    const v = rng.pick(EXTREME_U32);
    const out = Buffer.from(b);
    if (el.lenSize === 2) { const w = v & 0xffff; if (el.big) out.writeUInt16BE(w, el.lenOffset); else out.writeUInt16LE(w, el.lenOffset); }
    else if (el.big) out.writeUInt32BE(v, el.lenOffset); else out.writeUInt32LE(v, el.lenOffset);
    return { data: out, what: `length of (${hex(el.tag)}) ${el.vr} set to ${v}` };
  }
  if (kind === 1) {
    const name = rng.pick(['SamplesPerPixel', 'Rows', 'Columns', 'BitsAllocated', 'BitsStored', 'HighBit', 'PixelRepresentation', 'PlanarConfiguration']);
    const el = byTag(name);
    if (!el || el.length < 2) return bytesMutation(rng, b);
    const v = rng.pick(US_VALUES);
    const out = Buffer.from(b);
    if (el.big) out.writeUInt16BE(v, el.valueOffset); else out.writeUInt16LE(v, el.valueOffset);
    return { data: out, what: `${name} = ${v}` };
  }
  if (kind === 2) {
    const name = rng.pick(['ImagePositionPatient', 'ImageOrientationPatient', 'PixelSpacing', 'SliceThickness', 'RescaleSlope', 'RescaleIntercept']);
    const el = byTag(name);
    if (!el) return bytesMutation(rng, b);
    const v = rng.pick(DS_VALUES);
    return { data: replaceValue(b, el, Buffer.from(v, 'latin1')), what: `${name} = "${v.slice(0, 30)}"` };
  }
  if (kind === 3) {
    const name = rng.pick(['TransferSyntaxUID', 'NumberOfFrames', 'PhotometricInterpretation', 'Modality', 'SeriesInstanceUID']);
    const el = byTag(name);
    if (!el) return bytesMutation(rng, b);
    const v = name === 'TransferSyntaxUID' ? rng.pick(TRANSFER_SYNTAXES) : name === 'NumberOfFrames' ? rng.pick(IS_VALUES)
      : name === 'PhotometricInterpretation' ? rng.pick(['MONOCHROME1', 'RGB', 'YBR_FULL', 'PALETTE COLOR', '']) : name === 'Modality' ? rng.pick(['MR', '', 'XX']) : rng.pick(['', '1.2', 'x'.repeat(64)]);
    return { data: replaceValue(b, el, Buffer.from(v, 'latin1')), what: `${name} = "${v.slice(0, 40)}"` };
  }
  // the pixel data: cut, emptied, or an element removed
  const el = byTag('PixelData') ?? rng.pick(els);
  const cut = rng.int(3);
  if (cut === 0) return { data: Buffer.from(b.subarray(0, el.valueOffset + rng.int(Math.max(1, Math.min(el.length, b.length - el.valueOffset))))), what: `cut inside (${hex(el.tag)})` };
  if (cut === 1) return { data: replaceValue(b, el, Buffer.alloc(0)), what: `(${hex(el.tag)}) emptied` };
  const start = el.lenOffset - (el.lenSize === 4 && el.vr !== 'UN' && el.vr !== '--' ? 8 : el.lenSize === 4 ? 4 : 6);
  const end = el.length === 0xffffffff ? el.valueOffset : el.valueOffset + el.length;
  return { data: Buffer.concat([b.subarray(0, Math.max(0, start)), b.subarray(Math.min(end, b.length))]), what: `(${hex(el.tag)}) removed` };
}

const hex = (tag: number) => `${(tag >>> 16).toString(16).padStart(4, '0')},${(tag & 0xffff).toString(16).padStart(4, '0')}`;

// ---- NIfTI

/** A NIfTI-aware mutation of a .nii (dims, datatype, vox_offset, scaling out of range), else a byte one. */
export function niftiMutation(rng: Rng, b: Buffer): Mutated {
  if (b.length < 348 || rng.chance(0.2)) return bytesMutation(rng, b);
  const le = b.readInt32LE(0);
  const big = le !== 348 && le !== 540;
  const size = big ? b.readInt32BE(0) : le;
  const out = Buffer.from(b);
  const i16 = (off: number, v: number) => (big ? out.writeInt16BE((v << 16) >> 16, off) : out.writeInt16LE((v << 16) >> 16, off));
  const f32 = (off: number, v: number) => (big ? out.writeFloatBE(v, off) : out.writeFloatLE(v, off));
  const i64 = (off: number, v: bigint) => (big ? out.writeBigInt64BE(v, off) : out.writeBigInt64LE(v, off));
  const f64 = (off: number, v: number) => (big ? out.writeDoubleBE(v, off) : out.writeDoubleLE(v, off));
  const two = size === 540;
  if (two && out.length < 540) return bytesMutation(rng, b);
  const field = rng.pick(['dim', 'dim', 'dim0', 'dims-huge', 'datatype', 'bitpix', 'vox_offset', 'scl_slope', 'pixdim', 'qform', 'sizeof_hdr']);
  const dimValues = [0, -1, 1, 2, 2048, 32767, -32768, 65535];
  switch (field) {
    case 'dim': {
      const k = 1 + rng.int(7);
      const v = rng.pick(dimValues);
      if (two) i64(16 + 8 * k, BigInt(v === 65535 ? 2 ** 40 : v)); else i16(40 + 2 * k, v);
      return { data: out, what: `dim[${k}] = ${v === 65535 && two ? 2 ** 40 : v}` };
    }
    case 'dims-huge': {
      // a header declaring a volume of gigabytes (2048³ int16 = 16 GiB), over a file of a few kilobytes
      const v = rng.pick([2048, 4096, 32767]);
      for (let k = 1; k <= 3; k++) { if (two) i64(16 + 8 * k, BigInt(v)); else i16(40 + 2 * k, v); }
      return { data: out, what: `dim[1..3] = ${v}` };
    }
    case 'dim0': { const v = rng.pick([0, 1, 2, 3, 4, 7, 8, -1, 100]); if (two) i64(16, BigInt(v)); else i16(40, v); return { data: out, what: `dim[0] = ${v}` }; }
    case 'datatype': { const v = rng.pick([0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 768, 1024, 1280, 1536, 1792, 2048, 2304, 9999, -1]); i16(two ? 12 : 70, v); return { data: out, what: `datatype = ${v}` }; }
    case 'bitpix': { const v = rng.pick([0, 1, 7, 8, 16, 32, 64, 128, -8]); i16(two ? 14 : 72, v); return { data: out, what: `bitpix = ${v}` }; }
    case 'vox_offset': { const v = rng.pick([0, 1, 347, 352, 1e9, -352, Number.NaN, 4.5]); if (two) i64(168, BigInt(Number.isFinite(v) ? Math.trunc(v) : 0)); else f32(108, v); return { data: out, what: `vox_offset = ${v}` }; }
    case 'scl_slope': { const v = rng.pick([0, Number.NaN, Infinity, -Infinity, 1e38, -1e-38]); if (two) f64(176, v); else f32(112, v); return { data: out, what: `scl_slope = ${v}` }; }
    case 'pixdim': { const k = rng.int(8); const v = rng.pick([0, -1, Number.NaN, Infinity, 1e30]); if (two) f64(104 + 8 * k, v); else f32(76 + 4 * k, v); return { data: out, what: `pixdim[${k}] = ${v}` }; }
    case 'qform': { const v = rng.pick([0, 1, 2, 3, 4, 5, -1, 32767]); i16(two ? 344 : 252, v); i16(two ? 348 : 254, rng.pick([0, 1, 4, 9])); return { data: out, what: `qform/sform codes = ${v}` }; }
    default: { const v = rng.pick([0, 347, 349, 539, 541, 0x5c010000]); if (big) out.writeInt32BE(v, 0); else out.writeInt32LE(v, 0); return { data: out, what: `sizeof_hdr = ${v}` }; }
  }
}

/** A .nii.gz mutant: the inner .nii mutated and compressed again, bytes of the gzip itself, or trailing data after the stream. */
export function niftiGzMutation(rng: Rng, gz: Buffer): Mutated {
  const k = rng.int(10);
  if (k < 6) {
    let inner: Buffer;
    try { inner = gunzipSync(gz); } catch { return bytesMutation(rng, gz); }
    const m = niftiMutation(rng, inner);
    return { data: gzipSync(m.data, { level: 1 }), what: `gzip(${m.what})` };
  }
  if (k < 9) { const m = bytesMutation(rng, gz); return { data: m.data, what: `gz bytes: ${m.what}` }; }
  // trailing zeros after the volume (more gzip members): the header still declares the small volume.
  // Up to 2 GiB of zeros, as copies of one 64 MiB member (about 64 kB each)
  const members = rng.chance(0.5) ? 1 : 1 + rng.int(32);
  return { data: Buffer.concat([gz, ...Array(members).fill(zeroMember())]), what: `${members * 64} MiB of trailing zeros in ${members} more gzip member(s)` };
}

let zeros64: Buffer | undefined;
/** A gzip member of 64 MiB of zeros (made once). */
function zeroMember(): Buffer {
  zeros64 ??= gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
  return zeros64;
}

// ---- zip

export interface ZipEntry { name: string; data: Buffer; deflate?: boolean; declaredSize?: number }

/** A zip (stored or deflated entries), with the sizes it declares overridable. */
export function makeZip(entries: ZipEntry[]): Buffer {
  const local: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name);
    const body = e.deflate ? deflateRawSync(e.data) : e.data;
    const crc = crc32(e.data);
    const size = e.declaredSize ?? e.data.length;
    const h = Buffer.alloc(30);
    h.writeUInt32LE(0x04034b50, 0); h.writeUInt16LE(20, 4); h.writeUInt16LE(0, 6); h.writeUInt16LE(e.deflate ? 8 : 0, 8);
    h.writeUInt32LE(crc, 14); h.writeUInt32LE(body.length, 18); h.writeUInt32LE(size >>> 0, 22);
    h.writeUInt16LE(name.length, 26);
    local.push(h, name, body);
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0); c.writeUInt16LE(20, 4); c.writeUInt16LE(20, 6); c.writeUInt16LE(e.deflate ? 8 : 0, 10);
    c.writeUInt32LE(crc, 16); c.writeUInt32LE(body.length, 20); c.writeUInt32LE(size >>> 0, 24);
    c.writeUInt16LE(name.length, 28); c.writeUInt32LE(offset, 42);
    central.push(c, name);
    offset += 30 + name.length + body.length;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(entries.length & 0xffff, 8); end.writeUInt16LE(entries.length & 0xffff, 10);
  end.writeUInt32LE(cd.length, 12); end.writeUInt32LE(offset, 16);
  return Buffer.concat([...local, cd, end]);
}

// ---- case YAML / JSON

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const WRONG_VALUES: Json[] = [null, true, false, 0, -1, 1e308, -1e308, 3.5, 'x', '', 'x'.repeat(10_000), [], {}, [1, 'a'], { a: 1 }, '2026-02-30', '9999-99-99', 'NaN', '<script>alert(1)</script>', '\u202e\u0000'];

function paths(v: Json, prefix: Array<string | number> = [], out: Array<Array<string | number>> = []): Array<Array<string | number>> {
  out.push(prefix);
  if (out.length > 5000) return out;
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...prefix, i], out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...prefix, k], out);
  return out;
}

function setAt(root: Json, path: Array<string | number>, value: Json): Json {
  if (!path.length) return value;
  let n = root as Record<string | number, Json>;
  for (const seg of path.slice(0, -1)) n = n[seg] as Record<string | number, Json>;
  n[path[path.length - 1]!] = value;
  return root;
}

function nest(depth: number, leaf: Json, rng: Rng): Json {
  let v = leaf;
  const arr = rng.chance(0.5);
  for (let i = 0; i < depth; i++) v = arr ? [v] : { a: v };
  return v;
}

/** A mutation of a case text (YAML or JSON): structural (wrong types, unknown keys, nesting, many keys), YAML-specific (aliases, tags, documents) or textual. */
export function caseMutation(rng: Rng, text: string, json: boolean): Mutated {
  let data: Json;
  try { data = (json ? JSON.parse(text) : parseYaml(text)) as Json; } catch { data = null; }
  const out = (d: Json, what: string, asJson = json): Mutated => ({ data: Buffer.from(asJson ? JSON.stringify(d) : stringifyYaml(d, { aliasDuplicateObjects: false, lineWidth: 0 })), what });
  const kind = rng.int(14);
  const ps = data !== null && typeof data === 'object' ? paths(data) : [[]];
  switch (kind) {
    case 0: { const p = rng.pick(ps); const v = rng.pick(WRONG_VALUES); return out(setAt(structuredClone(data), p, v), `${p.join('.') || '(root)'} = ${JSON.stringify(v).slice(0, 30)}`); }
    case 1: {
      const p = rng.pick(ps);
      const d = rng.pick([10, 31, 32, 33, 100, 1000, 10_000, 50_000]);
      if (d <= 100) return out(setAt(structuredClone(data), p, nest(d, 1, rng)), `${p.join('.') || '(root)'} nested ${d} levels`);
      // deeper than a recursive writer can go: spliced into the JSON text
      const arr = rng.chance(0.5);
      const deep = arr ? `${'['.repeat(d)}1${']'.repeat(d)}` : `${'{"a":'.repeat(d)}1${'}'.repeat(d)}`;
      return { data: Buffer.from(JSON.stringify(setAt(structuredClone(data), p, '\u0000NEST')).replace('"\\u0000NEST"', deep)), what: `${p.join('.') || '(root)'} nested ${d} levels (JSON)` };
    }
    case 2: {
      const n = rng.pick([10, 999, 1000, 1001, 5000, 20_000, 60_000]);
      const d = structuredClone(data) as Record<string, Json>;
      if (!d || typeof d !== 'object' || Array.isArray(d)) return out(data, 'many keys (root not a mapping)');
      for (let i = 0; i < n; i++) d[`k${i}`] = i;
      return out(d, `${n} extra top-level keys`);
    }
    case 3: { const d = structuredClone(data) as Record<string, Json>; if (d && typeof d === 'object') d[rng.pick(['__proto__', 'constructor', 'colour', 'Patient', ''])] = { polluted: true }; return out(d, 'unknown / prototype key'); }
    case 4: return { data: Buffer.from(`${text}\nx: &a [1, 2]\ny: *a\nz: *missing\n`), what: 'unresolved alias' };
    case 5: {
      const lv = 3 + rng.int(8);
      let s = 'a0: &a0 [x, x, x, x, x, x, x, x, x]\n';
      for (let i = 1; i < lv; i++) s += `a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(', ')}]\n`;
      return { data: Buffer.from(`${json ? '' : text}\n${s}`), what: `billion laughs, ${lv} levels` };
    }
    case 6: return { data: Buffer.from(`${rng.pick(['a: &a [*a]\n', 'a: &a {b: *a}\n', '&a [*a, *a]\n'])}${text}`), what: 'self-referencing alias' };
    case 7: return { data: Buffer.from(`${text}\n${rng.pick(['tag: !!binary AAAA', 'tag: !!js/function "x"', 'tag: !custom 1', 'tag: !!set {a, b}', 'tag: !!timestamp 2001-12-14', 'tag: !!float .nan', 'tag: !!int 0x7fffffffffffffffffff'])}\n`), what: 'YAML tag' };
    case 8: return { data: Buffer.from(`${text}\n---\n${text}`), what: 'two documents' };
    case 9: { const line = text.split('\n').filter(Boolean); const l = rng.pick(line.length ? line : ['x: 1']); return { data: Buffer.from(`${text}\n${l}\n`), what: `duplicated line "${l.slice(0, 30)}"` }; }
    case 10: { const d = rng.pick([100, 1000, 10_000]); return { data: Buffer.from(`${'['.repeat(d)}${']'.repeat(d)}`), what: `bare ${d}-deep flow sequence` }; }
    case 11: return { data: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text.replace(/\n/g, rng.pick(['\r\n', '\r', '\u2028'])))]), what: 'BOM and other line ends' };
    case 12: { const m = rng.pick([truncate, flipBytes, duplicateChunk])(rng, Buffer.from(text)); return m; }
    default: { const n = rng.pick([1, 100, 10_000, 200_000]); return { data: Buffer.from(`${text}\n# ${'x'.repeat(n)}\nlong: "${'y'.repeat(n)}"\n`), what: `long line ${n}` }; }
  }
}
