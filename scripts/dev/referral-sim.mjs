// Development aid: referral and ranking figures of eval/cases by split set, with an optional case
// transform (to try a modelling idea before building it).  node scripts/dev/referral-sim.mjs [transform.mjs]
// The transform module default-exports (caseFile) => caseFile.
import { readFileSync, readdirSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parse } from 'yaml';
import { loadKnowledgeBase } from '../../dist/io/kb-files.js';
import { validateCase } from '../../dist/core/case-format/validate.js';
import { assess } from '../../dist/core/engine/assess.js';
const kb = loadKnowledgeBase(process.env.KB); // KB=<folder>: a copy of data/kb to try a change on
const split = parse(readFileSync('eval/split.yaml', 'utf8'));
const dev = new Set(split.development);
const t = process.argv[2] ? (await import(pathToFileURL(process.argv[2]).href)).default : (c) => c;
const stats = {};
const rows = [];
for (const f of readdirSync('eval/cases').filter((x) => x.endsWith('.yaml')).sort()) {
  const { source, finalDiagnosis, confirmedBy, ...rest } = parse(readFileSync(`eval/cases/${f}`, 'utf8'));
  const v = validateCase(t(rest)); if (!v.ok) { console.log(f, v.issues); continue; }
  const a = assess(kb, v.value);
  const rank = a.differential.find((d) => d.id === finalDiagnosis).rank;
  const mal = kb.groups[kb.entityIndex.get(finalDiagnosis)] === 'malignant';
  const set = dev.has(f) ? 'dev' : 'holdout';
  rows.push({ f, set, mal, p: a.malignancy.probability, ref: a.malignancy.urgentReferral, rank });
  for (const s of [set, 'all']) {
    const x = (stats[s] ??= { n: 0, top1: 0, top3: 0, mal: 0, malRef: 0, ben: 0, benRef: 0 });
    x.n++; if (rank === 1) x.top1++; if (rank <= 3) x.top3++;
    if (mal) { x.mal++; if (a.malignancy.urgentReferral) x.malRef++; } else { x.ben++; if (a.malignancy.urgentReferral) x.benRef++; }
  }
}
for (const [s, x] of Object.entries(stats)) console.log(`${s.padEnd(8)} n=${x.n} top1 ${x.top1} (${(100 * x.top1 / x.n).toFixed(1)}%) top3 ${x.top3} (${(100 * x.top3 / x.n).toFixed(1)}%) malignant referred ${x.malRef}/${x.mal} benign referred ${x.benRef}/${x.ben} (${(100 * x.benRef / x.ben).toFixed(1)}%)`);
// ROC area of the malignancy probability
for (const s of ['dev', 'holdout', 'all']) {
  const r = rows.filter((x) => s === 'all' || x.set === s);
  const m = r.filter((x) => x.mal), b = r.filter((x) => !x.mal);
  let auc = 0; for (const i of m) for (const j of b) auc += i.p > j.p ? 1 : i.p === j.p ? 0.5 : 0;
  console.log(`${s} ROC ${(auc / m.length / b.length).toFixed(3)}`);
}
if (process.env.LIST) for (const r of rows.filter((x) => (x.mal && !x.ref) || (!x.mal && x.ref) || process.env.LIST === 'all')) console.log(r.set, r.mal ? 'MAL' : 'ben', (r.p * 100).toFixed(1), r.ref, r.rank, r.f);
