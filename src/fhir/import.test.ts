import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { loadFhirCodeMap } from '../io/fhir-map-file.js';
import { ROOT } from '../test-support/cases.js';
import { ageAt, fhirToCase } from './import.js';
import { FhirInputError, operationOutcome } from './messages.js';

const map = loadFhirCodeMap();
const bundle = () => JSON.parse(readFileSync(join(ROOT, 'test/fixtures/fhir/thigh-mass-bundle.json'), 'utf8'));
const REF = '2026-12-03';
const patient = { resourceType: 'Patient', id: 'p', gender: 'female', birthDate: '1980-12-04' };
const obs = (code: string, value: Record<string, unknown>, system = 'http://loinc.org') => ({ resourceType: 'Observation', status: 'final', code: { coding: [{ system, code }] }, subject: { reference: 'Patient/p' }, ...value });
const wrap = (...resources: unknown[]) => ({ resourceType: 'Bundle', type: 'collection', entry: resources.map((resource) => ({ resource })) });
const refusal = (f: () => unknown): FhirInputError => {
  try { f(); } catch (e) { if (e instanceof FhirInputError) return e; throw e; }
  throw new Error('not refused');
};

describe('FHIR Bundle → case', () => {
  test('the realistic thigh-mass Bundle: every coded item lands in its field, units converted, the rest reported', () => {
    const r = fhirToCase(map, bundle(), { referenceDate: REF });
    expect(r.case).toEqual({
      formatVersion: 1,
      patient: { sex: 'male', age: 35 },
      labs: { calciumMmolL: 2.3453, phosphateMmolL: 1.0979, uricAcidUmolL: 327.14, creatinineUmolL: 79.56, pthPgMl: 39.606, vitaminD25NmolL: 69.888 },
      history: { chronicKidneyDisease: false, gout: true },
      lesion: { sizeCm: 7.2, depth: 'deep', region: 'thigh' },
      imaging: { mri: { t2: 'heterogeneous', enhancement: 'heterogeneous' }, calcification: { morphology: ['punctate', 'amorphous'], zonal: false }, ct: { maxHU: 640 } },
      symptoms: { growth: 'rapid', pain: true },
    });
    const why = Object.fromEntries(r.unmapped.map((u) => [u.resource, u.reason]));
    expect(why).toEqual({
      'Observation/hr': 'not_used', // vital sign
      'Condition/asthma': 'unknown_code',
      'Procedure/knee-op': 'other_site', // knee operation, lesion in the thigh
      'Encounter/enc1': 'not_read_type',
    });
    expect(r.unmapped.find((u) => u.resource === 'Procedure/knee-op')!.why).toBe('operation at knee, not at the lesion region (thigh)');
    expect(r.mapped.find((m) => m.caseField === 'history.gout')).toMatchObject({ resource: 'Condition/gout', code: 'http://hl7.org/fhir/sid/icd-10-cm|M10.071' });
  });

  test('a CDS Hooks prefetch object (resources and search Bundles under keys; null = not available) reads the same', () => {
    const b = bundle();
    const resources = b.entry.map((e: { resource: unknown }) => e.resource);
    const prefetch = { patient: resources[0], observations: { resourceType: 'Bundle', type: 'searchset', entry: resources.slice(1).map((resource: unknown) => ({ resource })) }, procedures: null };
    expect(fhirToCase(map, prefetch, { referenceDate: REF }).case).toEqual(fhirToCase(map, b, { referenceDate: REF }).case);
  });

  test('age in full years from birthDate at the reference date; partial dates; a birth date after it is reported', () => {
    expect(ageAt('1980-12-04', '2026-12-03')).toBe(45);
    expect(ageAt('1980-12-03', '2026-12-03')).toBe(46);
    expect(ageAt('1980', '2026-12-03')).toBe(46);
    expect(ageAt('2027-01-01', '2026-12-03')).toBeUndefined();
    const r = fhirToCase(map, wrap({ ...patient, birthDate: '2030-01-01' }), { referenceDate: REF });
    expect(r.case.patient?.age).toBeUndefined();
    expect(r.unmapped[0]).toMatchObject({ element: 'birthDate', reason: 'birth_date', caseField: 'patient.age' });
  });

  test('unit conversions: calcium and phosphate mg/dL → mmol/L, urate and creatinine mg/dL → µmol/L', () => {
    const r = fhirToCase(map, wrap(patient,
      obs('17861-6', { valueQuantity: { value: 10, code: 'mg/dL' } }),
      obs('2777-1', { valueQuantity: { value: 10, code: 'mg/dL' } }),
      obs('3084-1', { valueQuantity: { value: 10, code: 'mg/dL' } }),
      obs('2160-0', { valueQuantity: { value: 1, code: 'mg/dL' } }),
    ), { referenceDate: REF });
    expect(r.case.labs).toEqual({ calciumMmolL: 2.495, phosphateMmolL: 3.229, uricAcidUmolL: 594.8, creatinineUmolL: 88.4 });
  });

  test('impossible units and values are reported with the field, and the field stays unknown', () => {
    const r = fhirToCase(map, wrap(patient,
      obs('17861-6', { valueQuantity: { value: 9.4, code: 'kg' } }),
      obs('2160-0', { valueQuantity: { value: 9000, code: 'mg/dL' } }),
      obs('2731-8', { valueQuantity: { value: 5, comparator: '<', code: 'pg/mL' } }),
      obs('imaging.mri.t1', { valueString: 'purple' }, 'https://calcdx.invalid/fhir/CodeSystem/finding'),
    ), { referenceDate: REF });
    expect(r.case.labs).toBeUndefined();
    expect(r.case.imaging).toBeUndefined();
    expect(r.unmapped.map((u) => [u.caseField, u.reason])).toEqual([
      ['labs.calciumMmolL', 'bad_unit'], ['labs.pthPgMl', 'limit_value'], ['imaging.mri.t1', 'value_not_allowed'], ['labs.creatinineUmolL', 'case_invalid'],
    ]);
    expect(r.unmapped[0]!.why).toBe('unit kg cannot be converted to mmol/L; accepted: mmol/L, mg/dL, mg/L, meq/L');
    expect(r.unmapped[3]!.why).toMatch(/labs\.creatinineUmolL.*795600.*5000/);
  });

  test('a value the case format refuses removes that field only; an incomplete FNCLCC score is reported whole', () => {
    const calcdx = 'https://calcdx.invalid/fhir/CodeSystem/finding';
    const r = fhirToCase(map, wrap(patient,
      obs('2000-8', { valueQuantity: { value: 2.4, code: 'mmol/L' } }),
      obs('2160-0', { valueQuantity: { value: 9000, code: 'mg/dL' } }),
      obs('pathology.fnclcc.mitoses', { valueInteger: 2 }, calcdx),
      obs('pathology.grade', { valueInteger: 2 }, calcdx),
    ), { referenceDate: REF });
    expect(r.case.labs).toEqual({ calciumMmolL: 2.4 });
    expect(r.case.pathology).toEqual({ grade: 2 });
    expect(r.unmapped.map((u) => [u.caseField, u.reason])).toEqual([['labs.creatinineUmolL', 'case_invalid'], ['pathology.fnclcc.mitoses', 'case_invalid']]);
  });

  test('Conditions: ICD-10 subcodes by category, SNOMED CT; refuted = known absent; unconfirmed and entered-in-error reported', () => {
    const cond = (system: string, code: string, ver?: string) => ({ resourceType: 'Condition', code: { coding: [{ system, code }] }, subject: { reference: 'Patient/p' }, ...(ver ? { verificationStatus: { coding: [{ code: ver }] } } : {}) });
    const r = fhirToCase(map, wrap(patient,
      cond('http://hl7.org/fhir/sid/icd-10', 'N18.4'),
      cond('http://hl7.org/fhir/sid/icd-10', 'C509'),
      cond('http://snomed.info/sct', '55464009', 'refuted'),
      cond('http://snomed.info/sct', '105969002', 'refuted'),
      cond('http://snomed.info/sct', '66999008', 'differential'),
      cond('http://snomed.info/sct', '90560007', 'entered-in-error'),
      { resourceType: 'Procedure', status: 'completed', code: { coding: [{ system: 'http://snomed.info/sct', code: '302497006' }] }, subject: { reference: 'Patient/p' } },
    ), { referenceDate: REF });
    expect(r.case.history).toEqual({ chronicKidneyDisease: true, knownPrimaryCancer: 'breast', connectiveTissueDisease: 'none', dialysis: true });
    expect(r.unmapped.map((u) => u.reason)).toEqual(['not_confirmed', 'not_confirmed', 'status']);
  });

  test('a surgical procedure at the lesion region sets surgeryAtSite; without a body site it is reported', () => {
    const surgery = (site?: string) => ({ resourceType: 'Procedure', status: 'completed', category: { coding: [{ system: 'http://snomed.info/sct', code: '387713003' }] }, code: { text: 'arthroplasty' }, subject: { reference: 'Patient/p' }, ...(site ? { bodySite: [{ coding: [{ system: 'http://snomed.info/sct', code: site }] }] } : {}) });
    const region = obs('lesion.region', { valueCodeableConcept: { coding: [{ system: 'https://calcdx.invalid/fhir/CodeSystem/value', code: 'hip' }] } }, 'https://calcdx.invalid/fhir/CodeSystem/finding');
    expect(fhirToCase(map, wrap(patient, region, surgery('29836001')), { referenceDate: REF }).case.history).toEqual({ surgeryAtSite: true });
    const r = fhirToCase(map, wrap(patient, region, surgery()), { referenceDate: REF });
    expect(r.case.history).toBeUndefined();
    expect(r.unmapped[0]).toMatchObject({ reason: 'no_site', caseField: 'history.surgeryAtSite' });
  });

  test('several values of one field: the latest is used, the others reported as superseded', () => {
    const r = fhirToCase(map, wrap(patient,
      { ...obs('2000-8', { valueQuantity: { value: 2.1, code: 'mmol/L' } }), id: 'old', effectiveDateTime: '2025-01-01' },
      { ...obs('2000-8', { valueQuantity: { value: 2.4, code: 'mmol/L' } }), id: 'new', effectiveDateTime: '2026-11-01' },
    ), { referenceDate: REF });
    expect(r.case.labs).toEqual({ calciumMmolL: 2.4 });
    expect(r.unmapped).toEqual([expect.objectContaining({ resource: 'Observation/old', reason: 'superseded', why: 'superseded by a later value (Observation/new)' })]);
  });

  test('resources of another patient are reported, not read', () => {
    const r = fhirToCase(map, wrap(patient, { ...obs('2000-8', { valueQuantity: { value: 2.1, code: 'mmol/L' } }), subject: { reference: 'Patient/other' } }), { referenceDate: REF });
    expect(r.case.labs).toBeUndefined();
    expect(r.unmapped[0]!.reason).toBe('other_patient');
  });

  test('refused as a whole: not a Bundle, a wrong resource type, entry not a list, no Patient, two patients; messages in both languages', () => {
    expect(refusal(() => fhirToCase(map, [], { referenceDate: REF })).issues[0]!.code).toBe('not_bundle');
    const wrong = refusal(() => fhirToCase(map, { resourceType: 'Observation' }, { referenceDate: REF }));
    expect(wrong.status).toBe(422);
    expect(operationOutcome('en', wrong.issues).issue[0]).toEqual({ severity: 'error', code: 'structure', diagnostics: 'not_bundle', details: { text: 'expected a FHIR Bundle or a CDS Hooks prefetch object; found resourceType Observation' }, expression: ['resourceType'] });
    expect(operationOutcome('zh', wrong.issues).issue[0]!.details!.text).toContain('应为 FHIR Bundle');
    expect(refusal(() => fhirToCase(map, { resourceType: 'Bundle', entry: {} }, { referenceDate: REF })).issues[0]!.code).toBe('bad_entries');
    expect(refusal(() => fhirToCase(map, wrap(obs('2000-8', {})), { referenceDate: REF })).issues[0]!.code).toBe('no_patient');
    expect(refusal(() => fhirToCase(map, wrap(patient, { ...patient, id: 'q' }), { referenceDate: REF })).issues[0]!.code).toBe('several_patients');
    expect(refusal(() => fhirToCase(map, { patient: null, foo: 3 }, { referenceDate: REF })).issues[0]!.code).toBe('not_bundle');
  });

  test('strict mode refuses an input with anything unmapped, listing each item', () => {
    const e = refusal(() => fhirToCase(map, bundle(), { referenceDate: REF, strict: true }));
    expect(e.status).toBe(422);
    expect(e.issues.map((i) => i.code)).toEqual(['strict_unmapped', 'unmapped_item', 'unmapped_item', 'unmapped_item', 'unmapped_item']);
    expect(e.issues[1]!.expression).toBe('Observation/hr.code');
  });

  test('junk entries (no resource, unknown types, codes without a system) never throw and are reported', () => {
    const r = fhirToCase(map, { resourceType: 'Bundle', entry: [{ resource: patient }, {}, { resource: { resourceType: 'Foo' } }, { resource: obs('x', {}, undefined as unknown as string) }, 7, { resource: { resourceType: 'Observation', code: 5 } }] }, { referenceDate: REF });
    expect(r.unmapped.map((u) => u.reason)).toEqual(['not_resource', 'not_read_type', 'unknown_code', 'not_resource', 'no_coding']);
  });

  test('property: any JSON in the resources never crashes the import; it answers a case or a FhirInputError', () => {
    const coding = fc.record({ system: fc.constantFrom('http://loinc.org', 'http://snomed.info/sct', 'http://hl7.org/fhir/sid/icd-10', 'https://calcdx.invalid/fhir/CodeSystem/finding', 'x'), code: fc.oneof(fc.constantFrom('2000-8', '17861-6', '709044004', 'N18.3', 'lesion.sizeCm', 'imaging.calcification.morphology', 'pathology.fnclcc.mitoses', 'lesion.region'), fc.string()) }, { requiredKeys: [] });
    const resource = fc.record({
      resourceType: fc.constantFrom('Observation', 'Condition', 'Procedure', 'DiagnosticReport', 'Patient', 'Bundle', 'Foo'),
      id: fc.string(), status: fc.constantFrom('final', 'completed', 'entered-in-error', 'x'),
      code: fc.oneof(fc.record({ coding: fc.array(coding) }), fc.jsonValue()),
      valueQuantity: fc.oneof(fc.record({ value: fc.double(), code: fc.constantFrom('mg/dL', 'mmol/L', 'cm', 'kg') }), fc.jsonValue()),
      valueBoolean: fc.jsonValue(), valueString: fc.jsonValue(), valueInteger: fc.jsonValue(), valueCodeableConcept: fc.oneof(fc.record({ coding: fc.array(coding) }), fc.jsonValue()),
      bodySite: fc.jsonValue(), verificationStatus: fc.jsonValue(), category: fc.jsonValue(), contained: fc.jsonValue(), entry: fc.jsonValue(), birthDate: fc.jsonValue(), gender: fc.jsonValue(),
    }, { requiredKeys: ['resourceType'] });
    fc.assert(fc.property(fc.array(fc.oneof(resource, fc.jsonValue()), { maxLength: 12 }), (rs) => {
      try {
        const r = fhirToCase(map, wrap(patient, ...rs), { referenceDate: REF });
        expect(r.case.formatVersion).toBe(1);
      } catch (e) {
        expect(e).toBeInstanceOf(FhirInputError);
      }
    }), { numRuns: 500 });
  });
});
