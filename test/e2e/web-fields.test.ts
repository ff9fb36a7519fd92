/**
 * The browser form's field table against case format v1: every field of the JSON Schema has a
 * control, and a case survives case → form values → case unchanged. Runs in Node (no browser).
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { caseJsonSchema } from '../../src/core/case-format/json-schema.js';
import { ROOT } from '../../src/test-support/cases.js';
import { FIELDS, caseFromValues, uncoveredPaths, valuesFromCase } from '../../web/src/pages/assessment/fields.js';

function leafPaths(schema: Record<string, unknown>, prefix = ''): string[] {
  const props = schema.properties as Record<string, Record<string, unknown>> | undefined;
  if (!props) return [prefix];
  return Object.entries(props).flatMap(([k, s]) => {
    const p = prefix ? `${prefix}.${k}` : k;
    return s.type === 'object' && s.properties ? leafPaths(s, p) : [p];
  });
}

describe('web form fields', () => {
  it('cover every field of case format v1', () => {
    const leaves = leafPaths(caseJsonSchema()).filter((p) => p !== 'formatVersion').sort();
    expect(FIELDS.map((f) => f.path).sort()).toEqual(leaves);
  });
  it('round-trip the full fixture and the examples', () => {
    const files = [join(ROOT, 'test', 'fixtures', 'full-case.yaml'), ...readdirSync(join(ROOT, 'examples', 'cases')).map((f) => join(ROOT, 'examples', 'cases', f))];
    for (const f of files) {
      const doc = parse(readFileSync(f, 'utf8')) as Record<string, unknown>;
      expect(uncoveredPaths(doc), f).toEqual([]);
      expect(caseFromValues(valuesFromCase(doc)), f).toEqual(doc);
    }
  });
});
