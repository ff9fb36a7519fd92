/**
 * The knowledge-base snapshot: the compiled knowledge base (src/core/knowledge/compile.ts: validated
 * by the same schemas as `calcdx kb check`, its likelihood tables built), stored as one JSON file
 * at build time (dist/kb/snapshot.json). A command decodes it (a few ms) instead of parsing YAML
 * (about 0.3 s), validating it with zod and building the tables (about 0.1 s).
 *
 * The snapshot carries a digest of what it was made from: the YAML sources and the compiler's
 * source (src/core/knowledge, src/core/case-format). A snapshot whose digest differs from those
 * on disk is stale and is not used (the knowledge base is then compiled from the YAML).
 *
 * Encoding: JSON, with Maps as {"$map": [[key, value], ...]}, typed arrays as
 * {"$ta": "Float64Array", "b64": bytes}, and an object met more than once (a source listed in
 * sources.yaml and in rules.yaml) written once as {"$id": n, "$v": value} and then {"$ref": n},
 * so that the decoded knowledge base has the same shape and the same shared objects as the compiled one.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KnowledgeBase } from '../core/knowledge/compile.js';
import { writeFileAtomic } from './write-file.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** dist/kb/snapshot.json of this package (the same path from src/ under vitest and from dist/). */
export const DEFAULT_SNAPSHOT = join(ROOT, 'dist', 'kb', 'snapshot.json');

/** the compiler's source: a change here changes the compiled knowledge base, so it is part of the digest */
const COMPILER_DIRS = ['src/core/knowledge', 'src/core/case-format'].map((d) => join(ROOT, d));

const FORMAT = 2;
interface Snapshot { format: typeof FORMAT; digest: string; kb: unknown }

function files(dir: string, keep: (name: string) => boolean): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...files(p, keep));
    else if (keep(e.name)) out.push(p);
  }
  return out;
}

function hashFiles(h: ReturnType<typeof createHash>, dir: string, keep: (name: string) => boolean): void {
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

/** kbSourceDigest and the compiler's source files (when present: a package without src/ has only the YAML). */
function snapshotDigest(dir: string): string {
  const h = createHash('sha256').update(kbSourceDigest(dir));
  for (const d of COMPILER_DIRS) if (existsSync(d)) hashFiles(h, d, (n) => n.endsWith('.ts') && !n.endsWith('.test.ts'));
  return h.digest('hex');
}

const TYPED = { Float64Array, Float32Array, Int32Array, Uint32Array, Int16Array, Uint16Array, Int8Array, Uint8Array } as const;
type TypedName = keyof typeof TYPED;

/** The compiled knowledge base as JSON-safe data (see the module comment); throws on what it cannot keep exactly. */
export function encodeKb(kb: KnowledgeBase): unknown {
  const count = new Map<object, number>();
  const countRefs = (v: unknown): void => {
    if (v === null || typeof v !== 'object') return;
    const n = (count.get(v) ?? 0) + 1;
    count.set(v, n);
    if (n > 1 || ArrayBuffer.isView(v)) return;
    if (v instanceof Map) for (const [, x] of v) countRefs(x);
    else for (const x of Object.values(v)) countRefs(x);
  };
  countRefs(kb);
  const ids = new Map<object, number>();
  const enc = (v: unknown, path: string): unknown => {
    if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw new Error(`knowledge-base snapshot: ${path} is ${v}, which JSON cannot hold`);
      return v;
    }
    if (typeof v !== 'object') throw new Error(`knowledge-base snapshot: ${path} is a ${typeof v}`);
    const seen = ids.get(v);
    if (seen !== undefined) return { $ref: seen };
    let out: unknown;
    if (ArrayBuffer.isView(v)) {
      const name = v.constructor.name;
      if (!(name in TYPED)) throw new Error(`knowledge-base snapshot: ${path} is a ${name}`);
      out = { $ta: name, b64: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
    } else if (v instanceof Map) {
      out = { $map: [...v].map(([k, x]) => {
        if (typeof k !== 'string' && typeof k !== 'number') throw new Error(`knowledge-base snapshot: ${path} has a ${typeof k} key`);
        return [k, enc(x, `${path}.<${String(k)}>`)];
      }) };
    } else if (Array.isArray(v)) {
      out = v.map((x, i) => {
        if (x === undefined) throw new Error(`knowledge-base snapshot: ${path}.${i} is undefined`);
        return enc(x, `${path}.${i}`);
      });
    } else {
      const proto = Object.getPrototypeOf(v) as unknown;
      if (proto !== Object.prototype && proto !== null) throw new Error(`knowledge-base snapshot: ${path} is not a plain object`);
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        if (k.startsWith('$')) throw new Error(`knowledge-base snapshot: ${path}.${k}: keys starting with $ are the encoding's`);
        if (x !== undefined) o[k] = enc(x, `${path}.${k}`);
      }
      out = o;
    }
    if ((count.get(v) ?? 0) > 1) {
      const id = ids.size;
      ids.set(v, id);
      return { $id: id, $v: out };
    }
    return out;
  };
  return enc(kb, 'kb');
}

/** The inverse of encodeKb. */
export function decodeKb(data: unknown): KnowledgeBase {
  const refs: unknown[] = [];
  const dec = (v: unknown): unknown => {
    if (v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) return v.map(dec);
    const o = v as Record<string, unknown>;
    if ('$ref' in o) return refs[o.$ref as number];
    if ('$id' in o) {
      const x = dec(o.$v);
      refs[o.$id as number] = x;
      return x;
    }
    if ('$ta' in o) {
      const bytes = Buffer.from(o.b64 as string, 'base64');
      const T = TYPED[o.$ta as TypedName];
      // a copy into a fresh, aligned buffer of its own
      const out = new T(bytes.byteLength / T.BYTES_PER_ELEMENT);
      new Uint8Array(out.buffer).set(bytes);
      return out;
    }
    if ('$map' in o) return new Map((o.$map as Array<[unknown, unknown]>).map(([k, x]) => [k, dec(x)]));
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(o)) out[k] = dec(o[k]);
    return out;
  };
  return dec(data) as KnowledgeBase;
}

/** Writes the snapshot of a compiled (hence valid) knowledge base made from the YAML of `dir`. */
export function writeKbSnapshot(kb: KnowledgeBase, dir: string, out = DEFAULT_SNAPSHOT): void {
  mkdirSync(dirname(out), { recursive: true });
  const s: Snapshot = { format: FORMAT, digest: snapshotDigest(dir), kb: encodeKb(kb) };
  writeFileAtomic(out, JSON.stringify(s));
}

/** The compiled knowledge base of a snapshot that matches the sources of `dir`; undefined when missing, unreadable or stale. */
export function readKbSnapshot(dir: string, file = DEFAULT_SNAPSHOT): KnowledgeBase | undefined {
  let s: Partial<Snapshot>;
  try { s = JSON.parse(readFileSync(file, 'utf8')) as Partial<Snapshot>; } catch { return undefined; }
  if (s.format !== FORMAT || typeof s.digest !== 'string' || !s.kb) return undefined;
  return s.digest === snapshotDigest(dir) ? decodeKb(s.kb) : undefined;
}
