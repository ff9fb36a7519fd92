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
  return monthsAfter(Number(iso.slice(0, 4)), Number(iso.slice(5, 7)), Number(iso.slice(8, 10)), months);
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

function monthsAfter(y: number, m: number, d: number, months: number): string {
  const total = (m - 1) + months;
  const year = y + Math.floor(total / 12);
  const month = ((total % 12) + 12) % 12;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const last = month === 1 && leap ? 29 : DAYS[month]!;
  return `${String(year).padStart(4, '0')}-${pad2(month + 1)}-${pad2(Math.min(d, last))}`;
}

/** The visit months of each scheme, computed once per plans object. */
const planned = new WeakMap<PlansFile, Map<SchemeId, ReadonlyArray<{ month: number; items: FollowUpItem[] }>>>();

function visitsOf(plans: PlansFile, scheme: SchemeId): ReadonlyArray<{ month: number; items: FollowUpItem[] }> {
  let byScheme = planned.get(plans);
  if (!byScheme) { byScheme = new Map(); planned.set(plans, byScheme); }
  let visits = byScheme.get(scheme);
  if (!visits) {
    const s = plans.followUpSchemes[scheme];
    const byMonth = new Map<number, Set<FollowUpItem>>();
    for (const seg of s?.segments ?? []) {
      for (let m = seg.fromMonth + seg.everyMonths; m <= seg.toMonth; m += seg.everyMonths) {
        const set = byMonth.get(m) ?? new Set<FollowUpItem>();
        for (const it of seg.items) set.add(it);
        byMonth.set(m, set);
      }
    }
    visits = [...byMonth.entries()].sort((a, b) => a[0] - b[0]).map(([month, items]) => ({ month, items: [...items] }));
    byScheme.set(scheme, visits);
  }
  return visits;
}

export function schedule(plans: PlansFile, scheme: SchemeId, surgeryDate?: string): Visit[] {
  const visits = visitsOf(plans, scheme);
  if (!surgeryDate) return visits.map((v) => ({ month: v.month, items: v.items }));
  const y = Number(surgeryDate.slice(0, 4));
  const m = Number(surgeryDate.slice(5, 7));
  const d = Number(surgeryDate.slice(8, 10));
  return visits.map((v) => ({ month: v.month, date: monthsAfter(y, m, d, v.month), items: v.items }));
}
