/**
 * Guideline referral rules ("anchors") as data (eval/anchors.yaml), evaluated on case files by
 * generic code: a rule is a condition over case-format fields. Each condition is evaluated in
 * three-valued logic (true / false / unknown, Kleene): a leaf on a field the case does not give is
 * unknown. The rule's decision takes every unknown leaf as not holding (size unknown = not > 5 cm);
 * the three-valued result says whether an unknown field decided it.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { caseJsonSchema } from '../core/case-format/json-schema.js';
import type { CaseFile } from '../core/case-format/schema.js';
import { CalcdxError } from '../io/errors.js';

const scalar = z.union([z.string(), z.number(), z.boolean()]);

export type AnchorCondition =
  | { all: AnchorCondition[] }
  | { any: AnchorCondition[] }
  | { not: AnchorCondition }
  | { field: string; eq?: string | number | boolean; in?: Array<string | number | boolean>; gt?: number; gte?: number; lt?: number; lte?: number; includes?: string };

const leaf = z.strictObject({
  field: z.string().regex(/^[A-Za-z]+(\.[A-Za-z]+)*$/),
  eq: scalar.optional(),
  in: z.array(scalar).min(1).optional(),
  gt: z.number().optional(),
  gte: z.number().optional(),
  lt: z.number().optional(),
  lte: z.number().optional(),
  includes: z.string().optional(),
}).refine((c) => ['eq', 'in', 'gt', 'gte', 'lt', 'lte', 'includes'].some((k) => k in c && c[k as keyof typeof c] !== undefined), { message: 'a field condition needs one of eq, in, gt, gte, lt, lte, includes' });

export const conditionSchema: z.ZodType<AnchorCondition> = z.lazy(() => z.union([
  z.strictObject({ all: z.array(conditionSchema).min(1) }),
  z.strictObject({ any: z.array(conditionSchema).min(1) }),
  z.strictObject({ not: conditionSchema }),
  leaf,
])) as z.ZodType<AnchorCondition>;

export const anchorRuleSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9_]+$/),
  /** short, for tables and plot legends */
  label: z.string().min(1).max(40),
  name: z.string().min(1),
  guideline: z.string().min(1),
  operationalised: z.string().min(1),
  unknown: z.string().min(1),
  sources: z.array(z.strictObject({ url: z.string().regex(/^https?:\/\//), title: z.string().min(1) })).min(1),
  refer: conditionSchema,
});
export type AnchorRule = z.infer<typeof anchorRuleSchema>;

const anchorsFileSchema = z.strictObject({ rules: z.array(anchorRuleSchema).min(1) });

/** true / false / undefined (unknown) */
export type Tri = boolean | undefined;

function get(c: unknown, path: readonly string[]): unknown {
  let node = c;
  for (const seg of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[seg];
  }
  return node;
}

function leafValue(c: Extract<AnchorCondition, { field: string }>, kase: CaseFile): Tri {
  const path = c.field.split('.');
  const v = get(kase, path);
  if (c.includes !== undefined) {
    // a list names what was seen; a value it does not name is unknown unless the `...Absent` list excludes it
    if (Array.isArray(v) && v.includes(c.includes)) return true;
    const absent = get(kase, [...path.slice(0, -1), `${path.at(-1)!}Absent`]);
    if (Array.isArray(absent) && absent.includes(c.includes)) return false;
    return undefined;
  }
  if (v === undefined) return undefined;
  if (c.eq !== undefined && v !== c.eq) return false;
  if (c.in !== undefined && !c.in.includes(v as string | number | boolean)) return false;
  const numeric = c.gt !== undefined || c.gte !== undefined || c.lt !== undefined || c.lte !== undefined;
  if (numeric) {
    if (typeof v !== 'number') return false;
    if (c.gt !== undefined && !(v > c.gt)) return false;
    if (c.gte !== undefined && !(v >= c.gte)) return false;
    if (c.lt !== undefined && !(v < c.lt)) return false;
    if (c.lte !== undefined && !(v <= c.lte)) return false;
  }
  return true;
}

/** Kleene three-valued evaluation: unknown where the fields the case does not give could change the result. */
export function evaluateTri(c: AnchorCondition, kase: CaseFile): Tri {
  if ('all' in c) {
    const vs = c.all.map((x) => evaluateTri(x, kase));
    return vs.includes(false) ? false : vs.includes(undefined) ? undefined : true;
  }
  if ('any' in c) {
    const vs = c.any.map((x) => evaluateTri(x, kase));
    return vs.includes(true) ? true : vs.includes(undefined) ? undefined : false;
  }
  if ('not' in c) {
    const v = evaluateTri(c.not, kase);
    return v === undefined ? undefined : !v;
  }
  return leafValue(c, kase);
}

/** The decision on the facts given: every leaf on an unknown field does not hold. */
export function evaluateGiven(c: AnchorCondition, kase: CaseFile): boolean {
  if ('all' in c) return c.all.every((x) => evaluateGiven(x, kase));
  if ('any' in c) return c.any.some((x) => evaluateGiven(x, kase));
  if ('not' in c) return !evaluateGiven(c.not, kase);
  return leafValue(c, kase) === true;
}

export interface AnchorDecision {
  refer: boolean;
  /** an unknown field decided it: some value of the fields the case does not give would change it */
  decidedByUnknown: boolean;
}

export function decide(rule: AnchorRule, kase: CaseFile): AnchorDecision {
  return { refer: evaluateGiven(rule.refer, kase), decidedByUnknown: evaluateTri(rule.refer, kase) === undefined };
}

interface JsonNode { type?: string; properties?: Record<string, JsonNode>; enum?: unknown[]; items?: JsonNode; anyOf?: JsonNode[] }

/** The problems of one condition against the case format: a field path it does not have, a value its enum does not allow. */
function fieldProblems(c: AnchorCondition, root: JsonNode, where: string): string[] {
  if ('all' in c) return c.all.flatMap((x, i) => fieldProblems(x, root, `${where}.all.${i}`));
  if ('any' in c) return c.any.flatMap((x, i) => fieldProblems(x, root, `${where}.any.${i}`));
  if ('not' in c) return fieldProblems(c.not, root, `${where}.not`);
  let node: JsonNode | undefined = root;
  for (const seg of c.field.split('.')) node = node?.properties?.[seg] ?? node?.anyOf?.find((a) => a.properties?.[seg])?.properties?.[seg];
  if (!node) return [`${where}: the case format has no field ${c.field}`];
  const allowed = c.includes !== undefined ? node.items?.enum : node.enum;
  if (c.includes !== undefined && node.type !== 'array') return [`${where}: ${c.field} is not a list (includes needs one)`];
  const values = [...(c.eq !== undefined ? [c.eq] : []), ...(c.in ?? []), ...(c.includes !== undefined ? [c.includes] : [])];
  const bad = allowed ? values.filter((v) => !allowed.includes(v)) : [];
  return bad.length ? [`${where}: ${c.field} has no value ${bad.map((v) => JSON.stringify(v)).join(', ')} (allowed: ${allowed!.join(', ')})`] : [];
}

export function parseAnchors(data: unknown, file = 'anchors'): AnchorRule[] {
  const r = anchorsFileSchema.safeParse(data);
  if (!r.success) {
    throw new CalcdxError('eval_file_invalid', { file, kind: 'anchors', detail: r.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`).join('; ') });
  }
  const ids = r.data.rules.map((x) => x.id);
  const dup = ids.filter((x, i) => ids.indexOf(x) !== i);
  if (dup.length) throw new CalcdxError('eval_file_invalid', { file, kind: 'anchors', detail: `rule ids must be unique (found ${dup.join(', ')} twice)` });
  const root = caseJsonSchema() as JsonNode;
  const problems = r.data.rules.flatMap((rule, i) => fieldProblems(rule.refer, root, `rules.${i}.refer`));
  if (problems.length) throw new CalcdxError('eval_file_invalid', { file, kind: 'anchors', detail: problems.join('; ') });
  return r.data.rules;
}

export function readAnchors(path: string): AnchorRule[] {
  let text: string;
  try { text = readFileSync(path, 'utf8'); } catch { throw new CalcdxError('file_not_found', { file: path }); }
  let data: unknown;
  try { data = parse(text); } catch (e) { throw new CalcdxError('parse_yaml', { file: path, detail: e instanceof Error ? e.message : String(e) }); }
  return parseAnchors(data, path);
}
