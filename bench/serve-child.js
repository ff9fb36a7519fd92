// The benchmarks' server: `calcdx serve --host 127.0.0.1 --port 0 --quiet` in a child process, as it
// runs in use (its event loop and garbage collector share nothing with the load generator's).
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { clearTimeout, setTimeout } from 'node:timers';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** extra node options for the server (and its --workers, which inherit them), e.g. "--cpu-prof --cpu-prof-dir=prof" */
const NODE_ARGS = (process.env.CALCDX_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);

/**
 * Starts the server with the extra `calcdx serve` arguments; resolves, once it prints its URL, with
 * the origin, the child's pid and a stop function (SIGTERM, resolves when it has exited).
 */
export async function startServeChild(extraArgs = []) {
  const child = spawn(process.execPath, [...NODE_ARGS, join(root, 'bin', 'calcdx.js'), 'serve', '--host', '127.0.0.1', '--port', '0', '--quiet', '--lang', 'en', '--no-registry', ...extraArgs], {
    cwd: root, stdio: ['ignore', 'pipe', 'inherit'],
  });
  const origin = await new Promise((resolveUrl, reject) => {
    let out = '';
    const timer = setTimeout(() => { child.kill(); reject(new Error(`calcdx serve did not start: ${out}`)); }, 30_000);
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`calcdx serve exited (${code}): ${out}`)); });
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      out += chunk;
      const m = /http:\/\/127\.0\.0\.1:\d+/.exec(out);
      if (m) { clearTimeout(timer); child.removeAllListeners('exit'); resolveUrl(m[0]); }
    });
  });
  const stop = () => new Promise((done) => { child.once('exit', () => done()); child.kill('SIGTERM'); });
  return { origin, pid: child.pid, stop };
}
