/**
 * What a route reads from a request: the language, a checked query choice, the assessment date,
 * the path (for problems), the case body. Shared by the server's plugins; each throws a problem
 * naming the parameter, what was found and what is allowed.
 */
import type { FastifyRequest } from 'fastify';
import type { CaseFile } from '../core/case-format/schema.js';
import { isIsoDate } from '../core/engine/dates.js';
import { isLang, type Lang } from '../i18n/index.js';
import { toCase } from '../io/case-file.js';
import { CalcdxError } from '../io/errors.js';
import { badParameter } from './problem.js';

type Query = Record<string, unknown>;

function acceptLang(req: FastifyRequest): Lang | undefined {
  const h = req.headers['accept-language'];
  if (typeof h !== 'string' || !h) return undefined;
  const first = h.split(',')[0]!.trim().toLowerCase();
  return first.startsWith('zh') ? 'zh' : first.startsWith('en') ? 'en' : undefined;
}

/** ?lang= (checked), else Accept-Language, else the fallback. */
export function langOf(req: FastifyRequest, fallback: Lang = 'en'): Lang {
  const q = (req.query as Query | undefined)?.lang;
  if (q !== undefined) {
    if (isLang(q)) return q;
    throw badParameter('query.lang', String(q), 'zh | en');
  }
  return acceptLang(req) ?? fallback;
}

/** The language for an error: never throws. */
export function safeLang(req: FastifyRequest): Lang {
  const q = (req.query as Query | undefined)?.lang;
  return isLang(q) ? q : acceptLang(req) ?? 'en';
}

export function choice<T extends string>(req: FastifyRequest, name: string, allowed: readonly T[], fallback: T): T {
  const v = (req.query as Query | undefined)?.[name];
  if (v === undefined) return fallback;
  if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return v as T;
  throw badParameter(`query.${name}`, String(v), allowed.join(' | '));
}

/** The assessment date: `?date=YYYY-MM-DD`, or today (UTC). */
export function dateOf(req: FastifyRequest): string {
  const v = (req.query as Query | undefined)?.date;
  if (v === undefined) return new Date().toISOString().slice(0, 10);
  if (isIsoDate(v)) return v;
  throw badParameter('query.date', String(v), 'YYYY-MM-DD');
}

export const pathOf = (req: FastifyRequest): string => req.url.split('?')[0]!;

export function caseOf(body: unknown): CaseFile {
  if (body === undefined || body === null || body === '') throw new CalcdxError('file_empty', { file: 'body' });
  return toCase(body, 'body');
}

/** a multipart body (a CT upload) */
export const multipartType = (req: FastifyRequest): boolean => /^\s*multipart\//i.test(String(req.headers['content-type'] ?? ''));
