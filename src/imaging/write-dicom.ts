/**
 * A small DICOM Part 10 writer (explicit VR little endian): test inputs the fixtures do not have,
 * and CT series of generated phantoms (one file per slice, as a scanner writes them).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Volume } from './volume.js';

export interface El {
  tag: number;
  vr: string;
  value: string | number[] | Uint8Array | El[][] | { fragments: Uint8Array[]; offsets: number[] };
}

const LONG_VRS = new Set(['OB', 'OW', 'OF', 'OD', 'OL', 'SQ', 'UT', 'UN', 'UC', 'UR']);

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function u16(...xs: number[]): Uint8Array {
  const b = new Uint8Array(xs.length * 2);
  const v = new DataView(b.buffer);
  xs.forEach((x, i) => v.setUint16(i * 2, x, true));
  return b;
}
export function u32(...xs: number[]): Uint8Array {
  const b = new Uint8Array(xs.length * 4);
  const v = new DataView(b.buffer);
  xs.forEach((x, i) => v.setUint32(i * 4, x >>> 0, true));
  return b;
}
const tagBytes = (tag: number): Uint8Array => u16(tag >>> 16, tag & 0xffff);

/** One data element; raw Uint8Array values are written as given (odd lengths kept on purpose). */
export function encodeElement(el: El): Uint8Array {
  const head = (len: number): Uint8Array => {
    const vr = new TextEncoder().encode(el.vr);
    return LONG_VRS.has(el.vr) ? concat([tagBytes(el.tag), vr, u16(0), u32(len)]) : concat([tagBytes(el.tag), vr, u16(len)]);
  };
  const v = el.value;
  if (el.vr === 'SQ') {
    const items = (v as El[][]).map((it) => concat([tagBytes(0xfffee000), u32(0xffffffff), ...it.map(encodeElement), tagBytes(0xfffee00d), u32(0)]));
    return concat([head(0xffffffff), ...items, tagBytes(0xfffee0dd), u32(0)]);
  }
  if (typeof v === 'object' && 'fragments' in v) {
    const item = (b: Uint8Array): Uint8Array => concat([tagBytes(0xfffee000), u32(b.length), b]);
    return concat([head(0xffffffff), item(u32(...v.offsets)), ...v.fragments.map(item), tagBytes(0xfffee0dd), u32(0)]);
  }
  let body: Uint8Array;
  if (typeof v === 'string') {
    body = new TextEncoder().encode(v);
    if (body.length % 2) body = concat([body, new Uint8Array([el.vr === 'UI' ? 0 : 0x20])]);
  } else if (Array.isArray(v)) {
    body = el.vr === 'UL' ? u32(...(v as number[])) : u16(...(v as number[]));
  } else {
    body = v as Uint8Array;
  }
  return concat([head(body.length), body]);
}

/** A Part 10 file: preamble, "DICM", file meta group, then the data set sorted by tag. */
export function part10(ts: string, elements: El[], { preamble = true, sopClassUid = '1.2.840.10008.5.1.4.1.1.2', sopInstanceUid = '1.2.3.4' }: { preamble?: boolean; sopClassUid?: string; sopInstanceUid?: string } = {}): Buffer {
  const sorted = [...elements].sort((a, b) => a.tag - b.tag);
  const data = concat(sorted.map(encodeElement));
  if (!preamble) return Buffer.from(data);
  const meta = concat([
    encodeElement({ tag: 0x00020001, vr: 'OB', value: new Uint8Array([0, 1]) }),
    encodeElement({ tag: 0x00020002, vr: 'UI', value: sopClassUid }),
    encodeElement({ tag: 0x00020003, vr: 'UI', value: sopInstanceUid }),
    encodeElement({ tag: 0x00020010, vr: 'UI', value: ts }),
  ]);
  const group = encodeElement({ tag: 0x00020000, vr: 'UL', value: [meta.length] });
  return Buffer.from(concat([new Uint8Array(128), new TextEncoder().encode('DICM'), group, meta, data]));
}

export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';

const ds = (xs: number[]): string => xs.map((x) => String(Number(x.toFixed(6)))).join('\\');

/**
 * Writes an axial CT volume (identity in-plane orientation) as a DICOM series: one file per slice,
 * stored = HU + 1024 (unsigned, BitsStored 12, RescaleIntercept -1024) or signed HU, with the file
 * names shuffled when asked (name order must not be trusted).
 */
export function writeCtSeries(dir: string, v: Volume, o: { seriesInstanceUid?: string; signed?: boolean; shuffle?: boolean; extra?: El[] } = {}): string[] {
  mkdirSync(dir, { recursive: true });
  const [nx, ny, nz] = v.dims;
  const uid = o.seriesInstanceUid ?? '1.2.826.0.1.3680043.10.1234.1';
  const order = [...Array(nz).keys()];
  if (o.shuffle) for (let i = nz - 1; i > 0; i--) { const j = (i * 7919 + 13) % (i + 1); [order[i], order[j]] = [order[j]!, order[i]!]; }
  const files: string[] = [];
  const a = v.affine;
  for (let k = 0; k < nz; k++) {
    const pixels = new Uint8Array(nx * ny * 2);
    const view = new DataView(pixels.buffer);
    const base = k * nx * ny;
    for (let p = 0; p < nx * ny; p++) {
      const hu = Math.round(v.data[base + p]!);
      if (o.signed) view.setInt16(p * 2, hu, true);
      else view.setUint16(p * 2, Math.max(0, Math.min(4095, hu + 1024)), true);
    }
    const ipp = [a[2]! * k + a[3]!, a[6]! * k + a[7]!, a[10]! * k + a[11]!];
    const els: El[] = [
      { tag: 0x00080016, vr: 'UI', value: '1.2.840.10008.5.1.4.1.1.2' },
      { tag: 0x00080018, vr: 'UI', value: `${uid}.${k + 1}` },
      { tag: 0x00080060, vr: 'CS', value: 'CT' },
      { tag: 0x0008103e, vr: 'LO', value: 'calcdx phantom' },
      { tag: 0x0020000e, vr: 'UI', value: uid },
      { tag: 0x00200013, vr: 'IS', value: String(k + 1) },
      { tag: 0x00200032, vr: 'DS', value: ds(ipp) },
      { tag: 0x00200037, vr: 'DS', value: ds([a[0]! / v.spacing[0], a[4]! / v.spacing[0], a[8]! / v.spacing[0], a[1]! / v.spacing[1], a[5]! / v.spacing[1], a[9]! / v.spacing[1]]) },
      { tag: 0x00280002, vr: 'US', value: [1] },
      { tag: 0x00280004, vr: 'CS', value: 'MONOCHROME2' },
      { tag: 0x00280010, vr: 'US', value: [ny] },
      { tag: 0x00280011, vr: 'US', value: [nx] },
      { tag: 0x00280030, vr: 'DS', value: ds([v.spacing[1], v.spacing[0]]) },
      { tag: 0x00280100, vr: 'US', value: [16] },
      { tag: 0x00280101, vr: 'US', value: [o.signed ? 16 : 12] },
      { tag: 0x00280102, vr: 'US', value: [o.signed ? 15 : 11] },
      { tag: 0x00280103, vr: 'US', value: [o.signed ? 1 : 0] },
      { tag: 0x00281052, vr: 'DS', value: o.signed ? '0' : '-1024' },
      { tag: 0x00281053, vr: 'DS', value: '1' },
      { tag: 0x7fe00010, vr: 'OW', value: pixels },
      // further attributes the caller wants in every file (e.g. study and frame of reference UIDs)
      ...(o.extra ?? []),
    ];
    const file = join(dir, `IM${String(order[k]! + 1).padStart(5, '0')}.dcm`);
    writeFileSync(file, part10(EXPLICIT_VR_LITTLE_ENDIAN, els, { sopInstanceUid: `${uid}.${k + 1}` }));
    files.push(file);
  }
  return files;
}
