#!/usr/bin/env node
/**
 * Build step: validates the knowledge base (data/kb/*.yaml) with the same schemas as `calcdx kb check`
 * and writes the compiled knowledge base to dist/kb/snapshot.bin, which the CLI and server load
 * instead of parsing YAML, validating and compiling it.
 * Fails (exit 3) on an invalid knowledge base. Run after `tsc` (it uses dist/).
 */
const { DEFAULT_KB_DIR, readRawKnowledgeBase } = await import('../dist/io/kb-files.js');
const { compileKnowledgeBase } = await import('../dist/core/knowledge/compile.js');
const { DEFAULT_SNAPSHOT, writeKbSnapshot } = await import('../dist/io/kb-snapshot.js');

const raw = readRawKnowledgeBase(DEFAULT_KB_DIR);
const r = compileKnowledgeBase(raw);
if (!r.ok) {
  for (const p of r.problems) process.stderr.write(`${p.file}: ${p.path || '(file)'}: ${p.message}\n`);
  process.stderr.write(`build-kb: the knowledge base is invalid (${r.problems.length} problems); no snapshot written\n`);
  process.exit(3);
}
writeKbSnapshot(r.kb, DEFAULT_KB_DIR, DEFAULT_SNAPSHOT);
