import { describe, expect, it } from 'vitest';
import { appendFileSync, cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_KB_DIR, loadKnowledgeBase, readRawKnowledgeBase } from './kb-files.js';
import { DEFAULT_SNAPSHOT, kbSourceDigest, readKbSnapshot, writeKbSnapshot } from './kb-snapshot.js';

describe('knowledge-base snapshot', () => {
  it('round-trips the raw documents and is refused once a YAML source changes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'calcdx-kb-'));
    try {
      const kbDir = join(dir, 'kb');
      cpSync(DEFAULT_KB_DIR, kbDir, { recursive: true });
      const file = join(dir, 'snapshot.json');
      const raw = readRawKnowledgeBase(kbDir);
      writeKbSnapshot(raw, kbDir, file);
      expect(readKbSnapshot(kbDir, file)).toEqual(raw);
      const before = kbSourceDigest(kbDir);
      appendFileSync(join(kbDir, 'entities', 'lipoma.yaml'), '\n# edited\n');
      expect(kbSourceDigest(kbDir)).not.toBe(before);
      expect(readKbSnapshot(kbDir, file)).toBeUndefined();
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });

  it('a missing or malformed snapshot is not used', () => {
    const dir = mkdtempSync(join(tmpdir(), 'calcdx-kb-'));
    try {
      expect(readKbSnapshot(DEFAULT_KB_DIR, join(dir, 'none.json'))).toBeUndefined();
      const bad = join(dir, 'bad.json');
      appendFileSync(bad, '{"format":1,');
      expect(readKbSnapshot(DEFAULT_KB_DIR, bad)).toBeUndefined();
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });

  it('the build wrote a snapshot that matches the YAML of data/kb (fails when it is stale: run npm run build)', () => {
    expect(existsSync(DEFAULT_SNAPSHOT), `${DEFAULT_SNAPSHOT} is missing: run npm run build`).toBe(true);
    const raw = readKbSnapshot(DEFAULT_KB_DIR);
    expect(raw, 'the snapshot is stale against data/kb: run npm run build').toBeDefined();
    expect(raw).toEqual(readRawKnowledgeBase(DEFAULT_KB_DIR));
    expect(loadKnowledgeBase().entities.length).toBeGreaterThanOrEqual(23);
  });
});
