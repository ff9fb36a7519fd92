/**
 * "Open from PACS" through the HTTP server against a real archive: Debian's Orthanc with its
 * DICOMweb plugin on a free loopback port (src/test-support/orthanc.ts), the server built with an
 * archive configuration as `calcdx serve --pacs-config` reads it and a registry (a temporary SQLite
 * file: the routes need login, as the archive holds any patient's data). Access: anonymous → 401,
 * a viewer searches and measures but may not store (403), an administrator may not search, a store
 * without the CSRF token → 403; the rest as a clinician. Search, series list, volume,
 * measure (the same JSON as `calcdx ct --json` from the same files), store SEG + SR and find them
 * again in the archive; the allow-list (an archive not configured, a query key not listed, a
 * malformed UID, a path outside the routes), an archive down (502) and refusing the credentials,
 * and that credentials and patient data never show in answers or logs. Skipped with a message
 * when Orthanc is missing — except in CI (CI=true), where that is a failure.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { buildServer, type FastifyInstance } from '../../src/server/app.js';
import { openRegistry } from '../../src/registry/open.js';
import { hashPassword } from '../../src/registry/password.js';
import type { RegistryStore } from '../../src/registry/store.js';
import { sqliteFactory, type TestDbFactory } from '../../src/registry/test-db.js';
import { resolvePacsConfig } from '../../src/pacs/config.js';
import { archiveFromEnv, retrieveSeries, searchSeries } from '../../src/pacs/dicomweb.js';
import { problemSchema } from '../../src/server/openapi.js';
import { pacsArchivesSchema, pacsSeriesSchema, pacsStoredSchema, pacsStudiesSchema } from '../../src/server/openapi-pacs.js';
import { ROOT } from '../../src/test-support/cases.js';
import { freePort, orthancMissing, startPhantomArchive, type Orthanc, type PhantomArchive, type PhantomStudy } from '../../src/test-support/orthanc.js';
import { toolGate } from '../../src/test-support/tool-gate.js';
import { PHANTOM_SERIES_UID, PHANTOM_STUDY_UID } from '../../src/test-support/dicom-series.js';

const BIN = join(ROOT, 'bin', 'calcdx.js');
const gate = toolGate('test/e2e/pacs-server.test.ts', orthancMissing());

let archive: PhantomArchive;
let orthanc: Orthanc;
let dir: string;
let phantom: PhantomStudy;
let app: FastifyInstance;
let log = '';
/** an archive that answers what DICOMweb does not allow */
let broken: Server;
/** Orthanc behind a proxy that counts the requests it passes on (the server's cache of retrieved series) */
let counting: Server;
const counted: string[] = [];
const answers: string[] = [];
let db: TestDbFactory;
let store: RegistryStore;
const PASSWORD = 'correct horse battery staple';
interface Login { cookie: string; csrf: string }
const sessions: Record<'clinician' | 'viewer' | 'admin', Login> = {} as never;

async function login(username: string): Promise<Login> {
  const r = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password: PASSWORD } });
  expect(r.statusCode, r.body).toBe(200);
  return { cookie: String(r.headers['set-cookie']).split(';')[0]!, csrf: r.json().csrfToken };
}

function cli(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, LANG: 'C', CALCDX_LANG: '' } });
    let out = '', err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

/** a request as `who` (a clinician unless told; null: anonymous); a POST carries the session's CSRF token unless `csrf` is false */
async function req(method: 'GET' | 'POST', url: string, body?: unknown, who: keyof typeof sessions | null = 'clinician', csrf = true) {
  const l = who ? sessions[who] : undefined;
  const headers: Record<string, string> = {
    ...(l ? { cookie: l.cookie } : {}), ...(l && csrf && method === 'POST' ? { 'x-csrf-token': l.csrf } : {}),
    ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
  };
  const r = await app.inject({ method, url, headers, ...(body !== undefined ? { payload: JSON.stringify(body) } : {}) });
  if (!/gzip/.test(String(r.headers['content-type']))) answers.push(r.body);
  return r;
}

describe.skipIf(gate.skip)('the server\'s "Open from PACS" routes against Orthanc', () => {
  beforeAll(async () => {
    gate.assert();
    archive = await startPhantomArchive('calcdx-pacs-server-');
    ({ orthanc, dir, phantom } = archive);
    const closed = await freePort();
    broken = createServer((q, r) => {
      if (/\/series\?/.test(q.url ?? '')) { r.writeHead(200, { 'content-type': 'application/dicom+json' }); r.end('[{"0020000E":{"vr":"UI","Value":["1.2.3.4"]},"00080060":{"vr":"CS","Value":["CT"]}}]'); return; }
      if (/\/series\/1\.2\.3\.4$/.test(q.url ?? '')) { r.writeHead(200, { 'content-type': 'multipart/related; type="application/dicom"; boundary=b' }); r.end('--b\r\nContent-Type: application/dicom\r\n\r\nDICM'); return; }
      r.writeHead(200, { 'content-type': 'application/dicom+json' }); r.end('<html>not json</html>');
    });
    await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', resolve));
    const brokenPort = (broken.address() as { port: number }).port;
    const target = new URL(orthanc.dicomweb);
    counting = createServer((q, r) => {
      counted.push(`${q.method} ${q.url}`);
      const p = httpRequest({ host: target.hostname, port: target.port, path: q.url, method: q.method, headers: q.headers }, (a) => { r.writeHead(a.statusCode ?? 502, a.headers); a.pipe(r); });
      p.on('error', () => { r.writeHead(502); r.end(); });
      q.pipe(p);
    });
    await new Promise<void>((resolve) => counting.listen(0, '127.0.0.1', resolve));
    const countingPort = (counting.address() as { port: number }).port;
    const archives = resolvePacsConfig({
      archives: [
        { id: 'main', label: 'Test archive', url: orthanc.dicomweb, auth: { kind: 'basic', user: orthanc.user, passwordEnv: 'TEST_PACS_PASSWORD' } },
        { id: 'wrong', label: 'Wrong password', url: orthanc.dicomweb, auth: { kind: 'basic', user: orthanc.user, password: 'not-the-password-xyz' } },
        { id: 'down', label: 'Archive down', url: `http://127.0.0.1:${closed}/dicom-web`, timeoutSeconds: 5 },
        { id: 'broken', label: 'Broken archive', url: `http://127.0.0.1:${brokenPort}/dicom-web`, timeoutSeconds: 5 },
        { id: 'counted', label: 'Counted archive', url: `http://127.0.0.1:${countingPort}/dicom-web`, auth: { kind: 'basic', user: orthanc.user, passwordEnv: 'TEST_PACS_PASSWORD' } },
      ],
    }, 'test', { TEST_PACS_PASSWORD: orthanc.password });
    db = sqliteFactory();
    store = await openRegistry(await db.fresh());
    const hash = await hashPassword(PASSWORD);
    for (const role of ['clinician', 'viewer', 'admin'] as const) await store.createUser({ username: role, role, passwordHash: hash });
    app = await buildServer({ pacs: archives, registry: store, logger: new Writable({ write(c, _e, cb) { log += String(c); cb(); } }), tmpDir: dir });
    for (const role of ['clinician', 'viewer', 'admin'] as const) sessions[role] = await login(role);
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await store?.close();
    await db?.cleanup();
    await archive?.stop();
    await new Promise((resolve) => (broken ? broken.close(resolve) : resolve(undefined)));
    await new Promise((resolve) => (counting ? counting.close(resolve) : resolve(undefined)));
  });

  it('needs login: anonymous 401, a viewer searches and measures but may not store, an administrator sees no archive data, a POST without the CSRF token is refused', async () => {
    const body = { study: PHANTOM_STUDY_UID, series: PHANTOM_SERIES_UID };
    const routes: Array<['GET' | 'POST', string, unknown?]> = [
      ['GET', '/api/pacs/archives'], ['GET', '/api/pacs/main/studies?PatientID=CALCDX-PHANTOM'], ['GET', `/api/pacs/main/studies/${PHANTOM_STUDY_UID}/series`],
      ['POST', '/api/pacs/main/volume', body], ['POST', '/api/pacs/main/measure', { ...body, roi: 'whole' }], ['POST', '/api/pacs/main/store', { ...body, roi: 'whole' }],
    ];
    for (const [method, url, b] of routes) {
      const anon = await req(method, url, b, null);
      expect(anon.statusCode, `${method} ${url} anonymous`).toBe(401);
      expect(problemSchema.parse(anon.json())).toMatchObject({ code: 'unauthorized' });
      expect(anon.body).not.toMatch(/CALCDX-PHANTOM|Test archive/);
      const admin = await req(method, url, b, 'admin');
      expect(admin.statusCode, `${method} ${url} as admin`).toBe(403);
      expect(admin.json()).toMatchObject({ code: 'forbidden', reason: 'role' });
    }
    const search = await req('GET', '/api/pacs/main/studies?PatientID=CALCDX-PHANTOM', undefined, 'viewer');
    expect(search.statusCode, search.body).toBe(200);
    expect(pacsStudiesSchema.parse(search.json()).studies.map((s) => s.studyInstanceUid)).toEqual([PHANTOM_STUDY_UID]);
    const seriesList = await req('GET', `/api/pacs/main/studies/${PHANTOM_STUDY_UID}/series`, undefined, 'viewer');
    expect(seriesList.statusCode).toBe(200);
    const viewerStore = await req('POST', '/api/pacs/main/store', { ...body, roi: 'whole' }, 'viewer');
    expect(viewerStore.statusCode).toBe(403);
    expect(viewerStore.json()).toMatchObject({ code: 'forbidden', reason: 'role' });
    expect(viewerStore.json().detail).toMatch(/viewer.*clinician/);
    // a POST without the session's CSRF token: refused before anything is retrieved or stored
    const before = (await searchSeries(archiveFromEnv(orthanc.dicomweb, { CALCDX_DICOMWEB_USER: orthanc.user, CALCDX_DICOMWEB_PASSWORD: orthanc.password }), PHANTOM_STUDY_UID)).length;
    for (const [who, url] of [['clinician', '/api/pacs/main/store'], ['viewer', '/api/pacs/main/measure'], ['clinician', '/api/pacs/main/volume']] as const) {
      const noCsrf = await req('POST', url, { ...body, roi: 'whole' }, who, false);
      expect(noCsrf.statusCode, `${url} as ${who} without CSRF`).toBe(403);
      expect(noCsrf.json()).toMatchObject({ code: 'forbidden', reason: 'csrf' });
    }
    const wrongCsrf = await app.inject({ method: 'POST', url: '/api/pacs/main/store', payload: JSON.stringify({ ...body, roi: 'whole' }),
      headers: { cookie: sessions.clinician.cookie, 'x-csrf-token': sessions.viewer.csrf, 'content-type': 'application/json' } });
    expect(wrongCsrf.statusCode).toBe(403);
    expect(wrongCsrf.json().reason).toBe('csrf');
    const after = (await searchSeries(archiveFromEnv(orthanc.dicomweb, { CALCDX_DICOMWEB_USER: orthanc.user, CALCDX_DICOMWEB_PASSWORD: orthanc.password }), PHANTOM_STUDY_UID)).length;
    expect(after).toBe(before);
  });

  it('lists the configured archives by id and label only', async () => {
    const r = await req('GET', '/api/pacs/archives');
    expect(r.statusCode).toBe(200);
    const body = pacsArchivesSchema.parse(r.json());
    expect(body.archives).toEqual([{ id: 'main', label: 'Test archive' }, { id: 'wrong', label: 'Wrong password' }, { id: 'down', label: 'Archive down' }, { id: 'broken', label: 'Broken archive' }, { id: 'counted', label: 'Counted archive' }]);
    expect(r.body).not.toMatch(/127\.0\.0\.1|dicom-web|calcdx:/);
    expect(r.body).not.toContain(orthanc.password);
  });

  it('searches studies by the allowed keys and lists a study\'s series with CT marked', async () => {
    for (const q of ['PatientID=CALCDX-PHANTOM', 'AccessionNumber=ACC-PHANTOM-1', 'StudyDate=20261130-20261202', 'StudyDate=2026-12-01', 'PatientID=CALCDX-*&limit=5&offset=0']) {
      const r = await req('GET', `/api/pacs/main/studies?${q}`);
      expect(r.statusCode, `${q}: ${r.body}`).toBe(200);
      const { studies } = pacsStudiesSchema.parse(r.json());
      expect(studies.map((s) => s.studyInstanceUid), q).toEqual([PHANTOM_STUDY_UID]);
      expect(studies[0]).toMatchObject({ patientId: 'CALCDX-PHANTOM', accession: 'ACC-PHANTOM-1', date: '20261201', modalities: ['CT'] });
    }
    const none = await req('GET', '/api/pacs/main/studies?PatientID=NOBODY');
    expect(none.json()).toEqual({ studies: [] });
    const s = await req('GET', `/api/pacs/main/studies/${PHANTOM_STUDY_UID}/series`);
    expect(s.statusCode, s.body).toBe(200);
    const { series } = pacsSeriesSchema.parse(s.json());
    expect(series).toEqual([expect.objectContaining({ seriesInstanceUid: PHANTOM_SERIES_UID, modality: 'CT', ct: true, instances: phantom.instances.length })]);
  });

  it('refuses what is not on the allow-list: archives not configured, query keys not listed, malformed UIDs, other paths', async () => {
    const unknown = await req('GET', '/api/pacs/elsewhere/studies');
    expect(unknown.statusCode).toBe(404);
    expect(problemSchema.parse(unknown.json())).toMatchObject({ code: 'not_found', reason: 'unknown_archive' });
    expect(unknown.json().detail).toMatch(/"elsewhere".*main, wrong, down, broken/);
    for (const [q, path] of [['includefield=00100030', 'query.includefield'], ['PatientBirthDate=19700101', 'query.PatientBirthDate'], ['StudyDate=2026-13-01', 'query.StudyDate'],
      ['limit=0', 'query.limit'], ['PatientID=a&PatientID=b', 'query.PatientID'], ['PatientID=a%5Cb', 'query.PatientID']] as const) {
      const r = await req('GET', `/api/pacs/main/studies?${q}`);
      expect(r.statusCode, q).toBe(400);
      expect(problemSchema.parse(r.json()).errors?.[0]?.path, q).toBe(path);
    }
    for (const uid of ['1.2.03', 'abc', '1..2', `1.${'2'.repeat(70)}`]) {
      const r = await req('GET', `/api/pacs/main/studies/${encodeURIComponent(uid)}/series`);
      expect(r.statusCode, uid).toBe(400);
      expect(r.json().errors[0].path).toBe('path.study');
    }
    const extra = await req('GET', `/api/pacs/main/studies/${PHANTOM_STUDY_UID}/series?includefield=all`);
    expect(extra.statusCode).toBe(400);
    // no other DICOMweb path is reachable through the server
    for (const url of [`/api/pacs/main/studies/${PHANTOM_STUDY_UID}`, `/api/pacs/main/studies/${PHANTOM_STUDY_UID}/series/${PHANTOM_SERIES_UID}`, '/api/pacs/main/instances', '/api/pacs/main/studies/..%2F..%2Fsystem/series']) {
      const r = await req('GET', url);
      expect([400, 404], url).toContain(r.statusCode);
      expect(r.headers['content-type']).toMatch(/problem\+json/);
    }
    const bodyBad = await req('POST', '/api/pacs/main/measure', { study: PHANTOM_STUDY_UID, series: PHANTOM_SERIES_UID, roi: 'whole', url: 'http://evil.example/' });
    expect(bodyBad.statusCode).toBe(400);
    expect(bodyBad.json()).toMatchObject({ code: 'bad_parameter', errors: [{ path: 'body.url', found: 'url', allowed: 'study, series, roi, options' }] });
    const noRoi = await req('POST', '/api/pacs/main/store', { study: PHANTOM_STUDY_UID, series: PHANTOM_SERIES_UID });
    expect(noRoi.statusCode).toBe(400);
    expect(noRoi.json().errors).toEqual([expect.objectContaining({ path: 'body.roi' })]);
    expect(noRoi.json().detail).toMatch(/^body\.roi: found nothing; allowed: /);
    const badOption = await req('POST', '/api/pacs/main/measure', { study: PHANTOM_STUDY_UID, series: PHANTOM_SERIES_UID, roi: 'whole', options: { connectivity: 8 } });
    expect(badOption.json().errors).toEqual([expect.objectContaining({ path: 'body.options.connectivity', found: '8' })]);
    const badSeries = await req('POST', '/api/pacs/main/measure', { study: PHANTOM_STUDY_UID, series: '1.2.x', roi: 'whole' });
    expect(badSeries.statusCode).toBe(400);
    expect(badSeries.json().errors[0]).toMatchObject({ path: 'body.series', found: '"1.2.x"' });
  });

  it('answers 502 naming the archive when it is down or refuses the credentials, and never shows the credentials', async () => {
    const down = await req('GET', '/api/pacs/down/studies?PatientID=X');
    expect(down.statusCode).toBe(502);
    expect(problemSchema.parse(down.json())).toMatchObject({ code: 'pacs', reason: 'unreachable' });
    expect(down.json().detail).toMatch(/archive "Archive down" \(study search.*\): the archive cannot be reached: cannot reach the archive: connection refused/);
    expect(down.body).not.toMatch(/127\.0\.0\.1/);
    const wrong = await req('GET', `/api/pacs/wrong/studies/${PHANTOM_STUDY_UID}/series?lang=zh`);
    expect(wrong.statusCode).toBe(502);
    expect(wrong.json()).toMatchObject({ code: 'pacs', reason: 'unauthorized' });
    expect(wrong.json().detail).toMatch(/影像归档“Wrong password”.*--pacs-config/);
    // an archive that answers what DICOMweb does not allow: 502 naming it, nothing measured
    const notJson = await req('GET', '/api/pacs/broken/studies');
    expect(notJson.statusCode).toBe(502);
    expect(notJson.json()).toMatchObject({ code: 'pacs', reason: 'bad_answer' });
    expect(notJson.json().detail).toMatch(/archive "Broken archive" \(study search\): .*not JSON/);
    const cut = await req('POST', '/api/pacs/broken/measure', { study: '1.2.3', series: '1.2.3.4', roi: 'whole' });
    expect(cut.statusCode).toBe(502);
    expect(cut.json()).toMatchObject({ code: 'pacs', reason: 'truncated' });
    expect(cut.json().detail).toMatch(/archive "Broken archive" \(study 1\.2\.3, series 1\.2\.3\.4\)/);
    const notThere = await req('GET', '/api/pacs/main/studies/1.2.3.4.5/series');
    expect(notThere.statusCode).toBe(404);
    expect(notThere.json()).toMatchObject({ code: 'pacs', reason: 'not_found' });
  });

  it('gives the series as a NIfTI volume, and measures it as `calcdx ct --json` measures its files', async () => {
    const v = await req('POST', '/api/pacs/main/volume', { study: PHANTOM_STUDY_UID, series: PHANTOM_SERIES_UID });
    expect(v.statusCode, v.body).toBe(200);
    expect(v.headers['content-type']).toBe('application/gzip');
    expect(v.headers['x-calcdx-dims']).toBe(phantom.volume.dims.join(','));
    expect(gunzipSync(v.rawPayload).readInt32LE(0)).toBe(348);

    const s = phantom.truth.roi;
    const roi = `sphere-ijk-mm:${s.center.join(',')},${s.radius}`;
    const [r, fromFiles] = await Promise.all([
      req('POST', '/api/pacs/main/measure', { study: PHANTOM_STUDY_UID, series: PHANTOM_SERIES_UID, roi, options: { threshold: 100, connectivity: 26, minVoxels: 1 } }),
      cli(['ct', join(dir, 'phantom'), '--roi', roi, '--json']),
    ]);
    expect(r.statusCode, r.body).toBe(200);
    expect(fromFiles.code, fromFiles.err).toBe(0);
    const body = r.json();
    expect(body.measurement).toEqual(JSON.parse(fromFiles.out));
    expect(body.measurement.lesion.calcifiedVoxels).toBe(phantom.truth.calcifiedVoxels);
    expect(typeof body.labels).toBe('string');
    expect(body.findings.imaging.ct).toBeDefined();

    const badRoi = await req('POST', '/api/pacs/main/measure', { study: PHANTOM_STUDY_UID, series: PHANTOM_SERIES_UID, roi: 'sphere-mm:1,2' });
    expect(badRoi.statusCode).toBe(400);
    expect(badRoi.json().code).toBe('roi');
  }, 120_000);

  it('retrieves a series once for a view and a measure after it (the server\'s cache of retrieved series)', async () => {
    const series = { study: PHANTOM_STUDY_UID, series: PHANTOM_SERIES_UID };
    const retrievals = () => counted.filter((l) => /^GET .*\/series\/[\d.]+$/.test(l)).length;
    const v = await req('POST', '/api/pacs/counted/volume', series);
    expect(v.statusCode, v.body).toBe(200);
    expect(retrievals()).toBe(1);
    const before = counted.length;
    const s = phantom.truth.roi;
    const m = await req('POST', '/api/pacs/counted/measure', { ...series, roi: `sphere-ijk-mm:${s.center.join(',')},${s.radius}` });
    expect(m.statusCode, m.body).toBe(200);
    expect(m.json().measurement.lesion.calcifiedVoxels).toBe(phantom.truth.calcifiedVoxels);
    // the measure asked the archive nothing: neither the series' instances nor its attributes again
    expect(counted.slice(before)).toEqual([]);
    expect(retrievals()).toBe(1);
    // another series of the study is not in the cache: not found at the archive, as before
    const other = await req('POST', '/api/pacs/counted/volume', { study: PHANTOM_STUDY_UID, series: '1.2.3.999' });
    expect(other.statusCode).toBe(404);
  }, 120_000);

  it('stores the SEG and the SR of a measurement in the study, and the archive gives them back', async () => {
    const s = phantom.truth.roi;
    const roi = `sphere-ijk-mm:${s.center.join(',')},${s.radius}`;
    const r = await req('POST', '/api/pacs/main/store', { study: PHANTOM_STUDY_UID, series: PHANTOM_SERIES_UID, roi });
    expect(r.statusCode, r.body).toBe(200);
    const body = pacsStoredSchema.parse(r.json());
    expect(body.measurement.lesion).toMatchObject({ calcifiedVoxels: phantom.truth.calcifiedVoxels });
    expect(body.stored).toMatchObject({ archive: 'main', study: PHANTOM_STUDY_UID, seg: { sopClassUid: '1.2.840.10008.5.1.4.1.1.66.4' }, sr: { sopClassUid: '1.2.840.10008.5.1.4.1.1.88.33' } });
    expect(r.body).not.toMatch(/"bytes"/);

    const archive = archiveFromEnv(orthanc.dicomweb, { CALCDX_DICOMWEB_USER: orthanc.user, CALCDX_DICOMWEB_PASSWORD: orthanc.password });
    const series = await searchSeries(archive, PHANTOM_STUDY_UID);
    const seg = series.find((x) => x.seriesInstanceUid === body.stored.seg.seriesInstanceUid);
    const sr = series.find((x) => x.seriesInstanceUid === body.stored.sr.seriesInstanceUid);
    expect(seg?.modality).toBe('SEG');
    expect(sr?.modality).toBe('SR');
    const [segBytes] = await retrieveSeries(archive, PHANTOM_STUDY_UID, seg!.seriesInstanceUid);
    const [srBytes] = await retrieveSeries(archive, PHANTOM_STUDY_UID, sr!.seriesInstanceUid);
    expect(Buffer.from(segBytes!).includes(body.stored.seg.sopInstanceUid)).toBe(true);
    expect(Buffer.from(srBytes!).includes(body.stored.sr.sopInstanceUid)).toBe(true);
    // the SR references the SEG and the source series
    expect(Buffer.from(srBytes!).includes(body.stored.seg.sopInstanceUid)).toBe(true);
    expect(Buffer.from(srBytes!).includes(PHANTOM_SERIES_UID)).toBe(true);

    // the series list now shows them, not marked CT
    const list = (await req('GET', `/api/pacs/main/studies/${PHANTOM_STUDY_UID}/series`)).json().series as Array<{ modality: string; ct: boolean }>;
    expect(list.filter((x) => x.ct).map((x) => x.modality)).toEqual(['CT']);
    expect(list.map((x) => x.modality).sort()).toEqual(['CT', 'SEG', 'SR']);
    // a SEG is not measured
    const notCt = await req('POST', '/api/pacs/main/measure', { study: PHANTOM_STUDY_UID, series: body.stored.seg.seriesInstanceUid, roi: 'whole' });
    expect(notCt.statusCode).toBe(422);
    expect(notCt.json()).toMatchObject({ code: 'pacs', reason: 'not_ct' });
  }, 120_000);

  it('never puts credentials or patient data in its answers or logs, and leaves no temporary files', () => {
    expect(answers.length).toBeGreaterThan(20);
    for (const a of answers) {
      expect(a).not.toContain(orthanc.password);
      expect(a).not.toContain('not-the-password-xyz');
      expect(a).not.toMatch(/authorization|Basic [A-Za-z0-9+/=]{8,}/i);
    }
    expect(log).toMatch(/"archive":"down","pacs":"unreachable"/);
    // every retrieved series' private folder is gone
    expect(readdirSync(dir).filter((n) => n.startsWith('calcdx-upload-'))).toEqual([]);
    for (const secret of [orthanc.password, 'not-the-password-xyz', 'CALCDX-PHANTOM', 'ACC-PHANTOM-1', 'Phantom', PHANTOM_STUDY_UID, orthanc.dicomweb]) {
      expect(log, secret).not.toContain(secret);
    }
  });
});

describe('calcdx serve --pacs-config', () => {
  it('buildServer refuses archives without a registry: nothing could enforce their login', async () => {
    const pacs = resolvePacsConfig({ archives: [{ id: 'main', label: 'PACS', url: 'http://127.0.0.1:1/dicom-web', auth: { kind: 'none' } }] }, 'test');
    await expect(buildServer({ pacs, logger: false })).rejects.toThrow(/pacs .*needs a registry \(registry or db\)/);
    // no archive: nothing to guard, the server starts without a registry
    const bare = await buildServer({ pacs: [], logger: false });
    expect((await bare.inject('/api/pacs/archives')).json()).toEqual({ archives: [] });
    await bare.close();
  });

  it('refuses archives without the registry (a usage error naming both options, in English and Chinese)', async () => {
    for (const [lang, text] of [['en', /--pacs-config needs the registry.*--no-registry/], ['zh', /--pacs-config 需要登记库.*--no-registry/]] as const) {
      const r = await cli(['serve', '--port', '0', '--pacs-config', join(ROOT, 'no-such-pacs.yaml'), '--no-registry', '--lang', lang]);
      expect(r.code, r.err).toBe(2);
      expect(r.err).toMatch(text);
      expect(r.err).not.toMatch(/\n\s+at /);
    }
  });

  it('refuses a configuration that is not valid, naming the file and field, and serves the archives of a valid one only after login', async () => {
    const d = mkdtempSync(join(tmpdir(), 'calcdx-pacs-serve-'));
    const dbArg = `sqlite:${join(d, 'registry.db')}`;
    try {
      const bad = join(d, 'bad.yaml');
      writeFileSync(bad, 'archives:\n  - id: main\n    label: PACS\n    url: https://pacs.example.org/dicom-web\n    auth: { kind: basic, user: u, passwordEnv: CALCDX_TEST_UNSET_PW }\n');
      const r = await cli(['serve', '--port', '0', '--pacs-config', bad, '--db', dbArg]);
      expect(r.code).toBe(2); // a usage error
      expect(r.err).toContain(`--pacs-config ${bad}: archives.0.auth.passwordEnv: the environment variable CALCDX_TEST_UNSET_PW is not set`);
      expect(r.err).not.toMatch(/\n\s+at /);
      const good = join(d, 'good.json');
      writeFileSync(good, JSON.stringify({ archives: [{ id: 'main', label: 'PACS', url: 'https://pacs.example.org/dicom-web', auth: { kind: 'bearer', token: 'secret-token-123' } }] }));
      const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--quiet', '--pacs-config', good, '--db', dbArg], { env: { ...process.env, LANG: 'C', CALCDX_LANG: '' } });
      try {
        const url = await new Promise<string>((resolve, reject) => {
          let out = '';
          child.stdout.on('data', (c) => { out += c; const m = /http:\/\/[\d.]+:\d+/.exec(out); if (m) resolve(m[0]); });
          child.on('exit', (code) => reject(new Error(`serve exited with ${code}`)));
        });
        // the first administrator's one-time password is printed; an administrator may not see the archive (nor may anyone anonymous)
        const res = await fetch(`${url}/api/pacs/archives`);
        expect(res.status).toBe(401);
        const reg = await openRegistry(dbArg);
        try {
          await reg.createUser({ username: 'doc', role: 'clinician', passwordHash: await hashPassword(PASSWORD) });
        } finally {
          await reg.close();
        }
        const li = await fetch(`${url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'doc', password: PASSWORD }) });
        expect(li.status).toBe(200);
        const cookie = String(li.headers.get('set-cookie')).split(';')[0]!;
        const ok = await fetch(`${url}/api/pacs/archives`, { headers: { cookie } });
        const text = await ok.text();
        expect(ok.status, text).toBe(200);
        expect(JSON.parse(text)).toEqual({ archives: [{ id: 'main', label: 'PACS' }] });
        expect(text).not.toContain('secret-token-123');
      } finally {
        child.kill('SIGTERM');
      }
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  }, 60_000);
});
