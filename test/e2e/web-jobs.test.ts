/**
 * The web app's CT measurements through the job queue (headless Chromium through playwright-core):
 * the server has a queue (a real PostgreSQL database of its own) and a worker runs in this process
 * (startWorker, the loop of `calcdx worker`). An uploaded NIfTI volume and a series of a real
 * archive (Orthanc, "Open from PACS") are each measured as a job: POST /api/ct/jobs or
 * /api/pacs/:archive/jobs answers 202, the job's state and progress arrive by server-sent events
 * (the panel counts them in data-job-events and lists them in data-job-seen), and the result is
 * shown as the synchronous routes' is (the overlay, the findings in the form). Without a queue the
 * panel measures through POST /api/ct (web.test.ts). Skipped with a message when PostgreSQL,
 * Orthanc or Chromium is missing — except in CI.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolvePacsConfig } from '../../src/pacs/config.js';
import { archiveFromEnv } from '../../src/pacs/dicomweb.js';
import { openRegistry } from '../../src/registry/open.js';
import { hashPassword } from '../../src/registry/password.js';
import type { RegistryStore } from '../../src/registry/store.js';
import { sqliteFactory, type TestDbFactory } from '../../src/registry/test-db.js';
import { connectQueue, QUEUE_DEFAULTS } from '../../src/queue/queue.js';
import { startWorker } from '../../src/queue/worker.js';
import { createTestDb, PG_BASE, query, type TestDb } from '../../src/test-support/postgres.js';
import { orthancMissing, pacsEntry, startPhantomArchive, type Orthanc, type PhantomArchive, type PhantomStudy } from '../../src/test-support/orthanc.js';
import { toolGate } from '../../src/test-support/tool-gate.js';
import { PHANTOM_SERIES_UID, PHANTOM_STUDY_UID } from '../../src/test-support/dicom-series.js';
import { makePhantom } from '../../src/test-support/phantom.js';
import { encodeNiftiMask } from '../../src/imaging/write-nifti.js';
import { CHROMIUM, openApp, SHOTS, startWebHarness, type AppPage, type WebHarness } from './web-harness.js';

const gate = toolGate('test/e2e/web-jobs.test.ts', [
  ...(PG_BASE ? [] : ['PostgreSQL (CALCDX_TEST_PG=postgres://postgres@127.0.0.1:5432/postgres)']),
  ...orthancMissing(),
  ...(existsSync(CHROMIUM) ? [] : [`Chromium (${CHROMIUM})`]),
]);

let archive: PhantomArchive;
let orthanc: Orthanc;
let dir: string;
let phantom: PhantomStudy;
let h: WebHarness;
let regDb: TestDbFactory;
let store: RegistryStore;
let pgDb: TestDb;
let stopWorker: (() => Promise<void>) | undefined;
const PASSWORD = 'correct horse battery staple';
const savedEnv = { user: process.env.CALCDX_DICOMWEB_USER, password: process.env.CALCDX_DICOMWEB_PASSWORD };

/** the events the panel saw, as [state, progress] */
const seenOf = async (page: AppPage): Promise<Array<[string, number]>> =>
  ((await page.getAttribute('#ct-panel', 'data-job-seen')) ?? '').split(',').filter(Boolean).map((e) => { const [s, p] = e.split(':'); return [s!, Number(p)]; });

describe.skipIf(gate.skip)('the web app measures through the CT job queue, its progress pushed by server-sent events', () => {
  beforeAll(async () => {
    gate.assert();
    archive = await startPhantomArchive('calcdx-web-jobs-');
    ({ orthanc, dir, phantom } = archive);
    const pacs = resolvePacsConfig({ archives: [pacsEntry(orthanc, 'Test PACS')] }, 'test');
    regDb = sqliteFactory();
    store = await openRegistry(await regDb.fresh());
    await store.createUser({ username: 'doc', role: 'clinician', passwordHash: await hashPassword(PASSWORD) });
    pgDb = await createTestDb('calcdx_webjobs');
    const archiveUrl = archiveFromEnv(orthanc.dicomweb, {}).url;
    h = await startWebHarness({ pacs, registry: store, ctQueue: { db: pgDb.url, archives: [archiveUrl] } });
    // the worker reads the archive with its own credentials (as `calcdx worker` does, from its environment)
    process.env.CALCDX_DICOMWEB_USER = orthanc.user;
    process.env.CALCDX_DICOMWEB_PASSWORD = orthanc.password;
    const q = await connectQueue(pgDb.url, { role: 'worker' });
    stopWorker = await startWorker(q, { concurrency: 1, archives: [archiveUrl], keepSeconds: QUEUE_DEFAULTS.keepSeconds });
  }, 180_000);
  afterAll(async () => {
    await stopWorker?.();
    await h?.close();
    await store?.close();
    await regDb?.cleanup();
    await pgDb?.drop();
    await archive?.stop();
    if (savedEnv.user === undefined) delete process.env.CALCDX_DICOMWEB_USER; else process.env.CALCDX_DICOMWEB_USER = savedEnv.user;
    if (savedEnv.password === undefined) delete process.env.CALCDX_DICOMWEB_PASSWORD; else process.env.CALCDX_DICOMWEB_PASSWORD = savedEnv.password;
  });

  it('an uploaded volume: 202, state and progress events, the overlay and the findings', async () => {
    const page = await openApp(h, { lang: 'en' });
    const posted: string[] = [];
    page.on('request', (r) => { if (r.method() === 'POST') posted.push(new URL(r.url()).pathname); });
    await page.click('#ct-panel summary');
    const { volume, truth } = makePhantom();
    const file = join(dir, 'phantom.nii');
    writeFileSync(file, encodeNiftiMask(volume, volume.data, { intent: 'none', description: 'calcdx phantom' }));
    await page.setInputFiles('#ct-file', file);
    await page.waitForSelector('#ct-panel[data-loaded]', { state: 'attached', timeout: 60_000 });
    await page.fill('#ct-roi', `sphere-ijk-mm:${truth.roi.center.join(',')},${truth.roi.radius}`);
    const [queued] = await Promise.all([page.waitForResponse((r) => new URL(r.url()).pathname === '/api/ct/jobs'), page.click('#ct-measure')]);
    expect(queued.status()).toBe(202);
    const id = (await queued.json() as { id: string }).id;
    await page.waitForSelector('#ct-panel[data-measured][data-overlay]', { state: 'attached', timeout: 90_000 })
      .catch(async (e) => { throw new Error(`${(e as Error).message}\nstatus: ${await page.textContent('#ct-status')}`); });
    expect(await page.getAttribute('#ct-panel', 'data-job')).toBe(id);
    const seen = await seenOf(page);
    // the events, in order: queued (or already running), running with rising progress, completed at 100
    expect(seen.at(-1)).toEqual(['completed', 100]);
    expect(seen.some(([s]) => s === 'running'), JSON.stringify(seen)).toBe(true);
    expect(seen.some(([s, p]) => s === 'running' && p > 0 && p < 100), `a progress event while running: ${JSON.stringify(seen)}`).toBe(true);
    const progress = seen.filter(([s]) => s === 'running').map(([, p]) => p);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(Number(await page.getAttribute('#ct-panel', 'data-job-events'))).toBe(seen.length);
    // the result: what the job holds, shown as the synchronous route's is
    const job = await (await fetch(`${h.base}/api/ct/jobs/${id}`)).json() as { state: string; result: { measurement: { lesion: { calcifiedVoxels: number } }; findings: { imaging: { ct: { maxHU: number } } } } };
    expect(job.state).toBe('completed');
    expect(job.result.measurement.lesion.calcifiedVoxels).toBe(truth.calcifiedVoxels);
    expect(Number(await page.inputValue('#f-imaging-ct-maxHU'))).toBe(job.result.findings.imaging.ct.maxHU);
    expect(await page.textContent('#ct-status')).toMatch(/component/);
    // the upload went to the queue only, and its input left the database with the job's end
    expect(posted).toEqual(['/api/ct/jobs']);
    expect(await query(pgDb.url, 'SELECT 1 FROM calcdx.ct_input WHERE job_id = $1', [id])).toEqual([]);
    // (not logged in: the archive panel's request answered 401, and says to sign in)
    expect(page.errors.filter((e) => !/status of 401/.test(e))).toEqual([]);
    await page.close();
  }, 180_000);

  it('a series of the archive: measured as a job (POST /api/pacs/:archive/jobs), stored back as before', async () => {
    const page = await openApp(h, { lang: 'en' });
    const loggedIn = await page.evaluate(async (password) => (await fetch('api/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'doc', password }) })).status, PASSWORD);
    expect(loggedIn).toBe(200);
    await page.reload();
    await page.waitForSelector('body[data-ready]');
    page.errors.length = 0;
    await page.click('#ct-panel summary');
    await page.waitForSelector('#pacs-browser');
    await page.fill('#pacs-patient', 'CALCDX-PHANTOM');
    await page.click('#pacs-search');
    await page.click(`#pacs-studies tr[data-study="${PHANTOM_STUDY_UID}"] .pacs-series-button`);
    await page.click(`#pacs-series tr[data-series="${PHANTOM_SERIES_UID}"] .pacs-open`);
    await page.waitForSelector('#ct-panel[data-loaded][data-source="pacs"]', { state: 'attached', timeout: 60_000 });
    const s = phantom.truth.roi;
    await page.fill('#ct-roi', `sphere-ijk-mm:${s.center.join(',')},${s.radius}`);
    const [queued] = await Promise.all([page.waitForResponse((r) => r.url().includes('/api/pacs/main/jobs')), page.click('#ct-measure')]);
    expect(queued.status()).toBe(202);
    // the POST carried the session's CSRF token
    expect(queued.request().headers()['x-csrf-token']).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const id = (await queued.json() as { id: string }).id;
    await page.waitForSelector('#ct-panel[data-measured][data-overlay]', { state: 'attached', timeout: 90_000 })
      .catch(async (e) => { throw new Error(`${(e as Error).message}\nstatus: ${await page.textContent('#ct-status')}`); });
    const seen = await seenOf(page);
    expect(seen.at(-1)).toEqual(['completed', 100]);
    expect(seen.some(([st, p]) => st === 'running' && p > 0 && p < 100), JSON.stringify(seen)).toBe(true);
    const job = await page.evaluate(async (u) => (await fetch(u)).json(), `api/ct/jobs/${id}`) as { result: { measurement: { lesion: { calcifiedVoxels: number } } } };
    expect(job.result.measurement.lesion.calcifiedVoxels).toBe(phantom.truth.calcifiedVoxels);
    // storing repeats the measurement on the server, as without a queue
    const [st] = await Promise.all([page.waitForResponse((r) => r.url().includes('/api/pacs/main/store')), page.click('#ct-store')]);
    expect(st.status()).toBe(200);
    await page.waitForSelector('#ct-panel[data-stored]', { state: 'attached', timeout: 60_000 });
    await page.evaluate(() => document.querySelector('#ct-panel')?.scrollIntoView({ block: 'start' }));
    await page.screenshot({ path: join(SHOTS, 'ct-pacs-job.png') });
    expect(page.errors).toEqual([]);
    await page.close();
  }, 180_000);
});
