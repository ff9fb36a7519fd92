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
  /** probability of the first-ranked entity */
  leadingProbability?: number;
  mechanism?: (m: Mechanism) => number;
  redFlagCount?: number;
  urgentReferral?: boolean;
  /** the kind of the plan (malignancy.decision.kind) */
  decision?: string;
}

type Compiled = (ctx: ConditionContext) => boolean;

/** Conditions are compiled once into closures (paths split, branches chosen) and cached by identity. */
const compiled = new WeakMap<Condition, Compiled>();

export function holds(c: Condition, ctx: ConditionContext): boolean {
  let f = compiled.get(c);
  if (!f) { f = compile(c); compiled.set(c, f); }
  return f(ctx);
}

/** The probability bounds of a condition: gte inclusive, lt exclusive, either optional. */
function within({ gte, lt }: { gte?: number; lt?: number }): (p: number) => boolean {
  return (p) => (gte === undefined || p >= gte) && (lt === undefined || p < lt);
}

function compile(c: Condition): Compiled {
  if ('all' in c) { const parts = c.all.map(compile); return (ctx) => parts.every((p) => p(ctx)); }
  if ('any' in c) { const parts = c.any.map(compile); return (ctx) => parts.some((p) => p(ctx)); }
  if ('not' in c) { const inner = compile(c.not); return (ctx) => !inner(ctx); }
  if ('field' in c) {
    const path = c.field.split('.');
    const { present, gt, gte, lt, lte } = c;
    const hasEq = 'eq' in c && c.eq !== undefined;
    const eq = c.eq;
    const set = c.in;
    const numeric = gt !== undefined || gte !== undefined || lt !== undefined || lte !== undefined;
    return (ctx) => {
      const v = getField(ctx.case, path);
      if (present !== undefined && (v !== undefined) !== present) return false;
      if (v === undefined) return present === false;
      if (hasEq && v !== eq) return false;
      if (set && !set.includes(v)) return false;
      if (numeric) {
        if (typeof v !== 'number') return false;
        if (gt !== undefined && !(v > gt)) return false;
        if (gte !== undefined && !(v >= gte)) return false;
        if (lt !== undefined && !(v < lt)) return false;
        if (lte !== undefined && !(v <= lte)) return false;
      }
      return true;
    };
  }
  if ('posterior' in c) {
    const { posterior: id, rank } = c;
    const inRange = within(c);
    return (ctx) => {
      const p = ctx.posterior?.(id);
      return p !== undefined && inRange(p.probability) && (rank === undefined || p.rank <= rank);
    };
  }
  if ('groupProbability' in c) {
    const gs: readonly Group[] = Array.isArray(c.groupProbability) ? [...new Set(c.groupProbability)] : [c.groupProbability];
    const inRange = within(c);
    return (ctx) => {
      const of = ctx.groupProbability;
      if (!of) return false;
      let p = 0;
      for (const g of gs) p += of(g);
      return inRange(p);
    };
  }
  if ('leadingProbability' in c) {
    const inRange = within(c.leadingProbability);
    return (ctx) => ctx.leadingProbability !== undefined && inRange(ctx.leadingProbability);
  }
  if ('mechanism' in c) {
    const { mechanism: m, gte } = c;
    return (ctx) => { const p = ctx.mechanism?.(m); return p !== undefined && p >= gte; };
  }
  if ('redFlagCount' in c) { const n = c.redFlagCount.gte; return (ctx) => (ctx.redFlagCount ?? 0) >= n; }
  if ('urgentReferral' in c) { const u = c.urgentReferral; return (ctx) => ctx.urgentReferral === u; }
  if ('decision' in c) { const kinds: readonly string[] = c.decision; return (ctx) => ctx.decision !== undefined && kinds.includes(ctx.decision); }
  return () => false;
}
