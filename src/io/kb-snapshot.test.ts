import { describe, expect, it } from 'vitest';
import { appendFileSync, cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileKnowledgeBase, type KnowledgeBase } from '../core/knowledge/compile.js';
import { DEFAULT_KB_DIR, loadKnowledgeBase, readRawKnowledgeBase } from './kb-files.js';
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
      const file = join(dir, 'snapshot.json');
      const kb = compiled(kbDir);
      writeKbSnapshot(kb, kbDir, file);
      expect(readKbSnapshot(kbDir, file)).toStrictEqual(kb);
      const before = kbSourceDigest(kbDir);
      appendFileSync(join(kbDir, 'entities', 'lipoma.yaml'), '\n# edited\n');
      expect(kbSourceDigest(kbDir)).not.toBe(before);
      expect(readKbSnapshot(kbDir, file)).toBeUndefined();
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });

  it('keeps typed arrays exactly, Maps, and objects shared between places as one object', () => {
    const kb = compiled();
    const back = decodeKb(JSON.parse(JSON.stringify(encodeKb(kb))));
    expect(back).toStrictEqual(kb);
    expect(back.findings[0]!.lik).toBeInstanceOf(Float64Array);
    expect(Array.from(back.findings[0]!.logLr)).toEqual(Array.from(kb.findings[0]!.logLr));
    expect(back.entityIndex).toBeInstanceOf(Map);
    // sources.yaml's entries are the same objects in kb.sources and in the rules that list them
    const shared = kb.rules.sources[0];
    if (shared) expect(back.sources.get(shared.id)).toBe(back.rules.sources[0]);
  });

  it('refuses what JSON cannot hold exactly rather than changing it', () => {
    const kb = compiled();
    expect(() => encodeKb({ ...kb, logPrior: new Float64Array([0, Number.NaN]) as Float64Array, groups: [...kb.groups] })).not.toThrow();
    expect(() => encodeKb({ ...kb, mechanismWeights: [Number.POSITIVE_INFINITY] as unknown as Float64Array })).toThrow(/Infinity/);
    expect(() => encodeKb({ ...kb, views: { $x: 1 } as unknown as KnowledgeBase['views'] })).toThrow(/\$/);
  });

  it('a missing or malformed snapshot is not used', () => {
    const dir = mkdtempSync(join(tmpdir(), 'calcdx-kb-'));
    try {
      expect(readKbSnapshot(DEFAULT_KB_DIR, join(dir, 'none.json'))).toBeUndefined();
      const bad = join(dir, 'bad.json');
      appendFileSync(bad, '{"format":2,');
      expect(readKbSnapshot(DEFAULT_KB_DIR, bad)).toBeUndefined();
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
