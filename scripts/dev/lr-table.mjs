// Development aid: each entity's (tempered) likelihood ratio for chosen finding values.
//   node scripts/dev/lr-table.mjs lesion.sizeCm=gt10 lesion.depth=deep ...
import { loadKnowledgeBase } from '../../dist/io/kb-files.js';
const kb = loadKnowledgeBase();
const cols = process.argv.slice(2).map((a) => { const [f, v] = a.split('='); const fi = kb.findingIndex.get(f); const F = kb.findings[fi]; return { a, F, v: F.values.indexOf(v) }; });
console.log('entity'.padEnd(38), cols.map((c) => c.a.split('.').pop().padStart(14)).join(''));
kb.entities.forEach((e, i) => {
  console.log(`${e.id.padEnd(30)} ${kb.groups[i].slice(0, 7).padEnd(7)}`, cols.map((c) => Math.exp(c.F.logLr[i * c.F.values.length + c.v]).toFixed(2).padStart(14)).join(''));
});
