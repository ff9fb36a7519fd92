/**
 * What the page shows of an assessment, computed from what the engine returns today: the bounded
 * probability format, the "can't miss" malignant entities, the referral decision with the red
 * flags it reconciles, the empty state and the one-paragraph summary for the record.
 *
 * ADAPTER: the engine and report branch of issue 14 (item 1) adds a bounded formatter to
 * src/report, a "can't miss" list and a decision text with a dated safety-net plan. When it
 * lands, `boundedPct`, `cantMiss` and `decisionOf` switch to it (see the notes on each);
 * the page reads only these functions.
 */
import type { Assessment } from '../../src/core/engine/assess.js';
import type { KnowledgeBase } from '../../src/core/knowledge/compile.js';
import type { Text } from '../../src/core/knowledge/schema.js';
import { t, type Lang } from '../../src/i18n/index.js';
import { entityName, questionText } from '../../src/report/describe.js';
import { getPath } from './fields.js';

/**
 * A probability for display, never "0 %" or "100 %": "< 1 %", "> 99 %", else whole percent.
 * (switch to the bounded formatter of src/report once merged)
 */
export function boundedPct(p: number): string {
  const v = p * 100;
  if (v < 1) return '< 1 %';
  if (v > 99) return '> 99 %';
  return `${Math.round(v)} %`;
}

/**
 * The malignant entities, most probable first, whatever their rank in the differential
 * (switch to the engine's cantMiss list once merged).
 */
export function cantMiss(kb: KnowledgeBase, a: Assessment, n = 3): Array<{ id: string; probability: number }> {
  const fromEngine = (a as Assessment & { cantMiss?: Array<{ id: string; probability: number }> }).cantMiss;
  if (Array.isArray(fromEngine)) return fromEngine.slice(0, n);
  return a.differential.filter((d) => d.group === 'malignant').slice(0, n).map((d) => ({ id: d.id, probability: d.probability }));
}

export interface Decision {
  urgent: boolean;
  /** the decision in one line */
  headline: string;
  /** why: one sentence that reconciles the decision with the red flags */
  reason: string;
  /** the red flags of the case (their texts) */
  redFlags: string[];
  /** safety advice that belongs to the decision (the engine's safety rules of warning/critical severity) */
  safetyNet: string[];
}

/**
 * The referral decision, its reason and the red flags next to it.
 * (once merged, the engine's decision text — `a.decision.text` — replaces the reason built here,
 * and its dated safety-net plan the `safetyNet` lines)
 */
export function decisionOf(kb: KnowledgeBase, a: Assessment, lang: Lang): Decision {
  const redFlags = a.redFlags.map((r) => r.text[lang]);
  const urgent = a.malignancy.urgentReferral;
  const p = boundedPct(a.malignancy.probability);
  const threshold = boundedPct(a.malignancy.threshold);
  const sep = lang === 'zh' ? '、' : ', ';
  const engine = (a as Assessment & { decision?: { text?: Text } }).decision?.text;
  let reason: string;
  if (engine) reason = engine[lang];
  else if (urgent) {
    const byFlag = a.redFlags.filter((r) => a.malignancy.reasons.includes(r.id)).map((r) => r.text[lang]);
    reason = [
      a.malignancy.reasons.includes('probability') ? t(lang, 'web.decision.byProbability', { p, t: threshold }) : '',
      byFlag.length ? t(lang, 'web.decision.byFlag', { flags: byFlag.join(sep) }) : '',
    ].filter(Boolean).join(' ');
  } else if (redFlags.length) {
    const referring = kb.rules.urgentRedFlags.map((id) => kb.rules.redFlags.find((f) => f.id === id)?.text[lang]).filter((x): x is string => !!x)
      .map((x) => (lang === 'en' ? x.charAt(0).toLowerCase() + x.slice(1) : x));
    reason = t(lang, 'web.decision.flagsNotReferring', { count: redFlags.length, p, t: threshold, referring: referring.join(lang === 'zh' ? '或' : ' or ') });
  } else reason = t(lang, 'web.decision.belowThreshold', { p, t: threshold });
  const safetyNet = a.safety.filter((s) => s.severity !== 'info').map((s) => s.text[lang]);
  return { urgent, headline: t(lang, urgent ? 'web.urgent' : 'web.notUrgent'), reason, redFlags, safetyNet };
}

/** Fields that make an assessment worth showing: where and how large, and the pattern. */
export const KEY_PATHS = ['lesion.region', 'lesion.depth', 'lesion.sizeCm', 'imaging.calcification.morphology', 'imaging.calcification.morphologyAbsent'] as const;

/**
 * True while the form holds no real finding: none of region, depth, size or pattern, no
 * pathology, and no red flag of the case itself (the "not characterised" flag is the empty
 * differential's, not a finding). The page then asks for them instead of raising an alarm.
 */
export function isEmptyCase(caseDoc: Record<string, unknown>, a: Assessment): boolean {
  if (KEY_PATHS.some((p) => getPath(caseDoc, p) !== undefined)) return false;
  if (getPath(caseDoc, 'pathology.diagnosis') !== undefined) return false;
  return !a.redFlags.some((r) => r.id !== 'indeterminate');
}

/** The one-paragraph summary for the record (the "copy result" button). */
export function summaryParagraph(kb: KnowledgeBase, a: Assessment, lang: Lang, date = new Date()): string {
  const name = (id: string): string => entityName(kb, id, lang);
  const lead = a.differential[0]!;
  const d = decisionOf(kb, a, lang);
  const sep = lang === 'zh' ? '；' : '; ';
  const cm = cantMiss(kb, a).map((x) => `${name(x.id)} ${boundedPct(x.probability)}`).join(lang === 'zh' ? '，' : ', ');
  const q = a.nextQuestions[0];
  const next = d.safetyNet[0] !== undefined ? t(lang, 'web.copy.next', { next: d.safetyNet[0] })
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
