// npm run bench (FHIR and CDS Hooks part).
// 1. FHIR import: a 500-resource Bundle of one patient (labs over several years, vital signs,
//    conditions, procedures, an imaging report) parsed and mapped to a case, in this process.
//    Goal (issue 10): < 50 ms.
// 2. CDS Hooks: POST /cds-services/calcdx-patient-view with full prefetch (the test record system's
//    thigh-mass patient), 20 concurrent callers (autocannon) for 10 s, against `calcdx serve` in a
//    child process on 127.0.0.1. Goal: p99 < 50 ms. Run twice: with JWT authentication (each
//    request a different pre-signed ES256 token, verified and its jti remembered) and with
//    --cds-dev-no-auth (the service alone).
import autocannon from 'autocannon';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { startServeChild } from './serve-child.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { fhirToCase } = await import('../dist/fhir/import.js');
const { loadFhirCodeMap } = await import('../dist/io/fhir-map-file.js');
const CONNECTIONS = Number(process.env.CALCDX_BENCH_CDS_CONNECTIONS ?? 20);
const DURATION = Number(process.env.CALCDX_BENCH_SECONDS ?? 10);
const fixture = JSON.parse(readFileSync(join(root, 'test/fixtures/fhir/thigh-mass-bundle.json'), 'utf8'));
const resources = fixture.entry.map((e) => e.resource);
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };

// ---- 1. a 500-resource Bundle: the fixture's resources, then its labs and vital signs repeated at earlier dates
const big = [...resources];
for (let i = 0; big.length < 500; i++) {
  const src = resources.filter((r) => r.resourceType === 'Observation' && r.valueQuantity)[i % 7];
  const day = new Date(Date.UTC(2020, 0, 1) + i * 86_400_000 * 3).toISOString();
  big.push({ ...src, id: `${src.id}-${i}`, effectiveDateTime: day, valueQuantity: { ...src.valueQuantity, value: src.valueQuantity.value * (0.9 + (i % 20) / 100) } });
}
const bigText = JSON.stringify({ resourceType: 'Bundle', type: 'searchset', entry: big.map((resource) => ({ resource })) });
const map = loadFhirCodeMap();
const times = [];
for (let i = 0; i < 300; i++) {
  const t0 = performance.now();
  const r = fhirToCase(map, JSON.parse(bigText), { referenceDate: '2026-12-03' });
  times.push(performance.now() - t0);
  if (i === 0) console.log(`calcdx FHIR import benchmark: ${big.length} resources (${Math.round(bigText.length / 1024)} KiB), ${r.mapped.length} case fields mapped, ${r.unmapped.length} items reported; node ${process.version}, ${cpus().length} CPUs`);
}
const warm = times.slice(50);
console.log(`  JSON.parse + fhirToCase: median ${pct(warm, 0.5).toFixed(2)} ms, p99 ${pct(warm, 0.99).toFixed(2)} ms, first (cold) ${times[0].toFixed(1)} ms (goal < 50 ms): ${pct(warm, 0.99) < 50 ? 'met' : 'NOT MET'}`);

// ---- 2. CDS Hooks calls with full prefetch
const search = (type) => ({ resourceType: 'Bundle', type: 'searchset', entry: resources.filter((r) => r.resourceType === type).map((resource) => ({ resource })) });
const body = JSON.stringify({
  hook: 'patient-view', hookInstance: 'd1577c69-dfbe-44ad-ba6d-3e05e953b2ea', context: { userId: 'Practitioner/1', patientId: 'p1' },
  prefetch: { patient: resources[0], observations: search('Observation'), conditions: search('Condition'), procedures: search('Procedure'), reports: search('DiagnosticReport') },
});

async function measure(name, origin, tokens) {
  const path = '/cds-services/calcdx-patient-view';
  let next = 0;
  const opts = {
    url: `${origin}${path}`, connections: CONNECTIONS,
    requests: [{ method: 'POST', path, headers: { 'content-type': 'application/json' }, body, ...(tokens ? { setupRequest: (req) => ({ ...req, headers: { ...req.headers, authorization: `Bearer ${tokens[next++]}` } }) } : {}) }],
  };
  await autocannon({ ...opts, duration: 2 }); // warm-up
  const r = await autocannon({ ...opts, duration: DURATION });
  console.log(`  ${name}: ${r.requests.total.toLocaleString('en')} calls (${r.non2xx} not 2xx, ${r.errors} errors), ${Math.round(r.requests.average).toLocaleString('en')} calls/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, max ${r.latency.max} ms (goal p99 < 50 ms): ${r.latency.p99 < 50 && r.non2xx === 0 ? 'met' : 'NOT MET'}`);
}

console.log(`calcdx CDS Hooks benchmark: patient-view with full prefetch (${Math.round(body.length / 1024)} KiB), ${CONNECTIONS} concurrent callers, ${DURATION} s, calcdx serve --workers auto in a child process on 127.0.0.1`);
const dir = mkdtempSync(join(tmpdir(), 'calcdx-bench-cds-'));
try {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const iss = 'https://ehr.bench';
  const config = join(dir, 'cds.json');
  writeFileSync(config, JSON.stringify({ issuers: [{ iss, jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] } }] }));
  const withAuth = await startServeChild(['--workers', 'auto', '--cds-config', config]);
  try {
    const aud = `${withAuth.origin}/cds-services/calcdx-patient-view`;
    const n = 6000 * (DURATION + 2);
    const now = Math.floor(Date.now() / 1000);
    const tokens = [];
    for (let i = 0; i < n; i++) tokens.push(await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer(iss).setSubject('bench-client').setAudience(aud).setIssuedAt(now).setExpirationTime(now + 290).setJti(`j${i}`).sign(privateKey));
    await measure('with JWT authentication', withAuth.origin, tokens);
  } finally { await withAuth.stop(); }
  const noAuth = await startServeChild(['--workers', 'auto', '--cds-dev-no-auth']);
  try { await measure('--cds-dev-no-auth (the service alone)', noAuth.origin); } finally { await noAuth.stop(); }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
