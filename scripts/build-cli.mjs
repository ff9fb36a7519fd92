#!/usr/bin/env node
/**
 * Build step (after tsc): bundles the command line (dist/cli/main.js and what it imports, statically
 * or on demand) into dist/cli-bundle/ with esbuild: one module per command's code instead of about
 * 200 small files (zod alone is 95, most of them the error messages of 40 languages calcdx never
 * loads). Node then opens, resolves and compiles a few files at start-up instead (issue 15:
 * `calcdx assess` 0.23 -> 0.19 s of CPU). bin/calcdx.js runs the bundle.
 *
 * Only pure-JavaScript libraries are bundled; the others stay imports from node_modules (native or
 * WebAssembly code, files they read beside themselves, the server's plugins). The bundle sits at the
 * same depth as dist/cli, so paths computed from import.meta.url (data/kb, examples, dist/web) hold.
 */
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'cli-bundle');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const BUNDLED = new Set(['commander', 'yaml', 'zod', 'i18next']);
const external = Object.keys(pkg.dependencies).filter((d) => !BUNDLED.has(d)).flatMap((d) => [d, `${d}/*`]);

rmSync(out, { recursive: true, force: true });
await build({
  entryPoints: { main: join(root, 'dist', 'cli', 'main.js') },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outdir: out,
  chunkNames: 'chunk-[hash]',
  external,
  // CommonJS libraries inside the bundle call require() for Node's own modules
  banner: { js: "import { createRequire as __calcdxRequire } from 'node:module'; const require = __calcdxRequire(import.meta.url);" },
  logLevel: 'warning',
});
