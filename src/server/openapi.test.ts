/**
 * The OpenAPI document's parts write alike what they share (openapi-parts.ts): problem answers,
 * the lang parameter, operations behind login, the 202 of a queued job, component schemas. The
 * path list is pinned in test/e2e/api.test.ts; here the archive routes' answers and security are.
 */
import { describe, expect, it } from 'vitest';
import { openApiDocument } from './openapi.js';
import { sessionProblems } from './openapi-parts.js';

type Op = { responses: Record<string, { content?: Record<string, { schema?: unknown }> }>; parameters?: Array<Record<string, unknown>>; security?: unknown; 'x-roles'?: unknown };
const doc = openApiDocument() as { paths: Record<string, Record<string, Op>>; components: { schemas: Record<string, Record<string, unknown>> } };
const ops = Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, op })));

describe('the OpenAPI document', () => {
  it('every problem answer is problem+json of the Problem schema, and only that', () => {
    let n = 0;
    for (const { path, method, op } of ops) {
      for (const [status, r] of Object.entries(op.responses)) {
        const problem = r.content?.['application/problem+json'];
        if (!problem) continue;
        n++;
        expect(r.content, `${method} ${path} ${status}`).toEqual({ 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } });
      }
    }
    expect(n).toBeGreaterThan(100);
  });

  it('every operation behind login: 401 and 403 in the same words, the session cookie, and the CSRF header for a change', () => {
    const guarded = ops.filter(({ op }) => op['x-roles'] !== undefined && op['x-roles'] !== 'public');
    expect(guarded.length).toBeGreaterThan(30);
    for (const { path, method, op } of guarded) {
      expect(op.security, `${method} ${path}`).toEqual([method === 'get' ? { session: [] } : { session: [], csrf: [] }]);
      if (path === '/api/patients/{id}/followup.ics') continue; // its own shorter words
      expect({ 401: op.responses[401], 403: op.responses[403] }, `${method} ${path}`).toEqual(sessionProblems());
    }
  });

  it('the archive routes: their answers, roles and parameters', () => {
    const pacs = ops.filter(({ path }) => path.startsWith('/api/pacs/')).map(({ path, method, op }) =>
      [`${method.toUpperCase()} ${path}`, Object.keys(op.responses).join(','), op['x-roles'], (op.parameters ?? []).map((p) => p.name).join(',')]);
    expect(pacs).toEqual([
      ['GET /api/pacs/archives', '200,401,403', ['clinician', 'viewer'], ''],
      ['GET /api/pacs/{archive}/studies', '200,400,401,403,404,502', ['clinician', 'viewer'], 'archive,lang,PatientID,AccessionNumber,StudyDate,PatientName,limit,offset'],
      ['GET /api/pacs/{archive}/studies/{study}/series', '200,400,401,403,404,502', ['clinician', 'viewer'], 'archive,study,lang'],
      ['POST /api/pacs/{archive}/volume', '200,400,401,403,404,422,429,502', ['clinician', 'viewer'], 'archive,lang'],
      ['POST /api/pacs/{archive}/measure', '200,400,401,403,404,422,429,502', ['clinician', 'viewer'], 'archive,lang'],
      ['POST /api/pacs/{archive}/jobs', '202,400,401,403,404,503', ['clinician', 'viewer'], 'archive,lang'],
      ['POST /api/pacs/{archive}/store', '200,400,401,403,404,422,429,502', ['clinician'], 'archive,lang'],
    ]);
  });

  it('the lang parameter is the same everywhere (zh or en, in the query, optional); a queued job is answered alike on both job routes', () => {
    const langs = ops.flatMap(({ op }) => (op.parameters ?? []).filter((p) => p.name === 'lang'));
    expect(langs.length).toBeGreaterThan(40);
    for (const p of langs) expect(p).toMatchObject({ name: 'lang', in: 'query', required: false, schema: { type: 'string', enum: ['zh', 'en'] } });
    expect(doc.paths['/api/pacs/{archive}/jobs']!.post!.responses[202]).toEqual(doc.paths['/api/ct/jobs']!.post!.responses[202]);
    expect(doc.paths['/api/ct/jobs']!.post!.responses[202]).toMatchObject({ description: 'queued', headers: { Location: {} } });
  });

  it('no component schema repeats $schema or $id', () => {
    for (const [name, s] of Object.entries(doc.components.schemas)) {
      expect(Object.keys(s), name).not.toContain('$schema');
      expect(Object.keys(s), name).not.toContain('$id');
    }
  });
});
