/**
 * What the page shows of an assessment: the bounded probability format, the "can't miss"
 * malignant entities, the referral decision with the red flags it reconciles, the empty state and
 * the one-paragraph summary for the record. The decision, its reason and its dated plan are the
 * engine's (`malignancy.decision`), worded by the reports' code, so the page, the reports and the
 * JSON say the same thing.
 */
import type { Assessment } from '../../../../src/core/engine/assess.js';
import type { KnowledgeBase } from '../../../../src/core/knowledge/compile.js';
import { t, type Lang } from '../../../../src/i18n/index.js';
import { nextStepText } from '../../../../src/report/build.js';
import { entityName, questionText } from '../../../../src/report/describe.js';
import { boundedPercent } from '../../../../src/report/format.js';
import { getPath } from './fields.js';

/** A probability for display, never "0 %" or "100 %": the reports' bounded format ("< 1%", "> 99%"). */
export function boundedPct(p: number): string {
  return boundedPercent(p);
}

/** The malignant entities, most probable first, whatever their rank in the differential (the engine's cantMiss). */
export function cantMiss(_kb: KnowledgeBase, a: Assessment, n = 3): Array<{ id: string; probability: number }> {
  return a.cantMiss.slice(0, n).map((x) => ({ id: x.id, probability: x.probability }));
}

export interface Decision {
  urgent: boolean;
  /** the decision in one line */
  headline: string;
  /** why: one sentence that reconciles the decision with the red flags */
  reason: string;
  /** the red flags of the case (their texts) */
  redFlags: string[];
  /** the dated next step first, then the safety advice of warning/critical severity */
  safetyNet: string[];
}

/** The referral decision, its reason, its dated next step and the red flags next to it. */
export function decisionOf(kb: KnowledgeBase, a: Assessment, lang: Lang): Decision {
  const redFlags = a.redFlags.map((r) => r.text[lang]);
  const urgent = a.malignancy.urgentReferral;
  const reason = a.malignancy.decision.reason[lang];
  const next = nextStepText(kb, a, lang);
  const safetyNet = [next, ...a.safety.filter((s) => s.severity !== 'info').map((s) => s.text[lang])].filter(Boolean);
  return { urgent, headline: t(lang, urgent ? 'web.urgent' : 'web.notUrgent'), reason, redFlags, safetyNet };
}

/** Fields that make an assessment worth showing: where and how large, and the pattern. */
export const KEY_PATHS = ['lesion.region', 'lesion.depth', 'lesion.sizeCm', 'imaging.calcification.morphology', 'imaging.calcification.morphologyAbsent'] as const;

/**
 * True while the form holds no real finding: none of region, depth, size or pattern, no
 * pathology, and no red flag of the case itself (the "not characterised" flags are the
 * differential's, not findings). The page then asks for them instead of raising an alarm.
 */
const DIFFERENTIAL_FLAGS: readonly string[] = ['indeterminate', 'uncharacterised_tumour'];
export function isEmptyCase(caseDoc: Record<string, unknown>, a: Assessment): boolean {
  if (KEY_PATHS.some((p) => getPath(caseDoc, p) !== undefined)) return false;
  if (getPath(caseDoc, 'pathology.diagnosis') !== undefined) return false;
  return !a.redFlags.some((r) => !DIFFERENTIAL_FLAGS.includes(r.id));
}

/** The one-paragraph summary for the record (the "copy result" button). */
export function summaryParagraph(kb: KnowledgeBase, a: Assessment, lang: Lang, date = new Date()): string {
  const name = (id: string): string => entityName(kb, id, lang);
  const lead = a.differential[0]!;
  const d = decisionOf(kb, a, lang);
  const sep = lang === 'zh' ? '；' : '; ';
  const cm = cantMiss(kb, a).map((x) => `${name(x.id)} ${boundedPct(x.probability)}`).join(lang === 'zh' ? '，' : ', ');
  const q = a.nextQuestions[0];
  const plan = a.malignancy.decision;
  // the reason may already carry the dated plan (re-imaging between two dates): not said twice
  const planInReason = plan.reimageBy !== undefined && d.reason.includes(plan.reimageBy);
  const next = planInReason ? ''
    : d.safetyNet[0] !== undefined ? t(lang, 'web.copy.next', { next: d.safetyNet[0] })
    : q ? t(lang, 'web.copy.nextQuestion', { q: questionText(kb, q.finding, lang) })
      : a.workup[0] ? t(lang, 'web.copy.next', { next: a.workup[0].text[lang] }) : '';
  const parts = [
    t(lang, 'web.copy.intro', { date: date.toISOString().slice(0, 10) }),
    t(lang, 'web.copy.lead', { name: name(lead.id), p: boundedPct(lead.probability) }),
    t(lang, 'web.copy.malignancy', { p: boundedPct(a.malignancy.probability), list: cm }),
    t(lang, 'web.copy.decision', { decision: d.headline, reason: d.reason }),
    d.redFlags.length ? t(lang, 'web.copy.redFlags', { list: d.redFlags.join(sep) }) : t(lang, 'web.copy.noRedFlags'),
    ...d.safetyNet.slice(1),
    next,
  ];
  return parts.filter(Boolean).map((x) => (/[.。!?！？]$/.test(x) ? x : `${x}${lang === 'zh' ? '。' : '.'}`)).join(lang === 'zh' ? '' : ' ');
}
