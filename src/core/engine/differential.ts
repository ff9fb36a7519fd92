/**
 * Naive-Bayes differential over every entity of the knowledge base: demographic and
 * location-aware prior, evidence from every known finding (unknown findings skipped),
 * pathology when given, and per-entity explanations as log likelihood ratios.
 */
import type { CaseFile } from '../case-format/schema.js';
import type { KnowledgeBase } from '../knowledge/compile.js';
import type { Observation } from './findings.js';

export interface EvidenceTerm {
  /** finding id (a case-format field path, or path.member for calcification morphology) */
  finding: string;
  /** value name the case gave (for numbers, the bin) */
  value: string;
  /** likelihood ratio of the value for this entity against calcified lesions in general, after tempering */
  lr: number;
  logLr: number;
  direction: 'for' | 'against';
  /** demographic terms (age, sex, region) form the prior; the rest are evidence */
  role: 'prior' | 'evidence' | 'pathology';
  /** a finding counted given another (a dependence of the knowledge base): the other's id and value */
  given?: { finding: string; value: string };
}

export interface DifferentialState {
  /** natural-log unnormalised posterior per entity */
  logScore: Float64Array;
  /** posterior per entity (sums to 1) */
  posterior: Float64Array;
  /** prior per entity after demographics (sums to 1) */
  demographicPrior: Float64Array;
}

export function softmax(log: Float64Array, out = new Float64Array(log.length)): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < log.length; i++) if (log[i]! > max) max = log[i]!;
  let sum = 0;
  for (let i = 0; i < log.length; i++) { const v = Math.exp(log[i]! - max); out[i] = v; sum += v; }
  for (let i = 0; i < log.length; i++) out[i] = out[i]! / sum;
  return out;
}

/** The prior of the case's care setting (rules.yaml `settings`); without a setting, the entities' own priors. */
export function basePrior(kb: KnowledgeBase, c: CaseFile): Float64Array {
  return (c.setting !== undefined ? kb.settings[c.setting]?.logPrior : undefined) ?? kb.logPrior;
}

/** The malignancy probability at or above which the case goes to a sarcoma team now, in the case's care setting. */
export function referralThreshold(kb: KnowledgeBase, c: CaseFile): number {
  return (c.setting !== undefined ? kb.settings[c.setting]?.urgentReferral : undefined) ?? kb.rules.thresholds.urgentReferral.value;
}

/** The red flags that send the case to a sarcoma team on their own, in the case's care setting. */
export function urgentRedFlags(kb: KnowledgeBase, c: CaseFile): readonly string[] {
  return (c.setting !== undefined ? kb.settings[c.setting]?.urgentRedFlags : undefined) ?? kb.rules.urgentRedFlags;
}

/**
 * Where one observation's log likelihood ratios are: entity e's is table[e * stride + offset]. A finding
 * that depends on another (findings.yaml `dependsOn`) counts given the other's value when that is known.
 */
function termOf(kb: KnowledgeBase, obs: readonly Observation[], o: Observation): { table: Float64Array; stride: number; offset: number; given?: Observation } {
  const f = kb.findings[o.finding]!;
  const k = f.values.length;
  if (f.parent !== undefined) {
    const given = obs.find((x) => x.finding === f.parent);
    if (given) {
      const kp = kb.findings[f.parent]!.values.length;
      return { table: f.condLogLr!, stride: kp * k, offset: given.value * k + o.value, given };
    }
  }
  return { table: f.logLr, stride: k, offset: o.value };
}

export function computeDifferential(kb: KnowledgeBase, c: CaseFile, obs: readonly Observation[]): DifferentialState {
  const nE = kb.entities.length;
  const demo = new Float64Array(basePrior(kb, c));
  const logScore = new Float64Array(nE);
  for (const o of obs) {
    const f = kb.findings[o.finding]!;
    const { table, stride, offset } = termOf(kb, obs, o);
    const target = f.def.role === 'demographic' ? demo : logScore;
    for (let e = 0; e < nE; e++) target[e] = target[e]! + table[e * stride + offset]!;
  }
  for (let e = 0; e < nE; e++) logScore[e] = logScore[e]! + demo[e]!;
  const diag = c.pathology?.diagnosis;
  if (diag !== undefined) {
    const di = kb.entityIndex.get(diag);
    if (di !== undefined) {
      const acc = kb.rules.thresholds.pathologyAccuracy.value;
      const other = (1 - acc) / Math.max(1, nE - 1);
      for (let e = 0; e < nE; e++) logScore[e] = logScore[e]! + Math.log(e === di ? acc : other);
    }
  }
  return { logScore, posterior: softmax(logScore), demographicPrior: softmax(demo) };
}

/** The terms that raised or lowered one entity, strongest first. */
export function evidenceFor(kb: KnowledgeBase, c: CaseFile, obs: readonly Observation[], entity: number, minAbsLogLr = 0.05): EvidenceTerm[] {
  const out: EvidenceTerm[] = [];
  for (const o of obs) {
    const f = kb.findings[o.finding]!;
    const { table, stride, offset, given } = termOf(kb, obs, o);
    const logLr = table[entity * stride + offset]!;
    if (Math.abs(logLr) < minAbsLogLr) continue;
    const g = given ? kb.findings[given.finding]! : undefined;
    out.push({
      finding: f.def.id, value: f.values[o.value]!, lr: Math.exp(logLr), logLr,
      direction: logLr > 0 ? 'for' : 'against', role: f.def.role === 'demographic' ? 'prior' : 'evidence',
      ...(g && given ? { given: { finding: g.def.id, value: g.values[given.value]! } } : {}),
    });
  }
  const diag = c.pathology?.diagnosis;
  if (diag !== undefined && kb.entityIndex.has(diag)) {
    const nE = kb.entities.length;
    const acc = kb.rules.thresholds.pathologyAccuracy.value;
    const isIt = kb.entityIndex.get(diag) === entity;
    // LR against the average entity: P(report | e) / mean over entities
    const mean = (acc + (1 - acc)) / nE;
    const logLr = Math.log((isIt ? acc : (1 - acc) / Math.max(1, nE - 1)) / mean);
    out.push({ finding: 'pathology.diagnosis', value: diag, lr: Math.exp(logLr), logLr, direction: logLr > 0 ? 'for' : 'against', role: 'pathology' });
  }
  out.sort((a, b) => Math.abs(b.logLr) - Math.abs(a.logLr));
  return out;
}
