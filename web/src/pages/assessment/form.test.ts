import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FIELDS, MORPHOLOGY, MORPHOLOGY_ABSENT, caseFromValues, valuesFromCase, type FieldDef, type FieldValue } from './fields.js';
import { EMPTY_FORM, PATTERNS, formFromValues, patternState, readValues, setPattern, setText, writeValue } from './form.js';

/** a value a control of this kind can show */
function valueOf(f: FieldDef): fc.Arbitrary<FieldValue> {
  switch (f.kind) {
    case 'bool': return fc.boolean();
    case 'number': return fc.integer({ min: f.min ?? 0, max: f.max ?? 100 });
    case 'enum': case 'int-enum': return fc.constantFrom(...f.values!);
    case 'date': return fc.constantFrom('2026-01-31', '2025-12-03');
    case 'text': return fc.string({ minLength: 1, maxLength: 20 });
    default: return fc.constant(undefined);
  }
}

/** form values: some fields given; each pattern seen, excluded or unknown (never both) */
const valuesArb = fc.tuple(
  fc.array(fc.constantFrom(...FIELDS.filter((f) => !f.kind.startsWith('pattern'))), { maxLength: 12 })
    .chain((fs) => fc.tuple(...fs.map((f) => valueOf(f).map((v) => [f.path, v] as const)))),
  fc.array(fc.constantFrom('unknown', 'seen', 'excluded'), { minLength: PATTERNS.length, maxLength: PATTERNS.length }),
).map(([pairs, states]) => {
  const m = new Map<string, FieldValue>(pairs);
  const seen = PATTERNS.filter((_, i) => states[i] === 'seen');
  const excluded = PATTERNS.filter((_, i) => states[i] === 'excluded');
  if (seen.length) m.set(MORPHOLOGY, seen);
  if (excluded.length) m.set(MORPHOLOGY_ABSENT, excluded);
  return m;
});

describe('the case form state', () => {
  it('shows any form values and reads them back unchanged (and as the same case)', () => {
    fc.assert(fc.property(valuesArb, (values) => {
      const back = readValues(formFromValues(values));
      expect(back).toEqual(values);
      expect(valuesFromCase(caseFromValues(back))).toEqual(values);
    }));
  });

  it('reads a number as typed (empty or not a number: unknown), a tri-state and an int-enum by their text', () => {
    let s = setText(EMPTY_FORM, 'patient.age', '45');
    s = setText(s, 'lesion.sizeCm', ' ');
    s = setText(s, 'symptoms.pain', 'false');
    s = setText(s, 'pathology.grade', '2');
    expect([...readValues(s)]).toEqual([['symptoms.pain', false], ['patient.age', 45], ['pathology.grade', 2]]);
    expect(readValues(setText(s, 'patient.age', '')).has('patient.age')).toBe(false);
    expect(readValues(setText(s, 'patient.age', 'x')).has('patient.age')).toBe(false);
  });

  it('a pattern list sets its own state and leaves the other list alone; unknown is the default', () => {
    const morph = FIELDS.find((f) => f.path === MORPHOLOGY)!;
    const absent = FIELDS.find((f) => f.path === MORPHOLOGY_ABSENT)!;
    let s = writeValue(EMPTY_FORM, morph, ['rim', 'punctate']);
    s = writeValue(s, absent, ['sheet']);
    s = writeValue(s, morph, ['rim']);
    expect(patternState(s, 'rim')).toBe('seen');
    expect(patternState(s, 'punctate')).toBe('unknown');
    expect(patternState(s, 'sheet')).toBe('excluded');
    expect(patternState(setPattern(s, 'sheet', 'unknown'), 'sheet')).toBe('unknown');
  });
});
