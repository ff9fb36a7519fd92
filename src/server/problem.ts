/**
 * Errors as RFC 9457 problem details (application/problem+json): every error of the HTTP API
 * has a `code`, a stable `type` URI made from it, a translated `title` and `detail`, the
 * `status`, the `instance` (the request path, never its query) and, for bad input, `errors`
 * with the field path, what was found, what is allowed and the rendered message.
 */
import type { CaseIssue } from '../core/case-format/validate.js';
import { formatIssue, t, type Lang } from '../i18n/index.js';
import { ImagingError } from '../imaging/errors.js';
import { RoiError } from '../imaging/roi.js';
import { CalcdxError } from '../io/errors.js';
import { RegistryError } from '../registry/errors.js';

/** An imaging error about an upload, its file and detail given with the names the files were uploaded under. */
export class UploadImagingError extends ImagingError {
  constructor(original: ImagingError, file: string, detail: string) {
    super(original.code, file, detail, original.series, { cause: original });
    this.name = 'ImagingError';
  }
}

export const PROBLEM_BASE = 'https://calcdx.invalid/problems/';

/** Every problem code of the API; each has a title in both catalogues (server.problem.<code>). */
export const PROBLEM_CODES = [
  'bad_request', 'bad_parameter', 'invalid_body', 'case_invalid', 'unknown_entity', 'not_found',
  'method_not_allowed', 'forbidden', 'header_too_large', 'payload_too_large', 'unsupported_media_type', 'request_timeout', 'timeout',
  'too_many_requests', 'web_not_built', 'no_surgery_date', 'no_visits', 'imaging', 'roi', 'upload_invalid',
  'internal', 'invalid_input', 'unauthorized', 'conflict', 'account_locked',
] as const;
export type ProblemCode = (typeof PROBLEM_CODES)[number];

export interface ProblemError {
  /** field path: a case field ("patient.age"), a query parameter ("query.lang") or a form field ("form.roi") */
  path: string;
  code: string;
  found?: string;
  allowed?: CaseIssue['allowed'] | string;
  message: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  code: ProblemCode;
  /** the finer code (error, imaging or ROI code) when there is one */
  reason?: string;
  errors?: ProblemError[];
}

/** An error a handler throws to answer with a problem. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: ProblemCode,
    readonly detail: (lang: Lang) => string,
    readonly extra: { reason?: string; errors?: (lang: Lang) => ProblemError[]; headers?: Record<string, string> } = {},
  ) {
    super(code);
    this.name = 'HttpProblem';
  }
}

/**
 * A problem rendered elsewhere (a CT worker thread, where the error was thrown): answered as it is.
 * `log` is what the server logs for an internal error (kind and stack frames, never the message).
 */
export class RenderedProblem extends Error {
  constructor(
    readonly rendered: { problem: Problem; headers: Record<string, string>; internal: boolean },
    readonly log?: Record<string, unknown>,
  ) {
    super(rendered.problem.code);
    this.name = 'RenderedProblem';
  }
}

export function problem(lang: Lang, status: number, code: ProblemCode, detail: string, instance: string, extra: { reason?: string; errors?: ProblemError[] } = {}): Problem {
  return {
    type: `${PROBLEM_BASE}${code.replace(/_/g, '-')}`,
    title: t(lang, `server.problem.${code}`),
    status,
    detail,
    instance,
    code,
    ...(extra.reason ? { reason: extra.reason } : {}),
    ...(extra.errors ? { errors: extra.errors } : {}),
  };
}

/** The name people use for a case field (e.g. "Age" for patient.age), when there is one. */
export type FieldLabeler = (path: string, lang: Lang) => string | undefined;

export function issueErrors(lang: Lang, issues: CaseIssue[], label?: FieldLabeler): ProblemError[] {
  return issues.map((i) => ({
    path: i.path,
    code: i.code,
    ...(i.found !== undefined ? { found: i.found } : {}),
    allowed: i.allowed,
    message: formatIssue(lang, i, label?.(i.path, lang)),
  }));
}

/** A bad query parameter or form field. */
export function badParameter(path: string, found: string | undefined, allowed: string): HttpProblem {
  return new HttpProblem(400, 'bad_parameter', (lang) => t(lang, 'server.bad_parameter', { path, found: found ?? t(lang, 'allowed.nothing'), allowed }), {
    errors: (lang) => [{ path, code: found === undefined ? 'required' : 'not_allowed', ...(found !== undefined ? { found } : {}), allowed, message: t(lang, 'server.bad_parameter', { path, found: found ?? t(lang, 'allowed.nothing'), allowed }) }],
  });
}

const BODY = { en: 'request body', zh: '请求正文' } as const;

const MULTIPART_ERRORS = /^(?:Unexpected end of multipart data|\w+ terminated early due to unexpected end of multipart data|Multipart: Boundary not found)$/;

interface FastifyLikeError { statusCode?: number; code?: string; validation?: unknown }

/**
 * Maps anything thrown by a handler or by fastify itself to a problem. `internal` is true for
 * a 5xx that was not expected (to be logged without its message).
 */
export function toProblem(e: unknown, lang: Lang, instance: string, label?: FieldLabeler): { problem: Problem; headers: Record<string, string>; internal: boolean } {
  const P = (status: number, code: ProblemCode, detail: string, extra: { reason?: string; errors?: ProblemError[] } = {}) =>
    ({ problem: problem(lang, status, code, detail, instance, extra), headers: {}, internal: false });
  if (e instanceof RenderedProblem) return { ...e.rendered, problem: { ...e.rendered.problem, instance } };
  if (e instanceof HttpProblem) {
    return {
      problem: problem(lang, e.status, e.code, e.detail(lang), instance, {
        ...(e.extra.reason ? { reason: e.extra.reason } : {}),
        ...(e.extra.errors ? { errors: e.extra.errors(lang) } : {}),
      }),
      headers: e.extra.headers ?? {},
      internal: false,
    };
  }
  if (e instanceof CalcdxError) {
    const params = { ...e.params, ...('file' in e.params ? { file: BODY[lang] } : {}) };
    const detail = t(lang, `error.${e.code}`, params);
    switch (e.code) {
      case 'case_invalid': return P(422, 'case_invalid', detail, { reason: e.code, errors: issueErrors(lang, e.issues, label) });
      case 'unknown_entity': return P(404, 'unknown_entity', detail, { reason: e.code });
      case 'file_too_large': case 'case_too_deep': case 'case_too_many_nodes': case 'case_too_many_keys': case 'parse_timeout':
        return P(413, 'payload_too_large', detail, { reason: e.code });
      case 'parse_json': case 'parse_yaml': case 'file_empty': case 'file_binary': case 'multiple_documents':
        return P(400, 'invalid_body', detail, { reason: e.code });
      case 'usage': return P(400, 'bad_request', detail, { reason: e.code });
      default: return { ...P(500, 'internal', t(lang, 'server.internal')), internal: true };
    }
  }
  if (e instanceof RegistryError) {
    const d = e.details;
    const record = d.recordType ?? 'record';
    const errs = (d.issues ?? []).map((i) => ({
      path: i.field, code: e.code, ...(i.found !== undefined ? { found: i.found } : {}), allowed: i.allowed,
      message: t(lang, 'server.field_invalid', { path: i.field, found: i.found ?? t(lang, 'allowed.nothing'), allowed: i.allowed }),
    }));
    switch (e.code) {
      case 'not_found': return P(404, 'not_found', t(lang, 'server.record_not_found', { record, id: d.id ?? '' }), { reason: 'not_found' });
      case 'conflict': return P(409, 'conflict', t(lang, 'server.conflict', { record, id: d.id ?? '', expected: d.expectedVersion, current: d.currentVersion }), { reason: 'stale_version' });
      case 'exists': {
        const i = d.issues?.[0];
        return P(409, 'conflict', t(lang, 'server.exists', { field: i?.field ?? record, found: i?.found ?? '' }), { reason: 'exists', errors: errs });
      }
      case 'invalid': return P(400, 'invalid_input', t(lang, 'server.invalid_input', { count: errs.length, fields: errs.map((x) => x.path).join(', ') }), { reason: 'invalid', errors: errs });
      default: return { ...P(500, 'internal', t(lang, 'server.internal')), internal: true };
    }
  }
  if (e instanceof ImagingError) {
    // an UploadImagingError names the file by its uploaded name; other imaging errors would name the
    // server's own temporary files, so their file is left out
    const detail = `${t(lang, `imaging.${e.code}`)}: ${e instanceof UploadImagingError ? `${e.file}: ` : ''}${e.detail}`;
    const series = e.series.map((s) => ({ path: 'form.series', code: 'multiple_series', found: s.seriesInstanceUid, allowed: 'a SeriesInstanceUID', message: `${s.seriesInstanceUid}${s.modality ? ` ${s.modality}` : ''}, ${s.files} file(s)` }));
    return P(422, 'imaging', detail, { reason: e.code, ...(series.length ? { errors: series } : {}) });
  }
  if (e instanceof RoiError) {
    const detail = t(lang, 'error.roi', { what: t(lang, `roi.${e.code}`), detail: e.message });
    const status = e.code === 'roi_required' || e.code === 'roi_syntax' ? 400 : 422;
    return P(status, 'roi', detail, { reason: e.code, errors: [{ path: 'form.roi', code: e.code, ...(e.params.spec !== undefined ? { found: String(e.params.spec) } : {}), allowed: String(e.params.allowed ?? ''), message: detail }] });
  }
  // busboy's errors for a multipart body that is malformed or cut short (plain Errors, no code)
  if (e instanceof Error && MULTIPART_ERRORS.test(e.message)) {
    return P(400, 'upload_invalid', t(lang, 'server.multipart_unreadable'), { reason: 'multipart_invalid' });
  }
  const fe = (e ?? {}) as FastifyLikeError;
  const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
  const code = fe.code ?? '';
  if (status === 413 || code === 'FST_ERR_CTP_BODY_TOO_LARGE') return P(413, 'payload_too_large', t(lang, 'server.payload_too_large'), { reason: code || 'too_large' });
  if (status === 415 || code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || code === 'FST_INVALID_MULTIPART_CONTENT_TYPE') return P(415, 'unsupported_media_type', t(lang, 'server.unsupported_media_type'), { reason: code });
  if (code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return P(400, 'invalid_body', t(lang, 'error.file_empty', { file: BODY[lang] }), { reason: 'file_empty' });
  if (code === 'FST_ERR_CTP_INVALID_JSON_BODY' || (status === 400 && e instanceof SyntaxError)) {
    return P(400, 'invalid_body', t(lang, 'error.parse_json', { file: BODY[lang], detail: (e as Error).message }), { reason: 'parse_json' });
  }
  const reason = code ? { reason: code } : {};
  if (status === 404) return P(404, 'not_found', t(lang, 'server.not_found_any'), reason);
  if (status === 403) return P(403, 'forbidden', t(lang, 'server.forbidden'), reason);
  if (status === 405) return P(405, 'method_not_allowed', t(lang, 'server.method_not_allowed_any'), reason);
  if (status === 408) return P(408, 'request_timeout', t(lang, 'server.request_timeout_any'), reason);
  if (status === 431) return P(431, 'header_too_large', t(lang, 'server.header_too_large'), reason);
  if (status >= 400 && status < 500) return P(status, 'bad_request', t(lang, 'server.bad_request'), reason);
  return { ...P(status >= 500 ? status : 500, 'internal', t(lang, 'server.internal')), internal: true };
}
