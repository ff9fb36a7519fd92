import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { loadKnowledgeBase } from '../../dist/io/kb-files.js';
import { validateCase } from '../../dist/core/case-format/validate.js';
import { assess } from '../../dist/core/engine/assess.js';
const kb = loadKnowledgeBase();
for (const f of process.argv.slice(2)) {
  const { source, expect: exp, finalDiagnosis, confirmedBy, ...rest } = parse(readFileSync(f, 'utf8'));
  const expect = exp ?? (finalDiagnosis ? { inTop3: finalDiagnosis } : undefined);
  const v = validateCase(rest); if (!v.ok) { console.log(f, v.issues); continue; }
  const a = assess(kb, v.value);
  console.log('==', f.split('/').pop(), 'expect', expect?.inTop3, 'malig', a.malignancy.probability.toFixed(3), a.malignancy.urgentReferral);
  for (const d of a.differential.slice(0, 5)) console.log(`  ${d.id.padEnd(38)} ${(d.probability*100).toFixed(1).padStart(5)}  ${d.evidence.slice(0,6).map(e=>`${e.finding.split('.').slice(-1)[0]}=${e.value}×${e.lr.toFixed(2)}`).join(' ')}`);
  if (process.env.SHOW) { const t = a.differential.find(d=>d.id===expect?.inTop3); console.log('  TARGET', t.rank, t.evidence.map(e=>`${e.finding.split('.').slice(-1)[0]}=${e.value}×${e.lr.toFixed(2)}`).join(' ')); }
  if (process.env.NQ) console.log(a.nextQuestions);
}
