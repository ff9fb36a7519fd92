/**
 * "Open from PACS" in the browser (headless Chromium through playwright-core), the server
 * configured with a real archive (Orthanc on a free loopback port, src/test-support/orthanc.ts):
 * search by patient ID, pick the study, list its series (CT marked), open the CT series into the
 * NiiVue panel, measure an ROI (the findings fill the form, as the upload flow does), store the
 * SEG + SR to the archive and find them there. The server has a registry (a temporary SQLite
 * file): before login the panel says to sign in; the test logs in through the API from the page
 * (the HttpOnly session cookie is set for the origin), and the PACS POSTs carry the session's CSRF
 * token (web/src/api/session.ts). The browser never sees the archive's URL or credentials. Skipped with a message when Orthanc or Chromium is missing — except in CI.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { resolvePacsConfig } from '../../src/pacs/config.js';
import { openRegistry } from '../../src/registry/open.js';
import { hashPassword } from '../../src/registry/password.js';
import type { RegistryStore } from '../../src/registry/store.js';
import { sqliteFactory, type TestDbFactory } from '../../src/registry/test-db.js';
import { archiveFromEnv, searchSeries } from '../../src/pacs/dicomweb.js';
import { orthancMissing, pacsEntry, startPhantomArchive, type Orthanc, type PhantomArchive, type PhantomStudy } from '../../src/test-support/orthanc.js';
import { toolGate } from '../../src/test-support/tool-gate.js';
import { PHANTOM_SERIES_UID, PHANTOM_STUDY_UID } from '../../src/test-support/dicom-series.js';
import { CHROMIUM, openApp, SHOTS, startWebHarness, type WebHarness } from './web-harness.js';

const gate = toolGate('test/e2e/web-pacs.test.ts', [...orthancMissing(), ...(existsSync(CHROMIUM) ? [] : [`Chromium (${CHROMIUM})`])]);

let archive: PhantomArchive;
let orthanc: Orthanc;
let phantom: PhantomStudy;
let h: WebHarness;
let db: TestDbFactory;
let store: RegistryStore;
const PASSWORD = 'correct horse battery staple';

describe.skipIf(gate.skip)('the web app opens a CT series from PACS, measures it and stores the result back', () => {
  beforeAll(async () => {
    gate.assert();
    archive = await startPhantomArchive('calcdx-web-pacs-');
    ({ orthanc, phantom } = archive);
    const pacs = resolvePacsConfig({ archives: [pacsEntry(orthanc, 'Test PACS')] }, 'test');
    db = sqliteFactory();
    store = await openRegistry(await db.fresh());
    await store.createUser({ username: 'doc', role: 'clinician', passwordHash: await hashPassword(PASSWORD) });
    h = await startWebHarness({ pacs, registry: store });
  }, 180_000);
  afterAll(async () => {
    await h?.close();
    await store?.close();
    await db?.cleanup();
    await archive?.stop();
  });

  it('sign in → search → pick → measure → store', async () => {
    const page = await openApp(h, { lang: 'en' });
    // not logged in: the archive's routes answer 401 and the panel says to sign in
    await page.click('#ct-panel summary');
    await page.waitForSelector('#pacs-signin');
    expect(await page.textContent('#pacs-signin')).toBe('Sign in to use the image archive (clinicians and viewers).');
    expect(await page.locator('#pacs-browser').count()).toBe(0);
    expect(page.errors.every((e) => /401/.test(e)), page.errors.join('\n')).toBe(true);
    // log in through the API from the page: the session cookie (HttpOnly) is set for the origin
    const loggedIn = await page.evaluate(async (password) => {
      const r = await fetch('api/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'doc', password }) });
      return r.status;
    }, PASSWORD);
    expect(loggedIn).toBe(200);
    expect(await page.evaluate(() => document.cookie)).not.toContain('calcdx_session');
    await page.reload();
    await page.waitForSelector('body[data-ready]');
    page.errors.length = 0;
    const seen: string[] = [];
    page.on('response', (r) => { seen.push(r.url()); });
    await page.click('#ct-panel summary');
    await page.waitForSelector('#pacs-browser');
    expect(await page.locator('#pacs-signin').count()).toBe(0);
    expect(await page.locator('#pacs-archive option').allTextContents()).toEqual(['Test PACS']);
    await page.fill('#pacs-patient', 'CALCDX-PHANTOM');
    await page.fill('#pacs-from', '2026-11-30');
    await page.fill('#pacs-to', '2026-12-02');
    await page.click('#pacs-search');
    await page.waitForSelector(`#pacs-studies tr[data-study="${PHANTOM_STUDY_UID}"]`);
    expect(await page.locator('#pacs-studies tbody tr').count()).toBe(1);
    expect(await page.textContent('#pacs-studies tbody tr')).toContain('ACC-PHANTOM-1');
    // a search that finds nothing says so
    await page.fill('#pacs-patient', 'NOBODY');
    await page.click('#pacs-search');
    await page.waitForSelector('#pacs-none');
    await page.fill('#pacs-patient', 'CALCDX-PHANTOM');
    await page.click('#pacs-search');
    await page.click(`#pacs-studies tr[data-study="${PHANTOM_STUDY_UID}"] .pacs-series-button`);
    await page.waitForSelector(`#pacs-series tr[data-series="${PHANTOM_SERIES_UID}"][data-ct="1"]`);
    const [vol] = await Promise.all([
      page.waitForResponse((r) => r.url().includes('/api/pacs/main/volume')),
      page.click(`#pacs-series tr[data-series="${PHANTOM_SERIES_UID}"] .pacs-open`),
    ]);
    expect(vol.status()).toBe(200);
    await page.waitForSelector('#ct-panel[data-loaded][data-source="pacs"]', { state: 'attached', timeout: 60_000 })
      .catch(async (e) => { throw new Error(`${(e as Error).message}\nstatus: ${await page.textContent('#ct-status')}`); });
    expect(await page.getAttribute('#ct-panel', 'data-dims')).toBe(phantom.volume.dims.join('x'));
    expect(await page.textContent('#ct-status')).toContain('from Test PACS loaded');
    expect(await page.isVisible('#ct-store')).toBe(false);

    const s = phantom.truth.roi;
    await page.fill('#ct-roi', `sphere-ijk-mm:${s.center.join(',')},${s.radius}`);
    const [m] = await Promise.all([page.waitForResponse((r) => r.url().includes('/api/pacs/main/measure')), page.click('#ct-measure')]);
    expect(m.status()).toBe(200);
    const measured = await m.json() as { measurement: { lesion: { calcifiedVoxels: number } }; findings: { imaging: { ct: { maxHU: number } } } };
    expect(measured.measurement.lesion.calcifiedVoxels).toBe(phantom.truth.calcifiedVoxels);
    await page.waitForSelector('#ct-panel[data-measured][data-overlay]', { state: 'attached', timeout: 60_000 })
      .catch(async (e) => { throw new Error(`${(e as Error).message}\nstatus: ${await page.textContent('#ct-status')}`); });
    // the findings go to the assessment form as those of an upload do
    expect(Number(await page.inputValue('#f-imaging-ct-maxHU'))).toBe(measured.findings.imaging.ct.maxHU);
    expect(await page.locator('.field.measured').count()).toBeGreaterThan(2);

    const [st] = await Promise.all([page.waitForResponse((r) => r.url().includes('/api/pacs/main/store')), page.click('#ct-store')]);
    expect(st.status()).toBe(200);
    // the store carried the session's CSRF token (the server refuses a POST without it)
    expect(st.request().headers()['x-csrf-token']).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const stored = await st.json() as { stored: { seg: { sopInstanceUid: string; seriesInstanceUid: string }; sr: { sopInstanceUid: string; seriesInstanceUid: string } } };
    await page.waitForSelector('#ct-panel[data-stored]', { state: 'attached', timeout: 60_000 });
    const status = await page.textContent('#ct-status');
    expect(status).toContain(`Stored in Test PACS: segmentation (SEG) ${stored.stored.seg.sopInstanceUid} and report (SR) ${stored.stored.sr.sopInstanceUid}`);
    await page.evaluate(() => document.querySelector('#ct-panel')?.scrollIntoView({ block: 'start' }));
    await page.screenshot({ path: join(SHOTS, 'ct-pacs-stored.png') });

    // the archive has them
    const archive = archiveFromEnv(orthanc.dicomweb, { CALCDX_DICOMWEB_USER: orthanc.user, CALCDX_DICOMWEB_PASSWORD: orthanc.password });
    const series = await searchSeries(archive, PHANTOM_STUDY_UID);
    expect(series.find((x) => x.seriesInstanceUid === stored.stored.seg.seriesInstanceUid)?.modality).toBe('SEG');
    expect(series.find((x) => x.seriesInstanceUid === stored.stored.sr.seriesInstanceUid)?.modality).toBe('SR');

    // the browser only ever talked to calcdx
    expect(seen.every((u) => u.startsWith(h.base)), seen.join('\n')).toBe(true);
    expect(page.errors).toEqual([]);
    await page.close();
  }, 180_000);

  it('in Chinese, and an archive error shows in plain words', async () => {
    const page = await openApp(h, { lang: 'zh' });
    await page.click('#ct-panel summary');
    await page.waitForSelector('#pacs-browser');
    expect(await page.textContent('#pacs-browser summary')).toBe('从PACS打开');
    await page.fill('#pacs-patient', 'CALCDX-PHANTOM');
    await page.click('#pacs-search');
    await page.waitForSelector(`#pacs-studies tr[data-study="${PHANTOM_STUDY_UID}"]`);
    // the archive goes away: the next search names it
    await orthanc.stop();
    await page.click('#pacs-search');
    await page.waitForSelector('#pacs-error');
    expect(await page.textContent('#pacs-error')).toMatch(/影像归档“Test PACS”.*无法连接影像归档/);
    await page.close();
  }, 120_000);
});
