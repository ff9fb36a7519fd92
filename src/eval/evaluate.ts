/**
 * Measures the engine on labelled cases: rank of the true diagnosis, top-k accuracy, mean
 * reciprocal rank, Brier score and log loss against the always-the-prior baseline, a
 * reliability table, per-entity accuracy, a confusion matrix, malignant-case safety and
 * benign urgent referrals, and an ablation by what is known (demographics, X-ray, CT, all).
 * Pure: takes the knowledge base and the parsed cases.
 */
import type { CaseFile } from '../core/case-format/schema.js';
import { assess } from '../core/engine/assess.js';
import { knownFindingCount, observe } from '../core/engine/findings.js';
import type { KnowledgeBase } from '../core/knowledge/compile.js';
import { decide, type AnchorDecision, type AnchorRule } from './anchors.js';
import type { SplitSet } from './split.js';
import { rocAuc, rocCurve, wilson, type RocPoint } from './stats.js';

export interface LabelledCase {
  file: string;
  case: CaseFile;
  finalDiagnosis: string;
  confirmedBy: 'histology' | 'clinical' | 'follow-up';
  source: { url: string; title: string };
}

export interface CaseResult {
  file: string;
  truth: string;
  group: string;
  rank: number;
  probability: number;
  top: Array<{ id: string; probability: number }>;
  malignancyProbability: number;
  urgentReferral: boolean;
  redFlags: string[];
  flaggedAsPossiblyMalignant: boolean;
  /** findings beyond age, sex and site */
  findingsKnown: number;
  /** the half of the split the case is in, when a split is given */
  set?: SplitSet;
  /** urgent referral by the engine given no finding at all (its prior; the case's setting kept) */
  priorOnlyReferral: boolean;
  /** each guideline rule's decision, by rule id */
  anchors: Record<string, AnchorDecision>;
}

/** one referral strategy on a set of cases: malignant and non-malignant cases referred */
export interface ReferralRow {
  id: string;
  /** short name, for tables and plot legends */
  label: string;
  kind: 'calcdx' | 'prior_only' | 'guideline';
  /** malignant cases referred (sensitivity), with its Wilson interval */
  malignant: Proportion;
  /** non-malignant cases referred (1 - specificity): benign, non-neoplastic and intermediate */
  benign: Proportion;
  /** guideline rules: cases whose decision a field the case does not give decided */
  decidedByUnknown?: { malignant: number; benign: number };
}

/** the headline figures of one set of cases (all, development, holdout) */
export interface SetReport {
  set: 'all' | SplitSet;
  n: number;
  top1: Proportion;
  top3: Proportion;
  malignancyAuc?: number;
  referral: ReferralRow[];
  /** ROC curve of calcdx's malignancy probability, malignant vs other cases */
  roc: RocPoint[];
}

export interface Metrics {
  n: number;
  top1: number;
  top3: number;
  top5: number;
  mrr: number;
  brier: number;
  logLoss: number;
}

/** a count out of n with its 95 % Wilson interval */
export interface Proportion { k: number; n: number; rate: number; low: number; high: number }

export interface EvalReport {
  cases: CaseResult[];
  metrics: Metrics;
  /** 95 % Wilson intervals of the main proportions */
  intervals: { top1: Proportion; top3: Proportion; top5: Proportion; malignantFlagged: Proportion; benignUrgent: Proportion };
  baseline: { brier: number; logLoss: number; top1: number; top3: number };
  reliability: Array<{ from: number; to: number; count: number; meanPredicted: number; observed: number }>;
  topConfidence: Array<{ from: number; to: number; count: number; meanConfidence: number; accuracy: number }>;
  perEntity: Array<{ id: string; n: number; top1: number; top3: number; meanRank: number }>;
  confusion: { labels: string[]; matrix: number[][] };
  safety: {
    malignantCases: number;
    flagged: number;
    flaggedRate: number;
    urgentReferred: number;
    urgentRate: number;
    missed: string[];
    benignCases: number;
    benignUrgent: number;
    benignUrgentRate: number;
    /** benign / non-malignant cases flagged as possibly malignant (a red flag or the probability) without urgent referral included */
    benignFlagged: number;
    benignFlaggedRate: number;
    /**
     * the same without intermediate tumours (locally aggressive or rarely metastasising), whose
     * place is with a sarcoma team: benign and non-neoplastic cases only
     */
    strictlyBenignCases: number;
    strictlyBenignUrgent: number;
    strictlyBenignUrgentRate: number;
    threshold: number;
    /** how well the malignancy probability separates malignant from other cases (ROC area) */
    malignancyAuc?: number;
  };
  ablation: Array<{ id: AblationId; metrics: Metrics }>;
  byConfirmation: Array<{ confirmedBy: string; n: number; top1: number; top3: number }>;
  /** accuracy by how much the case tells: findings beyond age, sex and site (a list counts once) */
  byFindingsKnown: Array<{ label: string; from: number; to: number; n: number; top1: number; top3: number }>;
  /** the guideline rules reported beside calcdx, as evaluated */
  anchorRules: AnchorRule[];
  /** all cases, then the development and holdout halves when a split is given */
  sets: SetReport[];
}

export interface EvaluateOptions {
  bins?: number;
  anchors?: readonly AnchorRule[];
  /** the half of each case file; cases it does not name are left out of both halves */
  split?: ReadonlyMap<string, SplitSet>;
}

/** bands of findings known beyond age, sex and site */
export const FINDING_BANDS: ReadonlyArray<{ from: number; to: number }> = [{ from: 0, to: 2 }, { from: 3, to: 5 }, { from: 6, to: 9 }, { from: 10, to: Infinity }];

export type AblationId = 'demographics' | 'xray' | 'ct' | 'everything';

const DEMOGRAPHIC = (c: CaseFile): CaseFile => ({
  formatVersion: 1,
  ...(c.patient ? { patient: c.patient } : {}),
  ...(c.lesion?.region ? { lesion: { region: c.lesion.region } } : {}),
});

/** What the case would hold if only one modality had been done (plus the demographics). */
export const ABLATIONS: Record<AblationId, (c: CaseFile) => CaseFile> = {
  demographics: DEMOGRAPHIC,
  xray: (c) => ({
    ...DEMOGRAPHIC(c),
    ...(c.imaging?.calcification || c.imaging?.xray ? {
      imaging: { ...(c.imaging.calcification ? { calcification: c.imaging.calcification } : {}), ...(c.imaging.xray ? { xray: c.imaging.xray } : {}) },
    } : {}),
  }),
  ct: (c) => ({
    ...DEMOGRAPHIC(c),
    ...(c.imaging?.calcification || c.imaging?.ct ? {
      imaging: { ...(c.imaging.calcification ? { calcification: c.imaging.calcification } : {}), ...(c.imaging.ct ? { ct: c.imaging.ct } : {}) },
    } : {}),
  }),
  everything: (c) => c,
};

const EPS = 1e-15;

function metricsOf(kb: KnowledgeBase, cases: LabelledCase[], project: (c: CaseFile) => CaseFile): Metrics {
  let top1 = 0, top3 = 0, top5 = 0, rr = 0, brier = 0, logLoss = 0;
  for (const lc of cases) {
    const a = assess(kb, project(lc.case));
    const rank = a.differential.findIndex((d) => d.id === lc.finalDiagnosis) + 1;
    if (rank === 1) top1++;
    if (rank <= 3) top3++;
    if (rank <= 5) top5++;
    rr += 1 / rank;
    for (const d of a.differential) brier += (d.probability - (d.id === lc.finalDiagnosis ? 1 : 0)) ** 2;
    logLoss -= Math.log(Math.max(EPS, a.differential[rank - 1]!.probability));
  }
  const n = cases.length || 1;
  return { n: cases.length, top1: top1 / n, top3: top3 / n, top5: top5 / n, mrr: rr / n, brier: brier / n, logLoss: logLoss / n };
}

const proportion = (k: number, total: number): Proportion => {
  const [low, high] = wilson(k, total);
  return { k, n: total, rate: total ? k / total : 0, low, high };
};

/** calcdx, the prior-only baseline and each guideline rule on a set of case results */
export function setReport(set: SetReport['set'], rs: readonly CaseResult[], anchors: readonly AnchorRule[]): SetReport {
  const malignant = rs.filter((r) => r.group === 'malignant');
  const benign = rs.filter((r) => r.group !== 'malignant');
  const row = (id: string, label: string, kind: ReferralRow['kind'], refer: (r: CaseResult) => boolean): ReferralRow => ({
    id, label, kind, malignant: proportion(malignant.filter(refer).length, malignant.length), benign: proportion(benign.filter(refer).length, benign.length),
  });
  const auc = rocAuc(malignant.map((r) => r.malignancyProbability), benign.map((r) => r.malignancyProbability));
  return {
    set,
    n: rs.length,
    top1: proportion(rs.filter((r) => r.rank === 1).length, rs.length),
    top3: proportion(rs.filter((r) => r.rank <= 3).length, rs.length),
    ...(auc !== undefined ? { malignancyAuc: auc } : {}),
    referral: [
      row('calcdx', 'calcdx urgent referral', 'calcdx', (r) => r.urgentReferral),
      row('prior_only', 'prior only (no finding)', 'prior_only', (r) => r.priorOnlyReferral),
      ...anchors.map((a) => ({
        ...row(a.id, a.label, 'guideline', (r) => r.anchors[a.id]!.refer),
        decidedByUnknown: { malignant: malignant.filter((r) => r.anchors[a.id]!.decidedByUnknown).length, benign: benign.filter((r) => r.anchors[a.id]!.decidedByUnknown).length },
      })),
    ],
    roc: rocCurve(malignant.map((r) => r.malignancyProbability), benign.map((r) => r.malignancyProbability)),
  };
}

export function evaluate(kb: KnowledgeBase, cases: LabelledCase[], opts: EvaluateOptions = {}): EvalReport {
  const bins = opts.bins ?? 10;
  const anchors = opts.anchors ?? [];
  const nE = kb.entities.length;
  const ids = kb.entities.map((e) => e.id);
  const results: CaseResult[] = [];
  const rel = Array.from({ length: bins }, () => ({ count: 0, sumP: 0, hits: 0 }));
  const conf = Array.from({ length: bins }, () => ({ count: 0, sumP: 0, hits: 0 }));
  const confusion = Array.from({ length: nE }, () => new Array<number>(nE).fill(0));
  // the default threshold, reported; each case is judged against its own (its setting's) threshold
  const threshold = kb.rules.thresholds.urgentReferral.value;

  for (const lc of cases) {
    const a = assess(kb, lc.case);
    const rank = a.differential.findIndex((d) => d.id === lc.finalDiagnosis) + 1;
    const group = kb.entities[kb.entityIndex.get(lc.finalDiagnosis)!]!.group;
    const flagged = a.malignancy.urgentReferral || a.malignancy.probability >= a.malignancy.threshold || a.redFlags.length > 0;
    const set = opts.split?.get(lc.file);
    const priorOnly = assess(kb, { formatVersion: 1, ...(lc.case.setting ? { setting: lc.case.setting } : {}) });
    results.push({
      file: lc.file, truth: lc.finalDiagnosis, group, rank, probability: a.differential[rank - 1]!.probability,
      top: a.differential.slice(0, 3).map((d) => ({ id: d.id, probability: d.probability })),
      malignancyProbability: a.malignancy.probability, urgentReferral: a.malignancy.urgentReferral,
      redFlags: a.redFlags.map((r) => r.id), flaggedAsPossiblyMalignant: flagged,
      findingsKnown: knownFindingCount(kb, observe(kb, lc.case)),
      ...(set ? { set } : {}),
      priorOnlyReferral: priorOnly.malignancy.urgentReferral,
      anchors: Object.fromEntries(anchors.map((rule) => [rule.id, decide(rule, lc.case)])),
    });
    for (const d of a.differential) {
      const b = Math.min(bins - 1, Math.floor(d.probability * bins));
      rel[b]!.count++;
      rel[b]!.sumP += d.probability;
      if (d.id === lc.finalDiagnosis) rel[b]!.hits++;
    }
    const top = a.differential[0]!;
    const cb = Math.min(bins - 1, Math.floor(top.probability * bins));
    conf[cb]!.count++;
    conf[cb]!.sumP += top.probability;
    if (top.id === lc.finalDiagnosis) conf[cb]!.hits++;
    confusion[kb.entityIndex.get(lc.finalDiagnosis)!]![kb.entityIndex.get(top.id)!]!++;
  }

  // baseline: always predict the (base) prior
  const prior = kb.entities.map((e) => e.prior.weight);
  const pSum = prior.reduce((x, y) => x + y, 0);
  const pr = prior.map((w) => w / pSum);
  const priorOrder = [...ids.keys()].sort((x, y) => pr[y]! - pr[x]!);
  let bBrier = 0, bLog = 0, bTop1 = 0, bTop3 = 0;
  for (const lc of cases) {
    const ti = kb.entityIndex.get(lc.finalDiagnosis)!;
    for (let e = 0; e < nE; e++) bBrier += (pr[e]! - (e === ti ? 1 : 0)) ** 2;
    bLog -= Math.log(Math.max(EPS, pr[ti]!));
    const r = priorOrder.indexOf(ti) + 1;
    if (r === 1) bTop1++;
    if (r <= 3) bTop3++;
  }
  const n = cases.length || 1;

  /** n, top-1 and top-3 of a subset of the cases */
  const accuracyOf = (rs: CaseResult[]) => {
    const m = rs.length || 1;
    return { n: rs.length, top1: rs.filter((r) => r.rank === 1).length / m, top3: rs.filter((r) => r.rank <= 3).length / m };
  };
  const perEntity = ids.map((id) => {
    const rs = results.filter((r) => r.truth === id);
    return { id, ...accuracyOf(rs), meanRank: rs.reduce((s, r) => s + r.rank, 0) / (rs.length || 1) };
  }).filter((x) => x.n > 0);

  const malignant = results.filter((r) => r.group === 'malignant');
  const benign = results.filter((r) => r.group !== 'malignant');
  const strictlyBenign = benign.filter((r) => r.group !== 'intermediate');
  const byConfirmation = ['histology', 'clinical', 'follow-up']
    .map((cb) => ({ confirmedBy: cb, ...accuracyOf(results.filter((_, i) => cases[i]!.confirmedBy === cb)) }))
    .filter((x) => x.n > 0);

  const byFindingsKnown = FINDING_BANDS
    .map(({ from, to }) => ({ label: to === Infinity ? `${from}+` : `${from}-${to}`, from, to, ...accuracyOf(results.filter((r) => r.findingsKnown >= from && r.findingsKnown <= to)) }))
    .filter((x) => x.n > 0);
  const metrics = metricsOf(kb, cases, ABLATIONS.everything);
  const count = (pred: (r: CaseResult) => boolean, rs: CaseResult[] = results) => rs.filter(pred).length;
  // counted once, reported in the safety block and with their intervals
  const malignantFlagged = count((r) => r.flaggedAsPossiblyMalignant, malignant);
  const benignUrgent = count((r) => r.urgentReferral, benign);
  const auc = rocAuc(malignant.map((r) => r.malignancyProbability), benign.map((r) => r.malignancyProbability));
  return {
    cases: results,
    metrics,
    intervals: {
      top1: proportion(count((r) => r.rank === 1), results.length),
      top3: proportion(count((r) => r.rank <= 3), results.length),
      top5: proportion(count((r) => r.rank <= 5), results.length),
      malignantFlagged: proportion(malignantFlagged, malignant.length),
      benignUrgent: proportion(benignUrgent, benign.length),
    },
    baseline: { brier: bBrier / n, logLoss: bLog / n, top1: bTop1 / n, top3: bTop3 / n },
    reliability: rel.map((b, i) => ({ from: i / bins, to: (i + 1) / bins, count: b.count, meanPredicted: b.count ? b.sumP / b.count : 0, observed: b.count ? b.hits / b.count : 0 })),
    topConfidence: conf.map((b, i) => ({ from: i / bins, to: (i + 1) / bins, count: b.count, meanConfidence: b.count ? b.sumP / b.count : 0, accuracy: b.count ? b.hits / b.count : 0 })),
    perEntity,
    confusion: { labels: ids, matrix: confusion },
    safety: {
      malignantCases: malignant.length,
      flagged: malignantFlagged,
      flaggedRate: malignant.length ? malignantFlagged / malignant.length : 1,
      urgentReferred: malignant.filter((r) => r.urgentReferral).length,
      urgentRate: malignant.length ? malignant.filter((r) => r.urgentReferral).length / malignant.length : 1,
      missed: malignant.filter((r) => !r.flaggedAsPossiblyMalignant).map((r) => r.file),
      benignCases: benign.length,
      benignUrgent,
      benignUrgentRate: benign.length ? benignUrgent / benign.length : 0,
      strictlyBenignCases: strictlyBenign.length,
      strictlyBenignUrgent: strictlyBenign.filter((r) => r.urgentReferral).length,
      strictlyBenignUrgentRate: strictlyBenign.length ? strictlyBenign.filter((r) => r.urgentReferral).length / strictlyBenign.length : 0,
      benignFlagged: benign.filter((r) => r.flaggedAsPossiblyMalignant).length,
      benignFlaggedRate: benign.length ? benign.filter((r) => r.flaggedAsPossiblyMalignant).length / benign.length : 0,
      threshold,
      ...(auc !== undefined ? { malignancyAuc: auc } : {}),
    },
    ablation: (Object.keys(ABLATIONS) as AblationId[]).map((id) => ({ id, metrics: id === 'everything' ? metrics : metricsOf(kb, cases, ABLATIONS[id]) })),
    byConfirmation,
    byFindingsKnown,
    anchorRules: [...anchors],
    sets: [
      setReport('all', results, anchors),
      ...(opts.split ? (['development', 'holdout'] as const).map((h) => setReport(h, results.filter((r) => r.set === h), anchors)) : []),
    ],
  };
}
