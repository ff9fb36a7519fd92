// Development aid: for each development case not ranked first, which findings pull the true entity below the
// entities ranked above it (log likelihood ratio of the truth minus that of each entity above it, at most three),
// summed by finding value and entity pair over the development half.  node scripts/dev/culprits.mjs
// KB=<folder> for a copy of data/kb.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { loadKnowledgeBase } from '../../dist/io/kb-files.js';
import { validateCase } from '../../dist/core/case-format/validate.js';
import { observe } from '../../dist/core/engine/findings.js';
import { computeDifferential, evidenceFor } from '../../dist/core/engine/differential.js';
const kb = loadKnowledgeBase(process.env.KB);
const split = parse(readFileSync('eval/split.yaml', 'utf8'));
const set = split.development; // development half only: tuning never looks at the holdout
const agg = new Map();
for (const f of set) {
  const { source, finalDiagnosis, confirmedBy, ...rest } = parse(readFileSync('eval/cases/' + f, 'utf8'));
  const c = validateCase(rest).value; const obs = observe(kb, c); const d = computeDifferential(kb, c, obs);
  const order = [...d.posterior.keys()].sort((a, b) => d.posterior[b] - d.posterior[a]);
  const ti = kb.entityIndex.get(finalDiagnosis); const r = order.indexOf(ti) + 1; if (r <= 1) continue;
  const T = new Map(evidenceFor(kb, c, obs, ti, 0).map((t) => [`${t.finding}=${t.value}`, t.logLr]));
  for (const li of order.slice(0, Math.min(3, r - 1))) {
    const L = new Map(evidenceFor(kb, c, obs, li, 0).map((t) => [`${t.finding}=${t.value}`, t.logLr]));
    for (const k of new Set([...T.keys(), ...L.keys()])) {
      const v = (T.get(k) ?? 0) - (L.get(k) ?? 0); if (v > -0.5) continue;
      const key = `${k}  ${finalDiagnosis} < ${kb.entities[li].id}`;
      const a = agg.get(key) ?? { s: 0, n: 0, cases: [] }; a.s += v; a.n++; a.cases.push(f.split('--')[1]); agg.set(key, a);
    }
  }
}
for (const [k, a] of [...agg].sort((x, y) => x[1].s - y[1].s).slice(0, 70)) console.log(a.s.toFixed(2).padStart(6), k, a.cases.join(','));
