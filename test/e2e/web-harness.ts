/**
 * The browser tests' harness: the app of web/ built privately (scripts/build-web.mjs), served by
 * the real HTTP server (src/server), driven by playwright-core in Debian's Chromium
 * (/usr/bin/chromium; CI installs it, no browser is ever downloaded).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { ROOT } from '../../src/test-support/cases.js';
import { FIELDS, MORPHOLOGY, getPath } from '../../web/src/pages/assessment/fields.js';
import { fieldId } from '../../web/src/pages/assessment/form.js';
import { buildServer, type FastifyInstance } from '../../src/server/app.js';

export const CHROMIUM = '/usr/bin/chromium';
export const OUT = join(ROOT, 'test-output');
export const SHOTS = join(OUT, 'screenshots');

export interface WebHarness {
  base: string;
  ctx: BrowserContext;
  /** a private temporary folder, removed by close() */
  tmp: string;
  /** what the build printed (sizes) */
  built: string;
  close(): Promise<void>;
}

export async function startWebHarness(): Promise<WebHarness> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`the browser tests need Debian's Chromium at ${CHROMIUM}: install it with "apt-get install -y chromium" (.ci/run does)`);
  }
  const tmp = mkdtempSync(join(tmpdir(), 'calcdx-web-'));
  // a private build, so that nothing else rebuilding dist/web meanwhile can disturb the tests
  const webRoot = join(tmp, 'web');
  const built = execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-web.mjs'), '--out', webRoot], { cwd: ROOT, encoding: 'utf8' }).trim();
  mkdirSync(SHOTS, { recursive: true });
  const profile = mkdtempSync(join(tmpdir(), 'calcdx-chromium-'));
  const server: FastifyInstance = await buildServer({ logger: false, webRoot });
  const base = await server.listen({ port: 0, host: '127.0.0.1' });
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
    viewport: { width: 1280, height: 800 },
    locale: 'en-GB',
    acceptDownloads: true,
  });
  return {
    base, ctx, tmp, built,
    async close() {
      await ctx.close();
      await server.close();
      rmSync(profile, { recursive: true, force: true });
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}

export type AppPage = Page & { errors: string[] };

/**
 * A new page of the app, ready. By default it starts from an empty form: the draft another test
 * left in this profile is removed before the app reads it (`keepDraft` leaves it). Dialogs
 * (the "New case" confirmation) are accepted.
 */
export async function openApp(h: WebHarness, opts: { lang?: 'en' | 'zh'; keepDraft?: boolean } = {}): Promise<AppPage> {
  const page = await h.ctx.newPage() as AppPage;
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error' && !/favicon/.test(m.location().url)) page.errors.push(m.text()); });
  page.on('dialog', (d) => void d.accept());
  if (!opts.keepDraft) await page.addInitScript(() => { try { localStorage.removeItem('calcdx.draft'); } catch { /* none */ } });
  await page.goto(`${h.base}/`);
  await page.waitForSelector('body[data-ready]');
  if (opts.lang) await setLang(page, opts.lang);
  return page;
}

export async function setLang(page: Page, lang: 'en' | 'zh'): Promise<void> {
  if ((await page.inputValue('#lang')) !== lang) {
    await page.selectOption('#lang', lang);
    await page.waitForFunction((l) => document.documentElement.lang.startsWith(l), lang);
  }
}

/** Waits until the page has reassessed after `before` (the body's update counter). */
export async function waitUpdated(page: Page, before: string | null): Promise<void> {
  await page.waitForFunction((b) => document.body.dataset.updates !== b, before);
}

/** Fills the form through its controls as a user would (labels clicked, options chosen, text typed). */
export async function fillCase(page: Page, doc: unknown): Promise<void> {
  await page.click('#clear');
  await page.click('#expand-all');
  for (const f of FIELDS) {
    const v = getPath(doc, f.path);
    if (v === undefined) continue;
    const id = fieldId(f.path);
    switch (f.kind) {
      case 'bool': await page.click(`label[for="${id}-${String(v)}"]`); break;
      case 'enum': case 'int-enum': await page.selectOption(`#${id}`, String(v)); break;
      case 'pattern': for (const m of v as string[]) await page.click(`label[for="${id}-${m}-seen"]`); break;
      case 'pattern-absent': for (const m of v as string[]) await page.click(`label[for="${fieldId(MORPHOLOGY)}-${m}-excluded"]`); break;
      default: await page.fill(`#${id}`, String(v));
    }
  }
}

/** Types the ROI centre of voxel (i, j, k) — in LPS mm, as the fields and calcdx ct take it — and the radius into the CT panel. */
export async function setSphereRoi(page: Page, affine: number[], [i, j, k]: [number, number, number], radiusMm: number): Promise<void> {
  const lps = [0, 1, 2].map((r) => affine[4 * r]! * i + affine[4 * r + 1]! * j + affine[4 * r + 2]! * k + affine[4 * r + 3]!);
  await page.fill('#ct-x', String(lps[0]!)); await page.dispatchEvent('#ct-x', 'change');
  await page.fill('#ct-y', String(lps[1]!)); await page.dispatchEvent('#ct-y', 'change');
  await page.fill('#ct-z', String(lps[2]!)); await page.dispatchEvent('#ct-z', 'change');
  await page.fill('#ct-r', String(radiusMm)); await page.dispatchEvent('#ct-r', 'change');
}
