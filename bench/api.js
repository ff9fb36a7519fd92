// npm run bench (API part): autocannon (in a worker thread) with 50 connections for 10 s on
// POST /api/assess with an example case, against the HTTP server on 127.0.0.1 (loopback only).
// Goals (issue "Web app and HTTP API"): p99 < 10 ms, > 2,000 requests/s.
//
// The server runs as `calcdx serve --port 0 --quiet --workers auto` in a child process (serve-child.js), as it runs in
// use: its event loops and garbage collectors share nothing with the load generator's process.
// CALCDX_BENCH_WORKERS=N runs N server processes instead of one per core.
// CALCDX_BENCH_INPROCESS=1 runs it in this process instead (the former set-up; only there does
// CALCDX_BENCH_NOCACHE=1 turn the server's answer cache off).
//
// Two runs: the same case every time (what a browser re-sending its case does; answered from the
// server's cache of serialised assessments after the first), then a different case every request
// (the example with a unique id: every request is assessed and serialised afresh). The second is
// the one the goals are about. A first run on GET /api/health shows the floor: the p99 of the load
// generator and HTTP on this machine for a route that does no work.
//
// Beside each run: the CPU time (user + system) the server's processes (the primary and its
// workers, from /proc on Linux) and the load generator's spent per request. On a shared machine the
// throughput moves with the other jobs; the CPU per request much less, and the throughput of a
// route bound by the CPU of the two cores follows from it (floor CPU / route CPU, both sides summed).
import autocannon from 'autocannon';
import { readFileSync, readdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { startServeChild } from './serve-child.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const file = process.env.CALCDX_BENCH_CASE ?? join(root, 'examples', 'cases', 'synovial-sarcoma-knee.yaml');
const theCase = parse(readFileSync(file, 'utf8'));
const CONNECTIONS = Number(process.env.CALCDX_BENCH_CONNECTIONS ?? 50);
const DURATION = Number(process.env.CALCDX_BENCH_SECONDS ?? 10);
const IN_PROCESS = Boolean(process.env.CALCDX_BENCH_INPROCESS);
/** server processes (calcdx serve --workers): auto = one per core, as a production start would */
const WORKERS = process.env.CALCDX_BENCH_WORKERS ?? 'auto';
/**
 * Warm-up requests per server process before each run: enough for V8 to have optimised the route's
 * code. A warm-up of a fixed time (2 s before) is a few hundred fresh answers on a loaded machine,
 * and the run that followed measured partly unoptimised code (about 2x the CPU per answer).
 */
const WARMUP_PER_PROCESS = Number(process.env.CALCDX_BENCH_WARMUP ?? 1000);
const processes = IN_PROCESS ? 1 : WORKERS === 'auto' ? cpus().length : Number(WORKERS);

/** Starts the server on 127.0.0.1 and a free port; resolves with its origin and a stop function. */
async function startServer() {
  if (IN_PROCESS) {
    const { buildServer } = await import('../dist/server/app.js');
    const app = await buildServer({ logger: false, ...(process.env.CALCDX_BENCH_NOCACHE ? { assessCacheBytes: 0 } : {}) });
    await app.listen({ port: 0, host: '127.0.0.1' });
    return { origin: `http://127.0.0.1:${app.server.address().port}`, stop: () => app.close(), where: 'in this process' };
  }
  const { origin, pid, stop } = await startServeChild(['--workers', WORKERS]);
  return { origin, pid, stop, where: `in a child process (pid ${pid}, --workers ${WORKERS})` };
}

const TICK_MS = 10; // USER_HZ: /proc counts CPU time in 1/100 s on Linux
/** CPU time (ms, user + system) of a process and its descendants, from /proc; undefined elsewhere. */
function treeCpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    let ms = (Number(f[11]) + Number(f[12])) * TICK_MS; // utime, stime
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      for (const child of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ').filter(Boolean)) ms += treeCpuMs(Number(child)) ?? 0;
    }
    return ms;
  } catch { return undefined; }
}
/** this process's CPU time (ms): the load generator's worker thread and ours */
const ownCpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

const server = await startServer();
const url = `${server.origin}/api/assess?lang=en`;
const base = { url, method: 'POST', headers: { 'content-type': 'application/json' }, connections: CONNECTIONS, workers: 1 };

async function run(name, body, idReplacement, over = {}) {
  const opts = { ...base, body, idReplacement, ...over };
  await autocannon({ ...opts, connections: 4, amount: WARMUP_PER_PROCESS * processes }); // warm-up
  const server0 = server.pid !== undefined ? treeCpuMs(server.pid) : undefined;
  const own0 = ownCpuMs();
  const r = await autocannon({ ...opts, duration: DURATION });
  const server1 = server.pid !== undefined ? treeCpuMs(server.pid) : undefined;
  const n = Math.max(1, r.requests.total);
  r.cpuServerUs = server0 !== undefined && server1 !== undefined ? (1000 * (server1 - server0)) / n : undefined;
  r.cpuLoadUs = (1000 * (ownCpuMs() - own0)) / n;
  const perReq = r.throughput.average / Math.max(1, r.requests.average);
  console.log(`  ${name}:`);
  console.log(`    requests:      ${r.requests.total.toLocaleString('en')} (${r.non2xx} not 2xx, ${r.errors} errors, ${r.timeouts} timeouts), ~${Math.round(perReq / 1024)} KiB each`);
  console.log(`    throughput:    ${Math.round(r.requests.average).toLocaleString('en')} requests/s (goal > 2,000)`);
  console.log(`    latency:       p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms (goal < 10 ms), max ${r.latency.max} ms`);
  if (r.cpuServerUs !== undefined) console.log(`    CPU:           ${Math.round(r.cpuServerUs)} µs per request in the server's processes, ${Math.round(r.cpuLoadUs)} µs in the load generator`);
  return { r, ok: r.requests.average > 2000 && r.latency.p99 < 10 && r.non2xx === 0 && r.errors === 0 };
}

console.log(`calcdx HTTP API benchmark: POST /api/assess (${file.split('/').pop()}), ${CONNECTIONS} connections, ${DURATION} s each, node ${process.version}, ${cpus().length} CPUs, server on 127.0.0.1 ${server.where}`);
try {
  // what this machine and load generator can do at all: the same connections on a route that does
  // nothing (GET /api/health); no answer of /api/assess can have a lower p99 than this
  const floor = (await run('floor: GET /api/health (no work; the load generator and HTTP alone)', undefined, false, { url: `${server.origin}/api/health`, method: 'GET', headers: {} })).r;
  const same = await run('the same case every request (cached answer)', JSON.stringify(theCase), false);
  const fresh = await run('a different case every request (assessed afresh)', JSON.stringify({ ...theCase, id: 'bench-[<id>]' }), true);
  // issue 15: side by side with the floor of the same run
  const ratio = (x) => ({ rps: x.r.requests.average / floor.requests.average, p99: x.r.latency.p99 / Math.max(1, floor.latency.p99) });
  for (const [name, x] of [['same case', same], ['different cases', fresh]]) {
    const q = ratio(x);
    console.log(`  ${name} vs the floor: throughput ${(100 * q.rps).toFixed(0)} % of the floor's, p99 ${q.p99.toFixed(2)}x the floor's`);
    if (x.r.cpuServerUs !== undefined && floor.cpuServerUs !== undefined) {
      const cpu = (floor.cpuServerUs + floor.cpuLoadUs) / (x.r.cpuServerUs + x.r.cpuLoadUs);
      console.log(`    CPU per request: server ${(x.r.cpuServerUs / Math.max(1, floor.cpuServerUs)).toFixed(2)}x the floor's; with the load generator's, CPU-bound throughput ${(100 * cpu).toFixed(0)} % of the floor's`);
    }
  }
  const q = ratio(fresh);
  const relative = q.rps >= 0.5 && q.p99 <= 2;
  console.log(`same case: ${same.ok ? 'goals met' : 'GOALS NOT MET'}; different cases: ${fresh.ok ? 'goals met' : 'GOALS NOT MET'}; different cases >= 50 % of the floor's throughput and p99 <= 2x the floor's: ${relative ? 'goal met' : 'GOAL NOT MET'}`);
} finally {
  await server.stop();
}
