#!/usr/bin/env node
// The command line as bundled by the build (scripts/build-cli.mjs), else as tsc wrote it.
// The bundle is a classic script run with the V8 code cache the build wrote beside it, so that its
// code is not parsed and compiled again at each command (issue 15); without a usable cache (another
// Node version, other V8 flags) V8 compiles it from source, the same program.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

// `calcdx --version` alone answers from package.json without loading the program (issue 15: ≤ 0.1 s);
// a test keeps it equal to what the program itself prints (src/report/version.ts).
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`${JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', 'package.json'), 'utf8')).version}\n`);
  process.exit(0);
}

const file = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli-bundle', 'main.script.js');
let source;
try {
  source = readFileSync(file, 'latin1'); // the build writes it in ASCII
} catch (e) {
  if (e?.code !== 'ENOENT') throw e;
}
if (source === undefined) {
  await import('../dist/cli/main.js');
} else {
  let cachedData;
  try { cachedData = readFileSync(file.replace(/\.js$/, '.cache')); } catch { /* no cache: compile from source */ }
  const script = new vm.Script(source, { filename: file, cachedData });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file));
}
