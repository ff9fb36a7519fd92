// Development aid: the labelled cases of a folder under each care setting (and none): accuracy,
// malignant cases sent to urgent referral, benign cases sent. Use on test/cases only.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadKnowledgeBase } from '../../dist/io/kb-files.js';
import { validateCase } from '../../dist/core/case-format/validate.js';
import { assess } from '../../dist/core/engine/assess.js';
const kb = loadKnowledgeBase();
const dir = process.argv[2] ?? 'test/cases';
const cases = readdirSync(dir).filter((x) => x.endsWith('.yaml')).map((f) => {
  const { source, expect, finalDiagnosis, confirmedBy, ...rest } = parse(readFileSync(join(dir, f), 'utf8'));
  return { f, truth: expect?.inTop3 ?? finalDiagnosis, c: validateCase(rest).value };
});
for (const setting of [undefined, 'primary_care', 'specialist', 'sarcoma_centre']) {
  let t1 = 0, t3 = 0, mu = 0, mf = 0, nm = 0, bu = 0, nb = 0; const missed = [];
  const pm = [], pb = [];
  for (const { f, truth, c } of cases) {
    const a = assess(kb, setting ? { ...c, setting } : c);
    const rank = a.differential.findIndex((d) => d.id === truth) + 1;
    if (rank === 1) t1++; if (rank <= 3) t3++;
    const g = kb.entities[kb.entityIndex.get(truth)].group;
    if (g === 'malignant') { nm++; pm.push(a.malignancy.probability); if (a.malignancy.urgentReferral) mu++; else missed.push(`${f} ${(a.malignancy.probability*100).toFixed(1)}%`); if (a.malignancy.urgentReferral || a.redFlags.length) mf++; }
    else { nb++; pb.push(a.malignancy.probability); if (a.malignancy.urgentReferral) bu++; }
  }
  let auc = 0; for (const x of pm) for (const y of pb) auc += x > y ? 1 : x === y ? 0.5 : 0; auc /= pm.length * pb.length;
  console.log(`${String(setting).padEnd(15)} top1 ${t1}/${cases.length} top3 ${t3}/${cases.length} malignant urgent ${mu}/${nm} flagged ${mf}/${nm} benign urgent ${bu}/${nb} AUC ${auc.toFixed(3)}`);
  if (missed.length && process.env.SHOW) console.log('   not urgent:', missed.join('; '));
}
