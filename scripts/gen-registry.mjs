#!/usr/bin/env node
// A synthetic registry for the benchmark (bench/registry.js): N patients, each with one lesion,
// three assessments (real engine outputs of the bundled example cases, ~25 kB of JSON each,
// stored compressed as the store does), one
// follow-up plan of ten visits (every 3 months for 30 months from a start date spread over the
// last three years: past visits mostly done, some left overdue, later ones planned), and an
// outcome for a third of them. Synthetic: no real person; names are "Synthetic <n>".
//
//   node scripts/gen-registry.mjs --db sqlite:/tmp/reg.db --patients 100000 [--seed 1]
// Needs `npm run build`. Writes in transactions of 500 patients straight through kysely (the
// store's own checks are exercised by the tests; this is about volume).
import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { openRegistry } from '../dist/registry/open.js';
import { assessmentRecord } from '../dist/registry/assessment-record.js';
import { encodeJson } from '../dist/registry/json-codec.js';
import { addDays } from '../dist/core/engine/dates.js';
import { addMonths } from '../dist/core/engine/follow-up.js';
import { loadKnowledgeBase } from '../dist/io/kb-files.js';
import { readCaseFile } from '../dist/io/case-file.js';

export async function generateRegistry(where, patients, { seed = 1, today = new Date().toISOString().slice(0, 10), log = () => {} } = {}) {
  let s = seed >>> 0 || 1;
  const rnd = () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 2 ** 32; };
  const kb = loadKnowledgeBase();
  const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'examples', 'cases');
  const templates = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort().map((f) => assessmentRecord(kb, 'x', readCaseFile(join(dir, f)), '2026-01-01'))
    .map((t) => ({ ...t, stored: { caseInputBrotli: encodeJson(t.caseInput), outputBrotli: encodeJson(t.output) } }));
  const store = await openRegistry(where);
  const db = store.db;
  const now = new Date().toISOString();
  const BATCH = 500;
  const t0 = Date.now();
  for (let b = 0; b < patients; b += BATCH) {
    const P = [], L = [], A = [], PL = [], V = [], O = [];
    for (let i = b; i < Math.min(patients, b + BATCH); i++) {
      const pid = randomUUID();
      const lid = randomUUID();
      const start = addDays(today, -Math.floor(rnd() * 3 * 365));
      P.push({ id: pid, mrn: `SYN-${String(i).padStart(7, '0')}`, name: `Synthetic ${i}`, nameSearch: `synthetic ${i}`, birthDate: addDays('1940-01-01', Math.floor(rnd() * 25000)), sex: rnd() < 0.5 ? 'female' : 'male', version: 1, createdAt: now, updatedAt: now });
      L.push({ id: lid, patientId: pid, site: ['thigh', 'knee', 'shoulder', 'hip', 'foot'][i % 5], side: rnd() < 0.5 ? 'left' : 'right', firstSeen: addDays(start, -60), version: 1, createdAt: now, updatedAt: now });
      let last;
      for (let k = 0; k < 3; k++) {
        const t = templates[Math.floor(rnd() * templates.length)];
        last = { id: randomUUID(), lesionId: lid, patientId: pid, ...t.stored, kbVersion: t.kbVersion, engineVersion: t.engineVersion, assessedOn: addDays(start, -60 + k * 20), topEntity: t.output.differential[0].id, createdBy: null, createdAt: now };
        A.push(last);
      }
      const plan = { id: randomUUID(), lesionId: lid, patientId: pid, assessmentId: last.id, scheme: 'sarcoma_high_grade', datedFrom: 'surgery', startDate: start, supersededAt: null, createdBy: null, createdAt: now };
      PL.push(plan);
      for (let m = 3; m <= 30; m += 3) {
        const due = addMonths(start, m);
        // visits older than six months have been closed (done, or cancelled); of the later past ones a tenth is still open (overdue)
        const past = due < addDays(today, -21);
        const closed = due < addDays(today, -182);
        const done = past && (closed ? rnd() < 0.95 : rnd() < 0.9);
        const cancelled = closed && !done;
        V.push({ id: randomUUID(), planId: plan.id, lesionId: lid, patientId: pid, month: m, dueDate: due, windowDays: 14, windowStart: addDays(due, -14), windowEnd: addDays(due, 14), items: '["clinical","local_imaging","chest_imaging"]', state: done ? 'done' : cancelled ? 'cancelled' : 'planned', doneOn: done ? due : null, findings: done ? JSON.stringify({ sizeMm: Math.round(20 + rnd() * 60), growth: 'none', localRecurrence: false, lungFindings: 'none' }) : null, version: done || cancelled ? 2 : 1, createdAt: now, updatedAt: now });
      }
      if (rnd() < 1 / 3) O.push({ id: randomUUID(), lesionId: lid, patientId: pid, entity: last.topEntity, confirmedBy: 'histology', date: addDays(start, -5), grade: null, stage: null, version: 1, createdBy: null, createdAt: now, updatedAt: now });
    }
    const ins = async (tx, table, rows, per) => { for (let i = 0; i < rows.length; i += per) await tx.insertInto(table).values(rows.slice(i, i + per)).execute(); };
    const write = async (tx) => {
      await ins(tx, 'patient', P, 100); await ins(tx, 'lesion', L, 100); await ins(tx, 'assessment', A, 50);
      await ins(tx, 'plan', PL, 100); await ins(tx, 'visit', V, 100); if (O.length) await ins(tx, 'outcome', O, 100);
    };
    if (store.dialect === 'postgres') await db.transaction().execute(write);
    else await db.connection().execute(async (c) => { await sql`begin`.execute(c); await write(c); await sql`commit`.execute(c); });
    if ((b / BATCH) % 20 === 0) log(`  ${Math.min(patients, b + BATCH)} / ${patients} patients (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  }
  // statistics for the planner; on PostgreSQL also the visibility map, without which no index-only scan is used
  if (store.dialect === 'postgres') await sql`vacuum analyze`.execute(db);
  else await sql`analyze`.execute(db);
  await store.close();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { db: { type: 'string' }, patients: { type: 'string', default: '100000' }, seed: { type: 'string', default: '1' } } });
  const n = Number(values.patients);
  if (!values.db || !Number.isInteger(n) || n < 1) {
    process.stderr.write('usage: node scripts/gen-registry.mjs --db sqlite:PATH|postgres://… --patients N [--seed S]\n');
    process.exit(2);
  }
  await generateRegistry(values.db, n, { seed: Number(values.seed), log: (m) => process.stderr.write(`${m}\n`) });
}
