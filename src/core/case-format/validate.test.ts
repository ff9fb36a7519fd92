import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parse } from 'yaml';
import { validateCase } from './validate.js';
import { formatIssue } from '../../i18n/index.js';
import { EXAMPLES, exampleCases } from '../../test-support/cases.js';

const base = { formatVersion: 1 };

describe('case format v1 validation', () => {
  it('accepts every example case of the published format', () => {
    const cases = exampleCases();
    expect(cases.length).toBeGreaterThanOrEqual(4);
    for (const c of cases) expect(c.case.formatVersion).toBe(1);
  });

  it('accepts the published examples in ../shared/cases, which the bundled copies match', () => {
    const shared = join(EXAMPLES, '..', '..', '..', 'shared', 'cases');
    if (!existsSync(shared)) return; // a checkout without the shared folder beside it
    const files = readdirSync(shared).filter((f) => /\.(ya?ml|json)$/.test(f));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const text = readFileSync(join(shared, f), 'utf8');
      expect(validateCase(parse(text)).ok, f).toBe(true);
      expect(readFileSync(join(EXAMPLES, f), 'utf8'), f).toBe(text);
    }
  });

  it('accepts the full field list of case-format.md', () => {
    const doc = parse(readFileSync(join(EXAMPLES, '..', '..', 'test', 'fixtures', 'full-case.yaml'), 'utf8'));
    const v = validateCase(doc);
    expect(v.ok).toBe(true);
  });

  it('accepts the minimal file (omitted = unknown)', () => {
    expect(validateCase(base).ok).toBe(true);
  });

  it('accepts JSON and YAML forms of the same case identically', () => {
    const yamlText = readFileSync(join(EXAMPLES, 'synovial-sarcoma-knee.yaml'), 'utf8');
    const fromYaml = validateCase(parse(yamlText));
    const fromJson = validateCase(JSON.parse(JSON.stringify(parse(yamlText))));
    expect(fromYaml).toEqual(fromJson);
  });

  it('keeps a numeric id as text', () => {
    const v = validateCase({ ...base, id: 42 });
    expect(v.ok && v.value.id).toBe('42');
  });

  it('requires formatVersion 1', () => {
    const v = validateCase({});
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.issues[0]).toMatchObject({ code: 'not_allowed', path: 'formatVersion' });
    const v2 = validateCase({ formatVersion: 2 });
    expect(!v2.ok && v2.issues[0]).toMatchObject({ code: 'not_allowed', path: 'formatVersion', found: '2', allowed: { values: ['1'] } });
  });

  it('lists every problem with path, what was found and what is allowed', () => {
    const v = validateCase({
      formatVersion: 1,
      patient: { age: 150, sex: 'x' },
      lesion: { sizeCm: 'big', region: 'moon' },
      imaging: { calcification: { morphology: ['punctate', 'punctate', 'wavy'] } },
      treatment: { surgeryDate: '2026-02-30' },
    });
    expect(v.ok).toBe(false);
    if (v.ok) return;
    const byPath = Object.fromEntries(v.issues.map((i) => [i.path, i]));
    expect(byPath['patient.age']).toMatchObject({ code: 'too_big', found: '150', allowed: { max: 120 } });
    expect(byPath['patient.sex']).toMatchObject({ code: 'not_allowed', found: '"x"', allowed: { values: ['male', 'female'] } });
    expect(byPath['lesion.sizeCm']).toMatchObject({ code: 'wrong_type', allowed: { type: 'number' } });
    expect(byPath['lesion.region']?.allowed.values).toContain('thigh');
    expect(byPath['imaging.calcification.morphology.2']).toMatchObject({ code: 'not_allowed', found: '"wavy"' });
    expect(byPath['treatment.surgeryDate']).toMatchObject({ code: 'bad_date' });
  });

  it('rejects unknown fields, naming the field and the allowed ones', () => {
    const v = validateCase({ formatVersion: 1, patient: { age: 30, gender: 'male' }, extra: true });
    expect(v.ok).toBe(false);
    if (v.ok) return;
    const g = v.issues.find((i) => i.path === 'patient.gender');
    expect(g).toMatchObject({ code: 'unknown_field', found: '"male"' });
    expect(g?.allowed.keys).toEqual(['age', 'sex']);
    expect(v.issues.some((i) => i.path === 'extra' && i.code === 'unknown_field')).toBe(true);
  });

  it('rejects wrong types at every level, including a non-object document', () => {
    for (const doc of [null, 3, 'text', [1, 2]]) {
      const v = validateCase(doc);
      expect(v.ok).toBe(false);
      if (!v.ok) expect(v.issues[0]).toMatchObject({ code: 'wrong_type', path: '', allowed: { type: 'object' } });
    }
    const v = validateCase({ formatVersion: 1, history: { trauma: true } });
    expect(!v.ok && v.issues[0]).toMatchObject({ path: 'history.trauma', code: 'wrong_type' });
  });

  it('requires trauma.present when trauma is given', () => {
    const v = validateCase({ formatVersion: 1, history: { trauma: { weeksAgo: 3 } } });
    expect(!v.ok && v.issues[0]).toMatchObject({ path: 'history.trauma.present', code: 'required' });
  });

  it('checks grade and FNCLCC components against their allowed values', () => {
    const v = validateCase({ formatVersion: 1, pathology: { grade: 4, fnclcc: { differentiation: 1, mitoses: 5, necrosis: 0 } } });
    expect(v.ok).toBe(false);
    if (v.ok) return;
    expect(v.issues.find((i) => i.path === 'pathology.grade')?.allowed.values).toEqual(['1', '2', '3']);
    expect(v.issues.find((i) => i.path === 'pathology.fnclcc.mitoses')?.found).toBe('5');
  });

  it('renders issues in English and Chinese', () => {
    const v = validateCase({ formatVersion: 1, patient: { age: -1 } });
    expect(v.ok).toBe(false);
    if (v.ok) return;
    const i = v.issues[0]!;
    expect(formatIssue('en', i)).toBe('patient.age: found -1; allowed: a number ≥ 0');
    expect(formatIssue('zh', i)).toBe('patient.age：发现 -1；允许：≥ 0 的数字');
  });
});

describe('validation without zod\'s compiled fast path (jitless, what a command uses)', () => {
  const both = (data: unknown): void => { expect(validateCase(data, { jitless: true })).toEqual(validateCase(data)); };

  it('gives the same result as the compiled path on every evaluation case, valid or not', () => {
    const dir = join(EXAMPLES, '..', '..', 'eval', 'cases');
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThan(100);
    let invalid = 0;
    for (const f of files) {
      const data = parse(readFileSync(join(dir, f), 'utf8')) as unknown;
      if (!validateCase(data).ok) invalid++; // with source, finalDiagnosis and confirmedBy: unknown fields
      both(data);
    }
    expect(invalid).toBeGreaterThan(0);
  });

  it('gives the same result on arbitrary values in the fields of an example case', () => {
    const c = exampleCases()[0]!.case as Record<string, unknown>;
    const keys = ['patient', 'lesion', 'imaging', 'labs', 'history', 'treatment', 'setting', 'id'];
    fc.assert(fc.property(fc.constantFrom(...keys), fc.jsonValue({ maxDepth: 3 }), (k, v) => { both({ ...c, [k]: v }); }), { numRuns: 300 });
  });
});

describe('JSON Schema', () => {
  it('is generated from the same schema and describes every field', async () => {
    const { caseJsonSchema } = await import('./json-schema.js');
    const s = caseJsonSchema() as { properties: Record<string, { properties?: Record<string, unknown> }>; additionalProperties: boolean; required: string[] };
    expect(s.required).toEqual(['formatVersion']);
    expect(s.additionalProperties).toBe(false);
    expect(Object.keys(s.properties)).toEqual(['formatVersion', 'id', 'setting', 'patient', 'history', 'symptoms', 'lesion', 'imaging', 'labs', 'pathology', 'staging', 'treatment']);
    expect(JSON.stringify(s.properties.lesion)).toContain('retroperitoneum');
  });
});
