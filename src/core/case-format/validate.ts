/**
 * Case validation: every problem is collected as { code, path, found, allowed } — the human
 * text is rendered later, per language (src/i18n). Nothing here throws on bad input.
 */
import type { z } from 'zod';
import { caseSchema, type CaseFile } from './schema.js';

export type IssueCode = 'required' | 'wrong_type' | 'not_allowed' | 'too_small' | 'too_big' | 'unknown_field' | 'bad_date' | 'duplicate' | 'conflict' | 'invalid';

export interface CaseIssue {
  code: IssueCode;
  /** dotted field path, e.g. "imaging.calcification.morphology.1"; "" for the whole document */
  path: string;
  /** what was found, as short JSON text (undefined when nothing was there) */
  found?: string;
  /** what is allowed: a list of values, a type, or a bound */
  allowed: { values?: string[]; type?: string; min?: number; max?: number; inclusive?: boolean; keys?: string[]; format?: string; conflictsWith?: string; unit?: 'characters' | 'items' };
}

export type CaseValidation = { ok: true; value: CaseFile } | { ok: false; issues: CaseIssue[] };

function show(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  let s: string;
  try { s = JSON.stringify(v) ?? String(v); } catch { s = String(v); }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

type AnyDef = { type: string; shape?: Record<string, z.ZodType>; innerType?: z.ZodType; in?: z.ZodType; element?: z.ZodType; options?: z.ZodType[] };
const defOf = (s: z.ZodType): AnyDef => (s as unknown as { def: AnyDef }).def;
function unwrap(s: z.ZodType): z.ZodType {
  for (;;) {
    const d = defOf(s);
    if ((d.type === 'optional' || d.type === 'default' || d.type === 'nullable') && d.innerType) s = d.innerType;
    else if (d.type === 'pipe' && d.in) s = d.in;
    else return s;
  }
}

/** Keys an object accepts at a path of the case schema. */
export function keysAt(path: readonly PropertyKey[]): string[] {
  let s: z.ZodType = caseSchema;
  for (const seg of path) {
    s = unwrap(s);
    const d = defOf(s);
    if (d.type === 'object' && d.shape && typeof seg === 'string' && d.shape[seg]) s = d.shape[seg];
    else if (d.type === 'array' && d.element) s = d.element;
    else return [];
  }
  const d = defOf(unwrap(s));
  return d.type === 'object' && d.shape ? Object.keys(d.shape) : [];
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let n: unknown = data;
  for (const seg of path) {
    if (n === null || typeof n !== 'object') return undefined;
    n = (n as Record<PropertyKey, unknown>)[seg as string];
  }
  return n;
}

/** A length bound counts characters (strings) or items (lists), not the value itself. */
function unitOf(origin: string): { unit?: 'characters' | 'items' } {
  if (origin === 'string') return { unit: 'characters' };
  if (origin === 'array' || origin === 'set') return { unit: 'items' };
  return {};
}

/** Converts a zod issue into calcdx issues (one per unknown key). */
function convert(i: z.core.$ZodIssue, data: unknown): CaseIssue[] {
  const path = i.path.map(String).join('.');
  const input = valueAt(data, i.path);
  switch (i.code) {
    case 'unrecognized_keys':
      return i.keys.map((k) => ({
        code: 'unknown_field' as const,
        path: path ? `${path}.${k}` : k,
        found: show(valueAt(data, [...i.path, k])),
        allowed: { keys: keysAt(i.path) },
      }));
    case 'invalid_type':
      if (input === undefined) return [{ code: 'required', path, allowed: { type: i.expected } }];
      return [{ code: 'wrong_type', path, found: `${show(input)} (${typeName(input)})`, allowed: { type: i.expected } }];
    case 'invalid_value':
      return [{ code: 'not_allowed', path, found: show(input), allowed: { values: i.values.map((v) => String(v)) } }];
    case 'too_small':
      return [{ code: 'too_small', path, found: show(input), allowed: { min: Number(i.minimum), inclusive: i.inclusive !== false, ...unitOf(i.origin) } }];
    case 'too_big':
      return [{ code: 'too_big', path, found: show(input), allowed: { max: Number(i.maximum), inclusive: i.inclusive !== false, ...unitOf(i.origin) } }];
    case 'invalid_union': {
      // unions of literals (grade 1|2|3) and the id's string|number
      const values = new Set<string>();
      const types = new Set<string>();
      for (const branch of i.errors) for (const sub of branch) {
        if (sub.code === 'invalid_value') sub.values.forEach((v) => values.add(String(v)));
        else if (sub.code === 'invalid_type') types.add(sub.expected);
      }
      if (input === undefined) return [{ code: 'required', path, allowed: values.size ? { values: [...values] } : { type: [...types].join(' | ') } }];
      if (values.size) return [{ code: 'not_allowed', path, found: show(input), allowed: { values: [...values] } }];
      return [{ code: 'wrong_type', path, found: `${show(input)} (${typeName(input)})`, allowed: { type: [...types].join(' | ') } }];
    }
    case 'invalid_format':
      return [{ code: 'bad_date', path, found: show(input), allowed: { format: 'YYYY-MM-DD' } }];
    case 'custom':
      if (i.message === 'format:date' || path.endsWith('surgeryDate')) return [{ code: 'bad_date', path, found: show(input), allowed: { format: 'YYYY-MM-DD' } }];
      if (typeof i.params?.['conflictsWith'] === 'string') {
        return [{ code: 'conflict', path, found: show(input), allowed: { conflictsWith: i.params['conflictsWith'] } }];
      }
      if (Array.isArray(input)) return [{ code: 'duplicate', path, found: show(input), allowed: {} }];
      return [{ code: 'invalid', path, found: show(input), allowed: {} }];
    default:
      return [{ code: 'invalid', path, found: show(input), allowed: {} }];
  }
}

/**
 * `jitless`: validate without zod's compiled fast path. zod compiles (new Function) a checker for
 * each object schema on its first parse, which pays off over many parses (the server) but costs a
 * command that validates one case file more than the validation itself (issue 15); the result is the same.
 */
export function validateCase(data: unknown, opts: { jitless?: boolean } = {}): CaseValidation {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    return { ok: false, issues: [{ code: 'wrong_type', path: '', found: `${show(data) ?? 'nothing'} (${typeName(data)})`, allowed: { type: 'object' } }] };
  }
  const r = opts.jitless ? caseSchema.safeParse(data, { jitless: true }) : caseSchema.safeParse(data);
  if (r.success) return { ok: true, value: r.data };
  const issues = r.error.issues.flatMap((i) => convert(i, data));
  // regex failure and refinement can both report the same date: keep one per path and code
  const seen = new Set<string>();
  return { ok: false, issues: issues.filter((x) => { const k = `${x.code}|${x.path}`; if (seen.has(k)) return false; seen.add(k); return true; }) };
}
