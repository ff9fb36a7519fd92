/**
 * The knowledge-base snapshot: the compiled knowledge base (src/core/knowledge/compile.ts: validated
 * by the same schemas as `calcdx kb check`, its likelihood tables built), stored as one file at
 * build time (dist/kb/snapshot.bin). A command reads it (a few ms) instead of parsing YAML (about
 * 0.3 s), validating it with zod and building the tables (about 0.1 s); the compiler and its zod
 * schemas are not even loaded then (src/io/kb-load.ts).
 *
 * The snapshot carries a digest of what it was made from: the YAML sources and the compiler's
 * source (src/core/knowledge, src/core/case-format). A snapshot whose digest differs from those
 * on disk is stale and is not used (the knowledge base is then compiled from the YAML); the digest
 * is compared only when a file's size or modification time differs from build time. It also
 * carries the knowledge base's fingerprint (src/core/knowledge/fingerprint.ts), computed at build.
 *
 * Encoding (issue 15): V8's serialization format (node:v8, the structured clone algorithm), which
 * keeps Maps, typed arrays and an object met in two places (a source listed in sources.yaml and in
 * rules.yaml) as they are, and reads in about a third of the time of the JSON encoding used before
 * (JSON.parse and a decoding pass). Only plain data is written (checked at build: plain objects,
 * arrays, Maps, typed arrays, primitives), so the copy read back is exact. A snapshot written by
 * another Node version that this one cannot read is treated as missing.
 */
import type { Hash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DefaultDeserializer, serialize } from 'node:v8';
import { adoptKbFingerprint, kbFingerprint } from '../core/knowledge/fingerprint.js';
import type { KnowledgeBase } from '../core/knowledge/compile.js';
import { packagePath } from './package-root.js';
import { writeFileAtomic } from './write-file.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * node:crypto is loaded only when a digest is computed (at build, or when the stamps below differ):
 * loading it is ~10 ms of CPU and 200 page faults, which every command reading the snapshot paid (issue 15).
 */
const requireBuiltin = createRequire(import.meta.url);
const createHash = (algorithm: string): Hash => (requireBuiltin('node:crypto') as typeof import('node:crypto')).createHash(algorithm);

/** dist/kb/snapshot.bin of this package (the same path from src/ under vitest and from dist/). */
export const DEFAULT_SNAPSHOT = join(ROOT, 'dist', 'kb', 'snapshot.bin');

/** the compiler's source: a change here changes the compiled knowledge base, so it is part of the digest */
const COMPILER_DIRS = ['src/core/knowledge', 'src/core/case-format'].map((d) => join(ROOT, d));

const FORMAT = 4;
interface Snapshot { format: typeof FORMAT; digest: string; stamps: string; fingerprint: string; kb: KnowledgeBase }

function files(dir: string, keep: (name: string) => boolean): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...files(p, keep));
    else if (keep(e.name)) out.push(p);
  }
  return out;
}

function hashFiles(h: Hash, dir: string, keep: (name: string) => boolean): void {
  for (const f of files(dir, keep).map((p) => relative(dir, p).split('\\').join('/')).sort()) {
    h.update(f).update('\0').update(readFileSync(join(dir, f))).update('\0');
  }
}

/** SHA-256 over the relative path and bytes of every YAML file of the knowledge base, in sorted order. */
export function kbSourceDigest(dir: string): string {
  const h = createHash('sha256');
  hashFiles(h, dir, (n) => n.endsWith('.yaml'));
  return h.digest('hex');
}

const isCompilerSource = (n: string): boolean => n.endsWith('.ts') && !n.endsWith('.test.ts');

/** kbSourceDigest and the compiler's source files (when present: a package without src/ has only the YAML). */
function snapshotDigest(dir: string): string {
  const h = createHash('sha256').update(kbSourceDigest(dir));
  for (const d of COMPILER_DIRS) if (existsSync(d)) hashFiles(h, d, isCompilerSource);
  return h.digest('hex');
}

/**
 * Path, size and modification time of every file the digest reads. When they are all as at build
 * time, the files are those the digest was computed from, and reading and hashing them again is
 * skipped (issue 15: it was the largest part of reading the snapshot); any difference (a file
 * edited, added, removed, copied elsewhere, or only touched) falls back to comparing the digest.
 */
function fileStamps(dir: string): string {
  const list = files(dir, (n) => n.endsWith('.yaml'));
  for (const d of COMPILER_DIRS) if (existsSync(d)) list.push(...files(d, isCompilerSource));
  return list.sort().map((f) => {
    const st = statSync(f, { bigint: true });
    return `${f}\0${st.size}\0${st.mtimeNs}`;
  }).join('\n');
}

const TYPED = { Float64Array, Float32Array, Int32Array, Uint32Array, Int16Array, Uint16Array, Int8Array, Uint8Array } as const;

/**
 * Throws unless `v` is plain data that the serialization keeps exactly: plain objects, arrays without
 * holes, Maps with string or number keys, the typed arrays above, and primitives (no functions,
 * symbols, class instances, Sets, Dates).
 */
export function checkPlainData(v: unknown, path = 'kb', seen = new Set<object>()): void {
  if (v === null || v === undefined || typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number') return;
  if (typeof v !== 'object') throw new Error(`knowledge-base snapshot: ${path} is a ${typeof v}`);
  if (seen.has(v)) return;
  seen.add(v);
  if (ArrayBuffer.isView(v)) {
    if (!(v.constructor.name in TYPED)) throw new Error(`knowledge-base snapshot: ${path} is a ${v.constructor.name}`);
  } else if (v instanceof Map) {
    for (const [k, x] of v) {
      if (typeof k !== 'string' && typeof k !== 'number') throw new Error(`knowledge-base snapshot: ${path} has a ${typeof k} key`);
      checkPlainData(x, `${path}.<${String(k)}>`, seen);
    }
  } else if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      if (!(i in v)) throw new Error(`knowledge-base snapshot: ${path} has a hole at ${i}`);
      checkPlainData(v[i], `${path}.${i}`, seen);
    }
  } else {
    const proto = Object.getPrototypeOf(v) as unknown;
    if (proto !== Object.prototype) throw new Error(`knowledge-base snapshot: ${path} is not a plain object`);
    for (const [k, x] of Object.entries(v)) checkPlainData(x, `${path}.${k}`, seen);
  }
}

/** The compiled knowledge base as bytes (V8's serialization format); throws on what it cannot keep exactly. */
export function encodeKb(kb: KnowledgeBase): Buffer {
  checkPlainData(kb);
  return serialize(kb);
}

const readHostObject = (DefaultDeserializer.prototype as unknown as { _readHostObject(this: DefaultDeserializer): unknown })._readHostObject;

/** Reads typed arrays into buffers of their own (Node's reader makes them views into the whole file). */
class SnapshotReader extends DefaultDeserializer {
  _readHostObject(): unknown {
    const v = readHostObject.call(this);
    return ArrayBuffer.isView(v) && !(v instanceof DataView) ? (v as Uint8Array).slice() : v;
  }
}

function deserialize(bytes: Buffer): unknown {
  const r = new SnapshotReader(bytes);
  r.readHeader();
  return r.readValue();
}

/** The inverse of encodeKb. */
export function decodeKb(bytes: Buffer): KnowledgeBase {
  return deserialize(bytes) as KnowledgeBase;
}

/** Writes the snapshot of a compiled (hence valid) knowledge base made from the YAML of `dir`. */
export function writeKbSnapshot(kb: KnowledgeBase, dir: string, out = DEFAULT_SNAPSHOT): void {
  mkdirSync(dirname(out), { recursive: true });
  checkPlainData(kb);
  const s: Snapshot = { format: FORMAT, digest: snapshotDigest(dir), stamps: fileStamps(dir), fingerprint: kbFingerprint(kb), kb };
  writeFileAtomic(out, serialize(s));
}

/** The compiled knowledge base of a snapshot that matches the sources of `dir`; undefined when missing, unreadable or stale. */
export function readKbSnapshot(dir: string, file = DEFAULT_SNAPSHOT): KnowledgeBase | undefined {
  let s: Partial<Snapshot> | null;
  try { s = deserialize(readFileSync(file)) as Partial<Snapshot> | null; } catch { return undefined; }
  if (s === null || typeof s !== 'object' || s.format !== FORMAT || typeof s.digest !== 'string' || typeof s.stamps !== 'string' || typeof s.fingerprint !== 'string' || !s.kb) return undefined;
  if (s.stamps !== fileStamps(dir) && s.digest !== snapshotDigest(dir)) return undefined;
  adoptKbFingerprint(s.kb, s.fingerprint);
  return s.kb;
}

let bundled: KnowledgeBase | null | undefined;

/** The build's snapshot of this package's data/kb when it is current (read once), else undefined. */
export function readBundledSnapshot(): KnowledgeBase | undefined {
  if (bundled === undefined) bundled = readKbSnapshot(packagePath('data', 'kb')) ?? null;
  return bundled ?? undefined;
}
