/**
 * The LineChart component (web/src/components/line-chart.tsx, uPlot) in Debian's Chromium, served
 * by the real server (its CSP headers: no inline script, style-src 'self'): a lesion's size and
 * calcified volume over five visits are drawn as two lines on two axes, named in the legend and
 * listed in the data table day by day; no series with a valid point shows the empty text.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer, type FastifyInstance } from '../../src/server/app.js';
import { ROOT } from '../../src/test-support/cases.js';
import type { LineChartProps } from '../../web/src/components/line-chart.js';

const CHROMIUM = '/usr/bin/chromium';
let server: FastifyInstance;
let base: string;
let ctx: BrowserContext;
let tmp: string;

/** the pages: index (the chart) and empty */
const PAGES: Record<string, LineChartProps> = {
  // a lesion followed for two years: size at every visit, calcified volume from the CT visits only
  index: {
    title: 'Lesion over time', dateLabel: 'Date', emptyText: 'No measurements yet',
    series: [
      { label: 'Size', unit: 'cm', points: [{ date: '2025-01-10', value: 4.2 }, { date: '2025-04-14', value: 4.3 }, { date: '2025-10-20', value: 4.1 }, { date: '2026-04-22', value: 4.6 }, { date: '2026-12-01', value: 5.4 }] },
      { label: 'Calcified volume', unit: 'mL', points: [{ date: '2025-01-10', value: 1.9 }, { date: '2025-10-20', value: 2.0 }, { date: '2026-12-01', value: 3.1 }] },
    ],
  },
  empty: {
    title: 'Lesion over time', dateLabel: 'Date', emptyText: 'No measurements yet',
    series: [{ label: 'Size', unit: 'cm', points: [{ date: '2025-02-30', value: 4 }] }],
  },
};

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`the browser tests need Debian's Chromium at ${CHROMIUM}`);
  tmp = mkdtempSync(join(tmpdir(), 'calcdx-chart-'));
  const web = join(tmp, 'web');
  await build({ entryPoints: [join(ROOT, 'test/e2e/fixtures/line-chart-page.ts')], outfile: join(web, 'chart.js'), bundle: true, format: 'esm', platform: 'browser', logLevel: 'warning' });
  await build({ entryPoints: [join(ROOT, 'web/app.css')], outfile: join(web, 'app.css'), bundle: true, logLevel: 'warning' });
  for (const [name, props] of Object.entries(PAGES)) writePage(web, name, props);
  server = await buildServer({ logger: false, webRoot: web });
  base = await server.listen({ port: 0, host: '127.0.0.1' });
  ctx = await chromium.launchPersistentContext(join(tmp, 'profile'), {
    executablePath: CHROMIUM, headless: true, locale: 'en-GB', viewport: { width: 900, height: 600 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
}, 120_000);
afterAll(async () => {
  await ctx?.close();
  await server?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const SIZE_COLOUR = [0x1f, 0x5f, 0xa8];
const VOLUME_COLOUR = [0xc2, 0x54, 0x1b];

/** a page of the chart with these props, written next to the bundle (before the server starts: it serves a folder with an index.html) */
function writePage(web: string, name: string, props: LineChartProps): void {
  const json = JSON.stringify(props).replace(/</g, '\\u003c');
  writeFileSync(join(web, `${name}.html`), `<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="stylesheet" href="app.css"><script type="module" src="chart.js"></script></head><body><script type="application/json" id="props">${json}</script><div id="app"></div></body></html>`);
}

/** a page of the chart opened, its errors (CSP reports included) collected */
async function open(name: string): Promise<Page & { errors: string[] }> {
  const page = await ctx.newPage() as Page & { errors: string[] };
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error' && !/favicon/.test(m.location().url)) page.errors.push(m.text()); });
  await page.goto(`${base}/${name}.html`);
  await page.waitForSelector('body[data-ready]');
  return page;
}

/** how many canvas pixels are (nearly) this colour */
const pixels = (page: Page, rgb: number[]) => page.evaluate((c) => {
  const cv = document.querySelector<HTMLCanvasElement>('.uplot canvas')!;
  const d = cv.getContext('2d')!.getImageData(0, 0, cv.width, cv.height).data;
  let n = 0;
  for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i]! - c[0]!) < 24 && Math.abs(d[i + 1]! - c[1]!) < 24 && Math.abs(d[i + 2]! - c[2]!) < 24 && d[i + 3]! > 200) n++;
  return n;
}, rgb);

describe('LineChart in the browser', () => {
  it('draws size and calcified volume over the visits, names them and lists the values day by day', async () => {
    const page = await open('index');
    expect(await page.locator('.uplot canvas').count()).toBe(1);
    const box = await page.locator('.uplot canvas').boundingBox();
    expect(box!.width).toBeGreaterThan(300);
    // both lines are drawn (their colours on the canvas), and each is more than a dot
    expect(await pixels(page, SIZE_COLOUR)).toBeGreaterThan(200);
    expect(await pixels(page, VOLUME_COLOUR)).toBeGreaterThan(200);
    const legend = await page.locator('.u-legend').innerText();
    expect(legend).toContain('Size (cm)');
    expect(legend).toContain('Calcified volume (mL)');
    expect(await page.locator('.u-title').innerText()).toBe('Lesion over time');
    const rows = await page.locator('table.line-chart-data tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)));
    expect(rows).toEqual([
      ['2025-01-10', '4.2', '1.9'], ['2025-04-14', '4.3', '—'], ['2025-10-20', '4.1', '2'], ['2026-04-22', '4.6', '—'], ['2026-12-01', '5.4', '3.1'],
    ]);
    expect(await page.getAttribute('.line-chart-canvas', 'aria-label')).toBe('Lesion over time');
    expect(page.errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('shows the empty text, and no canvas, when no series has a valid point', async () => {
    const page = await open('empty');
    expect(await page.locator('.line-chart-empty').innerText()).toBe('No measurements yet');
    expect(await page.locator('canvas').count()).toBe(0);
    expect(page.errors).toEqual([]);
    await page.close();
  }, 60_000);
});
