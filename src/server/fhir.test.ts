import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../test-support/cases.js';
import { fhirProblems } from '../test-support/fhir-validate.js';
import { buildServer, type FastifyInstance } from './app.js';

const BUNDLE = readFileSync(join(ROOT, 'test/fixtures/fhir/thigh-mass-bundle.json'), 'utf8');
const logLines: string[] = [];
let app: FastifyInstance;
beforeAll(async () => {
  app = await buildServer({ logger: new Writable({ write(c, _e, cb) { logLines.push(String(c)); cb(); } }) as never, webRoot: '/nonexistent' });
});
afterAll(async () => { await app.close(); });

const post = (url: string, payload: string | Buffer, type = 'application/fhir+json', headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url, payload, headers: { 'content-type': type, ...headers } });

describe('FHIR routes', () => {
  it('POST /api/fhir/case: the case, what was mapped from where, and what was not', async () => {
    const r = await post('/api/fhir/case?referenceDate=2026-12-03', BUNDLE);
    expect(r.statusCode).toBe(200);
    const j = r.json();
    expect(j.case).toMatchObject({ formatVersion: 1, patient: { age: 35, sex: 'male' }, labs: { creatinineUmolL: 79.56 } });
    expect(j.unmapped).toHaveLength(4);
    expect(j.mapped.find((m: { caseField: string }) => m.caseField === 'labs.calciumMmolL')).toEqual({ resource: 'Observation/ca', code: 'http://loinc.org|17861-6', caseField: 'labs.calciumMmolL', value: 2.3453 });
    // plain application/json works too; Chinese reasons with lang=zh
    const zh = await post('/api/fhir/case?referenceDate=2026-12-03&lang=zh', BUNDLE, 'application/json');
    expect(zh.json().unmapped[1].why).toContain('映射表');
  });

  it('POST /fhir/$assess: a valid R4 Bundle with the assessment', async () => {
    const r = await post('/fhir/$assess', BUNDLE);
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('application/fhir+json; charset=utf-8');
    const b = r.json();
    expect(fhirProblems(b)).toEqual([]);
    expect(b.entry.some((e: { resource: { resourceType: string } }) => e.resource.resourceType === 'RiskAssessment')).toBe(true);
  });

  it('POST /api/assess?format=fhir: a case in, an R4 Bundle out; format=xml refused', async () => {
    const c = readFileSync(join(ROOT, 'examples/cases/synovial-sarcoma-knee.yaml'), 'utf8');
    const r = await post('/api/assess?format=fhir', c, 'application/yaml');
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toContain('application/fhir+json');
    expect(fhirProblems(r.json())).toEqual([]);
    const bad = await post('/api/assess?format=xml', c, 'application/yaml');
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'bad_parameter' });
  });

  it('bad input: each a 4xx OperationOutcome naming the problem, nothing logged but the request line', async () => {
    const p = JSON.parse(BUNDLE);
    const withoutPatient = { ...p, entry: p.entry.slice(1) };
    const checks: Array<[string, string, string, number, string]> = [
      ['/api/fhir/case', '{not json', 'application/fhir+json', 400, 'not_json'],
      ['/api/fhir/case', '', 'application/fhir+json', 400, 'not_json'],
      ['/api/fhir/case', '[1,2]', 'application/fhir+json', 422, 'not_bundle'],
      ['/api/fhir/case', '{"resourceType":"Patient","id":"x"}', 'application/fhir+json', 422, 'not_bundle'],
      ['/api/fhir/case', '{"resourceType":"Bundle","entry":"x"}', 'application/fhir+json', 422, 'bad_entries'],
      ['/fhir/$assess', JSON.stringify(withoutPatient), 'application/fhir+json', 422, 'no_patient'],
      ['/api/fhir/case', BUNDLE, 'application/xml', 415, 'unsupported_media_type'],
      ['/api/fhir/case?strict=true', BUNDLE, 'application/fhir+json', 422, 'strict_unmapped'],
      ['/api/fhir/case?referenceDate=yesterday', BUNDLE, 'application/fhir+json', 400, 'bad_parameter'],
    ];
    for (const [url, body, type, status, code] of checks) {
      const r = await post(url, body, type);
      expect(r.statusCode, `${url} ${body.slice(0, 20)}`).toBe(status);
      expect(r.headers['content-type']).toBe('application/fhir+json; charset=utf-8');
      const oo = r.json();
      expect(oo.resourceType).toBe('OperationOutcome');
      expect(oo.issue[0].diagnostics).toBe(code);
      expect(oo.issue[0].details.text.length).toBeGreaterThan(10);
      expect(fhirProblems(oo)).toEqual([]);
    }
    // unknown codes and impossible units are not errors: they are reported (strict mode refuses them, above)
    const odd = { ...p, entry: [...p.entry, { resource: { resourceType: 'Observation', id: 'k', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '17861-6' }] }, subject: { reference: 'Patient/p1' }, valueQuantity: { value: 9.6, code: 'kg/m2' } } }] };
    const r = await post('/api/fhir/case', JSON.stringify(odd));
    expect(r.json().unmapped.find((u: { resource: string }) => u.resource === 'Observation/k')).toMatchObject({ reason: 'bad_unit', caseField: 'labs.calciumMmolL' });
    expect(logLines.join('')).not.toMatch(/1991-06-20|p1|17861|mg\/dL/);
  });

  it('a 20 MB Bundle: 413 OperationOutcome, quickly', async () => {
    const big = Buffer.from(`{"resourceType":"Bundle","entry":[${'{"resource":{"resourceType":"Basic","id":"0123456789"}},'.repeat(360_000)}{}]}`);
    expect(big.length).toBeGreaterThan(20 * 1000 * 1000);
    const r = await post('/api/fhir/case', big);
    expect(r.statusCode).toBe(413);
    expect(r.json()).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'too-costly', diagnostics: 'too_large' }] });
  });
});
