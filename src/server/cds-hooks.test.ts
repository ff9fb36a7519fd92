import { SignJWT } from 'jose';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseFile } from '../core/case-format/schema.js';
import { validateCase } from '../core/case-format/validate.js';
import { prefetchOf, renderCards, signToken, testIssuer, unsignedToken, type TestIssuer } from '../test-support/cds-client.js';
import { ROOT } from '../test-support/cases.js';
import { fhirProblems } from '../test-support/fhir-validate.js';
import { buildServer, type FastifyInstance } from './app.js';
import { discoverySchema, hookResponseSchema } from './cds-hooks-schema.js';
import { FeedbackStore } from './cds-hooks.js';

const PUBLIC = 'https://calcdx.example.org';
const AUD = `${PUBLIC}/cds-services/calcdx-patient-view`;
const sarcoma = parse(readFileSync(join(ROOT, 'examples/cases/synovial-sarcoma-knee.yaml'), 'utf8')) as CaseFile;
const tendinitis = parse(readFileSync(join(ROOT, 'examples/cases/calcific-tendinitis-shoulder.yaml'), 'utf8')) as CaseFile;
const logs: string[] = [];
let ehr: TestIssuer;
let other: TestIssuer;
let app: FastifyInstance;
const feedback = new FeedbackStore();

beforeAll(async () => {
  ehr = await testIssuer();
  other = await testIssuer('https://ehr.example.org');
  app = await buildServer({
    webRoot: '/nonexistent',
    logger: new Writable({ write(c, _e, cb) { logs.push(String(c)); cb(); } }) as never,
    cds: { publicUrl: PUBLIC, issuers: [{ iss: ehr.iss, jwks: { keys: [ehr.jwk] }, jku: ['https://ehr.example.org/jwks.json'] }], feedback },
  });
});
afterAll(async () => { await app.close(); });

const hookBody = (c: CaseFile | undefined, extra: Record<string, unknown> = {}) => ({
  hook: 'patient-view', hookInstance: 'd1577c69-dfbe-44ad-ba6d-3e05e953b2ea', context: { userId: 'Practitioner/1', patientId: 'pat-1' },
  ...(c ? { prefetch: prefetchOf(c, 'pat-1', '1990-05-01') } : {}), ...extra,
});
const call = async (body: unknown, token?: string, url = '/cds-services/calcdx-patient-view') =>
  app.inject({ method: 'POST', url, payload: body as object, headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) } });

describe('CDS Hooks service (inject)', () => {
  it('discovery: two services with prefetch templates, per the 2.0 field rules', async () => {
    const r = await app.inject({ method: 'GET', url: '/cds-services' });
    expect(r.statusCode).toBe(200);
    const d = discoverySchema.parse(r.json());
    expect(d.services.map((s) => [s.id, s.hook])).toEqual([['calcdx-patient-view', 'patient-view'], ['calcdx-order-select', 'order-select']]);
    expect(d.services[0]!.prefetch!.patient).toBe('Patient/{{context.patientId}}');
    expect(d.services[0]!.prefetch!.observations).toContain('http://loinc.org|17861-6');
    expect(d.services[0]!.prefetch!.observations).toContain('https://calcdx.invalid/fhir/CodeSystem/finding|');
  });

  it('an urgent case: one critical card, summary < 140, Markdown detail with the safety rules, a referral suggestion, a link carrying the case', async () => {
    const r = await call(hookBody(sarcoma), await signToken(ehr, { aud: AUD }));
    expect(r.statusCode).toBe(200);
    const { cards } = hookResponseSchema.parse(r.json());
    expect(cards).toHaveLength(1);
    const card = cards[0]!;
    expect(card.indicator).toBe('critical');
    expect(card.summary.length).toBeLessThan(140);
    expect(card.summary).toMatch(/^Synovial sarcoma \d+ % · malignancy \d+ % · urgent sarcoma-team referral$/);
    expect(card.detail).toContain('**Differential**');
    expect(card.detail).toMatch(/core biopsy/i);
    expect(card.selectionBehavior).toBe('at-most-one');
    const sr = card.suggestions![0]!.actions![0]!.resource!;
    expect(sr).toMatchObject({ resourceType: 'ServiceRequest', priority: 'urgent', subject: { reference: 'Patient/pat-1' } });
    expect(fhirProblems(sr)).toEqual([]);
    const link = new URL(card.links![0]!.url);
    expect(link.origin).toBe(PUBLIC);
    const linked = JSON.parse(Buffer.from(link.hash.replace('#case=', ''), 'base64url').toString('utf8'));
    expect(validateCase(linked).ok).toBe(true);
    expect(linked.lesion).toEqual(sarcoma.lesion);
    expect(renderCards(cards)[0]!.text).toContain('(button) Refer urgently to the sarcoma team');
  });

  it('a benign case: no referral suggestion; indicator warning or info', async () => {
    const r = await call(hookBody(tendinitis), await signToken(ehr, { aud: AUD }));
    const { cards } = hookResponseSchema.parse(r.json());
    expect(cards).toHaveLength(1);
    expect(['warning', 'info']).toContain(cards[0]!.indicator);
    expect(cards[0]!.suggestions).toBeUndefined();
  });

  it('no soft-tissue lesion data (labs and conditions only): no card', async () => {
    const r = await call(hookBody({ formatVersion: 1, patient: { sex: 'female' }, labs: { calciumMmolL: 2.4 }, history: { gout: true } }), await signToken(ehr, { aud: AUD }));
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ cards: [] });
  });

  it('order-select: cards only when a selected draft order is imaging, a biopsy or an excision', async () => {
    const aud = `${PUBLIC}/cds-services/calcdx-order-select`;
    const order = (code: string) => ({ resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 'ServiceRequest', id: 'sr1', status: 'draft', intent: 'order', code: { coding: [{ system: 'http://snomed.info/sct', code }] }, subject: { reference: 'Patient/pat-1' } } }] });
    const body = (code: string) => ({ ...hookBody(sarcoma), hook: 'order-select', context: { userId: 'Practitioner/1', patientId: 'pat-1', selections: ['ServiceRequest/sr1'], draftOrders: order(code) } });
    const mri = await call(body('113091000'), await signToken(ehr, { aud }), '/cds-services/calcdx-order-select');
    expect(hookResponseSchema.parse(mri.json()).cards).toHaveLength(1);
    const physio = await call(body('91251008'), await signToken(ehr, { aud }), '/cds-services/calcdx-order-select');
    expect(physio.json()).toEqual({ cards: [] });
  });

  it('prefetch missing and no fhirServer: 412; wrong hook, bad body, unknown service: 4xx problems', async () => {
    const r = await call(hookBody(undefined), await signToken(ehr, { aud: AUD }));
    expect(r.statusCode).toBe(412);
    const failed = hookBody(sarcoma);
    (failed.prefetch as Record<string, unknown>).conditions = { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'forbidden' }] };
    const f = await call(failed, await signToken(ehr, { aud: AUD }));
    expect(f.statusCode).toBe(412);
    expect(f.json().detail).toContain('(conditions)');
    expect(r.headers['content-type']).toContain('application/problem+json');
    expect(r.json().detail).toContain('patient, observations, conditions, procedures, reports');
    expect((await call({ ...hookBody(sarcoma), hook: 'order-sign' }, await signToken(ehr, { aud: AUD }))).statusCode).toBe(400);
    expect((await call({ hook: 'patient-view' }, await signToken(ehr, { aud: AUD }))).statusCode).toBe(400);
    expect((await call(hookBody(sarcoma, { context: { patientId: '../../etc' } }), await signToken(ehr, { aud: AUD }))).statusCode).toBe(400);
    expect((await call(hookBody(sarcoma), await signToken(ehr, { aud: `${PUBLIC}/cds-services/nope` }), '/cds-services/nope')).statusCode).toBe(404);
    const noPatient = hookBody(sarcoma);
    (noPatient.prefetch as Record<string, unknown>).patient = { resourceType: 'Observation' };
    const np = await call(noPatient, await signToken(ehr, { aud: AUD }));
    expect(np.statusCode).toBe(422);
  });

  it('a 20 MB call: 413 problem', async () => {
    const big = JSON.stringify({ ...hookBody(sarcoma), pad: 'x'.repeat(20 * 1024 * 1024) });
    const r = await app.inject({ method: 'POST', url: '/cds-services/calcdx-patient-view', payload: big, headers: { 'content-type': 'application/json', authorization: `Bearer ${await signToken(ehr, { aud: AUD })}` } });
    expect(r.statusCode).toBe(413);
    expect(r.json()).toMatchObject({ status: 413, code: 'too_large' });
  });

  it('JWT: missing, alg none, unknown issuer, other key, wrong aud, expired, too long-lived, replayed jti, jku not allowed → 401 each', async () => {
    const now = Math.floor(Date.now() / 1000);
    const replayed = await signToken(ehr, { aud: AUD, jti: 'once' });
    expect((await call(hookBody(sarcoma), replayed)).statusCode).toBe(200);
    const cases: Array<[string, string | undefined, string]> = [
      ['missing', undefined, 'missing_token'],
      ['alg none', unsignedToken({ iss: ehr.iss, aud: AUD }), 'algorithm'],
      ['unknown issuer', await signToken(ehr, { aud: AUD, iss: 'https://evil.example' }), 'unknown_issuer'],
      ['signed by another key', await signToken(other, { aud: AUD }), 'signature'],
      ['wrong audience', await signToken(ehr, { aud: 'https://other.example/cds-services/calcdx-patient-view' }), 'audience'],
      ['expired', await signToken(ehr, { aud: AUD, iat: now - 900, exp: now - 600 }), 'expired'],
      ['lives an hour', await signToken(ehr, { aud: AUD, exp: now + 3600 }), 'lifetime'],
      ['replayed jti', replayed, 'replay'],
      ['jku not on the allow-list', await signToken(ehr, { aud: AUD, jku: 'https://evil.example/jwks.json' }), 'jku_not_allowed'],
      ['garbage', 'abc.def', 'malformed_token'],
      ['a jti of 300 characters', await signToken(ehr, { aud: AUD, jti: 'x'.repeat(300) }), 'claims'],
      ['no sub', await new SignJWT({}).setProtectedHeader({ alg: 'ES384', kid: ehr.kid }).setIssuer(ehr.iss).setAudience(AUD).setIssuedAt().setExpirationTime('2m').setJti('no-sub').sign(ehr.privateKey), 'claims'],
    ];
    for (const [what, token, reason] of cases) {
      const r = await call(hookBody(sarcoma), token);
      expect(r.statusCode, what).toBe(401);
      expect(r.headers['www-authenticate'], what).toContain(reason);
      expect(r.json().detail, what).toContain(`(${reason})`);
    }
  });

  it('feedback: accepted and overridden outcomes counted per service and card; malformed feedback 400', async () => {
    const url = '/cds-services/calcdx-patient-view/feedback';
    const fb = { feedback: [
      { card: 'c-1', outcome: 'accepted', acceptedSuggestions: [{ id: 's-1' }], outcomeTimestamp: '2026-12-03T09:00:00Z' },
      { card: 'c-2', outcome: 'overridden', overrideReason: { userComment: 'already referred' }, outcomeTimestamp: '2026-12-03T09:01:00Z' },
    ] };
    const r = await call(fb, await signToken(ehr, { aud: `${PUBLIC}${url}` }), url);
    expect(r.statusCode).toBe(200);
    expect(feedback.counts.get('calcdx-patient-view')).toEqual({ accepted: 1, overridden: 1, acceptedSuggestions: 1 });
    expect(feedback.byCard.get('c-2')).toEqual({ accepted: 0, overridden: 1 });
    expect((await call({ feedback: [{ card: 'x', outcome: 'maybe' }] }, await signToken(ehr, { aud: `${PUBLIC}${url}` }), url)).statusCode).toBe(400);
    expect((await call(fb, undefined, url)).statusCode).toBe(401);
  });

  it('logs: one line per request, never a token, a patient id or a finding', () => {
    const text = logs.join('');
    expect(text).toContain('/cds-services/:id');
    expect(text).not.toMatch(/pat-1|eyJ|synovial|Bearer|1990-05-01/);
  });
});

describe('--cds-dev-no-auth', () => {
  it('answers without a token from loopback, refuses another address', async () => {
    const dev = await buildServer({ webRoot: '/nonexistent', cds: { devNoAuth: true } });
    try {
      const ok = await dev.inject({ method: 'POST', url: '/cds-services/calcdx-patient-view', payload: hookBody(sarcoma), remoteAddress: '127.0.0.1' });
      expect(ok.statusCode).toBe(200);
      const remote = await dev.inject({ method: 'POST', url: '/cds-services/calcdx-patient-view', payload: hookBody(sarcoma), remoteAddress: '10.1.2.3' });
      expect(remote.statusCode).toBe(401);
      expect(remote.json().code).toBe('dev_no_auth_remote');
    } finally { await dev.close(); }
  });
});
