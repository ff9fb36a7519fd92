// npm run bench (page part): the browser app's first load on loopback, measured in Debian's
// Chromium driven by playwright-core (no browser download), and the size of the bundle.
// Goal (issue "Web app and HTTP API"): the form is usable in < 1.5 s.
//
// The server runs as `calcdx serve --port 0 --quiet` in a child process. Each cold run is a fresh
// browser profile (empty HTTP cache); warm runs reload in the same profile. "Usable" is the page's
// own performance mark `calcdx-ready` (set when the form and the first assessment are on screen),
// measured from navigation start; the wall time from `goto` to that mark is reported too.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { startServeChild } from './serve-child.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const CHROMIUM = process.env.CALCDX_CHROMIUM ?? '/usr/bin/chromium';
const RUNS = Number(process.env.CALCDX_BENCH_PAGE_RUNS ?? 5);
const webDir = join(root, 'dist', 'web');

if (!existsSync(join(webDir, 'index.html'))) {
  console.error('calcdx page benchmark: dist/web is not built (npm run build:web)');
  process.exit(1);
}

// the bundle: every file of dist/web, raw and gzip
const files = readdirSync(webDir, { recursive: true }).map(String).filter((f) => statSync(join(webDir, f)).isFile());
const sizes = files.map((f) => { const b = readFileSync(join(webDir, f)); return { f, raw: b.length, gz: gzipSync(b).length }; })
  .sort((a, b) => b.raw - a.raw);
const kib = (n) => `${Math.round(n / 1024).toLocaleString('en')} KiB`;
console.log('calcdx page benchmark');
console.log('  bundle (dist/web):');
for (const s of sizes.filter((x) => x.raw >= 1024)) console.log(`    ${s.f.padEnd(28)} ${kib(s.raw).padStart(10)}  (gzip ${kib(s.gz)})`);
const total = sizes.reduce((a, s) => ({ raw: a.raw + s.raw, gz: a.gz + s.gz }), { raw: 0, gz: 0 });
console.log(`    ${'all files'.padEnd(28)} ${kib(total.raw).padStart(10)}  (gzip ${kib(total.gz)})`);

if (!existsSync(CHROMIUM)) {
  console.log(`  first load: skipped — no Chromium at ${CHROMIUM} (apt-get install -y chromium)`);
  process.exit(0);
}

const { origin, stop } = await startServeChild();

const args = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'];
async function load(ctx) {
  const page = await ctx.newPage();
  const t0 = performance.now();
  await page.goto(`${origin}/`);
  await page.waitForSelector('body[data-ready]');
  const wall = performance.now() - t0;
  const ready = await page.evaluate(() => performance.getEntriesByName('calcdx-ready')[0]?.startTime ?? -1);
  await page.close();
  return { ready, wall };
}
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const ms = (x) => `${Math.round(x)} ms`;

try {
  const cold = [];
  let warm = [];
  for (let i = 0; i < RUNS; i++) {
    const profile = mkdtempSync(join(tmpdir(), 'calcdx-bench-chromium-'));
    const ctx = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args, viewport: { width: 1280, height: 800 } });
    try {
      cold.push(await load(ctx));
      if (i === 0) for (let j = 0; j < RUNS; j++) warm.push(await load(ctx));
    } finally {
      await ctx.close();
      rmSync(profile, { recursive: true, force: true });
    }
  }
  warm = warm.slice(1);
  const line = (name, rs) => console.log(`  ${name}: form usable at ${ms(median(rs.map((r) => r.ready)))} median (${ms(Math.min(...rs.map((r) => r.ready)))}-${ms(Math.max(...rs.map((r) => r.ready)))}), wall ${ms(median(rs.map((r) => r.wall)))} median`);
  line(`first load, empty cache (${cold.length} runs)`, cold);
  line(`reload, cached (${warm.length} runs)`, warm);
  const met = median(cold.map((r) => r.ready)) < 1500;
  console.log(`page: ${met ? 'goal met' : 'GOAL NOT MET'} (form usable < 1.5 s on a cold first load)`);
} finally {
  await stop();
}
