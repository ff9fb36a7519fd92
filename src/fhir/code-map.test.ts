import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, test } from 'vitest';
import { DEFAULT_FHIR_MAP, loadFhirCodeMap } from '../io/fhir-map-file.js';
import { CodeMapError, compileCodeMap, lookup } from './code-map.js';

const raw = () => parse(readFileSync(DEFAULT_FHIR_MAP, 'utf8'));

describe('FHIR code map (data/fhir/code-map.yaml)', () => {
  test('compiles; every case-format field has a row that export can write', () => {
    const map = loadFhirCodeMap();
    for (const f of map.fields.values()) {
      if (f.path === 'patient.sex') continue; // Patient.gender
      expect(map.entries.some((e) => e.field.path === f.path && e.resource === 'Observation' && e.value === undefined), f.path).toBe(true);
    }
  });

  test('every row with a standard code (LOINC, SNOMED CT, ICD-10) says where it was checked: a source URL or a verified note', () => {
    const f = loadFhirCodeMap().file;
    const rows: Array<{ where: string; system: string; source?: string; verified?: string }> = [
      ...f.entries.map((e, i) => ({ where: `entries.${i} ${e.code}`, ...e })),
      ...f.bodySites.map((b, i) => ({ where: `bodySites.${i} ${b.code}`, system: 'sct', ...b })),
      ...f.orderSelect.map((o, i) => ({ where: `orderSelect.${i} ${o.code}`, ...o })),
      ...f.notUsed.map((n, i) => ({ where: `notUsed.${i}`, ...n })),
      { where: 'surgicalCategory', ...f.surgicalCategory },
    ].filter((r) => r.system !== 'calcdx');
    expect(rows.length).toBeGreaterThan(80);
    expect(rows.filter((r) => !r.source && !r.verified).map((r) => r.where)).toEqual([]);
    // nothing is left looking checked that was not: a row either cites where it was checked or is not in the table
    expect(rows.filter((r) => r.verified && /not (been )?checked|not checked against a source yet|not yet checked/i.test(r.verified)).map((r) => r.where)).toEqual([]);
    // every SNOMED CT code row (conditions, procedures, body structures, order codes) cites a page
    expect(rows.filter((r) => r.system === 'sct' && !r.source).map((r) => r.where)).toEqual([]);
    // a source is a page, not a bare system URI
    expect(rows.filter((r) => r.source && !/^https:\/\/[^/]+\/./.test(r.source)).map((r) => r.where)).toEqual([]);
  });

  test('ICD-10: a subcode matches its category (with or without the dot); a neighbouring code does not', () => {
    const map = loadFhirCodeMap();
    const icd = (code: string) => lookup(map, { system: 'http://hl7.org/fhir/sid/icd-10', code })[0]?.field.path;
    expect(icd('N18.5')).toBe('history.chronicKidneyDisease');
    expect(icd('N185')).toBe('history.chronicKidneyDisease');
    expect(icd('E21.4')).toBeUndefined(); // other specified disorders of the parathyroid gland
    expect(icd('N19')).toBeUndefined();
    expect(lookup(map, { system: 'http://hl7.org/fhir/sid/icd-10', code: 'Z85.3' })[0]?.value).toBe('breast');
    expect(lookup(map, { system: 'http://hl7.org/fhir/sid/icd-10', code: 'Z85.8' })[0]?.value).toBe('other');
  });

  test('a table naming a field, a value or a region the case format does not have is refused with every problem', () => {
    const bad = raw();
    bad.entries[0].field = 'labs.calcium';
    bad.entries.push({ resource: 'Condition', system: 'sct', code: '1', display: 'x', field: 'history.gout', value: 'maybe' });
    bad.bodySites[0].region = 'nose';
    try { compileCodeMap(bad); throw new Error('accepted'); } catch (e) {
      expect(e).toBeInstanceOf(CodeMapError);
      expect((e as CodeMapError).problems).toEqual([
        'entries.0: labs.calcium is not a case-format field',
        `entries.${bad.entries.length - 1}: value maybe is not allowed for history.gout`,
        'bodySites: nose is not a lesion.region value',
      ]);
    }
  });
});

describe('README mapping table', () => {
  test('is the one generated from the code map (node scripts/fhir-map-table.mjs after a build)', async () => {
    const { mappingTableMarkdown } = await import('./map-table.js');
    const { ROOT } = await import('../test-support/cases.js');
    const readme = readFileSync(`${ROOT}/README.md`, 'utf8');
    const m = /<!-- fhir-map:start -->\n([\s\S]*?)\n<!-- fhir-map:end -->/.exec(readme);
    expect(m?.[1]).toBe(mappingTableMarkdown(loadFhirCodeMap()));
  });
});
