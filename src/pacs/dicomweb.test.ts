/**
 * The DICOMweb client against an archive that misbehaves: a local HTTP server (a real socket) that
 * answers slowly, stops in the middle, sends malformed multipart, a truncated instance, redirects,
 * refuses credentials or a store. (The well-behaved archive, Orthanc, is in test/e2e/pacs.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { archiveFromEnv, dicomDateRange, retrieveSeries, searchSeries, searchStudies, storeInstances } from './dicomweb.js';
import { PacsError } from './errors.js';
import { buildMultipart } from './multipart.js';
import { retrieveVolume } from './ct.js';
import { ImagingError } from '../imaging/errors.js';
import { writePhantomStudy, PHANTOM_SERIES_UID, PHANTOM_STUDY_UID } from '../test-support/dicom-series.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
let server: Server;
let url: string;
let handler: Handler = (_q, res) => res.end();
let dir: string;
let instances: Uint8Array[];
/** an instance of another series (the axial fixture) */
const foreign = new Uint8Array(readFileSync(fileURLToPath(new URL('../../test/fixtures/dicom/series/axial/IM0001', import.meta.url))));
const sockets = new Set<import('node:net').Socket>();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'calcdx-dicomweb-'));
  instances = writePhantomStudy(join(dir, 'ph')).instances.slice(0, 64);
  server = createServer((req, res) => handler(req, res));
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const a = server.address();
  url = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}/dicom-web`;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

const archive = (env: NodeJS.ProcessEnv = {}, timeout = '2') => archiveFromEnv(url, env, timeout);

async function pacsError(f: () => Promise<unknown>): Promise<PacsError> {
  try {
    await f();
  } catch (e) {
    expect(e).toBeInstanceOf(PacsError);
    return e as PacsError;
  }
  throw new Error('no error thrown');
}

const SERIES_JSON = JSON.stringify([{ '0020000E': { vr: 'UI', Value: [PHANTOM_SERIES_UID] }, '00080060': { vr: 'CS', Value: ['CT'] }, '00201209': { vr: 'IS', Value: [64] } }]);
const BOUNDARY = 'test-boundary-42';

/** An archive: QIDO of the phantom study's one CT series, and WADO-RS answered by `wado`. */
function fakeArchive(wado: Handler): Handler {
  return (req, res) => {
    if (req.url?.includes('/series?')) { res.setHeader('content-type', 'application/dicom+json'); res.end(SERIES_JSON); return; }
    wado(req, res);
  };
}

describe('archive configuration', () => {
  it('takes basic or bearer credentials from the environment, never from the URL', () => {
    expect(archiveFromEnv('https://pacs.example.org/dicom-web/', {}).url).toBe('https://pacs.example.org/dicom-web');
    expect(archiveFromEnv(url, { CALCDX_DICOMWEB_USER: 'u', CALCDX_DICOMWEB_PASSWORD: 'p' }).auth).toEqual({ kind: 'basic', user: 'u', password: 'p' });
    expect(archiveFromEnv(url, { CALCDX_DICOMWEB_TOKEN: 't' }).auth).toEqual({ kind: 'bearer', token: 't' });
    expect(archiveFromEnv(url, {}).timeoutMs).toBe(30_000);
    expect(archiveFromEnv(url, { CALCDX_DICOMWEB_TIMEOUT: '2.5' }).timeoutMs).toBe(2500);
    const bad: [string, NodeJS.ProcessEnv, RegExp][] = [
      ['https://user:secret@pacs.example.org/dicom-web', {}, /credentials in the URL are not accepted/],
      ['ftp://pacs.example.org/', {}, /scheme is ftp/],
      ['not a url', {}, /not a valid URL/],
      ['https://pacs.example.org/dicom-web?x=1', {}, /without a query/],
      [url, { CALCDX_DICOMWEB_TOKEN: 't', CALCDX_DICOMWEB_USER: 'u' }, /set one kind of credentials/],
      [url, { CALCDX_DICOMWEB_USER: 'u' }, /must be set together/],
      [url, { CALCDX_DICOMWEB_TIMEOUT: '0' }, /timeout "0"/],
    ];
    for (const [u, env, msg] of bad) {
      let err: unknown;
      try { archiveFromEnv(u, env); } catch (e) { err = e; }
      expect(err, u).toBeInstanceOf(PacsError);
      expect((err as PacsError).code).toBe('bad_config');
      expect((err as PacsError).message).toMatch(msg);
      expect((err as PacsError).message).not.toContain('secret');
    }
  });

  it('turns a date or range into DICOM range matching, and refuses impossible dates', () => {
    expect(dicomDateRange('2026-12-01')).toBe('20261201');
    expect(dicomDateRange('20261101-20261201')).toBe('20261101-20261201');
    expect(dicomDateRange('2026-11-01-2026-12-01')).toBe('20261101-20261201');
    expect(dicomDateRange('20261101-')).toBe('20261101-');
    expect(dicomDateRange('-20261201')).toBe('-20261201');
    for (const bad of ['2026-02-30', '20261301', '2026', '20261201-20261101', '-', 'yesterday']) expect(dicomDateRange(bad), bad).toBeUndefined();
  });
});

describe('a misbehaving archive', () => {
  it('times out when the archive accepts the connection and never answers', async () => {
    handler = () => { /* never answers */ };
    const t0 = performance.now();
    const e = await pacsError(() => searchStudies(archive({}, '0.3'), {}));
    expect(e.code).toBe('timeout');
    expect(e.message).toMatch(/no answer within 0.3 s/);
    expect(e.message).toContain(url);
    expect(performance.now() - t0).toBeLessThan(3000);
  });

  it('times out when the archive stops sending in the middle of a series, naming study and series', async () => {
    handler = fakeArchive((_q, res) => {
      res.writeHead(200, { 'content-type': `multipart/related; type="application/dicom"; boundary=${BOUNDARY}` });
      res.write(buildMultipart(BOUNDARY, [{ contentType: 'application/dicom', body: instances[0]! }]).subarray(0, 5000));
    });
    const e = await pacsError(() => retrieveSeries(archive({}, '0.3'), PHANTOM_STUDY_UID, PHANTOM_SERIES_UID));
    expect(e.code).toBe('timeout');
    expect(e.message).toMatch(/stopped sending for 0.3 s after 5000 bytes/);
    expect(e.context).toBe(`study ${PHANTOM_STUDY_UID}, series ${PHANTOM_SERIES_UID}`);
  });

  it('reports an answer cut short (the connection closes inside an instance) as truncated, with how many instances were complete', async () => {
    handler = fakeArchive((_q, res) => {
      res.writeHead(200, { 'content-type': `multipart/related; type="application/dicom"; boundary=${BOUNDARY}` });
      const body = buildMultipart(BOUNDARY, instances.slice(0, 3).map((b) => ({ contentType: 'application/dicom', body: b })));
      res.end(body.subarray(0, body.length - 1000));
    });
    const e = await pacsError(() => retrieveSeries(archive(), PHANTOM_STUDY_UID, PHANTOM_SERIES_UID, { expected: 64 }));
    expect(e.code).toBe('truncated');
    expect(e.message).toMatch(/ends inside part 3 .* \(after 2 complete instances of 64\)/);
  });

  it('reports malformed multipart and non-multipart answers', async () => {
    handler = fakeArchive((_q, res) => { res.writeHead(200, { 'content-type': `multipart/related; boundary=${BOUNDARY}` }); res.end(`--${BOUNDARY}\r\nContent-Length: 10\r\n\r\n${'x'.repeat(40)}\r\n--${BOUNDARY}--`); });
    expect((await pacsError(() => retrieveSeries(archive(), PHANTOM_STUDY_UID, PHANTOM_SERIES_UID))).code).toBe('malformed_multipart');
    handler = fakeArchive((_q, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"error": "busy"}'); });
    const e = await pacsError(() => retrieveSeries(archive(), PHANTOM_STUDY_UID, PHANTOM_SERIES_UID));
    expect(e.code).toBe('bad_answer');
    expect(e.message).toMatch(/application\/json, not multipart/);
    handler = (_q, res) => { res.writeHead(200, { 'content-type': 'application/dicom+json' }); res.end('<html>proxy login</html>'); };
    expect((await pacsError(() => searchStudies(archive(), {}))).message).toMatch(/not JSON .*proxy login/);
    handler = fakeArchive((_q, res) => { res.writeHead(200, { 'content-type': `multipart/related; boundary=${BOUNDARY}` }); res.end(buildMultipart(BOUNDARY, [{ contentType: 'text/html', body: new Uint8Array(4) }])); });
    expect((await pacsError(() => retrieveSeries(archive(), PHANTOM_STUDY_UID, PHANTOM_SERIES_UID))).message).toMatch(/part 1 is text\/html, not application\/dicom/);
  });

  it('names the instance when a complete answer carries a truncated DICOM instance', async () => {
    handler = fakeArchive((_q, res) => {
      res.writeHead(200, { 'content-type': `multipart/related; type="application/dicom"; boundary=${BOUNDARY}` });
      const parts = instances.map((b, i) => ({ contentType: 'application/dicom', body: i === 5 ? b.subarray(0, b.length - 2000) : b }));
      res.end(buildMultipart(BOUNDARY, parts));
    });
    let err: unknown;
    try { await retrieveVolume({ dicomweb: url, study: PHANTOM_STUDY_UID, timeout: '2' }); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(ImagingError);
    expect((err as ImagingError).code).toBe('truncated');
    expect((err as ImagingError).file).toBe(`${url} series ${PHANTOM_SERIES_UID} instance 6`);
  });

  it('names the instance of a mixed series (one slice in another orientation, as a localizer)', async () => {
    const mixed = instances.map((b, i) => {
      if (i !== 9) return b;
      const c = Buffer.from(b);
      const at = c.indexOf('1\\0\\0\\0\\1\\0');
      expect(at).toBeGreaterThan(0);
      c.write('0\\1\\0\\1\\0\\0', at, 'latin1');
      return new Uint8Array(c);
    });
    handler = fakeArchive((_q, res) => {
      res.writeHead(200, { 'content-type': `multipart/related; type="application/dicom"; boundary=${BOUNDARY}` });
      res.end(buildMultipart(BOUNDARY, mixed.map((b) => ({ contentType: 'application/dicom', body: b }))));
    });
    let err: unknown;
    try { await retrieveVolume({ dicomweb: url, study: PHANTOM_STUDY_UID, timeout: '2' }); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(ImagingError);
    expect((err as ImagingError).code).toBe('inconsistent_series');
    expect((err as ImagingError).message).toContain(`${url} series ${PHANTOM_SERIES_UID} instance 10`);
    expect((err as ImagingError).message).toMatch(/mixes orientations/);
  });

  it('refuses a series larger than the limit, and warns about instances of another series in the answer', async () => {
    handler = fakeArchive((_q, res) => {
      res.writeHead(200, { 'content-type': `multipart/related; type="application/dicom"; boundary=${BOUNDARY}` });
      res.end(buildMultipart(BOUNDARY, [...instances, foreign].map((b) => ({ contentType: 'application/dicom', body: b }))));
    });
    const e = await pacsError(() => retrieveSeries(archive(), PHANTOM_STUDY_UID, PHANTOM_SERIES_UID, { maxBytes: 100_000 }));
    expect(e.code).toBe('bad_answer');
    expect(e.message).toMatch(/larger than 100000 bytes, the most accepted/);
    const r = await retrieveVolume({ dicomweb: url, study: PHANTOM_STUDY_UID, timeout: '2' });
    expect(r.volume.dims[2]).toBe(64);
    expect(r.volume.warnings).toContain("1 instance(s) of the archive's answer belong to another series and were ignored");
  });

  it('retrieves and reads a well-formed answer (no Content-Length in the parts, small chunks)', async () => {
    handler = fakeArchive((_q, res) => {
      res.writeHead(200, { 'content-type': `multipart/related; type="application/dicom"; boundary=${BOUNDARY}` });
      const enc = new TextEncoder();
      const body = Buffer.concat([...instances.flatMap((b) => [enc.encode(`--${BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n`), b, enc.encode('\r\n')]), enc.encode(`--${BOUNDARY}--\r\n`)]);
      let at = 0;
      const next = () => { if (at >= body.length) { res.end(); return; } res.write(body.subarray(at, at + 7777)); at += 7777; setImmediate(next); };
      next();
    });
    const seen: number[] = [];
    const r = await retrieveSeries(archive(), PHANTOM_STUDY_UID, PHANTOM_SERIES_UID, { expected: 64, onInstance: (n) => seen.push(n) });
    expect(r.length).toBe(64);
    expect(r.map((b) => b.length)).toEqual(instances.map((b) => b.length));
    expect(seen).toEqual(Array.from({ length: 64 }, (_, i) => i + 1));
  });

  it('verifies the archive\'s TLS certificate: a self-signed one is refused', async () => {
    const key = join(dir, 'key.pem'), cert = join(dir, 'cert.pem');
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1'], { encoding: 'utf8' });
    expect(made.status, `openssl is needed for this test: ${made.stderr}`).toBe(0);
    const tls = createHttpsServer({ key: readFileSync(key), cert: readFileSync(cert) }, (_q, res) => { res.setHeader('content-type', 'application/dicom+json'); res.end('[]'); });
    await new Promise<void>((r) => tls.listen(0, '127.0.0.1', () => r()));
    const port = (tls.address() as { port: number }).port;
    try {
      const e = await pacsError(() => searchStudies(archiveFromEnv(`https://127.0.0.1:${port}/dicom-web`, { CALCDX_DICOMWEB_TOKEN: 'tok-tls' }, '2'), {}));
      expect(e.code).toBe('tls');
      expect(e.message).toMatch(/TLS certificate of the archive is not trusted \(DEPTH_ZERO_SELF_SIGNED_CERT\).*NODE_EXTRA_CA_CERTS/);
    } finally {
      tls.closeAllConnections();
      await new Promise((r) => tls.close(r));
    }
  });

  it('sends a bearer token; maps 401, 403 and a redirect (not followed, credentials not forwarded)', async () => {
    const seen: (string | undefined)[] = [];
    handler = (req, res) => {
      seen.push(req.headers.authorization);
      if (req.headers.authorization !== 'Bearer tok-1') { res.writeHead(401); res.end(); return; }
      res.setHeader('content-type', 'application/dicom+json');
      res.end(SERIES_JSON);
    };
    expect((await searchSeries(archive({ CALCDX_DICOMWEB_TOKEN: 'tok-1' }), PHANTOM_STUDY_UID))[0]!.modality).toBe('CT');
    expect(seen[0]).toBe('Bearer tok-1');
    const e401 = await pacsError(() => searchSeries(archive({ CALCDX_DICOMWEB_TOKEN: 'tok-2' }), PHANTOM_STUDY_UID));
    expect(e401.code).toBe('unauthorized');
    expect(e401.message).not.toContain('tok-2');
    handler = (_q, res) => { res.writeHead(403); res.end(); };
    expect((await pacsError(() => searchSeries(archive(), PHANTOM_STUDY_UID))).code).toBe('forbidden');
    handler = (_q, res) => { res.writeHead(302, { location: 'http://elsewhere.example/dicom-web/studies' }); res.end(); };
    const e302 = await pacsError(() => searchStudies(archive({ CALCDX_DICOMWEB_TOKEN: 'tok-1' }), {}));
    expect(e302.code).toBe('http_error');
    expect(e302.message).toMatch(/302: the archive redirects to http:\/\/elsewhere.example/);
    handler = (_q, res) => { res.writeHead(503, 'Service Unavailable'); res.end(); };
    expect((await pacsError(() => searchStudies(archive(), {}))).message).toMatch(/HTTP 503 Service Unavailable/);
  });

  it('reports a store the archive refuses, in whole or in part, saying what was and was not stored', async () => {
    const objects = [
      { sopClassUid: '1.2.840.10008.5.1.4.1.1.66.4', sopInstanceUid: '2.25.1', bytes: new Uint8Array(10), what: 'SEG 2.25.1' },
      { sopClassUid: '1.2.840.10008.5.1.4.1.1.88.33', sopInstanceUid: '2.25.2', bytes: new Uint8Array(10), what: 'SR 2.25.2' },
    ];
    const ref = (uid: string) => ({ '00081150': { vr: 'UI', Value: ['x'] }, '00081155': { vr: 'UI', Value: [uid] } });
    let body = '';
    let contentType = '';
    handler = (req, res) => {
      contentType = req.headers['content-type'] ?? '';
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        body = Buffer.concat(chunks).toString('latin1');
        res.writeHead(409, { 'content-type': 'application/dicom+json' });
        res.end(JSON.stringify({ '00081199': { vr: 'SQ', Value: [ref('2.25.1')] }, '00081198': { vr: 'SQ', Value: [{ ...ref('2.25.2'), '00081197': { vr: 'US', Value: [49442] } }] } }));
      });
    };
    const e = await pacsError(() => storeInstances(archive(), PHANTOM_STUDY_UID, objects));
    expect(e.code).toBe('store_rejected');
    expect(e.message).toMatch(/HTTP 409: SR 2.25.2 refused \(FailureReason 49442\); stored: SEG 2.25.1/);
    expect(contentType).toMatch(/^multipart\/related; type="application\/dicom"; boundary=calcdx-/);
    expect(body.match(/Content-Type: application\/dicom/g)?.length).toBe(2);
    handler = (_q, res) => { res.writeHead(200, { 'content-type': 'application/dicom+json' }); res.end(JSON.stringify({ '00081199': { vr: 'SQ', Value: [ref('2.25.1')] } })); };
    expect((await pacsError(() => storeInstances(archive(), PHANTOM_STUDY_UID, objects))).message).toMatch(/SR 2.25.2 not confirmed by the archive; stored: SEG 2.25.1/);
    handler = (_q, res) => { res.writeHead(400); res.end(); };
    expect((await pacsError(() => storeInstances(archive(), PHANTOM_STUDY_UID, objects))).message).toMatch(/the archive refused the store: HTTP 400/);
    handler = (_q, res) => { res.writeHead(200, { 'content-type': 'application/dicom+json' }); res.end(JSON.stringify({ '00081199': { vr: 'SQ', Value: [ref('2.25.1'), ref('2.25.2')] } })); };
    expect((await storeInstances(archive(), PHANTOM_STUDY_UID, objects)).map((s) => s.sopInstanceUid)).toEqual(['2.25.1', '2.25.2']);
  });
});
