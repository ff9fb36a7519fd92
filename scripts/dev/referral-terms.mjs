// Development aid: which findings push a case's malignancy probability up or down.
// For each observed finding: the malignancy probability with that finding left out, and the
// top entities.   node scripts/dev/referral-terms.mjs eval/cases/a.yaml ...
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { loadKnowledgeBase } from '../../dist/io/kb-files.js';
import { validateCase } from '../../dist/core/case-format/validate.js';
import { observe } from '../../dist/core/engine/findings.js';
import { computeDifferential } from '../../dist/core/engine/differential.js';
const kb = loadKnowledgeBase(process.env.KB); // KB=<folder>: a copy of data/kb to try a change on
const malig = kb.entities.map((_, i) => kb.groups[i] === 'malignant');
const pm = (post) => post.reduce((s, p, i) => s + (malig[i] ? p : 0), 0);
for (const f of process.argv.slice(2)) {
  const { source, finalDiagnosis, confirmedBy, ...rest } = parse(readFileSync(f, 'utf8'));
  const v = validateCase(rest); if (!v.ok) { console.log(f, v.issues); continue; }
  const obs = observe(kb, v.value);
  const d = computeDifferential(kb, v.value, obs);
  const p = pm(d.posterior);
  const order = [...d.posterior.keys()].sort((a, b) => d.posterior[b] - d.posterior[a]);
  const ti = kb.entityIndex.get(finalDiagnosis);
  console.log(`== ${f.split('/').pop()}  P(malignant)=${(p * 100).toFixed(1)}%  truth rank ${order.indexOf(ti) + 1} (${(d.posterior[ti] * 100).toFixed(1)}%)`);
  console.log('   top: ' + order.slice(0, 5).map((i) => `${kb.entities[i].id} ${(d.posterior[i] * 100).toFixed(1)}`).join(', '));
  const rows = obs.map((o) => {
    const F = kb.findings[o.finding];
    const without = pm(computeDifferential(kb, v.value, obs.filter((x) => x !== o)).posterior);
    return { name: `${F.def.id}=${F.values[o.value]}`, without };
  }).sort((a, b) => a.without - b.without);
  for (const r of rows) console.log(`   ${r.name.padEnd(58)} without: ${(r.without * 100).toFixed(1).padStart(5)}%  ${r.without < p ? 'PUSHES UP' : ''}`);
}
