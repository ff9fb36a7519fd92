/**
 * Report helpers shared by the text, Markdown and HTML reports and the browser page: bounded
 * probabilities, the evidence a report shows (the JSON's selection), next questions with the
 * CT and MRI versions of one finding merged, and an entity's reference source.
 */
import type { Assessment, DifferentialItem } from '../core/engine/assess.js';
import type { EvidenceTerm } from '../core/engine/differential.js';
import type { NextQuestion } from '../core/engine/next-questions.js';
import type { KnowledgeBase } from '../core/knowledge/compile.js';
import { t, type Lang } from '../i18n/index.js';
import { JSON_MIN_ABS_LOG_LR } from './json.js';

export { boundedPercent, percentAgainst } from '../core/engine/bounded.js';

/**
 * The evidence terms a report shows for one entity: the same terms as the JSON `evidence`
 * (|log LR| ≥ ln 1.1), strongest first, split into the prior (age, sex, site) and the rest.
 */
export function shownEvidence(d: Pick<DifferentialItem, 'evidence'>): { prior: EvidenceTerm[]; for: EvidenceTerm[]; against: EvidenceTerm[] } {
  const terms = d.evidence.filter((e) => Math.abs(e.logLr) >= JSON_MIN_ABS_LOG_LR);
  return {
    prior: terms.filter((e) => e.role === 'prior'),
    for: terms.filter((e) => e.role !== 'prior' && e.direction === 'for'),
    against: terms.filter((e) => e.role !== 'prior' && e.direction === 'against'),
  };
}

/** One next question, with the other tests that answer the same finding (e.g. fat in the lesion on CT or MRI). */
export interface MergedQuestion extends NextQuestion { tests: string[]; alsoFindings: string[] }

const MODALITY_PREFIX = /^imaging\.(ct|mri|xray|ultrasound)\./;

/**
 * Next questions with the versions of one finding on different modalities merged into the first
 * (the most informative): imaging.ct.fatInLesion and imaging.mri.fatInLesion are one question.
 */
export function mergeNextQuestions(questions: readonly NextQuestion[]): MergedQuestion[] {
  const out: MergedQuestion[] = [];
  const byKey = new Map<string, MergedQuestion>();
  for (const q of questions) {
    const key = MODALITY_PREFIX.test(q.finding) ? `imaging.*.${q.finding.replace(MODALITY_PREFIX, '')}` : q.finding;
    const seen = byKey.get(key);
    if (seen) {
      if (!seen.tests.includes(q.test)) seen.tests.push(q.test);
      seen.alsoFindings.push(q.finding);
      continue;
    }
    const m: MergedQuestion = { ...q, tests: [q.test], alsoFindings: [] };
    byKey.set(key, m);
    out.push(m);
  }
  return out;
}

/** The question of a merged next question in the reader's language: the finding's label without "(CT)" when several tests answer it. */
export function mergedQuestionText(kb: KnowledgeBase, q: MergedQuestion, lang: Lang): string {
  const i = kb.findingIndex.get(q.finding);
  if (i === undefined) return q.finding;
  const def = kb.findings[i]!.def;
  if (q.tests.length < 2) return def.question[lang];
  const label = def.label[lang].replace(/\s*[（(][^（()）]*[)）]\s*$/, '');
  const tests = q.tests.map((x) => t(lang, `test.${x}`)).join(lang === 'zh' ? '或' : ' or ');
  return lang === 'zh' ? `${label}？（${tests}）` : `${label}? (${tests})`;
}

/** The reference source of an entity (its first cited source), for a link from its name. */
export function entitySource(kb: KnowledgeBase, id: string): { url: string; title: string } | undefined {
  const i = kb.entityIndex.get(id);
  if (i === undefined) return undefined;
  const s = kb.entities[i]!.sources[0];
  return s ? { url: s.url, title: s.title } : undefined;
}

/** Whether malignancy is excluded enough to reassure: not when the plan is an urgent referral or a sarcoma-centre review. */
export function malignancyNotExcluded(a: Pick<Assessment, 'malignancy'>): boolean {
  const k = a.malignancy.decision.kind;
  return k === 'urgent_referral' || k === 'sarcoma_centre_review';
}
