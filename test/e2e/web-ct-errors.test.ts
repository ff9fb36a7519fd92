/**
 * The CT panel's error path for a file it cannot show (web/src/panels/ct-viewer/ct.ts, runAction):
 * the status says so in plain words, NiiVue's own message goes to the technical detail, the
 * progress is hidden and the measure button stays usable; then a real volume replaces the error.
 * Headless Chromium through playwright-core (web-harness.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makePhantom } from '../../src/test-support/phantom.js';
import { encodeNiftiMask } from '../../src/imaging/write-nifti.js';
import { openApp, startWebHarness, type WebHarness } from './web-harness.js';

let h: WebHarness;
beforeAll(async () => { h = await startWebHarness(); }, 120_000);
afterAll(async () => { await h?.close(); });

describe('the CT panel, given a file that is not a volume', () => {
  it('says so in plain words with the viewer\'s message as the detail, and recovers with a real volume', async () => {
    const bad = join(h.tmp, 'notes.nii');
    writeFileSync(bad, 'this is not a NIfTI volume\n'.repeat(40));
    const page = await openApp(h, { lang: 'en' });
    await page.click('#ct-panel summary');
    await page.setInputFiles('#ct-file', bad);
    await page.waitForSelector('#ct-status.alert', { timeout: 30_000 });
    expect(await page.textContent('#ct-status-text')).toBe('Measurement failed: the file could not be shown: is it a NIfTI volume (.nii, .nii.gz)?');
    expect((await page.textContent('#ct-status .ct-detail code'))!.length).toBeGreaterThan(0);
    expect(await page.isHidden('#ct-progress')).toBe(true);
    expect(await page.isEnabled('#ct-measure')).toBe(true);
    expect(await page.getAttribute('#ct-panel', 'data-loaded')).toBeNull();

    const { volume } = makePhantom({ preset: 'small' });
    const good = join(h.tmp, 'phantom.nii');
    writeFileSync(good, encodeNiftiMask(volume, volume.data, { intent: 'none', description: 'calcdx phantom' }));
    await page.setInputFiles('#ct-file', good);
    await page.waitForSelector('#ct-panel[data-loaded]', { state: 'attached', timeout: 30_000 });
    expect(await page.textContent('#ct-status-text')).toBe('phantom.nii loaded');
    expect(await page.locator('#ct-status.alert').count()).toBe(0);
    await page.close();
  }, 120_000);
});
