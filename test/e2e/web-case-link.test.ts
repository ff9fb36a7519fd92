/**
 * The "Open in calcdx" link of a CDS Hooks card, in Debian's Chromium: the web app opened at
 * /#case=<base64url JSON> shows that case in its form (and the same leading diagnosis as the card),
 * then removes the case from the address bar. A link that is not a valid case is ignored.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseFile } from '../../src/core/case-format/schema.js';
import { caseLinkFragment } from '../../src/fhir/cds-cards.js';
import { buildServer, type FastifyInstance } from '../../src/server/app.js';
import { ROOT } from '../../src/test-support/cases.js';
import { fieldId } from '../../web/src/pages/assessment/form.js';

const CHROMIUM = '/usr/bin/chromium';
let server: FastifyInstance;
let base: string;
let ctx: BrowserContext;
let tmp: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`the browser tests need Debian's Chromium at ${CHROMIUM}`);
  tmp = mkdtempSync(join(tmpdir(), 'calcdx-web-link-'));
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-web.mjs'), '--out', join(tmp, 'web')], { cwd: ROOT, encoding: 'utf8' });
  server = await buildServer({ logger: false, webRoot: join(tmp, 'web') });
  base = await server.listen({ port: 0, host: '127.0.0.1' });
  ctx = await chromium.launchPersistentContext(join(tmp, 'profile'), {
    executablePath: CHROMIUM, headless: true, locale: 'en-GB',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
}, 120_000);
afterAll(async () => {
  await ctx?.close();
  await server?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('web app: #case= link', () => {
  it('fills the form from the link and removes the case from the address bar', async () => {
    const c = parse(readFileSync(join(ROOT, 'examples/cases/synovial-sarcoma-knee.yaml'), 'utf8')) as CaseFile;
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${base}/#${caseLinkFragment(c)}`);
    await page.waitForSelector('body[data-ready]');
    expect(await page.inputValue(`#${fieldId('patient.age')}`)).toBe(String(c.patient!.age));
    expect(await page.inputValue(`#${fieldId('lesion.region')}`)).toBe(c.lesion!.region);
    expect(await page.inputValue(`#${fieldId('lesion.sizeCm')}`)).toBe(String(c.lesion!.sizeCm));
    expect(new URL(page.url()).hash).toBe('');
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('ignores a link that is not a valid case', async () => {
    const page = await ctx.newPage();
    // no draft kept from the test before (a draft would be restored when the link is ignored)
    await page.goto(`${base}/`);
    await page.evaluate(() => localStorage.clear());
    await page.goto(`${base}/#case=${Buffer.from('{"formatVersion":1,"patient":{"age":-4}}').toString('base64url')}`);
    await page.reload();
    await page.waitForSelector('body[data-ready]');
    expect(await page.inputValue(`#${fieldId('patient.age')}`)).toBe('');
    await page.close();
  }, 60_000);
});
