// Development aid: how often adding one red flag to a random valid case lowers its malignancy
// probability, and how often it loses the case its urgent referral (fast-check sample of arbitraryCase, seed 7).   node scripts/dev/monotone.mjs [n]
import fc from 'fast-check';
import { loadKnowledgeBase } from '../../dist/io/kb-files.js';
import { assess } from '../../dist/core/engine/assess.js';
import { arbitraryCase } from '../../dist/test-support/arbitrary-case.js';
const kb = loadKnowledgeBase();
const cases = fc.sample(arbitraryCase, { numRuns: Number(process.argv[2] ?? 3000), seed: 7 });
const without = (c, part, key) => { const o = { ...c[part] }; delete o[key]; return { ...c, [part]: o }; };
const flags = {
  'deep to fascia': ['lesion', 'depth', 'deep'],
  'size 8 cm': ['lesion', 'sizeCm', 8],
  'size 12 cm': ['lesion', 'sizeCm', 12],
  'slow growth': ['symptoms', 'growth', 'slow'],
  'rapid growth': ['symptoms', 'growth', 'rapid'],
  'painful': ['symptoms', 'pain', true],
};
for (const [name, [part, key, value]] of Object.entries(flags)) {
  let lower = 0, worst = 1, lost = 0;
  for (const c0 of cases) {
    const c = without(c0, part, key);
    const A = assess(kb, c), B = assess(kb, { ...c, [part]: { ...c[part], [key]: value } });
    const a = A.malignancy.probability, b = B.malignancy.probability;
    if (b < a * (1 - 1e-9)) { lower++; worst = Math.max(worst, a / b); }
    if (A.malignancy.urgentReferral && !B.malignancy.urgentReferral) lost++;
  }
  console.log(`${name.padEnd(14)} lowers the malignancy probability in ${lower}/${cases.length} (${(lower / cases.length * 100).toFixed(0)}%), at most ${worst.toFixed(2)}-fold; urgent referral lost in ${lost}`);
}
