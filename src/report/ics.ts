/**
 * Follow-up visits as an iCalendar file (RFC 5545), one all-day event per visit.
 */
import { createEvents, type EventAttributes } from 'ics';
import type { Assessment } from '../core/engine/assess.js';
import type { KnowledgeBase } from '../core/knowledge/compile.js';
import { t, type Lang } from '../i18n/index.js';

export function followUpIcs(kb: KnowledgeBase, a: Assessment, lang: Lang): { ok: true; ics: string; count: number } | { ok: false; reason: 'no_surgery_date' | 'no_visits' | 'ics_error'; detail?: string } {
  if (!a.followUp.surgeryDate) return { ok: false, reason: 'no_surgery_date' };
  const dated = a.followUp.visits.filter((v) => v.date).map((v) => ({ date: v.date!, month: v.month, items: v.items, uid: `calcdx-followup-${v.date}-m${v.month}@calcdx` }));
  if (!dated.length) return { ok: false, reason: 'no_visits' };
  return visitsIcs(kb, dated, a.followUp.watchFor[lang], lang);
}

export interface IcsVisit { date: string; month: number; items: readonly string[]; uid: string }

/** One all-day event per visit (the registry's planned visits, or an assessment's). */
export function visitsIcs(kb: KnowledgeBase, visits: readonly IcsVisit[], watchFor: string | undefined, lang: Lang): { ok: true; ics: string; count: number } | { ok: false; reason: 'no_visits' | 'ics_error'; detail?: string } {
  if (!visits.length) return { ok: false, reason: 'no_visits' };
  const title = lang === 'zh' ? '软组织肿瘤随访' : 'Soft-tissue tumour follow-up';
  const events: EventAttributes[] = visits.map((v) => {
    const [y, m, d] = v.date.split('-').map(Number) as [number, number, number];
    const end = new Date(Date.UTC(y, m - 1, d + 1));
    const items: Partial<Record<string, { en: string; zh: string }>> = kb.plans.followUpItems;
    const what = v.items.map((i) => items[i]?.[lang] ?? t(lang, `followItem.${i}`)).join(lang === 'zh' ? '；' : '; ');
    return {
      uid: v.uid,
      start: [y, m, d],
      end: [end.getUTCFullYear(), end.getUTCMonth() + 1, end.getUTCDate()],
      title: `${title} (${t(lang, 'report.month', { m: v.month })})`,
      description: `${what}${watchFor ? `\n${t(lang, 'report.watchFor')}: ${watchFor}` : ''}\n\n${kb.plans.disclaimer[lang]}`,
      productId: 'calcdx',
      calName: title,
      transp: 'TRANSPARENT',
    };
  });
  const r = createEvents(events);
  if (r.error || !r.value) return { ok: false, reason: 'ics_error', detail: r.error?.message ?? 'unknown' };
  return { ok: true, ics: r.value, count: visits.length };
}
