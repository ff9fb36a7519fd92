import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, test } from 'vitest';
import type { CaseFile } from '../core/case-format/schema.js';
import { assess } from '../core/engine/assess.js';
import { loadFhirCodeMap } from '../io/fhir-map-file.js';
import { loadKnowledgeBase } from '../io/kb-files.js';
import { arbitraryCase } from '../test-support/arbitrary-case.js';
import { exampleCases, ROOT } from '../test-support/cases.js';
import { fhirProblems } from '../test-support/fhir-validate.js';
import { assessmentToBundle, caseToFhir, ENTITY_SYSTEM, type Resource } from './export.js';
import { fhirToCase } from './import.js';

const map = loadFhirCodeMap();
const kb = loadKnowledgeBase();
const fullCase = parse(readFileSync(join(ROOT, 'test/fixtures/full-case.yaml'), 'utf8')) as CaseFile;
let n = 0;
const opts = { lang: 'en' as const, now: '2026-12-03T09:00:00Z', uuid: () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`, html: { en: '<p>report</p>', zh: '<p>报告</p>' }, version: 'test' };
/** the case without its free label (not a finding) and without empty objects (which say nothing) */
const prune = (x: unknown): unknown => {
  if (x === null || typeof x !== 'object' || Array.isArray(x)) return x;
  const out = Object.fromEntries(Object.entries(x).map(([k, v]) => [k, prune(v)]).filter(([, v]) => !(v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0)));
  return out;
};
const withoutId = (c: CaseFile): CaseFile => { const { id: _id, ...rest } = c; return prune(rest) as CaseFile; };
const roundTrip = (c: CaseFile) => {
  const bundle = assessmentToBundle(kb, map, c, assess(kb, c), opts);
  return fhirToCase(map, bundle, { referenceDate: '2026-12-03' });
};
const entries = (b: Resource) => (b.entry as Array<{ resource: Resource }>).map((e) => e.resource);

describe('case and assessment → FHIR R4', () => {
  test('every resource type emitted is valid against the official R4 structure definitions (Medplum validator)', () => {
    const urgent = exampleCases().find((x) => assess(kb, x.case).malignancy.urgentReferral)!.case;
    const bundle = assessmentToBundle(kb, map, { ...fullCase, treatment: { surgeryDate: '2026-03-02' } }, assess(kb, { ...fullCase, treatment: { surgeryDate: '2026-03-02' } }), opts);
    const types = new Set<string>();
    for (const b of [bundle, assessmentToBundle(kb, map, urgent, assess(kb, urgent), opts), assessmentToBundle(kb, map, { formatVersion: 1 }, assess(kb, { formatVersion: 1 }), opts)]) {
      expect(fhirProblems(b)).toEqual([]);
      for (const r of entries(b)) { expect(fhirProblems(r), r.resourceType).toEqual([]); types.add(r.resourceType); }
    }
    expect([...types].sort()).toEqual(['CarePlan', 'Condition', 'DiagnosticReport', 'Observation', 'Patient', 'RiskAssessment', 'ServiceRequest']);
  });

  test('the validator is not a rubber stamp: it refuses a broken RiskAssessment', () => {
    expect(fhirProblems({ resourceType: 'RiskAssessment', subject: { reference: 'Patient/1' } })).not.toEqual([]);
    expect(fhirProblems({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, valueQuantity: { value: 'high' } })).not.toEqual([]);
  });

  test('the Bundle: a prediction per entity plus malignancy, basis = the findings, both HTML reports, dated visits, referral when urgent', () => {
    const c = { ...fullCase, treatment: { surgeryDate: '2026-03-02' } };
    const a = assess(kb, c);
    const b = assessmentToBundle(kb, map, c, a, opts);
    const rs = entries(b);
    const ra = rs.find((r) => r.resourceType === 'RiskAssessment')! as any;
    expect(ra.prediction).toHaveLength(a.differential.length + 1);
    expect(ra.prediction[0]).toMatchObject({ outcome: { coding: [{ system: ENTITY_SYSTEM, code: a.differential[0]!.id }] }, probabilityDecimal: expect.closeTo(a.differential[0]!.probability, 6) });
    expect(ra.prediction.at(-1)).toMatchObject({ outcome: { coding: [{ code: '363346000' }] }, probabilityDecimal: expect.closeTo(a.malignancy.probability, 6) });
    const findings = rs.filter((r) => r.resourceType === 'Observation' || r.resourceType === 'Condition');
    expect(ra.basis).toHaveLength(findings.length);
    const dr = rs.find((r) => r.resourceType === 'DiagnosticReport')! as any;
    expect(dr.presentedForm.map((p: any) => [p.contentType, p.language, Buffer.from(p.data, 'base64').toString()])).toEqual([['text/html', 'en', '<p>report</p>'], ['text/html', 'zh', '<p>报告</p>']]);
    expect(dr.result.length).toBeGreaterThanOrEqual(2); // the CT values among the imaging results
    const cp = rs.find((r) => r.resourceType === 'CarePlan')! as any;
    expect(cp.activity.map((x: any) => x.detail.scheduledPeriod.start)).toEqual(a.followUp.visits.map((v) => v.date));
    expect(rs.some((r) => r.resourceType === 'ServiceRequest')).toBe(a.malignancy.urgentReferral);
    const sr = rs.find((r) => r.resourceType === 'ServiceRequest') as any;
    if (sr) expect(sr).toMatchObject({ priority: 'urgent', intent: 'proposal', status: 'draft' });
  });

  test('labs are written with LOINC and UCUM, yes/no history with SNOMED CT (refuted = known absent)', () => {
    const { findings } = caseToFhir(map, fullCase, 'urn:uuid:p');
    const ca = findings.find((f) => f.field === 'labs.calciumMmolL')!.resource as any;
    expect(ca.code.coding[0]).toMatchObject({ system: 'http://loinc.org', code: '2000-8' });
    expect(ca.valueQuantity).toEqual({ value: 2.35, unit: 'mmol/L', system: 'http://unitsofmeasure.org', code: 'mmol/L' });
    const gout = findings.find((f) => f.field === 'history.gout')!.resource as any;
    expect(gout).toMatchObject({ resourceType: 'Condition', code: { coding: [{ system: 'http://snomed.info/sct', code: '90560007' }] }, verificationStatus: { coding: [{ code: 'refuted' }] } });
  });

  test('round trip: the full case and every example case → Bundle → case is the same case', () => {
    for (const c of [fullCase, ...exampleCases().map((x) => x.case)]) {
      const r = roundTrip(c);
      expect(r.case).toEqual(withoutId(c));
      // what is not read back is the assessment itself, never a finding
      expect(new Set(r.unmapped.map((u) => u.resource.split('.')[0]!.replace(/\[\d+\]$/, '')))).not.toContain('Observation');
    }
  });

  test('round trip, property: any valid case survives case → FHIR → case', () => {
    fc.assert(fc.property(arbitraryCase, (c) => {
      const { patient, findings } = caseToFhir(map, c, 'Patient/p');
      const bundle = { resourceType: 'Bundle', type: 'collection', entry: [{ resource: { ...patient, id: 'p' } }, ...findings.map((f) => ({ resource: f.resource }))] };
      const r = fhirToCase(map, bundle, { referenceDate: '2026-12-03' });
      expect(r.unmapped).toEqual([]);
      expect(r.case).toEqual(withoutId(c));
    }), { numRuns: 200 });
  });
});
