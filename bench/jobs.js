// npm run bench (CT job queue part): `calcdx serve --db` and 1 or 2 `calcdx worker` processes on a
// fresh PostgreSQL database (CALCDX_BENCH_PG, else CALCDX_TEST_PG, else postgres://postgres@127.0.0.1:5432/postgres;
// skipped when it cannot be reached). Measures:
//   - jobs/minute with 1 and with 2 workers: CALCDX_BENCH_JOBS jobs (default 12) queued at once, from
//     the first submission to the last completion;
//   - the queue's overhead per job: the same volume measured one job at a time through the queue
//     (submit, upload into PostgreSQL, poll, fetch, measure, write the result, read it) and through
//     the embedded path (POST /api/ct, a worker thread of the server), median of CALCDX_BENCH_RUNS.
// The volume: the 512x512xCALCDX_BENCH_JOB_SLICES phantom (default 300), a NIfTI upload (gzip).
// CALCDX_BENCH_SPOOL=1: the server and the workers share a spool folder (--spool), so uploads do not
// go through PostgreSQL; else they do (ct_input). CALCDX_BENCH_WARMUP=0 skips the warm-up run.
/* global URL, setTimeout, FormData, Blob, fetch */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { makePhantom } from '../dist/test-support/phantom.js';
import { encodeNiftiMask } from '../dist/imaging/write-nifti.js';

const here = dirname(fileURLToPath(import.meta.url));
const BIN = join(here, '..', 'bin', 'calcdx.js');
const BASE = process.env.CALCDX_BENCH_PG || process.env.CALCDX_TEST_PG || 'postgres://postgres@127.0.0.1:5432/postgres';
const JOBS = Number(process.env.CALCDX_BENCH_JOBS ?? 12);
const RUNS = Number(process.env.CALCDX_BENCH_RUNS ?? 3);
const SLICES = Number(process.env.CALCDX_BENCH_JOB_SLICES ?? 300);
const SPOOL = process.env.CALCDX_BENCH_SPOOL === '1';
const WARMUP = process.env.CALCDX_BENCH_WARMUP !== '0';

const admin = new pg.Client({ connectionString: BASE });
try { await admin.connect(); } catch (e) {
  console.log(`CT job queue benchmark skipped: no PostgreSQL at ${BASE.replace(/:[^:@/]*@/, ':…@')} (${e.code ?? e.message}); set CALCDX_BENCH_PG`);
  process.exit(0);
}
const name = `calcdx_bench_${process.pid}`;
await admin.query(`CREATE DATABASE ${name}`);
const u = new URL(BASE); u.pathname = `/${name}`;
const db = u.toString();
const procs = [];
const start = (args) => {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, CALCDX_DB: '' } });
  const lines = [];
  let buf = '';
  child.stdout.on('data', (d) => { buf += d; const l = buf.split('\n'); buf = l.pop(); lines.push(...l); });
  const exited = new Promise((r) => child.on('exit', r));
  const p = { child, lines, exited };
  procs.push(p);
  return p;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const until = async (f) => { for (;;) { const v = await f(); if (v) return v; await sleep(50); } };
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const port = await new Promise((resolve) => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); }); });
const url = `http://127.0.0.1:${port}`;
const spool = SPOOL ? mkdtempSync(join(tmpdir(), 'calcdx-bench-spool-')) : undefined;
const spoolArgs = spool ? ['--spool', spool] : [];

try {
  console.log(`\nCT job queue: generating a 512x512x${SLICES} phantom ...`);
  const { volume: v } = makePhantom({ preset: 'reference', slices: SLICES });
  const nifti = encodeNiftiMask(v, v.data instanceof Int16Array ? v.data : Int16Array.from(v.data), { gzip: true, intent: 'none' });
  const form = () => { const f = new FormData(); f.append('roi', 'whole'); f.append('file', new Blob([nifti]), 'phantom.nii.gz'); return f; };
  start(['serve', '--port', String(port), '--quiet', '--no-registry', '--db', db, ...spoolArgs]);
  await until(() => fetch(`${url}/api/health`).then((r) => r.ok, () => false));
  const submit = async () => (await (await fetch(`${url}/api/ct/jobs`, { method: 'POST', body: form() })).json()).id;
  const done = (id) => until(async () => { const j = await (await fetch(`${url}/api/ct/jobs/${id}`)).json(); return ['completed', 'failed', 'dead'].includes(j.state) && j; });
  const workers = [];
  const addWorker = async () => {
    const w = start(['worker', '--db', db, ...spoolArgs]);
    await until(() => w.lines.some((l) => l.includes('worker ready')));
    workers.push(w);
  };

  // overhead: one job at a time, queue vs embedded
  await addWorker();
  const embedded = [], queued = [], measured = [], submits = [], parts = [];
  for (let r = WARMUP ? 0 : 1; r < RUNS + 1; r++) {
    let t = performance.now();
    const res = await fetch(`${url}/api/ct`, { method: 'POST', body: form() });
    await res.arrayBuffer();
    const e = performance.now() - t;
    t = performance.now();
    const id = await submit();
    submits.push(performance.now() - t);
    const j = await done(id);
    const q = performance.now() - t;
    if (j.state !== "completed") throw new Error(`job ${j.state}: ${JSON.stringify(j.error)}`);
    const log = await until(() => workers[0].lines.map((l) => JSON.parse(l)).find((l) => l.id === id && l.msg === 'job completed'));
    if (r === 0) { submits.length = 0; continue; } // warm-up
    embedded.push(e); queued.push(q); measured.push(log.ms); parts.push(log);
  }
  const mb = (nifti.length / 1048576).toFixed(1);
  console.log(`one job at a time, 512x512x${SLICES} NIfTI upload (${mb} MB gzip), ROI whole, input ${spool ? 'in a spool folder (--spool)' : 'through PostgreSQL'}, median of ${RUNS} (ms):`);
  console.log(`  embedded POST /api/ct (server's worker thread)        ${median(embedded).toFixed(0)}`);
  console.log(`  queue: submit -> completed -> result read             ${median(queued).toFixed(0)}   (of which: submit ${median(submits).toFixed(0)}, the worker's job ${median(measured).toFixed(0)})`);
  console.log(`    worker's job: input ${spool ? 'from the spool' : 'from PostgreSQL'} ${median(parts.map((p) => p.inputMs))}, measurement ${median(parts.map((p) => p.measureMs))}, result written ${median(parts.map((p) => p.resultMs))}`);
  // the queue's own work, from the same jobs (not a difference of two runs, which the machine's load swamps):
  // fetching the input, writing the result, and the rest of the round trip (a worker taking the job, the client reading the result)
  const own = parts.map((p, i) => p.inputMs + p.resultMs + Math.max(0, queued[i] - submits[i] - p.ms));
  console.log(`  queue's own work per job: input ${median(parts.map((p) => p.inputMs))} + result ${median(parts.map((p) => p.resultMs))} + pick-up and read ${median(parts.map((p, i) => Math.max(0, queued[i] - submits[i] - p.ms))).toFixed(0)} = ${median(own).toFixed(0)} ms = ${(100 * median(own) / median(parts.map((p) => p.measureMs))).toFixed(1)} % of the measurement (the upload itself, in submit, is the embedded path's too)`);
  const over = median(queued) - median(embedded);
  console.log(`  queue overhead per job                                ${over.toFixed(0)} ms = ${(100 * over / median(embedded)).toFixed(1)} % of the embedded path, ${(100 * over / median(parts.map((p) => p.measureMs))).toFixed(1)} % of the measurement`);

  for (const n of [1, 2]) {
    while (workers.length < n) await addWorker();
    const t = performance.now();
    const ids = [];
    for (let i = 0; i < JOBS; i++) ids.push(await submit());
    for (const id of ids) await done(id);
    const min = (performance.now() - t) / 60000;
    console.log(`${n} worker(s): ${JOBS} jobs in ${(min * 60).toFixed(1)} s = ${(JOBS / min).toFixed(1)} jobs/min`);
  }
} finally {
  for (const p of procs) { p.child.kill('SIGTERM'); await p.exited; }
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
  if (spool) rmSync(spool, { recursive: true, force: true });
}
