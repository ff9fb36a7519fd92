#!/usr/bin/env node
/**
 * Build step (after tsc and build-kb): bundles the command line (dist/cli/main.js and what it
 * imports, statically or on demand) into one classic script, dist/cli-bundle/main.script.js, and
 * writes V8's code cache for it, dist/cli-bundle/main.script.cache. bin/calcdx.js runs the script
 * through node:vm with that cache, so a command starts without parsing and compiling its code
 * (issue 15). Node 20 has no compile cache for ES modules (module.enableCompileCache is Node 22),
 * hence a classic script: esbuild's CommonJS output wrapped in a function, as Node wraps a module.
 *
 * The cache is made here by running, in this process, the commands whose start-up matters (assess
 * in JSON and as a text report, kb list, --version) and then asking V8 for the code of every function
 * compiled so far. A command whose functions are not in it compiles them as usual. V8 checks the
 * cache against its own version and flags and the script's length, and refuses it on a mismatch
 * (another Node, or node run with other V8 flags): the script then compiles from source, which is
 * slower but the same program. The cache is removed with the old bundle before a new one is made.
 *
 * Only pure-JavaScript libraries are bundled; the others stay require()s of node_modules (native or
 * WebAssembly code, files they read beside themselves, the server's plugins). The bundle sits at the
 * same depth as dist/cli, so paths computed from import.meta.url (data/kb, examples, dist/web) hold.
 */
import { build } from 'esbuild';
import { readFileSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'cli-bundle');
const script = join(out, 'main.script.js');
const cache = join(out, 'main.script.cache');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const BUNDLED = new Set(['commander', 'yaml', 'zod', 'i18next']);
const external = Object.keys(pkg.dependencies).filter((d) => !BUNDLED.has(d)).flatMap((d) => [d, `${d}/*`]);

/**
 * zod's error messages in 40 languages are about half of its code, and z.locales holds them all;
 * calcdx uses two (src/server/input.ts: z.locales.en, z.locales.zhCN), so the bundle's z.locales
 * has those two only (another one is undefined there: add it here first).
 */
const zodLocales = {
  name: 'zod-locales',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (a) => (/[\\/]node_modules[\\/]zod[\\/]/.test(a.importer) ? { path: 'zod-locales', namespace: 'calcdx' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'calcdx' }, () => ({
      contents: "export { default as en } from 'zod/v4/locales/en.js'; export { default as zhCN } from 'zod/v4/locales/zh-CN.js';",
      resolveDir: root,
    }));
  },
};

/**
 * commander requires node:child_process at load, for subcommands that are separate executables,
 * which calcdx has none of; loading it (with net, streams, dgram) is a few ms of every command.
 * In the bundle it is required when first used.
 */
const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/]commander[\\/]lib[\\/]command\.js$/ }, (a) => {
      const src = readFileSync(a.path, 'utf8');
      const from = "const childProcess = require('node:child_process');";
      if (!src.includes(from)) throw new Error(`build-cli: ${a.path} no longer has ${from}`);
      return { contents: src.replace(from, "const childProcess = { spawn: (...args) => require('node:child_process').spawn(...args) };"), loader: 'js' };
    });
  },
};

rmSync(out, { recursive: true, force: true });
await build({
  entryPoints: [join(root, 'dist', 'cli', 'main.js')],
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  outfile: script,
  external,
  // import.meta.url of the bundled modules is the bundle's own URL (same depth as dist/cli)
  define: { 'import.meta.url': '__calcdxUrl' },
  // the script is a function expression, called by bin/calcdx.js (and below) as Node calls a module
  banner: { js: "(function (exports, require, module, __filename, __dirname) { const __calcdxUrl = require('node:url').pathToFileURL(__filename).href;" },
  footer: { js: '})' },
  // import() of what stays outside (node_modules, Node's own modules) as require(): a script run
  // by node:vm can import() only with an experimental option, which its code cache does not keep
  supported: { 'dynamic-import': false },
  // without indentation and comments: a smaller script to read at each command (1.9 → 1.4 MB);
  // names stay as they are (error stacks and .name keep them)
  minifyWhitespace: true,
  logLevel: 'warning',
  plugins: [zodLocales, lazyChildProcess],
});
// ASCII only (esbuild leaves some characters of comments and regular expressions as they are), so
// that bin/calcdx.js reads the script as Latin-1: a plain copy into a one-byte string, no decoding
const text = readFileSync(script, 'utf8').replace(/[^\0-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
writeFileSync(script, text);

// the code cache: run the commands in this process (their output discarded), then serialize
const compiled = new vm.Script(text, { filename: script });
const mod = { exports: {} };
compiled.runInThisContext()(mod.exports, createRequire(script), mod, script, out);
const kase = join(root, 'examples', 'cases', 'synovial-sarcoma-knee.yaml');
const runs = [['assess', kase, '--format', 'json'], ['assess', kase], ['kb', 'list'], ['--version']];
const write = process.stdout.write;
let codes;
process.stdout.write = () => true;
try {
  codes = [];
  for (const argv of runs) codes.push(await mod.exports.run(argv));
} finally { process.stdout.write = write; }
if (codes.some((c) => c !== 0)) throw new Error(`build-cli: a command run for the code cache failed (exit codes ${codes.join(', ')})`);
writeFileSync(`${cache}.tmp`, compiled.createCachedData());
renameSync(`${cache}.tmp`, cache);
