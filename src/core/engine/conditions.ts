/**
 * Evaluates the rule conditions of the knowledge base (rules as data) against a case and
 * the assessment computed so far.
 */
import type { CaseFile } from '../case-format/schema.js';
import type { Condition, Group, Mechanism } from '../knowledge/schema.js';
import { getField } from './findings.js';

export interface ConditionContext {
  case: CaseFile;
  posterior?: (entityId: string) => { probability: number; rank: number } | undefined;
  groupProbability?: (g: Group) => number;
  mechanism?: (m: Mechanism) => number;
  redFlagCount?: number;
  urgentReferral?: boolean;
}

const pathCache = new Map<string, string[]>();
const split = (p: string): string[] => {
  let s = pathCache.get(p);
  if (!s) { s = p.split('.'); pathCache.set(p, s); }
  return s;
};

export function holds(c: Condition, ctx: ConditionContext): boolean {
  if ('all' in c) return c.all.every((x) => holds(x, ctx));
  if ('any' in c) return c.any.some((x) => holds(x, ctx));
  if ('not' in c) return !holds(c.not, ctx);
  if ('field' in c) {
    const v = getField(ctx.case, split(c.field));
    if (c.present !== undefined && (v !== undefined) !== c.present) return false;
    if (v === undefined) return c.present === false;
    if ('eq' in c && c.eq !== undefined && v !== c.eq) return false;
    if (c.in && !c.in.includes(v)) return false;
    if (c.gt !== undefined || c.gte !== undefined || c.lt !== undefined || c.lte !== undefined) {
      if (typeof v !== 'number') return false;
      if (c.gt !== undefined && !(v > c.gt)) return false;
      if (c.gte !== undefined && !(v >= c.gte)) return false;
      if (c.lt !== undefined && !(v < c.lt)) return false;
      if (c.lte !== undefined && !(v <= c.lte)) return false;
    }
    return true;
  }
  if ('posterior' in c) {
    const p = ctx.posterior?.(c.posterior);
    if (!p) return false;
    if (c.gte !== undefined && !(p.probability >= c.gte)) return false;
    if (c.lt !== undefined && !(p.probability < c.lt)) return false;
    if (c.rank !== undefined && p.rank > c.rank) return false;
    return true;
  }
  if ('groupProbability' in c) {
    const p = ctx.groupProbability?.(c.groupProbability);
    if (p === undefined) return false;
    if (c.gte !== undefined && !(p >= c.gte)) return false;
    if (c.lt !== undefined && !(p < c.lt)) return false;
    return true;
  }
  if ('mechanism' in c) {
    const p = ctx.mechanism?.(c.mechanism);
    return p !== undefined && p >= c.gte;
  }
  if ('redFlagCount' in c) return (ctx.redFlagCount ?? 0) >= c.redFlagCount.gte;
  if ('urgentReferral' in c) return ctx.urgentReferral === c.urgentReferral;
  return false;
}
