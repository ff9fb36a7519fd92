// Development aid: evaluate the engine on a folder of labelled cases for several values of one constant:
//   node scripts/dev/sweep-weight.mjs <folder> [values] [evidence|prior]
// evidence: the evidence weight (tempering of log likelihood ratios); prior: an exponent on the prior weights.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { readRawKnowledgeBase } from '../../dist/io/kb-files.js';
import { compileKnowledgeBase } from '../../dist/core/knowledge/compile.js';
import { validateCase } from '../../dist/core/case-format/validate.js';
import { assess } from '../../dist/core/engine/assess.js';
const dir = process.argv[2];
const cases = readdirSync(dir).filter((x) => x.endsWith('.yaml')).map((f) => {
  const { source, expect, finalDiagnosis, confirmedBy, ...rest } = parse(readFileSync(join(dir, f), 'utf8'));
  return { truth: expect?.inTop3 ?? finalDiagnosis, c: validateCase(rest).value };
});
const raw = readRawKnowledgeBase(process.env.CALCDX_KB_DIR || undefined);
const param = process.argv[4] ?? 'evidence';
for (const w of (process.argv[3] ?? '0.4,0.5,0.6,0.7,0.8,0.9,1').split(',').map(Number)) {
  const r = structuredClone(raw);
  if (param === 'prior') for (const e of r.entities) e.data.prior.weight = Math.pow(e.data.prior.weight, w);
  else r.rules.thresholds.evidenceWeight.value = w;
  const kb = compileKnowledgeBase(r).kb;
  let t1 = 0, t3 = 0, brier = 0, ll = 0, bu = 0, nb = 0, mf = 0, nm = 0;
  for (const { truth, c } of cases) {
    const a = assess(kb, c);
    const rank = a.differential.findIndex((d) => d.id === truth) + 1;
    if (rank === 1) t1++; if (rank <= 3) t3++;
    for (const d of a.differential) brier += (d.probability - (d.id === truth ? 1 : 0)) ** 2;
    ll -= Math.log(Math.max(1e-15, a.differential[rank - 1].probability));
    const g = kb.entities[kb.entityIndex.get(truth)].group;
    if (g === 'malignant') { nm++; if (a.malignancy.urgentReferral) mf++; } else { nb++; if (a.malignancy.urgentReferral) bu++; }
  }
  const n = cases.length;
  console.log(`w=${w}: top1 ${(t1/n*100).toFixed(1)} top3 ${(t3/n*100).toFixed(1)} brier ${(brier/n).toFixed(3)} logloss ${(ll/n).toFixed(3)} malignantUrgent ${mf}/${nm} benignUrgent ${bu}/${nb}`);
}
