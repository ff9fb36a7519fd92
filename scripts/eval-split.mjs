#!/usr/bin/env node
// Draws the development / holdout split of eval/cases ONCE (seeded, stratified by finalDiagnosis)
// and records it in eval/split.yaml. Run again, it never redraws: it only appends the case files
// the split does not list yet to the holdout half (cases added later are never tuned on).
// Usage: npm run build && node scripts/eval-split.mjs [eval/cases] [eval/split.yaml]
import { existsSync, writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { readEvalFolder } from '../dist/eval/cases.js';
import { readSplit, stratifiedSplit } from '../dist/eval/split.js';

const SEED = 20261203;
const dir = process.argv[2] ?? 'eval/cases';
const out = process.argv[3] ?? 'eval/split.yaml';
const cases = readEvalFolder(dir);
let split;
if (existsSync(out)) {
  split = readSplit(out);
  const listed = new Set([...split.development, ...split.holdout]);
  const added = cases.map((c) => c.file).filter((f) => !listed.has(f));
  split.holdout = [...split.holdout, ...added].sort();
  if (added.length) split.added = [...(split.added ?? []), ...added].sort();
  process.stdout.write(`${out}: kept; ${added.length} new case(s) appended to holdout\n`);
} else {
  const s = stratifiedSplit(cases.map((c) => ({ file: c.file, stratum: c.finalDiagnosis })), SEED);
  split = {
    seed: SEED,
    method: 'drawn once by scripts/eval-split.mjs: within each finalDiagnosis the files (sorted by name) are shuffled by mulberry32(seed) and the first half goes to development; an odd-sized entity gives its extra case to development and holdout in turn',
    rule: 'a case file not listed here is holdout; cases added after the draw are appended to holdout and never to development',
    development: [...s].filter(([, v]) => v === 'development').map(([f]) => f).sort(),
    holdout: [...s].filter(([, v]) => v === 'holdout').map(([f]) => f).sort(),
  };
  process.stdout.write(`${out}: drawn with seed ${SEED}: ${split.development.length} development, ${split.holdout.length} holdout\n`);
}
writeFileSync(out, `# development / holdout split of eval/cases (see scripts/eval-split.mjs and README "Evaluation")\n${stringify(split, { lineWidth: 0 })}`);
