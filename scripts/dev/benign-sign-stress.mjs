// Development aid: how much one benign sign or benign history fact weighs against a sarcoma. Each sign is
// added, alone, to every case of eval/cases; reported per split set: malignant cases still urgently
// referred (a sign that by itself takes sarcomas below the referral is weighed more than its published
// specificity allows for a lesion that does not otherwise look like the entity it points to) and benign
// cases referred.   node scripts/dev/benign-sign-stress.mjs [sign ...]   (KB=<folder> for a copy of data/kb)
import { readFileSync, readdirSync } from 'node:fs';
import { parse } from 'yaml';
import { loadKnowledgeBase } from '../../dist/io/kb-files.js';
import { validateCase } from '../../dist/core/case-format/validate.js';
import { assess } from '../../dist/core/engine/assess.js';
const kb = loadKnowledgeBase(process.env.KB);
const dev = new Set(parse(readFileSync('eval/split.yaml', 'utf8')).development);
const hist = (h) => (c) => ({ ...c, history: { ...(c.history ?? {}), ...h } });
const calc = (x) => (c) => ({ ...c, imaging: { ...(c.imaging ?? {}), calcification: { ...(c.imaging?.calcification ?? {}), ...x(c.imaging?.calcification ?? {}) } } });
const morph = (m) => calc((k) => ({ morphology: [...new Set([...(k.morphology ?? []), m])] }));
const SIGNS = {
  none: (c) => c,
  gout: hist({ gout: true }),
  ckd: hist({ chronicKidneyDisease: true }),
  dialysis: hist({ chronicKidneyDisease: true, dialysis: true }),
  hyperparathyroidism: hist({ hyperparathyroidism: true }),
  vitaminD: hist({ vitaminDExcess: true }),
  trauma: hist({ trauma: { present: true } }),
  neurologicOrBurns: hist({ neurologicInjuryOrBurns: true }),
  parasite: hist({ parasiteExposure: true }),
  dermatomyositis: hist({ connectiveTissueDisease: 'dermatomyositis' }),
  scleroderma: hist({ connectiveTissueDisease: 'scleroderma' }),
  lupus: hist({ connectiveTissueDisease: 'lupus' }),
  phlebolith: morph('phlebolith'),
  riceGrain: morph('rice_grain'),
  zonal: calc(() => ({ zonal: true })),
  fluidCalcium: (c) => ({ ...c, imaging: { ...(c.imaging ?? {}), ct: { ...(c.imaging?.ct ?? {}), fluidCalciumLevels: true } } }),
};
const names = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(SIGNS);
const cases = readdirSync('eval/cases').filter((x) => x.endsWith('.yaml')).sort().map((f) => {
  const { source, finalDiagnosis, confirmedBy, ...rest } = parse(readFileSync(`eval/cases/${f}`, 'utf8'));
  return { f, rest, set: dev.has(f) ? 'dev' : 'holdout', mal: kb.groups[kb.entityIndex.get(finalDiagnosis)] === 'malignant' };
});
console.log('sign'.padEnd(20), 'development: malignant / benign referred'.padEnd(44), 'holdout: malignant / benign referred');
for (const n of names) {
  const t = SIGNS[n]; if (!t) { console.log(`unknown sign "${n}"; allowed: ${Object.keys(SIGNS).join(', ')}`); process.exitCode = 1; continue; }
  const s = { dev: { m: 0, mr: 0, b: 0, br: 0 }, holdout: { m: 0, mr: 0, b: 0, br: 0 } };
  const lost = [];
  for (const k of cases) {
    const v = validateCase(t(k.rest)); if (!v.ok) { console.log(k.f, n, v.issues); continue; }
    const r = assess(kb, v.value).malignancy.urgentReferral; const x = s[k.set];
    if (k.mal) { x.m++; x.mr += r; if (!r) lost.push(k.f.replace('.yaml', '')); } else { x.b++; x.br += r; }
  }
  console.log(n.padEnd(20), `${s.dev.mr}/${s.dev.m} / ${s.dev.br}/${s.dev.b}`.padEnd(44), `${s.holdout.mr}/${s.holdout.m} / ${s.holdout.br}/${s.holdout.b}`);
  if (process.env.LIST && lost.length) console.log('   not referred:', lost.join(', '));
}
