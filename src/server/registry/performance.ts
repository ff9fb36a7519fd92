/**
 * Local performance: the figures of `calcdx eval` (src/eval/evaluate.ts, the same function)
 * over this site's lesions with a recorded outcome, beside the same figures on the published
 * cases (eval/cases), and the site's observed case mix against the knowledge base's priors.
 * It shows; it changes no probability.
 *
 * Each lesion counts once: its last assessment made on or before the outcome date (the store's
 * performanceInputs), re-assessed with the server's knowledge base from the stored case, as
 * `calcdx eval` does for a case file. Outcomes naming an entity the knowledge base does not
 * have, and stored cases that no longer validate, are counted as excluded.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KnowledgeBase } from '../../core/knowledge/compile.js';
import { readEvalFolder } from '../../eval/cases.js';
import { evaluate, type EvalReport, type LabelledCase } from '../../eval/evaluate.js';
import { toCase } from '../../io/case-file.js';
import type { RegistryStore } from '../../registry/store.js';

export const PUBLISHED_CASES = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'eval', 'cases');

/** the figures shown for one set of cases */
export function figures(r: EvalReport) {
  return {
    n: r.metrics.n,
    top1: r.intervals.top1,
    top3: r.intervals.top3,
    brier: r.metrics.brier,
    logLoss: r.metrics.logLoss,
    baseline: r.baseline,
    reliability: r.reliability,
    malignantReferred: { k: r.safety.urgentReferred, n: r.safety.malignantCases, rate: r.safety.urgentRate },
    benignReferred: { k: r.safety.benignUrgent, n: r.safety.benignCases, rate: r.safety.benignUrgentRate },
    malignancyAuc: r.safety.malignancyAuc ?? null,
  };
}
export type Figures = ReturnType<typeof figures>;

export interface PerformanceReport {
  site: Figures | null;
  /** lesions with an outcome left out, and why */
  excluded: { unknownEntity: number; caseInvalid: number };
  published: Figures | null;
  caseMix: Array<{ entity: string; observed: number; observedShare: number; prior: number }>;
}

export function createPerformance(kb: KnowledgeBase, store: RegistryStore, publishedDir = PUBLISHED_CASES) {
  let published: Figures | null | undefined;
  const publishedFigures = (): Figures | null => {
    if (published === undefined) published = existsSync(publishedDir) ? figures(evaluate(kb, readEvalFolder(publishedDir))) : null;
    return published;
  };
  return async (): Promise<PerformanceReport> => {
    const inputs = await store.performanceInputs();
    const cases: LabelledCase[] = [];
    const excluded = { unknownEntity: 0, caseInvalid: 0 };
    for (const p of inputs) {
      if (!kb.entityIndex.has(p.outcome.entity)) { excluded.unknownEntity++; continue; }
      const a = await store.getAssessment(p.assessment.id);
      let c;
      try { c = toCase(a.caseInput, 'registry'); } catch { excluded.caseInvalid++; continue; }
      cases.push({
        file: p.assessment.id, case: c, finalDiagnosis: p.outcome.entity,
        confirmedBy: p.outcome.confirmedBy === 'follow_up' ? 'follow-up' : p.outcome.confirmedBy,
        source: { url: `urn:calcdx:assessment:${p.assessment.id}`, title: 'registry' },
      });
    }
    const counts = new Map<string, number>();
    for (const c of cases) counts.set(c.finalDiagnosis, (counts.get(c.finalDiagnosis) ?? 0) + 1);
    const priorSum = kb.entities.reduce((s, e) => s + e.prior.weight, 0);
    const caseMix = kb.entities.map((e) => ({
      entity: e.id, observed: counts.get(e.id) ?? 0, observedShare: cases.length ? (counts.get(e.id) ?? 0) / cases.length : 0, prior: e.prior.weight / priorSum,
    }));
    return { site: cases.length ? figures(evaluate(kb, cases)) : null, excluded, published: publishedFigures(), caseMix };
  };
}
