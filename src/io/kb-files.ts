/**
 * Reads the knowledge-base data files (data/kb) and compiles them.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { compileKnowledgeBase, type CompileResult, type KnowledgeBase, type RawKnowledgeBase } from '../core/knowledge/compile.js';
import { readBundledSnapshot } from './kb-snapshot.js';
import { packagePath } from './package-root.js';

/** data/kb of this package (works from src/ under vitest and from dist/). */
export const DEFAULT_KB_DIR = packagePath('data', 'kb');

function readYaml(path: string): unknown {
  return parse(readFileSync(path, 'utf8'), { prettyErrors: true });
}

export function readRawKnowledgeBase(dir = DEFAULT_KB_DIR): RawKnowledgeBase {
  const entityDir = join(dir, 'entities');
  const entities = readdirSync(entityDir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => ({ file: `entities/${f}`, data: readYaml(join(entityDir, f)) }));
  let seedMap: unknown;
  try { seedMap = readYaml(join(dir, 'seed-map.yaml')); } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  return {
    findings: readYaml(join(dir, 'findings.yaml')),
    rules: readYaml(join(dir, 'rules.yaml')),
    plans: readYaml(join(dir, 'plans.yaml')),
    sources: readYaml(join(dir, 'sources.yaml')),
    entities,
    seedMap,
  };
}

export function checkKnowledgeBase(dir = DEFAULT_KB_DIR): CompileResult {
  return compileKnowledgeBase(readRawKnowledgeBase(dir));
}

let cached: KnowledgeBase | undefined;

/**
 * The bundled knowledge base, compiled once; throws with every problem listed if it is invalid.
 * The bundled one is the build's snapshot (the compiled knowledge base, src/io/kb-snapshot.ts)
 * when it matches the YAML sources and the compiler, else compiled from the YAML itself.
 */
export function loadKnowledgeBase(dir = DEFAULT_KB_DIR): KnowledgeBase {
  if (dir === DEFAULT_KB_DIR && cached) return cached;
  const snapshot = dir === DEFAULT_KB_DIR ? readBundledSnapshot() : undefined;
  if (snapshot) return (cached = snapshot);
  const r = compileKnowledgeBase(readRawKnowledgeBase(dir));
  if (!r.ok) {
    throw new KnowledgeBaseError(r.problems.map((p) => `${p.file}: ${p.path}: ${p.message}`));
  }
  if (dir === DEFAULT_KB_DIR) cached = r.kb;
  return r.kb;
}

export class KnowledgeBaseError extends Error {
  constructor(readonly problems: string[]) {
    super(`knowledge base invalid (${problems.length} problems):\n${problems.join('\n')}`);
    this.name = 'KnowledgeBaseError';
  }
}
