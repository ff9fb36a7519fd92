import { describe, expect, it } from 'vitest';
import { t } from '../i18n/index.js';
import { ImagingError } from '../imaging/errors.js';
import { RoiError } from '../imaging/roi.js';
import { CalcdxError } from '../io/errors.js';
import { badParameter, HttpProblem, PROBLEM_CODES, toProblem } from './problem.js';

describe('problems (RFC 9457)', () => {
  it('every problem code has a title in both languages', () => {
    for (const code of PROBLEM_CODES) for (const lang of ['en', 'zh'] as const) expect(t(lang, `server.problem.${code}`)).not.toBe(`server.problem.${code}`);
  });

  it('maps the coded errors to statuses, with field paths for case issues', () => {
    const invalid = toProblem(new CalcdxError('case_invalid', { file: 'x.yaml', count: 1 }, [{ code: 'too_small', path: 'patient.age', found: '-1', allowed: { min: 0 } }]), 'en', '/api/assess');
    expect(invalid.problem).toMatchObject({ status: 422, code: 'case_invalid', type: 'https://calcdx.invalid/problems/case-invalid', instance: '/api/assess' });
    expect(invalid.problem.detail).not.toContain('x.yaml');
    expect(invalid.problem.errors).toEqual([{ path: 'patient.age', code: 'too_small', found: '-1', allowed: { min: 0 }, message: 'patient.age: found -1; allowed: a number ≥ 0' }]);
    expect(toProblem(new CalcdxError('parse_yaml', { file: 'b', detail: 'd' }), 'zh', '/').problem.status).toBe(400);
    expect(toProblem(new CalcdxError('unknown_entity', { id: 'q', list: '' }), 'en', '/').problem.status).toBe(404);
    expect(toProblem(new ImagingError('unknown_format', '/tmp/x/f000001', 'not DICOM'), 'en', '/').problem).toMatchObject({ status: 422, code: 'imaging', reason: 'unknown_format' });
    expect(toProblem(new RoiError('roi_syntax', { spec: 'x', detail: 'd', allowed: 'a' }), 'en', '/').problem).toMatchObject({ status: 400, code: 'roi', errors: [{ path: 'form.roi', found: 'x' }] });
    expect(toProblem(new RoiError('roi_empty', { roi: 'r', detail: 'd' }), 'en', '/').problem.status).toBe(422);
    expect(toProblem(badParameter('query.lang', 'fr', 'zh | en'), 'zh', '/').problem.errors?.[0]).toMatchObject({ path: 'query.lang', found: 'fr', message: 'query.lang：实际为 fr；允许：zh | en' });
  });

  it('fastify errors: body too large, media type, bad JSON; anything else is internal without its message', () => {
    expect(toProblem(Object.assign(new Error('x'), { statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE' }), 'en', '/').problem.status).toBe(413);
    expect(toProblem(Object.assign(new Error('x'), { statusCode: 415, code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' }), 'en', '/').problem.code).toBe('unsupported_media_type');
    const internal = toProblem(new TypeError('secret patient value'), 'en', '/api/assess');
    expect(internal.internal).toBe(true);
    expect(internal.problem.status).toBe(500);
    expect(JSON.stringify(internal.problem)).not.toContain('secret');
    const h = toProblem(new HttpProblem(429, 'too_many_requests', () => 'busy', { headers: { 'retry-after': '3' } }), 'en', '/');
    expect(h.headers).toEqual({ 'retry-after': '3' });
  });

  it('framework statuses get their own codes (403 forbidden, not bad_request), and case limits are 413 with the limit as reason', () => {
    const st = (statusCode: number) => toProblem(Object.assign(new Error('x'), { statusCode }), 'en', '/').problem;
    expect(st(403)).toMatchObject({ status: 403, code: 'forbidden' });
    expect(st(404)).toMatchObject({ status: 404, code: 'not_found' });
    expect(st(405)).toMatchObject({ status: 405, code: 'method_not_allowed' });
    expect(st(408)).toMatchObject({ status: 408, code: 'request_timeout' });
    expect(st(431)).toMatchObject({ status: 431, code: 'header_too_large' });
    expect(st(400)).toMatchObject({ status: 400, code: 'bad_request' });
    for (const code of ['case_too_deep', 'case_too_many_nodes', 'case_too_many_keys', 'parse_timeout'] as const) {
      const p = toProblem(new CalcdxError(code, { file: 'x', limit: 1, path: 'a' }), 'zh', '/').problem;
      expect(p).toMatchObject({ status: 413, code: 'payload_too_large', reason: code });
      expect(p.detail).not.toMatch(/error\./);
    }
  });
});
