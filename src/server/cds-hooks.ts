/**
 * CDS Hooks 2.0 service (a fastify plugin):
 *   GET  /cds-services                 discovery: calcdx-patient-view (hook patient-view) and
 *                                      calcdx-order-select (hook order-select), with prefetch templates
 *   POST /cds-services/{id}            prefetch (or what is missing fetched from fhirServer with the
 *                                      fhirAuthorization bearer token; 412 when neither) → cards
 *   POST /cds-services/{id}/feedback   card outcomes, counted in memory (with --workers, by the cluster primary)
 * Calls are authenticated by the caller's signed JWT (src/server/cds-auth.ts); `devNoAuth` switches
 * that off for trials on the loopback interface only. Errors are problem+json. Nothing from a request
 * (token, body, patient) is logged.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CaseFile } from '../core/case-format/schema.js';
import { assess } from '../core/engine/assess.js';
import type { KnowledgeBase } from '../core/knowledge/compile.js';
import { assessmentCards, hasLesionData, type Card } from '../fhir/cds-cards.js';
import type { CodeMap } from '../fhir/code-map.js';
import { fhirToCase } from '../fhir/import.js';
import { FhirInputError, fhirText } from '../fhir/messages.js';
import { isLang, type Lang } from '../i18n/index.js';
import { loadFhirCodeMap } from '../io/fhir-map-file.js';
import { CdsAuthError, CdsTokenVerifier, type AuthFailure, type CdsIssuer } from './cds-auth.js';
import { feedbackSchema, hookRequestSchema } from './cds-hooks-schema.js';
import { FeedbackStore, type FeedbackSink, type JtiRegistry } from './cds-state.js';
import { FHIR_BODY_LIMIT } from './fhir.js';

export interface CdsHooksOptions {
  /** the public base URL record systems call (https://calcdx.example.org): the JWT audience is `${publicUrl}/cds-services/{id}`; default: this request's scheme and Host */
  publicUrl?: string;
  /** where the browser app is, for the card's link; default publicUrl */
  appUrl?: string;
  /** trusted callers */
  issuers?: CdsIssuer[];
  /** no JWT check: local trials only, refused unless the request arrives on a loopback address */
  devNoAuth?: boolean;
  /** card outcomes (default: a new in-memory store; with --workers the cluster primary's, src/server/cds-state.ts) */
  feedback?: FeedbackSink;
  /** the jti already accepted (default: this process's; with --workers the cluster primary's) */
  replay?: JtiRegistry;
  /** HTTP client for fhirServer (tests) */
  fetch?: typeof fetch;
  fhirTimeoutMs?: number;
  codeMap?: CodeMap;
  today?: () => string;
}

export { FeedbackStore } from './cds-state.js';

interface Service { id: string; hook: 'patient-view' | 'order-select'; title: string; description: string; prefetch: Record<string, string> }

/** The prefetch templates: what the mapping reads (Observation codes from the code map). */
export function cdsServices(map: CodeMap): Service[] {
  const loinc = map.urisOf('loinc')[0]!;
  const labCodes = [...new Set(map.entries.filter((e) => e.alias === 'loinc').map((e) => `${loinc}|${e.code}`))];
  const prefetch = {
    patient: 'Patient/{{context.patientId}}',
    observations: `Observation?patient={{context.patientId}}&code=${[...labCodes, `${map.calcdxSystem}|`].join(',')}`,
    conditions: 'Condition?patient={{context.patientId}}',
    procedures: 'Procedure?patient={{context.patientId}}',
    reports: 'DiagnosticReport?patient={{context.patientId}}',
  };
  return [
    { id: 'calcdx-patient-view', hook: 'patient-view', title: 'calcdx: calcified soft-tissue lesion', description: 'When a chart with a calcified soft-tissue lesion is opened: the leading diagnoses, the probability of malignancy, and whether to refer urgently to a sarcoma team. Quiet when the chart has no lesion findings.', prefetch },
    { id: 'calcdx-order-select', hook: 'order-select', title: 'calcdx: imaging or biopsy of a calcified soft-tissue mass', description: 'When MRI, CT, ultrasound, a biopsy or an excision of a soft-tissue mass is ordered: the assessment and the safety rules (core biopsy by the sarcoma team before any excision).', prefetch },
  ];
}

const M = {
  unauthorized: { en: 'The call is not authenticated ({reason}): send a JWT signed by a trusted issuer, with aud = this service\'s URL, a fresh jti and exp.', zh: '调用未通过认证（{reason}）：请发送由受信任签发方签名的 JWT，aud 为本服务 URL，jti 未使用过，并含 exp。' },
  dev_no_auth_remote: { en: 'Authentication is switched off for local trials (--cds-dev-no-auth); calls from other machines are refused.', zh: '认证已为本地试用关闭（--cds-dev-no-auth）；拒绝来自其他机器的调用。' },
  unknown_service: { en: 'No CDS service {id}; GET /cds-services lists them.', zh: '没有 CDS 服务 {id}；GET /cds-services 列出全部服务。' },
  bad_request: { en: 'Not a CDS Hooks request: {detail}', zh: '不是 CDS Hooks 请求：{detail}' },
  wrong_hook: { en: 'Service {id} answers hook {hook}, not {found}.', zh: '服务 {id} 响应 {hook} 钩子，而不是 {found}。' },
  precondition: { en: 'The FHIR data the service needs is missing ({keys}) and cannot be fetched: {why}.', zh: '服务所需的 FHIR 数据缺失（{keys}）且无法获取：{why}。' },
  fhir_fetch: { en: 'fetching {what} from fhirServer failed: {why}', zh: '从 fhirServer 获取 {what} 失败：{why}' },
  too_large: { en: 'The body is larger than the limit of {limit} bytes.', zh: '正文超过 {limit} 字节的上限。' },
  bad_feedback: { en: 'Not CDS Hooks feedback: {detail}', zh: '不是 CDS Hooks 反馈：{detail}' },
} as const;
type MsgCode = keyof typeof M;

class CdsProblem extends Error {
  constructor(readonly status: number, readonly code: MsgCode, readonly params: Record<string, string | number> = {}, readonly headers: Record<string, string> = {}) {
    super(code);
    this.name = 'CdsProblem';
  }
}

const TITLES: Record<number, { en: string; zh: string }> = {
  400: { en: 'Bad request', zh: '请求错误' }, 401: { en: 'Not authenticated', zh: '未认证' }, 404: { en: 'Not found', zh: '未找到' },
  412: { en: 'Precondition failed: FHIR data missing', zh: '前置条件不满足：缺少 FHIR 数据' }, 413: { en: 'Payload too large', zh: '请求体过大' },
  415: { en: 'Unsupported media type', zh: '不支持的媒体类型' }, 422: { en: 'Unprocessable FHIR data', zh: '无法处理的 FHIR 数据' },
};

function langOf(req: FastifyRequest): Lang {
  const q = (req.query as Record<string, unknown> | undefined)?.lang;
  if (isLang(q)) return q;
  const h = req.headers['accept-language'];
  return typeof h === 'string' && h.trim().toLowerCase().startsWith('zh') ? 'zh' : 'en';
}

const fill = (s: string, p: Record<string, string | number>) => s.replace(/\{(\w+)\}/g, (m, k: string) => (p[k] !== undefined ? String(p[k]) : m));

function sendProblem(req: FastifyRequest, reply: FastifyReply, status: number, code: string, detail: string, headers: Record<string, string> = {}): void {
  const lang = langOf(req);
  void reply.code(status).headers(headers).type('application/problem+json; charset=utf-8').send({
    type: `https://calcdx.invalid/problems/cds-${code.replace(/_/g, '-')}`,
    title: (TITLES[status] ?? { en: 'Error', zh: '错误' })[lang],
    status, detail, instance: req.url.split('?')[0], code,
  });
}

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

interface FetchContext { fhirServer?: string; token?: string; issuer?: CdsIssuer }

export async function cdsHooksPlugin(app: FastifyInstance, o: CdsHooksOptions & { kb: KnowledgeBase }): Promise<void> {
  const map = o.codeMap ?? loadFhirCodeMap();
  // built once per code map, not per call: the discovery document, the service index, the order-select codes
  const services = cdsServices(map);
  const orderCodes = orderSelectCodes(map);
  const byId = new Map(services.map((s) => [s.id, s]));
  const verifier = new CdsTokenVerifier(o.issuers ?? [], o.replay);
  const feedback = o.feedback ?? new FeedbackStore();
  const httpFetch = o.fetch ?? fetch;
  const today = o.today ?? (() => new Date().toISOString().slice(0, 10));
  const baseOf = (req: FastifyRequest) => (o.publicUrl ?? `${req.protocol}://${req.host}`).replace(/\/+$/, '');

  app.removeAllContentTypeParsers();
  app.addContentTypeParser(['application/json', 'application/fhir+json'], { parseAs: 'buffer', bodyLimit: FHIR_BODY_LIMIT }, (_req, body, done) => {
    try { done(null, JSON.parse((body as Buffer).toString('utf8'))); } catch { done(new CdsProblem(400, 'bad_request', { detail: 'not JSON' })); }
  });
  app.setErrorHandler((err, req, reply) => {
    if (reply.sent) return;
    const lang = langOf(req);
    if (err instanceof CdsProblem) return sendProblem(req, reply, err.status, err.code, fill(M[err.code][lang], err.params), err.headers);
    if (err instanceof FhirInputError) return sendProblem(req, reply, err.status === 400 ? 400 : 422, 'fhir_data', err.issues.map((i) => fhirText(lang, i.code, i.params)).join('; '));
    const e = err as { code?: string; statusCode?: number };
    if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || e.statusCode === 413) return sendProblem(req, reply, 413, 'too_large', fill(M.too_large[lang], { limit: FHIR_BODY_LIMIT }));
    if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || e.statusCode === 415) return sendProblem(req, reply, 415, 'unsupported_media_type', fill(M.bad_request[lang], { detail: 'Content-Type application/json' }));
    if (e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return sendProblem(req, reply, 400, 'bad_request', fill(M.bad_request[lang], { detail: 'empty body' }));
    throw err;
  });

  /** the caller's identity, or 401 */
  async function authenticate(req: FastifyRequest): Promise<CdsIssuer | undefined> {
    if (o.devNoAuth) {
      if (!LOOPBACK.test(req.ip)) throw new CdsProblem(401, 'dev_no_auth_remote');
      return undefined;
    }
    try {
      const v = await verifier.verify(req.headers.authorization, `${baseOf(req)}${req.url.split('?')[0]}`);
      return v.issuer;
    } catch (e) {
      const reason: AuthFailure = e instanceof CdsAuthError ? e.reason : 'signature';
      throw new CdsProblem(401, 'unauthorized', { reason }, { 'www-authenticate': `Bearer error="invalid_token", error_description="${reason}"` });
    }
  }

  const serviceOf = (id: string): Service => {
    const s = byId.get(id);
    if (!s) throw new CdsProblem(404, 'unknown_service', { id: id.slice(0, 60) });
    return s;
  };

  /** GET a prefetch query from the record system's FHIR server (following search pages on that server) */
  async function fetchFhir(ctx: FetchContext, query: string, what: string): Promise<unknown> {
    const base = ctx.fhirServer!.replace(/\/+$/, '');
    let url = `${base}/${query}`;
    const pages: unknown[] = [];
    for (let page = 0; page < 5; page++) {
      let r: Response;
      try {
        r = await httpFetch(url, { headers: { authorization: `Bearer ${ctx.token}`, accept: 'application/fhir+json' }, signal: AbortSignal.timeout(o.fhirTimeoutMs ?? 5000), redirect: 'error' });
      } catch (e) {
        throw new CdsProblem(412, 'precondition', { keys: what, why: `${(e as Error).name}` });
      }
      if (r.status !== 200) throw new CdsProblem(412, 'precondition', { keys: what, why: `HTTP ${r.status}` });
      let body: Record<string, unknown>;
      try { body = await r.json() as Record<string, unknown>; } catch { throw new CdsProblem(412, 'precondition', { keys: what, why: 'not JSON' }); }
      pages.push(body);
      const next = Array.isArray(body.link) ? (body.link as Array<{ relation?: string; url?: string }>).find((l) => l.relation === 'next')?.url : undefined;
      if (!next || !next.startsWith(`${base}/`)) break;
      url = next;
    }
    return pages.length === 1 ? pages[0] : { resourceType: 'Bundle', type: 'collection', entry: pages.map((resource) => ({ resource })) };
  }

  app.get('/cds-services', async () => ({ services }));

  app.post<{ Params: { id: string } }>('/cds-services/:id', { bodyLimit: FHIR_BODY_LIMIT }, async (req) => {
    const service = serviceOf(req.params.id);
    const issuer = await authenticate(req);
    const parsed = hookRequestSchema.safeParse(req.body);
    if (!parsed.success) throw new CdsProblem(400, 'bad_request', { detail: parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ').slice(0, 500) });
    const body = parsed.data;
    if (body.hook !== service.hook) throw new CdsProblem(400, 'wrong_hook', { id: service.id, hook: service.hook, found: body.hook.slice(0, 40) });
    const patientId = body.context.patientId;
    if (typeof patientId !== 'string' || !/^[A-Za-z0-9\-.]{1,64}$/.test(patientId)) throw new CdsProblem(400, 'bad_request', { detail: 'context.patientId: a FHIR id' });

    // order-select: only when a selected draft order is imaging, a biopsy or an excision
    if (service.hook === 'order-select' && !orderIsRelevant(orderCodes, body.context)) return { cards: [] };

    const lang = langOf(req);
    const prefetch: Record<string, unknown> = { ...(body.prefetch ?? {}) };
    // absent, null, or an OperationOutcome in its place (the record system could not fetch it): missing
    const missing = Object.keys(service.prefetch).filter((k) => prefetch[k] === undefined || prefetch[k] === null || (prefetch[k] as { resourceType?: unknown }).resourceType === 'OperationOutcome');
    if (missing.length) {
      const token = body.fhirAuthorization?.access_token;
      if (!body.fhirServer || !token) throw new CdsProblem(412, 'precondition', { keys: missing.join(', '), why: lang === 'zh' ? '没有 fhirServer 和 fhirAuthorization' : 'no fhirServer with fhirAuthorization' });
      if (issuer?.fhirServers && !issuer.fhirServers.some((s) => body.fhirServer!.startsWith(s))) throw new CdsProblem(412, 'precondition', { keys: missing.join(', '), why: lang === 'zh' ? 'fhirServer 不在该签发方的允许列表中' : 'fhirServer not allowed for this issuer' });
      if (!issuer?.fhirServers && !o.devNoAuth && !body.fhirServer.startsWith('https://')) throw new CdsProblem(412, 'precondition', { keys: missing.join(', '), why: lang === 'zh' ? 'fhirServer 必须使用 https' : 'fhirServer must be https' });
      const ctx: FetchContext = { fhirServer: body.fhirServer, token, ...(issuer ? { issuer } : {}) };
      const fetched = await Promise.all(missing.map((k) => fetchFhir(ctx, service.prefetch[k]!.replace(/\{\{context\.patientId\}\}/g, encodeURIComponent(patientId)), k)));
      missing.forEach((k, i) => { prefetch[k] = fetched[i]; });
    }
    const r = fhirToCase(map, prefetch, { referenceDate: today(), lang });
    return { cards: cardsFor(o.kb, r.case, lang, patientId, o.appUrl?.replace(/\/+$/, '') ?? baseOf(req)) };
  });

  app.post<{ Params: { id: string } }>('/cds-services/:id/feedback', async (req, reply) => {
    const service = serviceOf(req.params.id);
    await authenticate(req);
    const parsed = feedbackSchema.safeParse(req.body);
    if (!parsed.success) throw new CdsProblem(400, 'bad_feedback', { detail: parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ').slice(0, 500) });
    for (const f of parsed.data.feedback) feedback.record(service.id, f.card, f.outcome, f.acceptedSuggestions?.length ?? 0);
    return reply.code(200).send({});
  });
}

function cardsFor(kb: KnowledgeBase, c: CaseFile, lang: Lang, patientId: string, appUrl: string): Card[] {
  // a CDS service stays quiet when it has nothing to say: no lesion findings, no card
  if (!hasLesionData(c)) return [];
  return assessmentCards(kb, c, assess(kb, c), { lang, appUrl, patientId, now: new Date().toISOString(), uuid: randomUUID });
}

/** `system|code` of the orders that are a soft-tissue mass work-up (code-map.yaml orderSelect) */
function orderSelectCodes(map: CodeMap): Set<string> {
  return new Set(map.file.orderSelect.flatMap((c) => map.urisOf(c.system).map((uri) => `${uri}|${c.code}`)));
}

function orderIsRelevant(wanted: Set<string>, context: Record<string, unknown>): boolean {
  const selections = Array.isArray(context.selections) ? context.selections.filter((s): s is string => typeof s === 'string') : [];
  const draft = context.draftOrders as { entry?: Array<{ resource?: Record<string, unknown> }> } | undefined;
  for (const e of Array.isArray(draft?.entry) ? draft!.entry : []) {
    const r = e?.resource;
    if (!r || typeof r !== 'object' || r.resourceType !== 'ServiceRequest') continue;
    if (selections.length && !selections.includes(`ServiceRequest/${String(r.id)}`)) continue;
    const ccs = [r.code, ...(Array.isArray(r.category) ? r.category : [])] as Array<{ coding?: Array<{ system?: string; code?: string }> } | undefined>;
    if (ccs.some((cc) => Array.isArray(cc?.coding) && cc!.coding!.some((c) => wanted.has(`${c.system}|${c.code}`)))) return true;
  }
  return false;
}
