/**
 * FHIR routes (a fastify plugin): a FHIR R4 Bundle in, a case or an assessment Bundle out. Errors on
 * these routes are OperationOutcome resources (application/fhir+json), in the requested language.
 *
 *   POST /api/fhir/case   Bundle or CDS Hooks prefetch → { case, mapped, unmapped }
 *   POST /fhir/$assess    Bundle or CDS Hooks prefetch → the assessment as an R4 Bundle
 * and, for app.ts, fhirAssessmentReply: POST /api/assess?format=fhir (a case in, an R4 Bundle out).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CaseFile } from '../core/case-format/schema.js';
import type { KnowledgeBase } from '../core/knowledge/compile.js';
import { fhirAssessment } from '../fhir/assessment-bundle.js';
import type { CodeMap } from '../fhir/code-map.js';
import { fhirToCase } from '../fhir/import.js';
import { FhirInputError, operationOutcome } from '../fhir/messages.js';
import { parseFhirText } from '../fhir/parse.js';
import { isLang, type Lang } from '../i18n/index.js';
import { loadFhirCodeMap } from '../io/fhir-map-file.js';

export const FHIR_JSON = 'application/fhir+json; charset=utf-8';
/** a FHIR request body (a patient's Bundle can be larger than a case) */
export const FHIR_BODY_LIMIT = 8 * 1024 * 1024;

export interface FhirPluginOptions {
  kb: KnowledgeBase;
  codeMap?: CodeMap;
  bodyLimit?: number;
  /** today's date for ages (tests fix it) */
  today?: () => string;
}

type Query = Record<string, unknown>;

function acceptLang(req: FastifyRequest): Lang {
  const q = (req.query as Query | undefined)?.lang;
  if (isLang(q)) return q;
  const h = req.headers['accept-language'];
  return typeof h === 'string' && h.trim().toLowerCase().startsWith('zh') ? 'zh' : 'en';
}

function param(req: FastifyRequest, name: string, re: RegExp, allowed: string): string | undefined {
  const v = (req.query as Query | undefined)?.[name];
  if (v === undefined) return undefined;
  if (typeof v === 'string' && re.test(v)) return v;
  throw new FhirInputError(400, [{ code: 'bad_parameter', params: { name, found: String(v).slice(0, 60), allowed }, expression: `query.${name}` }]);
}

/** Parses a JSON body; anything else is a 400 OperationOutcome. */
export function parseFhirBody(body: Buffer): unknown {
  return parseFhirText(body.toString('utf8'));
}

/** Errors of a FHIR route as OperationOutcome; what is not a client error goes on to the server's handler. */
export function fhirErrorHandler(err: unknown, req: FastifyRequest, reply: FastifyReply): void {
  if (reply.sent) return;
  const lang = acceptLang(req);
  const e = err as { code?: string; statusCode?: number };
  let fe: FhirInputError | undefined;
  if (err instanceof FhirInputError) fe = err;
  else if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || e.statusCode === 413) fe = new FhirInputError(413, [{ code: 'too_large', params: { limit: req.routeOptions.bodyLimit ?? FHIR_BODY_LIMIT } }]);
  else if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || e.statusCode === 415) fe = new FhirInputError(415, [{ code: 'unsupported_media_type' }]);
  else if (e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || e.code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH') fe = new FhirInputError(400, [{ code: 'not_json', params: { detail: 'empty body' } }]);
  if (!fe) throw err;
  void reply.code(fe.status).type(FHIR_JSON).send(operationOutcome(lang, fe.issues));
}

export function fhirImport(map: CodeMap, req: FastifyRequest, today: () => string) {
  const referenceDate = param(req, 'referenceDate', /^\d{4}-\d{2}-\d{2}$/, 'YYYY-MM-DD') ?? today();
  const strict = param(req, 'strict', /^(true|false)$/, 'true | false') === 'true';
  return fhirToCase(map, req.body, { referenceDate, lang: acceptLang(req), strict });
}

/** POST /api/assess?format=fhir: the case's assessment as an R4 Bundle. */
export function fhirAssessmentReply(kb: KnowledgeBase, c: CaseFile, lang: Lang, reply: FastifyReply): FastifyReply {
  return reply.type(FHIR_JSON).send(JSON.stringify(fhirAssessment(kb, loadFhirCodeMap(), c, lang)));
}

export async function fhirPlugin(app: FastifyInstance, o: FhirPluginOptions): Promise<void> {
  const map = o.codeMap ?? loadFhirCodeMap();
  const today = o.today ?? (() => new Date().toISOString().slice(0, 10));
  const bodyLimit = o.bodyLimit ?? FHIR_BODY_LIMIT;
  // FHIR JSON only on these routes (the case routes also take YAML)
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(['application/fhir+json', 'application/json'], { parseAs: 'buffer', bodyLimit }, (_req, body, done) => {
    try { done(null, parseFhirBody(body as Buffer)); } catch (e) { done(e as Error); }
  });
  app.setErrorHandler(fhirErrorHandler);

  app.post('/api/fhir/case', { bodyLimit }, async (req) => {
    const r = fhirImport(map, req, today);
    return { case: r.case, mapped: r.mapped, unmapped: r.unmapped };
  });

  app.post('/fhir/$assess', { bodyLimit }, async (req, reply) => {
    const r = fhirImport(map, req, today);
    return reply.type(FHIR_JSON).send(JSON.stringify(fhirAssessment(o.kb, map, r.case, acceptLang(req))));
  });
}
