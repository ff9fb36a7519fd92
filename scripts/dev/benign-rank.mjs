// Development aid: ranking (top-1, top-3) and urgent referral per split set and group (benign = every
// non-malignant case), and with LIST=1 the development benign cases not ranked first (ALL=1: holdout too).
//   node scripts/dev/benign-rank.mjs   (KB=<folder>: a copy of data/kb to try a change on)
import { readFileSync, readdirSync } from 'node:fs';
import { parse } from 'yaml';

const { loadKnowledgeBase } = await import('../../dist/io/kb-files.js');
const { validateCase } = await import('../../dist/core/case-format/validate.js');
const { assess } = await import('../../dist/core/engine/assess.js');
const kb = loadKnowledgeBase(process.env.KB);
const split = parse(readFileSync('eval/split.yaml', 'utf8'));
const dev = new Set(split.development);
const st = {};
const lines = [];
for (const f of readdirSync('eval/cases').filter((x) => x.endsWith('.yaml')).sort()) {
  const { source, finalDiagnosis, confirmedBy, ...rest } = parse(readFileSync(`eval/cases/${f}`, 'utf8'));
  const v = validateCase(rest); const a = assess(kb, v.value);
  const rank = a.differential.find((d) => d.id === finalDiagnosis).rank;
  const mal = kb.groups[kb.entityIndex.get(finalDiagnosis)] === 'malignant';
  const set = dev.has(f) ? 'dev' : 'hold';
  for (const s of [set, 'all']) for (const g of [mal ? 'mal' : 'ben', 'any', `${mal ? 'mal' : 'ben'}:${confirmedBy}`]) {
    const x = (st[s + '/' + g] ??= { n: 0, t1: 0, t3: 0, ref: 0 });
    x.n++; if (rank === 1) x.t1++; if (rank <= 3) x.t3++; if (a.malignancy.urgentReferral) x.ref++;
  }
  if (!mal && (process.env.ALL || set === 'dev') && rank > 1) lines.push(`${set} r${rank} ${f} [${confirmedBy}] -> ${a.differential[0].id} ${(a.differential[0].probability*100).toFixed(0)}% ${a.differential[1].id} ${(a.differential[1].probability*100).toFixed(0)}%`);
}
for (const k of Object.keys(st).sort()) { const x = st[k]; console.log(k.padEnd(10), `n=${x.n} top1 ${x.t1} (${(100*x.t1/x.n).toFixed(1)}) top3 ${x.t3} (${(100*x.t3/x.n).toFixed(1)}) referred ${x.ref}`); }
if (process.env.LIST) console.log(lines.join('\n'));
