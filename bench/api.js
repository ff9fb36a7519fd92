// npm run bench (API part): the HTTP server in this process on 127.0.0.1 (loopback only), and
// autocannon (in a worker thread) with 50 connections for 10 s on POST /api/assess with an
// example case. Goals (issue "Web app and HTTP API"): p99 < 10 ms, > 2,000 requests/s.
// Two runs: the same case every time (what a browser re-sending its case does; answered from the
// server's cache of serialised assessments after the first), then a different case every request
// (the example with a unique id: every request is assessed and serialised afresh).
import autocannon from 'autocannon';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { buildServer } from '../dist/server/app.js';

const here = dirname(fileURLToPath(import.meta.url));
const file = process.env.CALCDX_BENCH_CASE ?? join(resolve(here, '..'), 'examples', 'cases', 'synovial-sarcoma-knee.yaml');
const theCase = parse(readFileSync(file, 'utf8'));
const CONNECTIONS = Number(process.env.CALCDX_BENCH_CONNECTIONS ?? 50);
const DURATION = Number(process.env.CALCDX_BENCH_SECONDS ?? 10);

const app = await buildServer({ logger: false, ...(process.env.CALCDX_BENCH_NOCACHE ? { assessCacheBytes: 0 } : {}) });
await app.listen({ port: 0, host: '127.0.0.1' });
const url = `http://127.0.0.1:${app.server.address().port}/api/assess?lang=en`;
const base = { url, method: 'POST', headers: { 'content-type': 'application/json' }, connections: CONNECTIONS, workers: 1 };

async function run(name, body, idReplacement) {
  const opts = { ...base, body, idReplacement };
  await autocannon({ ...opts, connections: 4, duration: 2 }); // warm-up
  const r = await autocannon({ ...opts, duration: DURATION });
  const perReq = r.throughput.average / Math.max(1, r.requests.average);
  console.log(`  ${name}:`);
  console.log(`    requests:      ${r.requests.total.toLocaleString('en')} (${r.non2xx} not 2xx, ${r.errors} errors, ${r.timeouts} timeouts), ~${Math.round(perReq / 1024)} KiB each`);
  console.log(`    throughput:    ${Math.round(r.requests.average).toLocaleString('en')} requests/s (goal > 2,000)`);
  console.log(`    latency:       p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms (goal < 10 ms), max ${r.latency.max} ms`);
  return r.requests.average > 2000 && r.latency.p99 < 10 && r.non2xx === 0 && r.errors === 0;
}

console.log(`calcdx HTTP API benchmark: POST /api/assess (${file.split('/').pop()}), ${CONNECTIONS} connections, ${DURATION} s each, node ${process.version}, 127.0.0.1`);
const same = await run('the same case every request (cached answer)', JSON.stringify(theCase), false);
const fresh = await run('a different case every request (assessed afresh)', JSON.stringify({ ...theCase, id: 'bench-[<id>]' }), true);
await app.close();
console.log(`same case: ${same ? 'goals met' : 'GOALS NOT MET'}; different cases: ${fresh ? 'goals met' : 'GOALS NOT MET'}`);
