// Development aid: evaluate the engine on a folder of labelled cases over a grid of robustness settings.
//   node scripts/dev/sweep-robustness.mjs <folder> [--floor 0.005,0.01] [--weight 0.8]
//        [--groups none|<variant>[+<variant>...][,...]] [--rho 0,0.3] [--alpha 0.5] [--cases] [--kb <dir>]
// floor: likelihoodFloor and weight: evidenceWeight (rules.yaml thresholds, overridden here).
// groups: correlated-finding groups (variants below): the summed log likelihood ratio of the k observed
// findings of one group is scaled by 1 / (1 + (k - 1) rho) (Kish design effect; --rho) or by k^-alpha
// (--alpha), so that k correlated signs do not count k times. The engine has no such groups: the
// scaling is applied here to the engine's log scores (computeDifferential), then renormalised.
// --cases prints each case's rank and probability of the intended diagnosis; --kb reads another copy of
// data/kb (e.g. a snapshot, so that runs compared while the knowledge base is being edited see the same tables).
// Reports top-1, top-3, Brier (multi-class), log loss, urgent referral of malignant and of benign cases.
// Select values on test/cases only (the evaluation set is held out).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { readRawKnowledgeBase } from '../../dist/io/kb-files.js';
import { compileKnowledgeBase } from '../../dist/core/knowledge/compile.js';
import { validateCase } from '../../dist/core/case-format/validate.js';
import { assess } from '../../dist/core/engine/assess.js';
import { computeDifferential, softmax } from '../../dist/core/engine/differential.js';
import { observe } from '../../dist/core/engine/findings.js';

const M = 'imaging.calcification.morphology.';
const morphology = ['punctate', 'ring_arc', 'amorphous', 'linear', 'phlebolith', 'rice_grain', 'trabecular', 'rim', 'sheet', 'dense_central'].map((m) => M + m);
const pattern = ['imaging.calcification.distribution', 'imaging.calcification.zonal', 'imaging.calcification.extent', 'imaging.calcification.margin'];
const G = {
  morph: { calcification_morphology: morphology },
  calc: { calcification: [...morphology, ...pattern] },
  morphPattern: { calcification_morphology: morphology, calcification_pattern: pattern },
  mri: { mri_signal: ['imaging.mri.t1', 'imaging.mri.t2', 'imaging.mri.enhancement', 'imaging.mri.edema'] },
  ct: { ct_attenuation: ['imaging.ct.maxHU', 'imaging.ct.meanHU'] },
  fat: { fat: ['imaging.ct.fatInLesion', 'imaging.mri.fatInLesion'] },
  fluid: { fluid_levels: ['imaging.ct.fluidCalciumLevels', 'imaging.mri.fluidFluidLevels'] },
  bone: { bone_relation: ['imaging.xray.boneInvolvement', 'imaging.xray.periostealReaction', 'imaging.xray.cleftFromBone', 'imaging.xray.attachedToBone'] },
  renal: { renal: ['history.chronicKidneyDisease', 'history.dialysis', 'labs.creatinineUmolL'] },
  growth: { growth: ['symptoms.growth', 'imaging.evolution'] },
  labs: { parathyroid: ['history.hyperparathyroidism', 'labs.pthPgMl'], vitamin_d: ['history.vitaminDExcess', 'labs.vitaminD25NmolL'], urate: ['history.gout', 'labs.uricAcidUmolL'] },
};
G.modality = { ...G.ct, ...G.fat, ...G.fluid };
G.imaging = { ...G.morph, ...G.mri, ...G.modality, ...G.bone };
G.all = { ...G.morph, ...G.mri, ...G.modality, ...G.bone, ...G.renal, ...G.growth, ...G.labs };
G.allCalc = { ...G.all, calcification_morphology: undefined, ...G.calc };

const args = process.argv.slice(2);
const dir = args[0];
const opt = (name, dflt) => { const i = args.indexOf(`--${name}`); return i < 0 ? dflt : args[i + 1]; };
const nums = (x) => (x === undefined ? [undefined] : x.split(',').map(Number));
const floors = nums(opt('floor'));
const weights = nums(opt('weight'));
const groupSets = (opt('groups') ?? 'none').split(',');
// scalings of a group of k observed findings
const scalings = [
  ...nums(opt('rho')).filter((x) => x !== undefined).map((rho) => ({ label: `rho=${rho}`, scale: (k) => 1 / (1 + (k - 1) * rho) })),
  ...nums(opt('alpha')).filter((x) => x !== undefined).map((alpha) => ({ label: `alpha=${alpha}`, scale: (k) => Math.pow(k, -alpha) })),
];
if (scalings.length === 0) scalings.push({ label: 'rho=0', scale: () => 1 });
const perCase = args.includes('--cases');

const cases = readdirSync(dir).filter((x) => x.endsWith('.yaml')).sort().map((f) => {
  const { source, expect, finalDiagnosis, confirmedBy, ...rest } = parse(readFileSync(join(dir, f), 'utf8'));
  const v = validateCase(rest);
  if (!v.ok) throw new Error(`${f}: invalid case`);
  return { file: f, truth: expect?.inTop3 ?? finalDiagnosis, c: v.value };
});
const raw = readRawKnowledgeBase(opt('kb'));

/** finding indices of each group; every finding in at most one group, none demographic */
function groupIndices(kb, gs) {
  if (gs === 'none') return [];
  const sets = Object.assign({}, ...gs.split('+').map((g) => { if (!G[g]) throw new Error(`unknown group variant ${g}`); return G[g]; }));
  const seen = new Set();
  return Object.values(sets).filter(Boolean).map((ids) => ids.map((id) => {
    const fi = kb.findingIndex.get(id);
    if (fi === undefined) throw new Error(`unknown finding ${id}`);
    if (kb.findings[fi].def.role === 'demographic') throw new Error(`${id} is demographic`);
    if (seen.has(fi)) throw new Error(`${id} in two groups`);
    seen.add(fi);
    return fi;
  }));
}

/** posterior and urgent referral of one case, with the groups' scaling applied to the engine's log scores */
function scored(kb, c, groups, scale) {
  const a = assess(kb, c);
  const redFlagUrgent = a.malignancy.reasons.some((r) => r !== 'probability');
  const nE = kb.entities.length;
  const post = new Float64Array(nE);
  if (groups.length === 0) for (const d of a.differential) post[kb.entityIndex.get(d.id)] = d.probability;
  else {
    const obs = observe(kb, c);
    const logScore = computeDifferential(kb, c, obs).logScore;
    for (const g of groups) {
      const seen = obs.filter((o) => g.includes(o.finding));
      if (seen.length < 2) continue;
      const s = scale(seen.length);
      for (const o of seen) {
        const f = kb.findings[o.finding];
        const k = f.values.length;
        for (let e = 0; e < nE; e++) logScore[e] -= (1 - s) * f.logLr[e * k + o.value];
      }
    }
    softmax(logScore, post);
  }
  let malignant = 0;
  for (let e = 0; e < nE; e++) if (kb.groups[e] === 'malignant') malignant += post[e];
  return { post, urgent: redFlagUrgent || malignant >= kb.rules.thresholds.urgentReferral.value };
}

function run(kb, groups, scale) {
  let t1 = 0, t3 = 0, brier = 0, ll = 0, bu = 0, nb = 0, mu = 0, nm = 0;
  const ranks = [];
  for (const { truth, c } of cases) {
    const { post, urgent } = scored(kb, c, groups, scale);
    const ti = kb.entityIndex.get(truth);
    const p = post[ti];
    let rank = 1;
    for (let e = 0; e < post.length; e++) if (post[e] > p) rank++;
    if (rank === 1) t1++;
    if (rank <= 3) t3++;
    for (let e = 0; e < post.length; e++) brier += (post[e] - (e === ti ? 1 : 0)) ** 2;
    ll -= Math.log(Math.max(1e-15, p));
    ranks.push({ rank, p });
    if (kb.groups[ti] === 'malignant') { nm++; if (urgent) mu++; } else { nb++; if (urgent) bu++; }
  }
  const n = cases.length;
  return { top1: t1 / n, top3: t3 / n, brier: brier / n, logloss: ll / n, mu, nm, bu, nb, ranks };
}

const rows = [];
for (const gs of groupSets) for (const floor of floors) for (const w of weights) {
  const r = structuredClone(raw);
  const t = r.rules.thresholds;
  if (floor !== undefined) t.likelihoodFloor.value = floor;
  if (w !== undefined) t.evidenceWeight.value = w;
  const res = compileKnowledgeBase(r);
  if (!res.ok) throw new Error(res.problems.map((p) => `${p.file}: ${p.path}: ${p.message}`).join('\n'));
  const kb = res.kb;
  const groups = groupIndices(kb, gs);
  for (const { label: sl, scale } of (gs === 'none' ? [{ label: '-', scale: () => 1 }] : scalings)) {
    const m = run(kb, groups, scale);
    const label = `groups=${gs} floor=${t.likelihoodFloor.value} w=${t.evidenceWeight.value} ${sl}`;
    rows.push({ label, ...m });
    console.log(`${label.padEnd(56)} top1 ${(m.top1 * 100).toFixed(1)} top3 ${(m.top3 * 100).toFixed(1)} brier ${m.brier.toFixed(3)} logloss ${m.logloss.toFixed(3)} malignantUrgent ${m.mu}/${m.nm} benignUrgent ${m.bu}/${m.nb}`);
  }
}
if (perCase) {
  console.log('\nper case: rank (probability of the intended diagnosis) for each setting, in the order above');
  cases.forEach((c, i) => console.log(`${c.file.padEnd(60)} ${rows.map((r) => `${r.ranks[i].rank}(${r.ranks[i].p.toFixed(2)})`).join(' ')}`));
}
