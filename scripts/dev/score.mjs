// Quick in-sample accuracy over a folder of labelled cases (development aid).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadKnowledgeBase } from '../../dist/io/kb-files.js';
import { validateCase } from '../../dist/core/case-format/validate.js';
import { assess } from '../../dist/core/engine/assess.js';
const kb = loadKnowledgeBase();
const dir = process.argv[2] ?? 'test/cases';
let n = 0, t1 = 0, t3 = 0, brier = 0, flagged = 0, malig = 0, benignUrgent = 0, benign = 0;
for (const f of readdirSync(dir).filter((x) => x.endsWith('.yaml'))) {
  const { source, expect, finalDiagnosis, confirmedBy, ...rest } = parse(readFileSync(join(dir, f), 'utf8'));
  const truth = expect?.inTop3 ?? finalDiagnosis;
  const v = validateCase(rest); if (!v.ok) { console.log('INVALID', f); continue; }
  const a = assess(kb, v.value);
  const rank = a.differential.findIndex((d) => d.id === truth) + 1;
  n++; if (rank === 1) t1++; if (rank <= 3) t3++;
  for (const d of a.differential) brier += (d.probability - (d.id === truth ? 1 : 0)) ** 2;
  const g = kb.entities[kb.entityIndex.get(truth)].group;
  if (g === 'malignant') { malig++; if (a.malignancy.urgentReferral || a.redFlags.length) flagged++; else console.log('  UNFLAGGED malignant', f); }
  else { benign++; if (a.malignancy.urgentReferral) benignUrgent++; }
  if (rank > 1) console.log(`  rank ${rank} ${f} -> ${a.differential[0].id} ${(a.differential[0].probability*100).toFixed(0)}%`);
}
console.log(`n=${n} top1=${(t1/n*100).toFixed(0)}% top3=${(t3/n*100).toFixed(0)}% brier=${(brier/n).toFixed(3)} malignantFlagged=${flagged}/${malig} benignUrgent=${benignUrgent}/${benign}`);
