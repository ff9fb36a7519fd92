/**
 * Follow-up visits in the registry: their dates from an assessment's followUp, and their
 * status on a given day. Pure functions (the store and the tests share them).
 *
 * A visit is due from windowStart (dueDate − windowDays) to windowEnd (dueDate + windowDays)
 * inclusive, overdue after windowEnd, planned before windowStart; done and cancelled are
 * recorded states. For an open visit the status only moves forward in time:
 * planned → due → overdue.
 */
import { addDays } from '../core/engine/dates.js';
import { addMonths } from '../core/engine/follow-up.js';
import type { Visit, VisitStatus } from './schema.js';

/**
 * ± days around the due date in which a visit is on time. Expert choice: the scheme's
 * intervals are 3 to 12 months, and a clinic books imaging a few weeks ahead; two weeks
 * either side keeps a 3-monthly visit inside its interval.
 */
export const DEFAULT_WINDOW_DAYS = 14;
/** the widest window a plan may set (schema.ts planInput.windowDays) */
export const MAX_WINDOW_DAYS = 180;

export function visitStatus(v: Pick<Visit, 'state' | 'windowStart' | 'windowEnd'>, today: string): VisitStatus {
  if (v.state !== 'planned') return v.state;
  if (today > v.windowEnd) return 'overdue';
  if (today >= v.windowStart) return 'due';
  return 'planned';
}

export interface FollowUpVisitSpec { month: number; date?: string; items: string[] }

/** The followUp of an assessment JSON output, or null when it has none. */
export function followUpOf(output: Record<string, unknown>): { scheme: string; datedFrom?: string; surgeryDate?: string; visits: FollowUpVisitSpec[] } | null {
  const f = output.followUp as Record<string, unknown> | undefined;
  if (!f || typeof f !== 'object' || !Array.isArray(f.visits) || typeof f.scheme !== 'string') return null;
  const visits: FollowUpVisitSpec[] = [];
  for (const v of f.visits as unknown[]) {
    const o = v as Record<string, unknown>;
    if (!o || typeof o.month !== 'number' || !Number.isInteger(o.month) || o.month < 0 || !Array.isArray(o.items)) return null;
    visits.push({ month: o.month, ...(typeof o.date === 'string' ? { date: o.date } : {}), items: o.items.filter((x): x is string => typeof x === 'string') });
  }
  return {
    scheme: f.scheme,
    ...(typeof f.datedFrom === 'string' ? { datedFrom: f.datedFrom } : {}),
    ...(typeof f.surgeryDate === 'string' ? { surgeryDate: f.surgeryDate } : {}),
    visits,
  };
}

/** The dated visits: counted from startDate when given, else the dates the assessment gave. */
export function datedVisits(visits: FollowUpVisitSpec[], startDate: string | undefined, windowDays: number): Array<{ month: number; dueDate: string; windowStart: string; windowEnd: string; items: string[] }> {
  return visits.map((v) => {
    const dueDate = startDate ? addMonths(startDate, v.month) : v.date;
    if (!dueDate) throw new Error('datedVisits: a visit without a date and no start date');
    return { month: v.month, dueDate, windowStart: addDays(dueDate, -windowDays), windowEnd: addDays(dueDate, windowDays), items: v.items };
  });
}
