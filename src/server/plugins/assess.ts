/**
 * The assessment of a case (POST /api/assess, /api/validate, /api/report, /api/followup.ics):
 * a case body in (JSON, YAML or text; a multipart body is a 415 at once, before it is read),
 * the engine's answer out as JSON, an R4 Bundle, a report or a calendar.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import { assess } from '../../core/engine/assess.js';
import type { KnowledgeBase } from '../../core/knowledge/compile.js';
import { t } from '../../i18n/index.js';
import { buildReport, type Audience } from '../../report/build.js';
import { followUpIcs } from '../../report/ics.js';
import { EVIDENCE_SCOPES, type EvidenceScope } from '../../report/json.js';
import { assessmentJsonBytes } from '../../report/json-text.js';
import { renderHtml } from '../../report/render-html.js';
import { renderMarkdown, renderText } from '../../report/render-text.js';
import { HttpProblem } from '../problem.js';
import { caseOf, choice, dateOf, langOf, multipartType } from '../request.js';
import { CSP_REPORT } from './security.js';

const FORMATS = ['html', 'md', 'text'] as const;
type ReportFormat = (typeof FORMATS)[number];
const CONTENT_TYPES: Record<ReportFormat, string> = { html: 'text/html; charset=utf-8', md: 'text/markdown; charset=utf-8', text: 'text/plain; charset=utf-8' };

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

export interface AssessOptions {
  kb: KnowledgeBase;
  assessCacheBytes: number;
}

export async function assessPlugin(app: FastifyInstance, o: AssessOptions): Promise<void> {
  const { kb } = o;
  const caseBody = {
    onRequest: async (req: FastifyRequest) => {
      if (multipartType(req)) throw new HttpProblem(415, 'unsupported_media_type', (l) => t(l, 'server.case_multipart'));
    },
  };
  const assessCache = new ResponseCache(o.assessCacheBytes);

  // an assessment is a pure function of the case bytes and the language: identical requests (the
  // browser app re-sends the case it shows) are answered from a small cache of serialised answers
  app.post('/api/assess', caseBody, async (req, reply) => {
    const lang = langOf(req);
    // ?format=fhir: an R4 Bundle (src/server/fhir.ts, loaded when first asked for)
    if (choice(req, 'format', ['json', 'fhir'], 'json') === 'fhir') return (await import('../fhir.js')).fhirAssessmentReply(kb, caseOf(req.body), lang, reply);
    // whose evidence is listed: by default the entities still in contention (evidence-scope.ts)
    const evidence = choice<EvidenceScope>(req, 'evidence', EVIDENCE_SCOPES, 'likely');
    const raw = app.caseBodies.raw(req);
    const date = dateOf(req);
    const key = raw ? ResponseCache.key(`${lang}:${evidence}:${date}`, raw) : undefined;
    const hit = key ? assessCache.get(key) : undefined;
    reply.type('application/json; charset=utf-8');
    if (hit !== undefined) return hit;
    const c = caseOf(req.body);
    // the bytes of JSON.stringify(assessmentToJson(…)), written with the knowledge base's texts pre-serialised
    const bytes = assessmentJsonBytes(kb, assess(kb, c, { date }), lang, evidence);
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
}
