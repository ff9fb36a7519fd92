// Development aid: a case's malignancy probability and each malignant entity's share of it (which sarcoma
// keeps a benign case over the referral threshold).   node scripts/dev/malignant-share.mjs eval/cases/a.yaml ...
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { loadKnowledgeBase } from '../../dist/io/kb-files.js';
import { validateCase } from '../../dist/core/case-format/validate.js';
import { assess } from '../../dist/core/engine/assess.js';
const kb = loadKnowledgeBase(process.env.KB); // KB=<folder>: a copy of data/kb to try a change on
for (const f of process.argv.slice(2)) {
  const { source, finalDiagnosis, confirmedBy, ...rest } = parse(readFileSync(f, 'utf8'));
  const v = validateCase(rest); if (!v.ok) { console.log(f, v.issues); continue; }
  const a = assess(kb, v.value);
  const m = a.differential.filter((d) => kb.groups[kb.entityIndex.get(d.id)] === 'malignant').map((d) => `${d.id} ${(d.probability * 100).toFixed(1)}`);
  console.log(`${f.split('/').pop()}  P(malignant) ${(a.malignancy.probability * 100).toFixed(1)}%  referred ${a.malignancy.urgentReferral}:  ${m.join(', ')}`);
}
