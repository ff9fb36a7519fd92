#!/usr/bin/env node
/**
 * Builds the browser app into dist/web: index.html, app.js (one ESM bundle: the app, the pure
 * engine of src/core and the knowledge base of data/kb embedded as JSON; pages loaded lazily in
 * chunks/), app.css (with the packages' stylesheets it imports) and favicon.svg. No inline
 * script (CSP script-src 'self'). Prints the bundle sizes.
 *   node scripts/build-web.mjs [--dev] [--analyze] [--out DIR]   (default DIR: dist/web)
 */
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outArg = process.argv.indexOf('--out');
const out = outArg > 0 && process.argv[outArg + 1] ? resolve(process.argv[outArg + 1]) : join(root, 'dist', 'web');
const kbDir = join(root, 'data', 'kb');
const dev = process.argv.includes('--dev');

/** The raw knowledge-base documents, read by the same code as the CLI (the seed map is not needed in the page). */
async function rawKnowledgeBase() {
  let io;
  try { io = await import('../dist/io/kb-files.js'); } catch {
    console.error('build-web: run `npm run build` first (the knowledge base is read through dist/io/kb-files.js)');
    process.exit(1);
  }
  const { seedMap: _unused, ...raw } = io.readRawKnowledgeBase(kbDir);
  return raw;
}
const rawKb = JSON.stringify(await rawKnowledgeBase());

const kbPlugin = {
  name: 'calcdx-kb',
  setup(b) {
    b.onResolve({ filter: /^virtual:calcdx-kb$/ }, () => ({ path: 'kb', namespace: 'calcdx-kb' }));
    b.onLoad({ filter: /.*/, namespace: 'calcdx-kb' }, () => ({
      contents: rawKb, loader: 'json', watchFiles: [],
    }));
  },
};

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const t0 = performance.now();
const result = await build({
  entryPoints: { app: join(root, 'web', 'src', 'main.tsx') },
  outdir: out,
  bundle: true,
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  format: 'esm',
  platform: 'browser',
  target: ['es2022', 'chrome110', 'firefox115', 'safari16'],
  minify: !dev,
  sourcemap: dev ? 'inline' : false,
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
  plugins: [kbPlugin],
  define: { 'process.env.NODE_ENV': '"production"' },
});
copyFileSync(join(root, 'web', 'index.html'), join(out, 'index.html'));
// app.css with the stylesheets it imports from packages (uPlot's) bundled in: one file, style-src 'self'
await build({
  entryPoints: [join(root, 'web', 'app.css')], outfile: join(out, 'app.css'), bundle: true,
  minify: !dev, legalComments: 'none', logLevel: 'warning', target: ['chrome110', 'firefox115', 'safari16'],
});
copyFileSync(join(root, 'web', 'favicon.svg'), join(out, 'favicon.svg'));
const ms = performance.now() - t0;
const size = (f) => {
  const buf = readFileSync(join(out, f));
  return `${f} ${(statSync(join(out, f)).size / 1024).toFixed(0)} KiB (gzip ${(gzipSync(buf).length / 1024).toFixed(0)} KiB)`;
};
console.log(`${out === join(root, "dist", "web") ? "dist/web" : out} built in ${ms.toFixed(0)} ms: ${['app.js', 'app.css', 'index.html'].map(size).join(', ')}`);
if (process.argv.includes("--analyze")) {
  const inputs = result.metafile.outputs[Object.keys(result.metafile.outputs).find((k) => k.endsWith("app.js"))].inputs;
  const byPkg = {};
  for (const [k, v] of Object.entries(inputs)) { const m = k.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/); const key = m ? m[1] : k.startsWith("calcdx-kb") ? "knowledge base" : k.split("/").slice(0, 2).join("/"); byPkg[key] = (byPkg[key] ?? 0) + v.bytesInOutput; }
  for (const [k, v] of Object.entries(byPkg).sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`  ${(v / 1024).toFixed(0).padStart(6)} KiB  ${k}`);
}
