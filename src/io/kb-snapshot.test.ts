import { describe, expect, it } from 'vitest';
import { appendFileSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileKnowledgeBase, type KnowledgeBase } from '../core/knowledge/compile.js';
import { DEFAULT_KB_DIR, loadKnowledgeBase, readRawKnowledgeBase } from './kb-files.js';
import { kbVersion } from '../report/kb-version.js';
import { decodeKb, DEFAULT_SNAPSHOT, encodeKb, kbSourceDigest, readKbSnapshot, writeKbSnapshot } from './kb-snapshot.js';

function compiled(dir = DEFAULT_KB_DIR): KnowledgeBase {
  const r = compileKnowledgeBase(readRawKnowledgeBase(dir));
  if (!r.ok) throw new Error(r.problems.map((p) => p.message).join('\n'));
  return r.kb;
}

describe('knowledge-base snapshot', () => {
  it('round-trips the compiled knowledge base and is refused once a YAML source changes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'calcdx-kb-'));
    try {
      const kbDir = join(dir, 'kb');
      cpSync(DEFAULT_KB_DIR, kbDir, { recursive: true });
      const file = join(dir, 'snapshot.bin');
      const kb = compiled(kbDir);
      writeKbSnapshot(kb, kbDir, file);
      expect(readKbSnapshot(kbDir, file)).toStrictEqual(kb);
      const before = kbSourceDigest(kbDir);
      appendFileSync(join(kbDir, 'entities', 'lipoma.yaml'), '\n# edited\n');
      expect(kbSourceDigest(kbDir)).not.toBe(before);
      expect(readKbSnapshot(kbDir, file)).toBeUndefined();
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });

  it('notices a source rewritten with the same size (by its modification time), and uses a snapshot whose sources were only touched', () => {
    const dir = mkdtempSync(join(tmpdir(), 'calcdx-kb-'));
    try {
      const kbDir = join(dir, 'kb');
      cpSync(DEFAULT_KB_DIR, kbDir, { recursive: true });
      const file = join(dir, 'snapshot.bin');
      const kb = compiled(kbDir);
      writeKbSnapshot(kb, kbDir, file);
      const lipoma = join(kbDir, 'entities', 'lipoma.yaml');
      const later = new Date(statSync(lipoma).mtimeMs + 2000);
      // touched: same bytes, another time: the digest is compared, and matches
      utimesSync(lipoma, later, later);
      expect(readKbSnapshot(kbDir, file)).toStrictEqual(kb);
      // the same size, one byte changed (a comment's letter), another time: stale
      const text = readFileSync(lipoma, 'utf8');
      writeFileSync(lipoma, `${text.slice(0, -1)}${text.endsWith('\n') ? ' ' : '\n'}`);
      const after = new Date(later.getTime() + 2000);
      utimesSync(lipoma, after, after);
      expect(statSync(lipoma).size).toBe(Buffer.byteLength(text));
      expect(readKbSnapshot(kbDir, file)).toBeUndefined();
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });

  it('keeps typed arrays exactly (in buffers of their own), Maps, and objects shared between places as one object', () => {
    const kb = compiled();
    const back = decodeKb(encodeKb(kb));
    expect(back).toStrictEqual(kb);
    expect(back.findings[0]!.lik).toBeInstanceOf(Float64Array);
    expect(back.findings[0]!.lik.byteOffset).toBe(0);
    expect(back.findings[0]!.lik.buffer.byteLength).toBe(back.findings[0]!.lik.byteLength);
    expect(Array.from(back.findings[0]!.logLr)).toEqual(Array.from(kb.findings[0]!.logLr));
    expect(back.entityIndex).toBeInstanceOf(Map);
    // sources.yaml's entries are the same objects in kb.sources and in the rules that list them
    const shared = kb.rules.sources[0];
    if (shared) expect(back.sources.get(shared.id)).toBe(back.rules.sources[0]);
  });

  it('refuses what it cannot keep exactly rather than changing it', () => {
    const kb = compiled();
    const nan = decodeKb(encodeKb({ ...kb, logPrior: new Float64Array([0, Number.NaN]) as Float64Array, groups: [...kb.groups] }));
    expect(Number.isNaN(nan.logPrior[1])).toBe(true);
    expect(() => encodeKb({ ...kb, views: new Set() as unknown as KnowledgeBase['views'] })).toThrow(/kb\.views is not a plain object/);
    expect(() => encodeKb({ ...kb, groups: [() => 1] as unknown as KnowledgeBase['groups'] })).toThrow(/kb\.groups\.0 is a function/);
    expect(() => encodeKb({ ...kb, entityIndex: new Map([[{}, 1]]) as unknown as KnowledgeBase['entityIndex'] })).toThrow(/object key/);
    expect(() => encodeKb({ ...kb, mechanismWeights: new DataView(new ArrayBuffer(8)) as unknown as Float64Array })).toThrow(/DataView/);
  });

  it('a restored knowledge base has the fingerprint of the compiled one without computing it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'calcdx-kb-'));
    try {
      const kb = compiled();
      const file = join(dir, 'snapshot.bin');
      writeKbSnapshot(kb, DEFAULT_KB_DIR, file);
      const back = readKbSnapshot(DEFAULT_KB_DIR, file)!;
      expect(kbVersion(back)).toBe(kbVersion(compiled()));
      // adopted, not recomputed: a restored copy whose content is then changed keeps the build's fingerprint
      const other = readKbSnapshot(DEFAULT_KB_DIR, file)!;
      (other.entities[0] as { id: string }).id = 'edited_after_reading';
      expect(kbVersion(other)).toBe(kbVersion(kb));
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });

  it('a missing or malformed snapshot is not used', () => {
    const dir = mkdtempSync(join(tmpdir(), 'calcdx-kb-'));
    try {
      expect(readKbSnapshot(DEFAULT_KB_DIR, join(dir, 'none.json'))).toBeUndefined();
      const bad = join(dir, 'bad.bin');
      appendFileSync(bad, '{"format":2,');
      expect(readKbSnapshot(DEFAULT_KB_DIR, bad)).toBeUndefined();
      const truncated = join(dir, 'truncated.bin');
      writeKbSnapshot(compiled(), DEFAULT_KB_DIR, truncated);
      writeFileSync(truncated, readFileSync(truncated).subarray(0, 1000));
      expect(readKbSnapshot(DEFAULT_KB_DIR, truncated)).toBeUndefined();
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });

  it('the build wrote a snapshot that matches data/kb and the compiler (fails when it is stale: run npm run build)', () => {
    expect(existsSync(DEFAULT_SNAPSHOT), `${DEFAULT_SNAPSHOT} is missing: run npm run build`).toBe(true);
    const kb = readKbSnapshot(DEFAULT_KB_DIR);
    expect(kb, 'the snapshot is stale against data/kb or src/core/knowledge: run npm run build').toBeDefined();
    expect(kb).toStrictEqual(compiled());
    expect(loadKnowledgeBase()).toBe(loadKnowledgeBase());
    expect(loadKnowledgeBase().entities.length).toBeGreaterThanOrEqual(23);
  });
});
