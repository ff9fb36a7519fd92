// Development aid: why each case is urgently referred — by the probability or by which red flag that refers
// on its own — with its red flags, leading diagnosis, and whether the case shows a benign-specific sign of
// the ACR/ESSR anchor's list (eval/anchors.yaml `indeterminate_to_centre`: then the anchor does not refer).
//   node scripts/dev/referral-reasons.mjs [dev|holdout] [all]   (default: referred cases of both sets)
import { readFileSync, readdirSync } from 'node:fs';
import { parse } from 'yaml';
import { loadKnowledgeBase } from '../../dist/io/kb-files.js';
import { validateCase } from '../../dist/core/case-format/validate.js';
import { assess } from '../../dist/core/engine/assess.js';
import { parseAnchors, decide } from '../../dist/eval/anchors.js';
const kb = loadKnowledgeBase(process.env.KB); // KB=<folder>: a copy of data/kb to try a change on
const anchor = parseAnchors(parse(readFileSync('eval/anchors.yaml', 'utf8'))).find((r) => r.id === 'indeterminate_to_centre');
const dev = new Set(parse(readFileSync('eval/split.yaml', 'utf8')).development);
const only = process.argv.find((a) => a === 'dev' || a === 'holdout');
const every = process.argv.includes('all');
for (const f of readdirSync('eval/cases').filter((x) => x.endsWith('.yaml')).sort()) {
  const set = dev.has(f) ? 'dev' : 'holdout';
  if (only && only !== set) continue;
  const { source, finalDiagnosis, confirmedBy, ...rest } = parse(readFileSync(`eval/cases/${f}`, 'utf8'));
  const v = validateCase(rest); if (!v.ok) { console.log(f, v.issues); continue; }
  const a = assess(kb, v.value);
  if (!a.malignancy.urgentReferral && !every) continue;
  const mal = kb.groups[kb.entityIndex.get(finalDiagnosis)] === 'malignant';
  const benignSign = !decide(anchor, v.value).refer;
  const lead = a.differential[0];
  console.log([set, mal ? 'MAL' : 'ben', `${(a.malignancy.probability * 100).toFixed(1)}%`.padStart(6), a.malignancy.urgentReferral ? 'REFER' : '-', a.malignancy.reasons.join(',') || '-',
    `flags:${a.redFlags.map((r) => r.id).join(',') || '-'}`, `lead:${lead.id} ${(lead.probability * 100).toFixed(0)}%`, benignSign ? 'BENIGN-SIGN' : '', f].join('  '));
}
