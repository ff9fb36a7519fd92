// npm run bench (registry part): on a synthetic registry (scripts/gen-registry.mjs: N patients,
// 3N assessments, 10N visits) measures the worklist of the week's due and overdue visits (p99),
// a patient's timeline (p99), and assessment inserts per second (sustained, one writer then eight at
// once, each insert committed), on SQLite and — when CALCDX_BENCH_PG names a server — PostgreSQL.
// Goals (issue 9, at 100,000 patients): worklist p99 < 50 ms, timeline p99 < 20 ms, ≥ 1,000 inserts/s.
//   CALCDX_BENCH_REGISTRY_PATIENTS (default 20000: ~0.7 GB of SQLite; 100000 takes ~3.4 GB and tens of minutes)
//   CALCDX_BENCH_REGISTRY_INSERTS (default 3000): inserts per measurement (one writer, then eight); more for a longer sustained run
//   CALCDX_BENCH_PG=postgres://postgres@127.0.0.1:5432/postgres (a database is created and dropped)
//   CALCDX_BENCH_REGISTRY_SQLITE=PATH / CALCDX_BENCH_REGISTRY_PG_DB=postgres://…: a registry made before by
//     scripts/gen-registry.mjs (same size and day) is measured instead of generating one, and is kept
//     (CALCDX_BENCH_REGISTRY_SQLITE=none: PostgreSQL only)
// Each insert is what the server does: the assessment and its audit row, both or neither (addAssessment with
// its audit entry; on PostgreSQL one statement). The anchor is a
// trivial query (select 1) timed in the same run: on a loaded machine every figure grows with it.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { URL } from 'node:url';
import { sql } from 'kysely';
import { generateRegistry } from '../scripts/gen-registry.mjs';
import { openRegistry } from '../dist/registry/open.js';

const N = Number(process.env.CALCDX_BENCH_REGISTRY_PATIENTS ?? 20_000);
const TODAY = new Date().toISOString().slice(0, 10);

function pct(xs, p) { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; }

async function measure(where, label, size, reuse = false) {
  const t0 = Date.now();
  if (!reuse) await generateRegistry(where, N, { today: TODAY, log: (m) => process.stderr.write(`${label}${m}\n`) });
  const genS = (Date.now() - t0) / 1000;
  const store = await openRegistry(where);
  const st = await store.status();
  const ids = (await store.db.selectFrom('patient').select('id').orderBy(sql`random()`).limit(500).execute()).map((r) => r.id);
  const lesion = await store.db.selectFrom('lesion').select('id').limit(1).executeTakeFirstOrThrow();
  const template = await store.getAssessment((await store.db.selectFrom('assessment').select('id').limit(1).executeTakeFirstOrThrow()).id);
  // warm-up
  for (let i = 0; i < 20; i++) { await store.worklist({ today: TODAY, limit: 50 }); await store.patientTimeline(ids[i % ids.length]); }
  const sorts = ['dueDate', 'status', 'patient', 'site'];
  const wl = [];
  let total = 0;
  let totalCapped = false;
  for (let i = 0; i < 200; i++) {
    const s = performance.now();
    const page = await store.worklist({ today: TODAY, sort: sorts[i % 4], overdueOnly: i % 5 === 4, limit: 50 });
    wl.push(performance.now() - s);
    if (i === 0) { total = page.total; totalCapped = !!page.totalCapped; }
  }
  const tl = [];
  for (const id of ids) { const s = performance.now(); await store.patientTimeline(id, TODAY); tl.push(performance.now() - s); }
  const anchor = [];
  for (let i = 0; i < 200; i++) { const s = performance.now(); await sql`select 1`.execute(store.db); anchor.push(performance.now() - s); }
  const INS = Number(process.env.CALCDX_BENCH_REGISTRY_INSERTS ?? 3000);
  // as POST /api/lesions/:id/assessments (without a plan): the assessment and its audit row, written
  // together (on PostgreSQL one statement, committed on its own)
  const insert = () => store.addAssessment({ lesionId: lesion.id, caseInput: template.caseInput, output: template.output, kbVersion: template.kbVersion, engineVersion: template.engineVersion, assessedOn: TODAY }, null,
    { userId: null, action: 'create', origin: 'bench' });
  const s = performance.now();
  for (let i = 0; i < INS; i++) await insert();
  const insPerS = INS / ((performance.now() - s) / 1000);
  // eight writers at once, as a server with several requests in flight (PostgreSQL commits them in groups)
  const s8 = performance.now();
  await Promise.all(Array.from({ length: 8 }, async () => {
    for (let i = 0; i < INS / 8; i++) await insert();
  }));
  const ins8 = INS / ((performance.now() - s8) / 1000);
  await store.close();
  const bytes = await size();
  console.log(`${label}: ${st.counts.patients} patients, ${st.counts.assessments} assessments, ${st.counts.visits} visits; ${bytes / 1e9 | 0 ? (bytes / 1e9).toFixed(2) + ' GB' : (bytes / 1e6).toFixed(0) + ' MB'} after the inserts (${reuse ? 'generated before' : `generated in ${genS.toFixed(0)} s`})`);
  console.log(`  anchor (select 1): p50 ${pct(anchor, 0.5).toFixed(2)} ms, p99 ${pct(anchor, 0.99).toFixed(2)} ms`);
  console.log(`  worklist (${total}${totalCapped ? '+' : ''} due this week or overdue; page of 50): p50 ${pct(wl, 0.5).toFixed(1)} ms, p99 ${pct(wl, 0.99).toFixed(1)} ms  [goal < 50 ms]`);
  console.log(`  patient timeline (1 lesion, 3 assessments, 10 visits): p50 ${pct(tl, 0.5).toFixed(1)} ms, p99 ${pct(tl, 0.99).toFixed(1)} ms  [goal < 20 ms]`);
  console.log(`  assessment inserts (with the audit row), each committed: one writer ${insPerS.toFixed(0)}/s, eight at once ${ins8.toFixed(0)}/s  [goal >= 1000/s]`);
}

console.log(`calcdx registry benchmark (node ${process.version}, ${N} patients)`);
const fileSize = (file) => async () => ['', '-wal'].reduce((a, x) => { try { return a + statSync(file + x).size; } catch { return a; } }, 0);
if (process.env.CALCDX_BENCH_REGISTRY_SQLITE === 'none') {
  console.log('SQLite: skipped (CALCDX_BENCH_REGISTRY_SQLITE=none)');
} else if (process.env.CALCDX_BENCH_REGISTRY_SQLITE) {
  const file = process.env.CALCDX_BENCH_REGISTRY_SQLITE;
  await measure(`sqlite:${file}`, 'SQLite', fileSize(file), true);
} else {
  const dir = mkdtempSync(join(tmpdir(), 'calcdx-bench-registry-'));
  try {
    const file = join(dir, 'registry.db');
    await measure(`sqlite:${file}`, 'SQLite', fileSize(file));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const pgAdmin = process.env.CALCDX_BENCH_PG;
if (process.env.CALCDX_BENCH_REGISTRY_PG_DB) {
  const { default: pg } = await import('pg');
  const url = process.env.CALCDX_BENCH_REGISTRY_PG_DB;
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await measure(url, 'PostgreSQL', async () => Number((await c.query('select pg_database_size(current_database()) as n')).rows[0].n), true);
  } finally {
    await c.end();
  }
} else if (pgAdmin) {
  const { default: pg } = await import('pg');
  const name = `calcdx_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: pgAdmin });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const u = new URL(pgAdmin);
  u.pathname = `/${name}`;
  try {
    await measure(u.toString(), 'PostgreSQL', async () => Number((await admin.query('select pg_database_size($1) as n', [name])).rows[0].n));
  } finally {
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
} else {
  console.log('PostgreSQL: skipped (set CALCDX_BENCH_PG=postgres://postgres@127.0.0.1:5432/postgres to run it)');
}
