/**
 * Test support: the example cases (../shared/cases, bundled in examples/cases) and the cited
 * textbook cases of test/cases, which carry `source` and `expect` beside the case fields.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { CaseFile } from '../core/case-format/schema.js';
import { validateCase } from '../core/case-format/validate.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const EXAMPLES = join(ROOT, 'examples', 'cases');
export const TEXTBOOK = join(ROOT, 'test', 'cases');

export interface LabelledCase {
  file: string;
  case: CaseFile;
  expected: string;
  source?: { url: string; title: string };
  /** why the presentation is atypical for its diagnosis (such cases count only in the overall accuracy) */
  atypical?: string;
}

function toCase(file: string, data: unknown): CaseFile {
  const v = validateCase(data);
  if (!v.ok) throw new Error(`${file}: ${JSON.stringify(v.issues)}`);
  return v.value;
}

export function exampleCases(): LabelledCase[] {
  return readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml')).sort().map((f) => {
    const text = readFileSync(join(EXAMPLES, f), 'utf8');
    const m = /Expected first in the differential:\s*([a-z_]+)/.exec(text);
    if (!m) throw new Error(`${f}: no "Expected first" comment`);
    return { file: f, case: toCase(f, parse(text)), expected: m[1]! };
  });
}

export function textbookCases(): LabelledCase[] {
  return readdirSync(TEXTBOOK).filter((f) => f.endsWith('.yaml')).sort().map((f) => {
    const { source, expect, ...rest } = parse(readFileSync(join(TEXTBOOK, f), 'utf8')) as Record<string, unknown> & {
      source: { url: string; title: string }; expect: { inTop3: string; atypical?: string };
    };
    return { file: f, case: toCase(f, rest), expected: expect.inTop3, source, ...(expect.atypical ? { atypical: expect.atypical } : {}) };
  });
}
