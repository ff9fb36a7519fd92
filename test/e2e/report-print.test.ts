/**
 * The clinician report as it is printed for the chart: the HTML report printed to A4 PDF by
 * Debian's Chromium (playwright-core, /usr/bin/chromium; no browser is downloaded), read back
 * with poppler's pdftotext: the summary fits on page 1 and the appendix starts on page 2. Page
 * images (pdftoppm) go to test-output/screenshots.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { chromium, type Browser } from 'playwright-core';
import type { CaseFile } from '../../src/core/case-format/schema.js';
import { assess } from '../../src/core/engine/assess.js';
import { t, type Lang } from '../../src/i18n/index.js';
import { loadKnowledgeBase } from '../../src/io/kb-files.js';
import { buildClinicianReport } from '../../src/report/build.js';
import { renderHtml } from '../../src/report/render-html.js';
import { ROOT } from '../../src/test-support/cases.js';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(ROOT, 'test-output', 'screenshots');
const kb = loadKnowledgeBase();
let browser: Browser;
let tmp: string;

function tool(name: string): void {
  try { execFileSync(name, ['-v'], { stdio: 'ignore' }); } catch {
    throw new Error(`the print test needs poppler's ${name}: install it with "apt-get install -y poppler-utils" (.ci/run does)`);
  }
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`the print test needs Debian's Chromium at ${CHROMIUM}: install it with "apt-get install -y chromium" (.ci/run does)`);
  tool('pdftotext');
  tool('pdftoppm');
  mkdirSync(SHOTS, { recursive: true });
  tmp = mkdtempSync(join(tmpdir(), 'calcdx-print-'));
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'] });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const fixture = (p: string): CaseFile => parse(readFileSync(join(ROOT, p), 'utf8')) as CaseFile;

const CASES: Array<{ name: string; file: string; lang: Lang }> = [
  { name: 'issue14-case1-en', file: 'test/fixtures/issue14/case1-trauma-zonal.yaml', lang: 'en' },
  { name: 'issue14-case2-zh', file: 'test/fixtures/issue14/case2-no-trauma-no-zonal.yaml', lang: 'zh' },
  // many findings, urgent referral: the longest summary of the examples
  { name: 'synovial-sarcoma-en', file: 'examples/cases/synovial-sarcoma-knee.yaml', lang: 'en' },
  { name: 'full-case-zh', file: 'test/fixtures/full-case.yaml', lang: 'zh' },
];

async function printPdf(html: string, out: string): Promise<void> {
  const page = await browser.newPage();
  await page.setContent(html, { waitUntil: 'load' });
  await page.emulateMedia({ media: 'print' });
  writeFileSync(out, await page.pdf({ format: 'A4', printBackground: true, preferCSSPageSize: true }));
  await page.close();
}

/** the text of each page of a PDF (pdftotext separates pages with a form feed) */
const pages = (pdf: string): string[] => execFileSync('pdftotext', ['-layout', pdf, '-'], { encoding: 'utf8' }).split('\f').filter((p, i, all) => i < all.length - 1 || p.trim());
const squash = (s: string): string => s.replace(/\s+/g, '');

describe('the printed clinician report: a one-page summary, then the appendix', () => {
  for (const c of CASES) {
    it(`${c.name}: the summary ends on page 1 and the appendix starts on page 2`, async () => {
      const a = assess(kb, fixture(c.file), { date: '2026-12-03' });
      const html = renderHtml(buildClinicianReport(kb, a, c.lang));
      const pdf = join(tmp, `${c.name}.pdf`);
      await printPdf(html, pdf);
      const ps = pages(pdf);
      expect(ps.length).toBeGreaterThanOrEqual(2);
      const p1 = squash(ps[0]!);
      // what page 1 must carry, down to the last paragraph of the summary
      expect(p1).toContain(squash(t(c.lang, 'report.summary')));
      expect(p1).toContain(squash(t(c.lang, 'report.nextStep')));
      expect(p1).toContain('2026-12-03');
      expect(p1).toContain(squash(kb.plans.disclaimer[c.lang]).slice(-20));
      expect(p1).not.toContain(squash(t(c.lang, 'report.appendix')));
      expect(squash(ps[1]!)).toContain(squash(t(c.lang, 'report.appendix')));
      const d = a.malignancy.decision;
      if (d.reimageBy) expect(p1).toContain(d.reimageBy);
      // page images of the summary for people to look at
      execFileSync('pdftoppm', ['-png', '-r', '70', '-f', '1', '-l', '2', pdf, join(SHOTS, `report-${c.name}`)]);
      writeFileSync(join(SHOTS, `report-${c.name}.pdf`), readFileSync(pdf));
    }, 60_000);
  }
});
