/**
 * End-to-end over 127.0.0.1: a test record system (its FHIR endpoint and its JWKS served by this test)
 * performs the whole CDS Hooks exchange with a running calcdx server — discovery, prefetch from the
 * templates, a JWT signed with its key and naming its JWKS (jku), the call, the cards rendered — and
 * then calls without prefetch, so that calcdx fetches from the FHIR endpoint with the bearer token.
 * Then `calcdx serve --workers 2`: a token replayed over new connections (spread over the workers)
 * is accepted once.
 */
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer, type FastifyInstance } from '../../src/server/app.js';
import { discoverySchema, hookResponseSchema } from '../../src/server/cds-hooks-schema.js';
import { ROOT } from '../../src/test-support/cases.js';
import { renderCards, signToken, testIssuer, type TestIssuer } from '../../src/test-support/cds-client.js';
import { fhirProblems } from '../../src/test-support/fhir-validate.js';

type Res = Record<string, any>;
const EHR_DATA = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/fhir/thigh-mass-bundle.json'), 'utf8')).entry.map((e: { resource: Res }) => e.resource) as Res[];
const ACCESS_TOKEN = 'ehr-access-token-7f3a';

let ehr: TestIssuer;
let ehrServer: Server;
let ehrBase: string;
const fhirRequests: Array<{ path: string; auth: string | undefined }> = [];
let calcdx: FastifyInstance;
let calcdxBase: string;

/** The record system's FHIR endpoint: read and search over its data, bearer token required. */
function fhirEndpoint(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url!, ehrBase);
  const send = (status: number, body: unknown) => { res.writeHead(status, { 'content-type': 'application/fhir+json' }); res.end(JSON.stringify(body)); };
  if (url.pathname === '/jwks.json') return send(200, { keys: [ehr.jwk] });
  fhirRequests.push({ path: `${url.pathname}${url.search}`, auth: req.headers.authorization });
  if (req.headers.authorization !== `Bearer ${ACCESS_TOKEN}`) return send(401, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'login' }] });
  const [, fhir, type, id] = url.pathname.split('/');
  if (fhir !== 'fhir' || !type) return send(404, {});
  if (id) {
    const r = EHR_DATA.find((x) => x.resourceType === type && x.id === id);
    return r ? send(200, r) : send(404, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found' }] });
  }
  const patient = url.searchParams.get('patient');
  const codes = url.searchParams.get('code')?.split(',');
  const hits = EHR_DATA.filter((r) => r.resourceType === type && (r.subject?.reference === `Patient/${patient}` || type === 'DiagnosticReport' && r.subject?.reference === `Patient/${patient}`))
    .filter((r) => !codes || (r.code?.coding ?? []).some((c: Res) => codes.some((q) => q === `${c.system}|${c.code}` || q === `${c.system}|`)));
  return send(200, { resourceType: 'Bundle', type: 'searchset', total: hits.length, entry: hits.map((resource) => ({ fullUrl: `${ehrBase}/fhir/${resource.resourceType}/${resource.id}`, resource })) });
}

beforeAll(async () => {
  ehr = await testIssuer('https://ehr.test/issuer');
  ehrServer = createServer(fhirEndpoint);
  await new Promise<void>((r) => ehrServer.listen(0, '127.0.0.1', r));
  ehrBase = `http://127.0.0.1:${(ehrServer.address() as { port: number }).port}`;
  calcdx = await buildServer({ webRoot: '/nonexistent', cds: { issuers: [{ iss: ehr.iss, jku: [`${ehrBase}/jwks.json`], fhirServers: [`${ehrBase}/fhir`] }] } });
  await calcdx.listen({ port: 0, host: '127.0.0.1' });
  calcdxBase = `http://127.0.0.1:${(calcdx.server.address() as { port: number }).port}`;
});
afterAll(async () => { await calcdx.close(); await new Promise((r) => ehrServer.close(r)); });

/** the record system: a signed JWT naming its JWKS, then POST */
async function callService(id: string, body: unknown, path = `/cds-services/${id}`) {
  const token = await signToken(ehr, { aud: `${calcdxBase}${path}`, jku: `${ehrBase}/jwks.json` });
  const r = await fetch(`${calcdxBase}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
  return { status: r.status, body: await r.json() as Res };
}

const ctx = { userId: 'Practitioner/dr-1', patientId: 'p1' };

describe('CDS Hooks over HTTP with a test record system', () => {
  it('discovery → prefetch from the templates → signed call → cards rendered', async () => {
    const d = discoverySchema.parse(await (await fetch(`${calcdxBase}/cds-services`)).json());
    const service = d.services.find((s) => s.hook === 'patient-view')!;
    // the record system runs the prefetch templates against its own FHIR server
    const prefetch: Record<string, unknown> = {};
    for (const [k, template] of Object.entries(service.prefetch!)) {
      const q = template.replace('{{context.patientId}}', ctx.patientId);
      prefetch[k] = await (await fetch(`${ehrBase}/fhir/${q}`, { headers: { authorization: `Bearer ${ACCESS_TOKEN}` } })).json();
    }
    const r = await callService(service.id, { hook: 'patient-view', hookInstance: crypto.randomUUID(), context: ctx, prefetch });
    expect(r.status).toBe(200);
    const { cards } = hookResponseSchema.parse(r.body);
    expect(cards).toHaveLength(1);
    const shown = renderCards(cards)[0]!;
    expect(shown.text).toMatch(/^\[(CRITICAL|WARNING|INFO)\] .+ · malignancy \d+ %/);
    expect(shown.text).toContain('(link) Open in calcdx (case filled in) → http://127.0.0.1:');
    const linked = JSON.parse(Buffer.from(new URL(cards[0]!.links![0]!.url).hash.slice('#case='.length), 'base64url').toString());
    expect(linked).toMatchObject({ lesion: { region: 'thigh', depth: 'deep', sizeCm: 7.2 }, labs: { calciumMmolL: 2.3453 } });
    // the deep 7 cm growing thigh mass goes to the sarcoma team
    expect(cards[0]!.indicator).toBe('critical');
    const sr = cards[0]!.suggestions![0]!.actions![0]!.resource!;
    expect(fhirProblems(sr)).toEqual([]);
  });

  it('no prefetch: calcdx fetches every template from fhirServer with the bearer token, and gets the same cards', async () => {
    fhirRequests.length = 0;
    const r = await callService('calcdx-patient-view', {
      hook: 'patient-view', hookInstance: crypto.randomUUID(), context: ctx, fhirServer: `${ehrBase}/fhir`,
      fhirAuthorization: { access_token: ACCESS_TOKEN, token_type: 'Bearer', expires_in: 300, scope: 'patient/*.read', subject: 'calcdx' },
    });
    expect(r.status).toBe(200);
    const { cards } = hookResponseSchema.parse(r.body);
    expect(cards[0]!.indicator).toBe('critical');
    expect(fhirRequests.map((x) => x.path.split('?')[0]).sort()).toEqual(['/fhir/Condition', '/fhir/DiagnosticReport', '/fhir/Observation', '/fhir/Patient/p1', '/fhir/Procedure']);
    expect(fhirRequests.every((x) => x.auth === `Bearer ${ACCESS_TOKEN}`)).toBe(true);
  });

  it('a wrong access token: the FHIR server refuses, calcdx answers 412; a fhirServer off the allow-list: 412 without a request', async () => {
    fhirRequests.length = 0;
    const body = (server: string) => ({ hook: 'patient-view', hookInstance: crypto.randomUUID(), context: ctx, fhirServer: server, fhirAuthorization: { access_token: 'stolen', token_type: 'Bearer', expires_in: 300, scope: 'patient/*.read', subject: 'calcdx' } });
    const r = await callService('calcdx-patient-view', body(`${ehrBase}/fhir`));
    expect(r.status).toBe(412);
    expect(r.body.detail).toContain('HTTP 401');
    const n = fhirRequests.length;
    const off = await callService('calcdx-patient-view', body('https://elsewhere.example/fhir'));
    expect(off.status).toBe(412);
    expect(fhirRequests.length).toBe(n);
  });

  it('feedback over HTTP', async () => {
    const r = await callService('calcdx-patient-view', { feedback: [{ card: 'c', outcome: 'accepted', outcomeTimestamp: new Date().toISOString() }] }, '/cds-services/calcdx-patient-view/feedback');
    expect(r.status).toBe(200);
  });
});

describe('round trip over HTTP: Bundle → case → assessment Bundle → case', () => {
  it('keeps every mapped value', async () => {
    const post = async (path: string, body: string, type: string) => (await fetch(`${calcdxBase}${path}`, { method: 'POST', headers: { 'content-type': type }, body })).json() as Promise<Res>;
    const bundle = readFileSync(join(ROOT, 'test/fixtures/fhir/thigh-mass-bundle.json'), 'utf8');
    const first = await post('/api/fhir/case?referenceDate=2026-12-03', bundle, 'application/fhir+json');
    const out = await post('/api/assess?format=fhir', JSON.stringify(first.case), 'application/json');
    expect(fhirProblems(out)).toEqual([]);
    const second = await post('/api/fhir/case?referenceDate=2026-12-03', JSON.stringify(out), 'application/fhir+json');
    expect(second.case).toEqual(first.case);
    expect(second.mapped.map((m: Res) => m.caseField).sort()).toEqual(first.mapped.map((m: Res) => m.caseField).sort());
  });
});

describe('calcdx serve --workers 2 --cds-config', () => {
  it('a replayed jti is refused on every worker, not only on the one that accepted it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'calcdx-cds-workers-'));
    const config = join(dir, 'cds.json');
    writeFileSync(config, JSON.stringify({ issuers: [{ iss: ehr.iss, jwks: { keys: [ehr.jwk] } }] }));
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'calcdx.js'), 'serve', '--port', '0', '--quiet', '--lang', 'en', '--workers', '2', '--cds-config', config], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const base = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; const m = /http:\/\/127\.0\.0\.1:\d+/.exec(out); if (m) resolve(m[0]); });
        child.on('exit', (code) => reject(new Error(`calcdx serve exited ${code}`)));
      });
      const search = (type: string) => ({ resourceType: 'Bundle', type: 'searchset', entry: EHR_DATA.filter((r) => r.resourceType === type).map((resource) => ({ resource })) });
      const body = JSON.stringify({ hook: 'patient-view', hookInstance: crypto.randomUUID(), context: ctx, prefetch: {
        patient: EHR_DATA.find((r) => r.resourceType === 'Patient'), observations: search('Observation'), conditions: search('Condition'), procedures: search('Procedure'), reports: search('DiagnosticReport'),
      } });
      const path = '/cds-services/calcdx-patient-view';
      const token = await signToken(ehr, { aud: `${base}${path}` });
      // a new connection per call: the cluster hands connections to the workers in turn
      const answers: Array<{ status: number; reason: string | null }> = [];
      for (let i = 0; i < 8; i++) {
        const r = await fetch(`${base}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, connection: 'close' } });
        answers.push({ status: r.status, reason: r.headers.get('www-authenticate') });
        await r.arrayBuffer();
      }
      expect(answers[0]).toEqual({ status: 200, reason: null });
      for (const a of answers.slice(1)) expect(a).toEqual({ status: 401, reason: 'Bearer error="invalid_token", error_description="replay"' });
      // a fresh token is accepted on any worker
      for (let i = 0; i < 2; i++) {
        const r = await fetch(`${base}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json', authorization: `Bearer ${await signToken(ehr, { aud: `${base}${path}` })}`, connection: 'close' } });
        expect(r.status).toBe(200);
        await r.arrayBuffer();
      }
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
