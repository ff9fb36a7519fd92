/**
 * The calcdx HTTP server (fastify): the JSON API over the engine, the reports, the follow-up
 * calendar and CT quantification, and the browser app from dist/web.
 *
 * Logs: one line per request (method, route pattern, status, duration); never a body, a query
 * string, an uploaded file name or an error message that could carry patient data.
 */
import fastifyHelmet from '@fastify/helmet';
import fastifyMultipart from '@fastify/multipart';
import fastifyStatic from '@fastify/static';
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
interface DestinationStream { write(msg: string): void }
import type { CaseFile } from '../core/case-format/schema.js';
import { assess } from '../core/engine/assess.js';
import { isIsoDate } from '../core/engine/dates.js';
import type { KnowledgeBase } from '../core/knowledge/compile.js';
import { isLang, t, type Lang } from '../i18n/index.js';
import { parseCaseText, toCase } from '../io/case-file.js';
import { CalcdxError } from '../io/errors.js';
import { loadKnowledgeBase } from '../io/kb-files.js';
import { buildReport, type Audience } from '../report/build.js';
import { fieldLabel } from '../report/describe.js';
import { followUpIcs } from '../report/ics.js';
import { assessmentToJson, EVIDENCE_SCOPES, type EvidenceScope } from '../report/json.js';
import { kbEntityJson } from '../report/kb-view.js';
import { renderHtml } from '../report/render-html.js';
import { renderMarkdown, renderText } from '../report/render-text.js';
import { VERSION } from '../report/version.js';
import { asciiJson, CT_FORM, measureUpload, receiveCtUpload, uploadDir, VOLUME_FORM, volumeUpload, type CtInput, type CtResult, type UploadForm } from './ct.js';
import { CtJobAborted, ctWorkerAvailable, runCtJob } from './ct-jobs.js';
import { openApiDocument } from './openapi.js';
import { badParameter, HttpProblem, RenderedProblem, toProblem } from './problem.js';
import { DEFAULTS } from './defaults.js';

export const DEFAULT_WEB_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'web');

export { DEFAULTS };

export interface ServerOptions {
  /** false: no logs; true: pino JSON to standard output; a stream: pino JSON to it (tests) */
  logger?: boolean | DestinationStream;
  logLevel?: string;
  bodyLimit?: number;
  uploadLimit?: number;
  maxUploadFiles?: number;
  maxCtJobs?: number;
  retryAfterSeconds?: number;
  requestTimeoutMs?: number;
  headersTimeoutMs?: number;
  ctTimeoutMs?: number;
  assessCacheBytes?: number;
  /** where the browser app is (index.html); default dist/web of this package */
  webRoot?: string;
  /** parent of the private upload folders; default the system's temporary folder */
  tmpDir?: string;
  knowledgeBase?: KnowledgeBase;
  /** replaces the CT measurement (tests of limits and timeouts) */
  measureCt?: (input: CtInput) => Promise<CtResult>;
  /** false: CT work on the server's own thread instead of a worker thread (default: a worker when dist/ is built) */
  ctWorker?: boolean;
  /** voxels of a CT volume (default 2^28; its decompressed bytes are limited to `uploadLimit`) */
  maxVoxels?: number;
  /** the JavaScript heap of a CT worker thread, MiB (default 512) */
  ctWorkerHeapMb?: number;
  /** the CT job queue in PostgreSQL (src/server/ct-jobs-plugin.ts): its database, settings and the archives jobs may name */
  ctQueue?: Pick<import('./ct-jobs-plugin.js').CtJobsPluginOptions, 'db' | 'settings' | 'archives'>;
  /** CDS Hooks: trusted issuers, public URL, --cds-dev-no-auth (src/server/cds-hooks.ts) */
  cds?: import('./cds-hooks.js').CdsHooksOptions;
}

const CSP_APP = [
  "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data: blob:", "font-src 'self'",
  "connect-src 'self'", "worker-src 'self' blob:", "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
];
/** the self-contained HTML reports carry an inline <style> and inline SVG, and no script */
export const CSP_REPORT = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const FORMATS = ['html', 'md', 'text'] as const;
type ReportFormat = (typeof FORMATS)[number];
const CONTENT_TYPES: Record<ReportFormat, string> = { html: 'text/html; charset=utf-8', md: 'text/markdown; charset=utf-8', text: 'text/plain; charset=utf-8' };

type Query = Record<string, unknown>;

function acceptLang(req: FastifyRequest): Lang | undefined {
  const h = req.headers['accept-language'];
  if (typeof h !== 'string' || !h) return undefined;
  const first = h.split(',')[0]!.trim().toLowerCase();
  return first.startsWith('zh') ? 'zh' : first.startsWith('en') ? 'en' : undefined;
}

/** ?lang= (checked), else Accept-Language, else the fallback. */
function langOf(req: FastifyRequest, fallback: Lang = 'en'): Lang {
  const q = (req.query as Query | undefined)?.lang;
  if (q !== undefined) {
    if (isLang(q)) return q;
    throw badParameter('query.lang', String(q), 'zh | en');
  }
  return acceptLang(req) ?? fallback;
}

/** The language for an error: never throws. */
function safeLang(req: FastifyRequest): Lang {
  const q = (req.query as Query | undefined)?.lang;
  return isLang(q) ? q : acceptLang(req) ?? 'en';
}

function choice<T extends string>(req: FastifyRequest, name: string, allowed: readonly T[], fallback: T): T {
  const v = (req.query as Query | undefined)?.[name];
  if (v === undefined) return fallback;
  if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return v as T;
  throw badParameter(`query.${name}`, String(v), allowed.join(' | '));
}

/** The assessment date: `?date=YYYY-MM-DD`, or today (UTC). */
function dateOf(req: FastifyRequest): string {
  const v = (req.query as Query | undefined)?.date;
  if (v === undefined) return new Date().toISOString().slice(0, 10);
  if (isIsoDate(v)) return v;
  throw badParameter('query.date', String(v), 'YYYY-MM-DD');
}

const pathOf = (req: FastifyRequest): string => req.url.split('?')[0]!;

/** Least-recently-used serialised answers under a byte budget. */
export class ResponseCache {
  private readonly map = new Map<string, Buffer>();
  private bytes = 0;
  constructor(readonly budget: number) {}
  static key(variant: string, body: Buffer): string {
    return `${variant}:${createHash('sha256').update(body).digest('base64')}`;
  }
  get(key: string): Buffer | undefined {
    const v = this.map.get(key);
    if (v !== undefined) { this.map.delete(key); this.map.set(key, v); }
    return v;
  }
  set(key: string, value: Buffer): void {
    if (value.length > this.budget / 4 || this.map.has(key)) return;
    this.map.set(key, value);
    this.bytes += value.length;
    for (const [k, v] of this.map) {
      if (this.bytes <= this.budget) break;
      this.map.delete(k);
      this.bytes -= v.length;
    }
  }
  get size(): number { return this.map.size; }
}

/**
 * An error of node's HTTP parser, before there is a request: a malformed request (400), headers
 * larger than node accepts (431), headers that did not arrive in time (408). Answered on the
 * socket as a problem in English (no Accept-Language was read), then the connection is closed.
 */
function clientProblem(err: Error & { code?: string }, socket: Socket, headersTimeoutMs: number): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const e = err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
    ? new HttpProblem(408, 'request_timeout', (l) => t(l, 'server.header_timeout', { seconds: Math.round(headersTimeoutMs / 1000) }))
    : err.code === 'HPE_HEADER_OVERFLOW'
      ? new HttpProblem(431, 'header_too_large', (l) => t(l, 'server.header_too_large'))
      : new HttpProblem(400, 'bad_request', (l) => t(l, 'server.bad_request'), err.code?.startsWith('HPE_') ? { reason: err.code } : {});
  const { problem } = toProblem(e, 'en', '');
  const body = Buffer.from(JSON.stringify(problem));
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status] ?? ''}\r\nContent-Type: application/problem+json; charset=utf-8\r\n`
      + `Content-Length: ${body.length}\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n`);
    socket.write(body);
  }
  socket.destroy();
}

function caseOf(body: unknown): CaseFile {
  if (body === undefined || body === null || body === '') throw new CalcdxError('file_empty', { file: 'body' });
  return toCase(body, 'body');
}

export async function buildServer(options: ServerOptions = {}): Promise<FastifyInstance> {
  const o = { ...DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as typeof DEFAULTS & ServerOptions;
  const kb = o.knowledgeBase ?? loadKnowledgeBase();
  const webRoot = o.webRoot ?? DEFAULT_WEB_ROOT;
  const tmpRoot = o.tmpDir ?? tmpdir();
  // CT work (decode, measure, encode) runs in a worker thread, so the event loop keeps answering
  const inWorker = o.measureCt === undefined && o.ctWorker !== false && ctWorkerAvailable();
  const aborts = new WeakMap<FastifyRequest, AbortController>();
  const signalOf = (req: FastifyRequest): AbortSignal => {
    let c = aborts.get(req);
    if (!c) { c = new AbortController(); aborts.set(req, c); }
    return c.signal;
  };
  const measure = (req: FastifyRequest) => (input: CtInput): Promise<CtResult> =>
    o.measureCt ? o.measureCt(input) : inWorker ? runCtJob('measure', input, safeLang(req), pathOf(req), signalOf(req)) : measureUpload(input);
  const volumeOf = (req: FastifyRequest) => (input: CtInput) =>
    inWorker ? runCtJob('volume', input, safeLang(req), pathOf(req), signalOf(req)) : volumeUpload(input);

  const logger = o.logger === undefined || o.logger === false
    ? false
    : { level: o.logLevel ?? 'info', ...(o.logger === true ? {} : { stream: o.logger }) };
  const app = Fastify({
    logger,
    // fastify's own request lines carry the URL with its query: one line of ours instead
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: o.bodyLimit,
    // our own timers answer a request whose headers arrived with a problem (408 or 503); node's
    // checker, every second, answers headers that do not arrive in time with a 408 problem
    requestTimeout: 0,
    http: { headersTimeout: o.headersTimeoutMs, connectionsCheckingInterval: Math.min(1000, o.headersTimeoutMs) },
    // errors of the HTTP parser (malformed request, headers too large, headers too slow) and of the
    // router (a malformed URL) as problems too
    clientErrorHandler: (err: Error & { code?: string }, socket: Socket) => clientProblem(err, socket, o.headersTimeoutMs),
    frameworkErrors: (err, req, reply) => {
      const { problem } = toProblem(err, safeLang(req as FastifyRequest), pathOf(req as FastifyRequest));
      void (reply as FastifyReply).code(problem.status).type('application/problem+json; charset=utf-8').send(problem);
    },
    return503OnClosing: true,
  });

  // ---- request bookkeeping: timeouts and one log line per request
  const timers = new WeakMap<FastifyRequest, NodeJS.Timeout>();
  const received = new WeakSet<FastifyRequest>();
  const isCt = (req: FastifyRequest) => req.routeOptions.url === '/api/ct' || req.routeOptions.url === '/api/volume' || req.routeOptions.url === '/api/ct/jobs';

  app.addHook('onRequest', async (req, reply) => {
    const ms = isCt(req) ? o.ctTimeoutMs : o.requestTimeoutMs;
    timers.set(req, setTimeout(() => {
      if (reply.sent) return;
      const lang = safeLang(req);
      const p = received.has(req)
        ? toProblem(new HttpProblem(503, 'timeout', (l) => t(l, 'server.timeout', { seconds: Math.round(ms / 1000) })), lang, pathOf(req))
        : toProblem(new HttpProblem(408, 'request_timeout', (l) => t(l, 'server.request_timeout', { seconds: Math.round(ms / 1000) })), lang, pathOf(req));
      reply.code(p.problem.status).header('connection', 'close').type('application/problem+json; charset=utf-8').send(p.problem);
      aborts.get(req)?.abort();
    }, ms).unref());
  });
  app.addHook('preHandler', async (req, reply) => {
    if (!isCt(req)) received.add(req);
    if (reply.sent) return reply;
  });
  app.addHook('onResponse', async (req, reply) => {
    clearTimeout(timers.get(req));
    req.log.info({ method: req.method, route: req.routeOptions.url ?? '(no route)', status: reply.statusCode, durationMs: Math.round(reply.elapsedTime * 100) / 100 }, 'request');
  });
  app.addHook('onRequestAbort', async (req) => { clearTimeout(timers.get(req)); aborts.get(req)?.abort(); });
  // onRequestAbort covers a client gone while its body arrives; one gone after its upload was read
  // (while the CT job runs) shows as the response closing before it was written: stop the job too
  app.addHook('preHandler', async (req, reply) => {
    if (!isCt(req)) return;
    reply.raw.once('close', () => {
      if (reply.raw.writableFinished) return;
      // the controller may not exist yet (the upload was just read): the job then never starts
      if (!aborts.has(req)) aborts.set(req, new AbortController());
      aborts.get(req)!.abort();
    });
  });

  // ---- security headers on every response
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: { useDefaults: false, directives: Object.fromEntries(CSP_APP.map((d) => { const [k, ...v] = d.split(' '); return [k!, v]; })) },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    hsts: false,
    crossOriginEmbedderPolicy: false,
  });

  // ---- errors as problems (a case field named as people name it: "Age", with the path in `path`)
  const labelOf = (path: string, l: Lang): string | undefined => fieldLabel(kb, path, l);
  app.setErrorHandler((err, req, reply) => {
    // answered already (a timeout): what the abandoned work throws afterwards has nobody to go to
    if (reply.sent) return;
    const lang = safeLang(req);
    // a CT job stopped because its client went away: not an internal error; the answer reaches nobody
    const stopped = err instanceof CtJobAborted ? new HttpProblem(503, 'timeout', (l) => t(l, 'server.timeout', { seconds: Math.round(o.ctTimeoutMs / 1000) })) : err;
    const { problem, headers, internal } = toProblem(stopped, lang, pathOf(req), labelOf);
    if (internal) {
      const e = err as Error & { code?: string };
      // the message may quote the input: log the kind of error and where, not what it said
      req.log.error({ err: err instanceof RenderedProblem && err.log ? err.log : { type: e?.name, code: e?.code, stack: e?.stack?.split('\n').slice(1).join('\n') } }, 'internal error');
    }
    if (!received.has(req) && req.method === 'POST') reply.header('connection', 'close');
    void reply.code(problem.status).headers(headers).type('application/problem+json; charset=utf-8').send(problem);
  });
  // a path that exists with other methods → 405 with Allow; else 404 (the app's catch-all GET is left out)
  const routes: Array<{ method: string; re: RegExp }> = [];
  app.addHook('onRoute', (r) => {
    if (r.url.includes('*')) return;
    const re = new RegExp(`^${r.url.split('/').map((seg) => (seg.startsWith(':') ? '[^/]+' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('/')}$`);
    for (const m of [r.method].flat()) routes.push({ method: m, re });
  });
  app.setNotFoundHandler((req, reply) => {
    const lang = safeLang(req);
    const path = pathOf(req);
    const allow = [...new Set(routes.filter((r) => r.re.test(path)).map((r) => r.method))];
    const e = allow.length
      ? new HttpProblem(405, 'method_not_allowed', (l) => t(l, 'server.method_not_allowed', { method: req.method, allowed: allow.join(', ') }), { headers: { allow: allow.join(', ') } })
      : new HttpProblem(404, 'not_found', (l) => t(l, 'server.not_found', { method: req.method }));
    const { problem, headers } = toProblem(e, lang, path);
    if (req.method !== 'GET' && req.method !== 'HEAD') reply.header('connection', 'close');
    void reply.code(problem.status).headers(headers).type('application/problem+json; charset=utf-8').send(problem);
  });

  // what each POST route reads: a case (JSON/YAML/text) or a multipart upload; anything else is a 415
  // problem at once, before a byte of the body is parsed
  const multipartType = (req: FastifyRequest) => /^\s*multipart\//i.test(String(req.headers['content-type'] ?? ''));
  const caseBody = {
    onRequest: async (req: FastifyRequest) => {
      if (multipartType(req)) throw new HttpProblem(415, 'unsupported_media_type', (l) => t(l, 'server.case_multipart'));
    },
  };
  const uploadBody = {
    onRequest: async (req: FastifyRequest) => {
      if (!multipartType(req)) throw new HttpProblem(415, 'unsupported_media_type', (l) => t(l, 'server.ct_multipart'));
    },
  };

  // ---- case bodies: JSON, YAML or plain text (either), read as the CLI reads a case file. JSON.parse
  // makes "__proto__" an own key, which validation then refuses as an unknown field.
  const rawBodies = new WeakMap<FastifyRequest, Buffer>();
  const caseText = (req: FastifyRequest, body: Buffer, done: (err: Error | null, body?: unknown) => void) => {
    rawBodies.set(req, body);
    try { done(null, parseCaseText(body, 'body')); } catch (e) { done(e as Error); }
  };
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser(['application/json', 'text/plain', 'application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml'], { parseAs: 'buffer' }, caseText);
  const assessCache = new ResponseCache(o.assessCacheBytes);

  await app.register(fastifyMultipart, {
    limits: { fileSize: o.uploadLimit, files: o.maxUploadFiles + 1, fields: 20, fieldSize: 64 * 1024, parts: o.maxUploadFiles + 21, headerPairs: 100 },
  });

  // ---- API
  app.get('/api/health', async () => ({ status: 'ok', version: VERSION, entities: kb.entities.length }));

  app.get('/api/openapi.json', async () => openApiDocument());

  const kbList = kb.entities.map((e) => ({ id: e.id, names: e.names, group: e.group, seed: e.seed }));
  app.get('/api/kb', async () => kbList);
  app.get<{ Params: { id: string } }>('/api/kb/:id', async (req) => {
    const i = kb.entityIndex.get(req.params.id);
    if (i === undefined) throw new CalcdxError('unknown_entity', { id: req.params.id, list: kb.entities.map((e) => e.id).join(', ') });
    return kbEntityJson(kb, kb.entities[i]!);
  });

  // an assessment is a pure function of the case bytes and the language: identical requests (the
  // browser app re-sends the case it shows) are answered from a small cache of serialised answers
  app.post('/api/assess', caseBody, async (req, reply) => {
    const lang = langOf(req);
    // ?format=fhir: an R4 Bundle (src/server/fhir.ts, loaded when first asked for)
    if (choice(req, 'format', ['json', 'fhir'], 'json') === 'fhir') return (await import('./fhir.js')).fhirAssessmentReply(kb, caseOf(req.body), lang, reply);
    const evidence = choice<EvidenceScope>(req, 'evidence', EVIDENCE_SCOPES, 'leading');
    const raw = rawBodies.get(req);
    const date = dateOf(req);
    const key = raw ? ResponseCache.key(`${lang}:${evidence}:${date}`, raw) : undefined;
    const hit = key ? assessCache.get(key) : undefined;
    reply.type('application/json; charset=utf-8');
    if (hit !== undefined) return hit;
    const c = caseOf(req.body);
    const bytes = Buffer.from(JSON.stringify(assessmentToJson(kb, assess(kb, c, { date }), lang, evidence)));
    if (key) assessCache.set(key, bytes);
    return bytes;
  });

  app.post('/api/validate', caseBody, async (req) => {
    langOf(req);
    // toCase lists the first issues (MAX_REPORTED_ISSUES) and counts them all
    caseOf(req.body);
    return { valid: true };
  });

  app.post('/api/report', caseBody, async (req, reply) => {
    const format = choice(req, 'format', FORMATS, 'html');
    const audience = choice<Audience>(req, 'audience', ['clinician', 'patient'], 'clinician');
    const lang = langOf(req, audience === 'patient' ? 'zh' : 'en');
    const c = caseOf(req.body);
    const doc = buildReport(kb, assess(kb, c, { date: dateOf(req) }), lang, audience);
    reply.type(CONTENT_TYPES[format]);
    if (format === 'html') {
      reply.header('content-security-policy', CSP_REPORT);
      return renderHtml(doc);
    }
    return format === 'md' ? renderMarkdown(doc) : renderText(doc);
  });

  app.post('/api/followup.ics', caseBody, async (req, reply) => {
    const lang = langOf(req);
    const c = caseOf(req.body);
    const r = followUpIcs(kb, assess(kb, c), lang);
    if (!r.ok) {
      if (r.reason === 'no_surgery_date') {
        throw new HttpProblem(422, 'no_surgery_date', (l) => t(l, 'server.no_surgery_date'), { errors: (l) => [{ path: 'treatment.surgeryDate', code: 'required', allowed: 'YYYY-MM-DD', message: t(l, 'server.no_surgery_date') }] });
      }
      if (r.reason === 'no_visits') throw new HttpProblem(422, 'no_visits', (l) => t(l, 'cli.no_visits'));
      throw new Error(`ics: ${r.reason}`);
    }
    reply.type('text/calendar; charset=utf-8').header('content-disposition', 'attachment; filename="calcdx-followup.ics"');
    return r.ics;
  });

  // CT uploads (/api/ct, /api/volume): one pool of job slots; a slot is taken before the upload is
  // read, and given back when the answer is ready; the upload's folder is removed then too
  let ctJobs = 0;
  async function ctUpload<T>(req: FastifyRequest, form: UploadForm, work: (input: CtInput) => Promise<T>): Promise<T> {
    langOf(req);
    if (!req.isMultipart()) throw new HttpProblem(415, 'unsupported_media_type', (l) => t(l, 'server.ct_multipart'));
    const length = Number(req.headers['content-length']);
    if (Number.isFinite(length) && length > o.uploadLimit) throw new HttpProblem(413, 'payload_too_large', (l) => t(l, 'server.upload_too_large', { limit: o.uploadLimit }));
    if (ctJobs >= o.maxCtJobs) {
      throw new HttpProblem(429, 'too_many_requests', (l) => t(l, 'server.too_many_ct', { limit: o.maxCtJobs, seconds: o.retryAfterSeconds }), { headers: { 'retry-after': String(o.retryAfterSeconds) } });
    }
    ctJobs++;
    let tmp: Awaited<ReturnType<typeof uploadDir>> | undefined;
    try {
      tmp = await uploadDir(tmpRoot);
      const input = await receiveCtUpload(req, tmp.dir, {
        uploadBytes: o.uploadLimit, maxFiles: o.maxUploadFiles,
        ...(o.maxVoxels !== undefined ? { maxVoxels: o.maxVoxels } : {}), ...(o.ctWorkerHeapMb !== undefined ? { workerHeapMb: o.ctWorkerHeapMb } : {}),
      }, form);
      received.add(req);
      return await work(input);
    } finally {
      ctJobs--;
      await tmp?.remove();
    }
  }

  app.post('/api/ct', uploadBody, async (req, reply) => {
    const result = await ctUpload(req, CT_FORM, measure(req));
    if (reply.sent) return reply;
    return result;
  });

  // the HU volume of an upload (a DICOM series, typically) as a gzip NIfTI-1 file, for the viewer
  app.post('/api/volume', uploadBody, async (req, reply) => {
    const v = await ctUpload(req, VOLUME_FORM, volumeOf(req));
    if (reply.sent) return reply;
    return reply.type('application/gzip')
      .header('x-calcdx-warnings', asciiJson(v.warnings))
      .header('x-calcdx-dims', v.dims.join(','))
      .header('content-disposition', 'inline; filename="calcdx-volume.nii.gz"')
      .send(v.nifti);
  });

  // ---- the CT job queue (with a database; else its routes say how to configure one)
  await app.register((await import('./ct-jobs-plugin.js')).ctJobsPlugin, { ...o.ctQueue, uploadLimit: o.uploadLimit, maxUploadFiles: o.maxUploadFiles, ...(o.maxVoxels !== undefined ? { maxVoxels: o.maxVoxels } : {}), ...(o.ctWorkerHeapMb !== undefined ? { workerHeapMb: o.ctWorkerHeapMb } : {}), tmpDir: tmpRoot });

  // ---- FHIR and CDS Hooks (their own plugins, errors as OperationOutcome / problem+json)
  await app.register((await import('./fhir.js')).fhirPlugin, { kb });
  await app.register((await import('./cds-hooks.js')).cdsHooksPlugin, { ...o.cds, kb });

  // ---- the browser app
  if (existsSync(resolve(webRoot, 'index.html'))) {
    await app.register(fastifyStatic, { root: webRoot, prefix: '/', index: ['index.html'], wildcard: true, cacheControl: true, maxAge: 0 });
  } else {
    app.get('/', async (req) => {
      void req;
      throw new HttpProblem(503, 'web_not_built', (l) => t(l, 'server.web_not_built'));
    });
  }

  return app;
}

export type { FastifyInstance, FastifyReply };
