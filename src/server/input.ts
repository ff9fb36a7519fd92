/**
 * Request input checked against a zod schema (the schemas of src/registry/schema.ts and the
 * routes' own): a mismatch is a 400 problem (`invalid_input`) that names each field, what was
 * found and what is allowed, in the request's language (zod's own catalogue for the language
 * renders the generic messages; the schemas' own wording is kept as it is).
 */
import { z } from 'zod';
import { t, type Lang } from '../i18n/index.js';
import { HttpProblem, type ProblemError } from './problem.js';

const LOCALES: Record<Lang, z.core.$ZodErrorMap> = { en: z.locales.en().localeError, zh: z.locales.zhCN().localeError };

/** fields whose value is never echoed back (passwords) */
const SECRET = /password/i;
const MAX_FOUND = 80;

function valueAt(x: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let v = x;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

function shown(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  const s = typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v) ?? String(v);
  return s.length > MAX_FOUND ? `${s.slice(0, MAX_FOUND - 1)}…` : s;
}

export function issueErrorsOf(schema: z.ZodType, value: unknown, prefix: string, lang: Lang): ProblemError[] {
  const r = schema.safeParse(value, { error: LOCALES[lang] });
  if (r.success) return [];
  return r.error.issues.map((i) => {
    const keys = i.code === 'unrecognized_keys' ? i.keys : [];
    const path = [prefix, ...i.path.map(String), ...(keys.length === 1 ? keys : [])].filter(Boolean).join('.');
    const found = SECRET.test(path) ? undefined : keys.length ? keys.join(', ') : shown(valueAt(value, i.path));
    const allowed = i.message;
    return {
      path, code: i.code, ...(found !== undefined ? { found } : {}), allowed,
      message: t(lang, 'server.field_invalid', { path, found: found ?? t(lang, 'allowed.nothing'), allowed }),
    };
  });
}

/**
 * The value parsed by the schema, or a 400 problem naming every field that does not fit.
 * `prefix` is where the value is: "body", "query", "params".
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, prefix: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const errors = (lang: Lang) => issueErrorsOf(schema, value, prefix, lang);
  return invalidInput(errors);
}

export function invalidInput(errors: (lang: Lang) => ProblemError[]): never {
  throw new HttpProblem(400, 'invalid_input', (lang) => {
    const es = errors(lang);
    return t(lang, 'server.invalid_input', { count: es.length, fields: es.map((e) => e.path).join(', ') });
  }, { errors });
}
