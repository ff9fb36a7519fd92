import { describe, expect, it } from 'vitest';
import { FhirInputError } from './messages.js';
import { MAX_FHIR_DEPTH, parseFhirText } from './parse.js';

const nested = (levels: number) => `${'{"a":'.repeat(levels - 1)}{}${'}'.repeat(levels - 1)}`;

describe('parseFhirText', () => {
  it('reads JSON up to the depth limit', () => {
    expect(parseFhirText('\uFEFF{"resourceType":"Bundle"}')).toEqual({ resourceType: 'Bundle' });
    expect(() => parseFhirText(nested(MAX_FHIR_DEPTH))).not.toThrow();
  });

  it('refuses deeper input, empty input and non-JSON with a FhirInputError (found by the fuzz harness: 50,000 levels overflowed the stack)', () => {
    for (const text of [nested(MAX_FHIR_DEPTH + 1), `${'['.repeat(50_000)}${']'.repeat(50_000)}`, '', '{"a":']) {
      let err: unknown;
      try { parseFhirText(text); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(FhirInputError);
      expect((err as FhirInputError).status ?? 400).toBe(400);
    }
  });
});
