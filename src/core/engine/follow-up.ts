/**
 * Follow-up schedule: the visits of a follow-up scheme, dated from the surgery date when
 * the case gives one.
 */
import type { PlansFile } from '../knowledge/schema.js';

export type FollowUpItem = 'clinical' | 'local_imaging' | 'chest_imaging' | 'labs';
export type SchemeId = keyof PlansFile['followUpSchemes'];

export interface Visit {
  /** months after surgery (or after the assessment when no surgery date is given) */
  month: number;
  /** ISO date, when a surgery date is known */
  date?: string;
  items: FollowUpItem[];
}

/** Adds whole months to an ISO date, clamping the day to the end of a shorter month. */
export function addMonths(iso: string, months: number): string {
  const [y, m, d] = iso.split('-').map(Number) as [number, number, number];
  const total = (m - 1) + months;
  const year = y + Math.floor(total / 12);
  const month = ((total % 12) + 12) % 12;
  const last = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const day = Math.min(d, last);
  return `${String(year).padStart(4, '0')}-${String(month + 1).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

export function schedule(plans: PlansFile, scheme: SchemeId, surgeryDate?: string): Visit[] {
  const s = plans.followUpSchemes[scheme];
  if (!s) return [];
  const byMonth = new Map<number, Set<FollowUpItem>>();
  for (const seg of s.segments) {
    for (let m = seg.fromMonth + seg.everyMonths; m <= seg.toMonth; m += seg.everyMonths) {
      const set = byMonth.get(m) ?? new Set<FollowUpItem>();
      for (const it of seg.items) set.add(it);
      byMonth.set(m, set);
    }
  }
  return [...byMonth.entries()].sort((a, b) => a[0] - b[0]).map(([month, items]) => ({
    month,
    ...(surgeryDate ? { date: addMonths(surgeryDate, month) } : {}),
    items: [...items],
  }));
}
