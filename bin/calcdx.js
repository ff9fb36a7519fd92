#!/usr/bin/env node
// The command line as bundled by the build (scripts/build-cli.mjs), else as tsc wrote it.
// The bundle is a classic script run with the V8 code cache the build wrote beside it, so that its
// code is not parsed and compiled again at each command (issue 15); without a usable cache (another
// Node version, other V8 flags) V8 compiles it from source, the same program.
import { Buffer } from 'node:buffer';
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
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
// the script and its cache are read into one buffer, the cache over the script's bytes once they
// are a string: fewer fresh pages of memory, which cost more than the reading itself (issue 15)
let fd;
try { fd = openSync(file, 'r'); } catch (e) { if (e?.code !== 'ENOENT') throw e; }
if (fd === undefined) {
  await import('../dist/cli/main.js');
} else {
  let cfd;
  try { cfd = openSync(file.replace(/\.js$/, '.cache'), 'r'); } catch { /* no cache: compile from source */ }
  const size = fstatSync(fd).size;
  const csize = cfd === undefined ? 0 : fstatSync(cfd).size;
  const buf = Buffer.allocUnsafeSlow(Math.max(size, csize));
  const source = buf.toString('latin1', 0, readAll(fd, buf, size)); // the build writes it in ASCII: a plain copy
  const cachedData = cfd === undefined ? undefined : buf.subarray(0, readAll(cfd, buf, csize));
  const script = new vm.Script(source, { filename: file, cachedData });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file));
}

function readAll(f, buf, size) {
  let n = 0;
  for (let r; n < size && (r = readSync(f, buf, n, size - n, n)) > 0;) n += r;
  closeSync(f);
  return n;
}
