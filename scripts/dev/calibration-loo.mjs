// Development aid (issue 12, item 2): a calibration layer for the malignancy probability, fitted on the
// development cases only. Platt scaling, P' = sigmoid(a + b * logit(P)), by maximum likelihood; each
// development case is scored by the fit on the other development cases (leave-one-out); the holdout is
// scored by the fit on all development cases. Referral: red flags that refer on their own, or P' >= the
// threshold (3%). Prints referral and calibration (Brier) before and after, per set.
//   node scripts/dev/calibration-loo.mjs
import { readFileSync, readdirSync } from 'node:fs';
import { parse } from 'yaml';
import { loadKnowledgeBase } from '../../dist/io/kb-files.js';
import { validateCase } from '../../dist/core/case-format/validate.js';
import { assess } from '../../dist/core/engine/assess.js';
const kb = loadKnowledgeBase(process.env.KB);
const split = parse(readFileSync('eval/split.yaml', 'utf8'));
const dev = new Set(split.development);
const rows = [];
for (const f of readdirSync('eval/cases').filter((x) => x.endsWith('.yaml')).sort()) {
  const { source, finalDiagnosis, confirmedBy, ...rest } = parse(readFileSync(`eval/cases/${f}`, 'utf8'));
  const v = validateCase(rest); if (!v.ok) continue;
  const a = assess(kb, v.value);
  const mal = kb.groups[kb.entityIndex.get(finalDiagnosis)] === 'malignant';
  const p = Math.min(Math.max(a.malignancy.probability, 1e-6), 1 - 1e-6);
  // referred whatever the probability: a red flag that refers on its own (the referral with P far below threshold)
  const flagOnly = a.malignancy.urgentReferral && p < a.malignancy.threshold;
  rows.push({ f, dev: dev.has(f), mal, p, x: Math.log(p / (1 - p)), t: a.malignancy.threshold, flagOnly, ref: a.malignancy.urgentReferral });
}
const sig = (z) => 1 / (1 + Math.exp(-z));
function fit(train) {
  let a = 0, b = 1;
  for (let it = 0; it < 200; it++) { // Newton-Raphson on the log likelihood
    let ga = 0, gb = 0, haa = 0, hab = 0, hbb = 0;
    for (const r of train) { const q = sig(a + b * r.x); const y = r.mal ? 1 : 0; ga += y - q; gb += (y - q) * r.x; const w = q * (1 - q); haa += w; hab += w * r.x; hbb += w * r.x * r.x; }
    const det = haa * hbb - hab * hab; if (Math.abs(det) < 1e-12) break;
    const da = (hbb * ga - hab * gb) / det, db = (haa * gb - hab * ga) / det;
    a += da; b += db; if (Math.abs(da) + Math.abs(db) < 1e-10) break;
  }
  return { a, b };
}
const devRows = rows.filter((r) => r.dev);
const all = fit(devRows);
console.log(`fit on all development cases: a ${all.a.toFixed(3)}, b ${all.b.toFixed(3)}`);
for (const r of rows) { const m = r.dev ? fit(devRows.filter((o) => o !== r)) : all; r.pc = sig(m.a + m.b * r.x); }
for (const set of ['dev', 'holdout']) {
  const rs = rows.filter((r) => (set === 'dev') === r.dev);
  const count = (refOf) => { const m = rs.filter((r) => r.mal), b = rs.filter((r) => !r.mal); return `malignant ${m.filter(refOf).length}/${m.length}, benign ${b.filter(refOf).length}/${b.length}`; };
  const brier = (k) => (rs.reduce((s, r) => s + (r[k] - (r.mal ? 1 : 0)) ** 2, 0) / rs.length).toFixed(3);
  console.log(`${set.padEnd(8)} engine: ${count((r) => r.ref)} (Brier ${brier('p')});  calibrated${set === 'dev' ? ' (LOO)' : ''}: ${count((r) => r.flagOnly || r.pc >= r.t)} (Brier ${brier('pc')})`);
}
