import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { loadKnowledgeBase } from '/work/wt/referral2/dist/io/kb-files.js';
import { validateCase } from '/work/wt/referral2/dist/core/case-format/validate.js';
import { assess } from '/work/wt/referral2/dist/core/engine/assess.js';
const kb = loadKnowledgeBase(process.env.KB);
for (const f of process.argv.slice(2)) {
  const { source, finalDiagnosis, confirmedBy, ...rest } = parse(readFileSync(f, 'utf8'));
  const a = assess(kb, validateCase(rest).value);
  const m = a.differential.filter((d) => kb.groups[kb.entityIndex.get(d.id)] === 'malignant').map((d) => `${d.id.slice(0,18)} ${(d.probability*100).toFixed(1)}`);
  console.log(f.split('/').pop().slice(0,45).padEnd(46), (a.malignancy.probability*100).toFixed(1), m.join(', '));
}
