// Development aid: why the true diagnosis ranks below the leader — each finding's log likelihood ratio
// for the truth minus that for the leader (negative: the finding favours the leader).
//   node scripts/dev/versus.mjs eval/cases/a.yaml ...
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { loadKnowledgeBase } from '../../dist/io/kb-files.js';
import { validateCase } from '../../dist/core/case-format/validate.js';
import { observe } from '../../dist/core/engine/findings.js';
import { computeDifferential, evidenceFor } from '../../dist/core/engine/differential.js';
const kb = loadKnowledgeBase(process.env.KB); // KB=<folder>: a copy of data/kb to try a change on
for (const f of process.argv.slice(2)) {
  const { source, finalDiagnosis, confirmedBy, ...rest } = parse(readFileSync(f, 'utf8'));
  const c = validateCase(rest).value;
  const obs = observe(kb, c);
  const d = computeDifferential(kb, c, obs);
  const order = [...d.posterior.keys()].sort((a, b) => d.posterior[b] - d.posterior[a]);
  const ti = kb.entityIndex.get(finalDiagnosis);
  const li = order[0] === ti ? order[1] : order[0];
  const lr = (e) => new Map(evidenceFor(kb, c, obs, e, 0).map((t) => [`${t.finding}=${t.value}`, t.logLr]));
  const T = lr(ti), L = lr(li);
  const prior = d.logScore[ti] - d.logScore[li];
  console.log(`== ${f.split('/').pop()}: ${finalDiagnosis} rank ${order.indexOf(ti) + 1} ${(d.posterior[ti] * 100).toFixed(1)}% vs ${kb.entities[li].id} ${(d.posterior[li] * 100).toFixed(1)}%  (log ratio ${prior.toFixed(2)}, base prior ${(kb.logPrior[ti] - kb.logPrior[li]).toFixed(2)})`);
  const rows = [...new Set([...T.keys(), ...L.keys()])].map((k) => [k, (T.get(k) ?? 0) - (L.get(k) ?? 0)]).sort((a, b) => a[1] - b[1]);
  console.log('   ' + rows.map(([k, v]) => `${k.replace(/^(imaging|lesion|symptoms|history|patient)\./, '')} ${v >= 0 ? '+' : ''}${v.toFixed(2)}`).join(' | '));
}
