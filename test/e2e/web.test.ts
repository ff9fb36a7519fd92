/**
 * End-to-end in a real browser: the app of web/ (built here by scripts/build-web.mjs),
 * served by the real HTTP server (src/server), driven by playwright-core in Debian's Chromium
 * (/usr/bin/chromium; CI installs it, no browser is ever downloaded). Screenshots and figures go
 * to test-output/screenshots/ and test-output/web-metrics.json.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { parse } from 'yaml';
import { ROOT } from '../../src/test-support/cases.js';
import { makePhantom } from '../../src/test-support/phantom.js';
import { encodeNiftiMask } from '../../src/imaging/write-nifti.js';
import { writeCtSeries } from '../../src/imaging/write-dicom.js';
import { boundedPct } from '../../web/src/pages/assessment/assessment-view.js';
import { MORPHOLOGY } from '../../web/src/pages/assessment/fields.js';
import { fieldId } from '../../web/src/pages/assessment/form.js';
import { OUT, SHOTS, fillCase, openApp as open, setLang, setSphereRoi, startWebHarness, type WebHarness } from './web-harness.js';

const EX = join(ROOT, 'examples', 'cases');
const metrics: Record<string, unknown> = {};

let hx: WebHarness;
let base: string;
let tmp: string;

beforeAll(async () => {
  hx = await startWebHarness();
  ({ base, tmp } = hx);
  metrics.build = hx.built;
}, 120_000);

afterAll(async () => {
  await hx?.close();
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, 'web-metrics.json'), `${JSON.stringify(metrics, null, 2)}\n`);
});

const openApp = (opts: { lang?: 'en' | 'zh' } = {}): Promise<Page & { errors: string[] }> => open(hx, opts);

const topEntity = (page: Page): Promise<string | null> => page.getAttribute('#top-diagnosis', 'data-entity');

function cliAssess(file: string): { differential: Array<{ id: string; probability: number }> } {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'calcdx.js'), 'assess', file, '--format', 'json', '--lang', 'en'], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`calcdx assess failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}


describe('web app', () => {
  it('loads and the form is usable quickly', async () => {
    const runs: number[] = [];
    for (let i = 0; i < 3; i++) {
      const page = await hx.ctx.newPage();
      const t0 = Date.now();
      await page.goto(`${base}/`);
      await page.waitForSelector('body[data-ready]');
      const ready = await page.evaluate(() => performance.getEntriesByName('calcdx-ready')[0]?.startTime ?? -1);
      runs.push(Math.round(ready));
      metrics.firstLoadWallMs = [...((metrics.firstLoadWallMs as number[] | undefined) ?? []), Date.now() - t0];
      if (i === 0) await page.screenshot({ path: join(SHOTS, 'first-load-1280.png') });
      await page.close();
    }
    metrics.formUsableMs = runs;
    expect(Math.min(...runs)).toBeGreaterThan(0);
    expect(Math.min(...runs)).toBeLessThan(5000);
  });

  it('fills every example case through the form and leads with the same diagnosis as the CLI and the server', async () => {
    const page = await openApp({ lang: 'en' });
    // the empty form: the page asks for the key findings instead of an assessment on the prior alone
    expect(await page.locator('#empty-state').isVisible()).toBe(true);
    expect(await page.locator('#summary').count()).toBe(0);
    const files = readdirSync(EX).filter((f) => /\.ya?ml$/.test(f)).sort();
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const doc = parse(readFileSync(join(EX, f), 'utf8'));
      await fillCase(page, doc);
      const cli = cliAssess(join(EX, f));
      await page.waitForFunction((id) => document.querySelector('#top-diagnosis')?.getAttribute('data-entity') === id, cli.differential[0]!.id, { timeout: 5000 })
        .catch(() => undefined);
      expect(await topEntity(page), f).toBe(cli.differential[0]!.id);
      // the server answers the same, and the page shows the same probabilities for the leading five
      const res = await fetch(`${base}/api/assess?lang=en`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(doc) });
      const server = await res.json() as { differential: Array<{ id: string; probability: number }> };
      expect(server.differential.map((d) => d.id)).toEqual(cli.differential.map((d) => d.id));
      const shown = await page.$$eval('details.dx', (els) => els.slice(0, 5).map((e) => [e.getAttribute('data-entity'), e.querySelector('.bar-value')?.textContent]));
      // (the server rounds to 6 decimals: compare the shown percentage where that rounding cannot matter)
      expect(shown.map((x) => x[0]), f).toEqual(server.differential.slice(0, 5).map((d) => d.id));
      server.differential.slice(0, 5).forEach((d, n) => { expect(shown[n]![1], f).toBe(boundedPct(d.probability)); });
      await page.screenshot({ path: join(SHOTS, `case-${f.replace(/\.ya?ml$/, '')}.png`) });
      expect(await page.locator('.case-warning[data-warning="few_findings"]').count(), f).toBe(0);
    }
    // the evidence of an entity opens on click
    await page.click('details.dx >> nth=0 >> summary');
    expect(await page.locator('details.dx >> nth=0 >> .evidence li').count()).toBeGreaterThan(0);
    await page.screenshot({ path: join(SHOTS, 'evidence-open.png'), fullPage: false });
    expect(page.errors).toEqual([]);
    await page.close();
  });

  it('switches language and remembers the choice', async () => {
    const page = await openApp({ lang: 'en' });
    expect(await page.textContent('#results-heading')).toBe('Assessment');
    await setLang(page, 'zh');
    expect(await page.textContent('#results-heading')).toBe('评估');
    expect(await page.textContent('#g-patient legend')).toBe('患者');
    await page.setInputFiles('#import-file', join(EX, 'myositis-ossificans-thigh.yaml'));
    await page.waitForSelector('#notice .alert-info');
    await page.reload();
    await page.waitForSelector('body[data-ready]');
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('zh-CN');
    expect(await page.textContent('#case-heading')).toBe('病例');
    await page.setInputFiles('#import-file', join(EX, 'myositis-ossificans-thigh.yaml'));
    await page.waitForSelector('#notice .alert-info');
    await page.screenshot({ path: join(SHOTS, 'zh-1280.png') });
    await setLang(page, 'en');
    await page.close();
  });

  it('works at tablet width and with the keyboard, every control labelled', async () => {
    const page = await openApp({ lang: 'en' });
    await page.reload();
    await page.waitForSelector('body[data-ready]');
    // Tab from the top reaches the skip link first, then the header's controls
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.className)).toBe('skip');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('import-file');
    await page.setViewportSize({ width: 768, height: 1024 });
    await page.setInputFiles('#import-file', join(EX, 'tumoral-calcinosis-hip.yaml'));
    await page.waitForSelector('#notice .alert-info');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(SHOTS, 'tablet-768.png') });
    const unlabelled = await page.$$eval('input, select, textarea, button', (els) => els.filter((e) => {
      const el = e as HTMLInputElement;
      if (el.type === 'hidden') return false;
      const named = (el.labels && el.labels.length > 0) || el.getAttribute('aria-label') || (e.tagName === 'BUTTON' && e.textContent?.trim());
      return !named;
    }).map((e) => e.outerHTML.slice(0, 80)));
    expect(unlabelled).toEqual([]);
    // keyboard: a tri-state answered with the arrow keys updates the assessment
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.click('#clear');
    await page.fill('#f-patient-age', '45');
    await page.selectOption('#f-lesion-region', 'thigh');
    const before = await page.getAttribute('body', 'data-updates');
    await page.focus('#f-symptoms-pain-unknown');
    await page.keyboard.press('ArrowRight');
    expect(await page.isChecked('#f-symptoms-pain-false')).toBe(true);
    await page.keyboard.press('ArrowRight');
    expect(await page.isChecked('#f-symptoms-pain-true')).toBe(true);
    await page.waitForFunction((b) => document.body.dataset.updates !== b, before);
    // a calcification pattern is answered with the arrow keys too (unknown → seen → excluded)
    await page.focus(`#${fieldId(MORPHOLOGY)}-rim-unknown`);
    await page.keyboard.press('ArrowRight');
    expect(await page.isChecked(`#${fieldId(MORPHOLOGY)}-rim-seen`)).toBe(true);
    await page.keyboard.press('ArrowRight');
    expect(await page.isChecked(`#${fieldId(MORPHOLOGY)}-rim-excluded`)).toBe(true);
    // a next-best-question prompt moves the focus to its form field
    const q = page.locator('button.question').first();
    const finding = await q.getAttribute('data-finding');
    await q.focus();
    await page.keyboard.press('Enter');
    const focused = await page.evaluate(() => document.activeElement?.closest('.field')?.getAttribute('data-path') ?? null);
    expect(finding?.startsWith(focused ?? '<none>')).toBe(true);
    // and a "back to the results" button returns to the question
    expect(await page.isVisible('#back-to-results')).toBe(true);
    await page.keyboard.press('Escape');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-finding'))).toBe(finding);
    expect(await page.isVisible('#back-to-results')).toBe(false);
    await page.close();
  });

  it('downloads the follow-up calendar and renders the print views', async () => {
    const page = await openApp({ lang: 'en' });
    await page.setInputFiles('#import-file', join(EX, 'synovial-sarcoma-knee.yaml'));
    await page.waitForSelector('#notice .alert-info');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#ics')]);
    expect(download.suggestedFilename()).toBe('calcdx-followup.ics');
    const ics = readFileSync((await download.path())!, 'utf8');
    expect(ics).toContain('BEGIN:VCALENDAR');
    const server = await (await fetch(`${base}/api/followup.ics?lang=en`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: readFileSync(join(EX, 'synovial-sarcoma-knee.yaml'), 'utf8').replace(/^#.*\n/, '') === '' ? '{}' : JSON.stringify(parse(readFileSync(join(EX, 'synovial-sarcoma-knee.yaml'), 'utf8'))) })).text();
    const starts = (s: string) => s.match(/DTSTART[^\r\n]*/g);
    expect(starts(ics)).toEqual(starts(server));
    expect(starts(ics)!.length).toBeGreaterThan(3);

    for (const audience of ['clinician', 'patient'] as const) {
      await page.click(`#print-${audience}`);
      await page.waitForSelector('#report-dialog[open] #report-frame');
      const frame = page.frameLocator('#report-frame');
      await frame.locator('html[data-ready]').waitFor();
      const h1 = await frame.locator('h1').first().textContent();
      expect(h1?.length).toBeGreaterThan(3);
      // the report's own stylesheet is applied despite the page's CSP
      const sheets = await frame.locator('html').evaluate(() => document.adoptedStyleSheets.length);
      expect(sheets).toBe(1);
      await page.screenshot({ path: join(SHOTS, `print-${audience}.png`) });
      await page.click('#report-close');
      await page.waitForSelector('#report-dialog:not([open])', { state: 'hidden' });
    }
    // the report prints to PDF
    const html = await (await fetch(`${base}/api/report?format=html&lang=en&audience=clinician`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(parse(readFileSync(join(EX, 'synovial-sarcoma-knee.yaml'), 'utf8'))) })).text();
    const pdfPage = await hx.ctx.newPage();
    await pdfPage.setContent(html);
    const pdf = await pdfPage.pdf({ format: 'A4', printBackground: true });
    writeFileSync(join(SHOTS, 'report-clinician.pdf'), pdf);
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    await pdfPage.close();
    expect(page.errors).toEqual([]);
    await page.close();
  });

  it('opens a CT volume, sets the ROI by click and radius, measures on the server and fills the findings', async () => {
    const { volume } = makePhantom({ preset: 'small' });
    const file = join(tmp, 'phantom.nii');
    writeFileSync(file, encodeNiftiMask(volume, volume.data, { intent: 'none', description: 'calcdx phantom' }));
    const page = await openApp({ lang: 'en' });
    await page.click('#ct-panel summary');
    await page.setInputFiles('#ct-file', file);
    await page.waitForSelector('#ct-panel[data-loaded]', { state: 'attached', timeout: 30_000 });
    // a click in the viewer sets the centre
    const canvasBox = async () => { await page.locator('#ct-canvas').scrollIntoViewIfNeeded(); return (await page.locator('#ct-canvas').boundingBox())!; };
    let box = await canvasBox();
    await page.mouse.click(box.x + box.width * 0.25, box.y + box.height * 0.25);
    await page.waitForFunction(() => (document.querySelector('#ct-x') as HTMLInputElement).value !== '');
    expect(await page.inputValue('#ct-roi')).toMatch(/^sphere-mm:/);
    // a box dragged across any view gives a box-mm ROI
    expect(Number(await page.getAttribute('#ct-panel', 'data-roi-voxels'))).toBeGreaterThan(0);
    await page.check('#ct-box');
    box = await canvasBox();
    // where the views are on the canvas (view 0 axial, 1 coronal, 2 sagittal)
    const tiles = JSON.parse((await page.getAttribute('#ct-panel', 'data-tiles'))!) as Array<{ view: number; left: number; top: number; width: number; height: number }>;
    const drag = async (view: number): Promise<void> => {
      const t = tiles.find((x) => x.view === view)!;
      await page.mouse.move(box.x + t.left + t.width * 0.35, box.y + t.top + t.height * 0.35);
      await page.mouse.down();
      await page.mouse.move(box.x + t.left + t.width * 0.55, box.y + t.top + t.height * 0.6, { steps: 5 });
      await page.mouse.up();
    };
    await drag(1);
    expect(await page.inputValue('#ct-roi')).toMatch(/^box-mm:(-?[\d.]+,){5}-?[\d.]+$/);
    metrics.ctBoxRoi = await page.inputValue('#ct-roi');
    // and in the other views: another box each, drawn too
    for (const view of [2, 0]) {
      const before = await page.inputValue('#ct-roi');
      await drag(view);
      expect(await page.inputValue('#ct-roi')).toMatch(/^box-mm:/);
      expect(await page.inputValue('#ct-roi')).not.toBe(before);
    }
    expect(Number(await page.getAttribute('#ct-panel', 'data-roi-voxels'))).toBeGreaterThan(0);
    await page.check('#ct-mode-sphere');
    // then the exact centre of the mass (LPS mm, as calcdx ct takes it) and the radius
    await setSphereRoi(page, volume.affine, [48, 48, 32], 36);
    expect(await page.inputValue('#ct-roi')).toBe('sphere-mm:-166,-166,0,36');
    // the sphere is drawn into the viewer's drawing layer (shown in all three views)
    const voxels = Number(await page.getAttribute('#ct-panel', 'data-roi-voxels'));
    expect(voxels).toBeGreaterThan(1000);
    await page.selectOption('#ct-window', 'bone');
    await page.click('#ct-measure');
    await page.waitForSelector('#ct-panel[data-measured][data-overlay]', { state: 'attached', timeout: 60_000 })
      .catch(async (e) => { throw new Error(`${(e as Error).message}\nstatus: ${await page.textContent('#ct-status')}`); });
    expect(await page.textContent('#ct-status')).toMatch(/component/);
    const maxHU = await page.inputValue('#f-imaging-ct-maxHU');
    expect(Number(maxHU)).toBeGreaterThan(100);
    expect(await page.locator('.field.measured[data-path="imaging.ct.maxHU"] .measured-badge').isVisible()).toBe(true);
    expect(await page.locator('.field.measured').count()).toBeGreaterThan(2);
    expect(await page.locator('#f-imaging-calcification-morphology input[value=seen]:checked').count()).toBeGreaterThan(0);
    // the measurement showed its stages: the upload, the server's work
    expect((await page.getAttribute('#ct-panel', 'data-stages'))?.split(',')).toEqual(expect.arrayContaining(['upload', 'measure']));
    await page.evaluate(() => document.querySelector('.ct-viewer')?.scrollIntoView({ block: 'center' }));
    await page.waitForTimeout(200);
    await page.screenshot({ path: join(SHOTS, 'ct-overlay.png') });
    await page.screenshot({ path: join(SHOTS, 'ct-filled.png') });
    // editing a measured field takes the mark away
    await page.fill('#f-imaging-ct-maxHU', '500');
    expect(await page.locator('.field.measured[data-path="imaging.ct.maxHU"]').count()).toBe(0);
    expect(page.errors).toEqual([]);
    await page.close();
  }, 120_000);

  it('opens a DICOM folder: the server converts it for the viewer, and it measures as the NIfTI does', async () => {
    const { volume } = makePhantom({ preset: 'small' });
    const dir = join(tmp, 'phantom-dicom');
    const dicomFiles = writeCtSeries(dir, volume).sort();
    expect(dicomFiles.length).toBe(volume.dims[2]);
    const nifti = encodeNiftiMask(volume, volume.data, { intent: 'none', description: 'calcdx phantom' });
    for (const lang of ['zh', 'en'] as const) {
      const page = await openApp({ lang });
      await page.click('#ct-panel summary');
      // (playwright fills a webkitdirectory input from a folder path: the files of the folder)
      const [res] = await Promise.all([page.waitForResponse((r) => r.url().includes('/api/volume')), page.setInputFiles('#ct-dir', dir)]);
      expect(res.status()).toBe(200);
      expect(res.headers()['content-type']).toBe('application/gzip');
      await page.waitForSelector('#ct-panel[data-loaded]', { state: 'attached', timeout: 30_000 })
        .catch(async (e) => { throw new Error(`${(e as Error).message}\nstatus: ${await page.textContent('#ct-status')}`); });
      // the app reports the dims NiiVue loaded: those of the series
      expect(await page.getAttribute('#ct-panel', 'data-dims')).toBe(volume.dims.join('x'));
      const status = await page.textContent('#ct-status');
      expect(status).toContain(lang === 'zh' ? `已载入DICOM序列（${dicomFiles.length} 个文件` : `DICOM series loaded for viewing (${dicomFiles.length} files`);
      // the canvas is drawn: the volume shows as more than a black screen
      await page.evaluate(() => document.querySelector('.ct-viewer')?.scrollIntoView({ block: 'center' }));
      await page.waitForTimeout(200);
      const shot = await page.locator('#ct-canvas').screenshot({ path: join(SHOTS, `ct-dicom-${lang}.png`) });
      const { PNG } = await import('pngjs');
      const png = PNG.sync.read(shot);
      let bright = 0;
      for (let p = 0; p < png.data.length; p += 4) if (png.data[p]! + png.data[p + 1]! + png.data[p + 2]! > 150) bright++;
      expect(bright / (png.width * png.height)).toBeGreaterThan(0.02);
      if (lang === 'zh') { await page.close(); continue; }
      // the same ROI as the NIfTI test, measured from the DICOM files
      await setSphereRoi(page, volume.affine, [48, 48, 32], 36);
      const roi = await page.inputValue('#ct-roi');
      expect(roi).toMatch(/^sphere-mm:/);
      const [ctRes] = await Promise.all([page.waitForResponse((r) => r.url().includes('/api/ct')), page.click('#ct-measure')]);
      const fromDicom = await ctRes.json() as { findings: unknown; measurement: { volume: { source?: unknown } } };
      expect(ctRes.status()).toBe(200);
      await page.waitForSelector('#ct-panel[data-measured][data-overlay]', { state: 'attached', timeout: 60_000 })
        .catch(async (e) => { throw new Error(`${(e as Error).message}\nstatus: ${await page.textContent('#ct-status')}`); });
      expect(await page.textContent('#ct-status')).toMatch(/component/);
      // the NIfTI path gives the same findings
      const body = new FormData();
      body.append('roi', roi);
      body.append('file', new Blob([new Uint8Array(nifti)]), 'phantom.nii');
      const fromNifti = await (await fetch(`${base}/api/ct?lang=en`, { method: 'POST', body })).json() as { findings: unknown };
      expect(fromDicom.findings).toEqual(fromNifti.findings);
      const maxHU = (fromNifti.findings as { imaging: { ct: { maxHU: number } } }).imaging.ct.maxHU;
      expect(Number(await page.inputValue('#f-imaging-ct-maxHU'))).toBe(maxHU);
      expect(await page.locator('.field.measured').count()).toBeGreaterThan(2);
      await page.screenshot({ path: join(SHOTS, 'ct-dicom-measured.png') });
      // a folder that is not DICOM: a clear message, nothing shown
      const junk = join(tmp, 'not-dicom');
      mkdirSync(junk, { recursive: true });
      writeFileSync(join(junk, 'notes.txt'), 'not a CT');
      await page.setInputFiles('#ct-dir', junk);
      await page.waitForSelector('#ct-status.alert', { timeout: 30_000 });
      // in plain words; the server's own message (naming the file) as the technical detail
      expect(await page.textContent('#ct-status-text')).toMatch(/^The DICOM folder cannot be displayed: [a-z][^:]*: /);
      expect(await page.textContent('#ct-status-text')).not.toMatch(/notes\.txt|--|roi/i);
      expect(await page.textContent('#ct-status .ct-detail code')).toMatch(/notes\.txt/);
      expect(await page.getAttribute('#ct-panel', 'data-loaded')).toBeNull();
      expect(page.errors.filter((e) => !/status of 422/.test(e))).toEqual([]);
      await page.close();
    }
  }, 120_000);
});
