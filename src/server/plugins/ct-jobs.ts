/**
 * The CT job queue over HTTP (with `calcdx serve --db postgres://…`; src/queue), in its own context:
 *
 * - POST /api/ct/jobs — an upload as for POST /api/ct (multipart: the volume files, an optional
 *   mask, the fields roi, threshold, connectivity, minVoxels, series), or JSON
 *   {"dicomweb": {"archive", "study", "series"?}, "roi", …} for a series of a configured archive.
 *   The options are checked here (a bad ROI is a 400 at once); the job is queued with its input
 *   (the upload goes into PostgreSQL, see src/queue/store.ts) and answered 202 with its id and
 *   Location. `calcdx worker` processes run it.
 * - GET /api/ct/jobs/:id — state (queued, running, retrying, completed, failed, dead, expired),
 *   progress (0–100), attempt, the result (the JSON of POST /api/ct) once completed, or the error
 *   as a problem (application/problem+json's fields) when failed, dead or expired.
 * - GET /api/ct/jobs/:id/events — server-sent events: the job's state and progress as they change
 *   (from any worker, through PostgreSQL's NOTIFY), ending with its final state.
 *
 * - POST /api/pacs/:archive/jobs — the web app's "measure" of a series of an archive of the server's
 *   configuration (--pacs-config; body as POST /api/pacs/:archive/measure; clinicians and viewers):
 *   queued as a DICOMweb job when the archive's URL is one the workers read from (--archive), else
 *   503 queue_not_configured (reason archive_not_queued): the web app then measures directly.
 * - GET /api/ct/queue — {configured}: whether the routes above queue (the web app asks once, so
 *   that an upload is sent once, to the route that takes it).
 *
 * Without a database the job routes answer 503 queue_not_configured: the embedded default (POST
 * /api/ct in the server's worker threads) is unchanged.
 */
import { randomUUID } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { t, type Lang } from '../../i18n/index.js';
import { DEFAULT_VOLUME_LIMITS } from '../../imaging/limits.js';
import type { InputFile } from '../../queue/store.js';
import { spoolDrop, spoolPut } from '../../queue/spool.js';
import type { QueueSettings } from '../../queue/queue.js';
import type { ConfiguredArchive } from '../../pacs/config.js';
import { READ_CLINICAL } from '../auth/access.js';
import { pacsMeasureBodySchema } from '../openapi-pacs.js';
import { archiveLookup, CT_FORM, ctOptions, receiveCtUpload, uploadDir } from '../ct.js';
import { badParameter, HttpProblem } from '../problem.js';
import { langOf } from '../request.js';

export interface CtJobsPluginOptions {
  /** postgres://…; undefined: no queue (the routes say how to configure one) */
  db?: string;
  settings?: Partial<QueueSettings>;
  /** DICOMweb archives (base URLs) a job may name */
  archives?: readonly string[];
  /** the archives of "Open from PACS" (--pacs-config): POST /api/pacs/:archive/jobs queues those whose URL is in `archives` */
  pacs?: readonly ConfiguredArchive[];
  /** the server's upload limits (the queue's own limit, settings.maxUploadBytes, applies too) */
  uploadLimit: number;
  maxUploadFiles: number;
  maxVoxels?: number | undefined;
  workerHeapMb?: number | undefined;
  /** parent of the private upload folders; default the system's temporary folder */
  tmpDir?: string | undefined;
  /** the measurement's time budget (the server's CT timeout): the worker stops a measurement past it, and an attempt expires at 1.5× it unless settings.expireInSeconds says otherwise */
  ctTimeoutMs?: number | undefined;
  /** a folder shared with the workers (--spool): uploads stay there instead of going into PostgreSQL (src/queue/spool.ts) */
  spool?: string | undefined;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HEARTBEAT_MS = 15_000;


export async function ctJobsPlugin(app: FastifyInstance, o: CtJobsPluginOptions): Promise<void> {
  const notConfigured = () => new HttpProblem(503, 'queue_not_configured', (l) => t(l, 'queue.not_configured'));
  app.get('/api/ct/queue', async (req) => {
    langOf(req);
    return { configured: o.db !== undefined };
  });
  /** the configured archive a PACS job names, or a 404 as the archive routes answer */
  const pacsArchiveOf = archiveLookup(o.pacs ?? []);
  const pacsJobRoute = { config: { access: READ_CLINICAL } };
  if (!o.db) {
    const refuse = async () => { throw notConfigured(); };
    app.post('/api/ct/jobs', refuse);
    app.get('/api/ct/jobs/:id', refuse);
    app.get('/api/ct/jobs/:id/events', refuse);
    app.post('/api/pacs/:archive/jobs', pacsJobRoute, async (req) => { pacsArchiveOf(req); throw notConfigured(); });
    return;
  }
  const { connectQueue, expireForBudget, getJob, JobEvents, QUEUE_DEFAULTS, submitJob } = await import('../../queue/queue.js');
  const { TERMINAL_STATES } = await import('../../queue/schema.js');
  const settings: QueueSettings = { ...QUEUE_DEFAULTS, ...(o.ctTimeoutMs ? { expireInSeconds: expireForBudget(o.ctTimeoutMs) } : {}), ...o.settings };
  const q = await connectQueue(o.db, { role: 'server' });
  const sse = new Set<FastifyReply>();
  // the notifications stopped (the database restarted): end the streams; EventSource clients reconnect
  const events = new JobEvents(o.db, () => { for (const r of sse) r.raw.end(); });
  app.addHook('onClose', async () => {
    for (const r of sse) r.raw.end();
    await events.close();
    await q.close();
  });
  const archives = new Set(o.archives ?? []);
  const uploadLimit = Math.min(o.uploadLimit, settings.maxUploadBytes);
  const limits = {
    maxBytes: uploadLimit, maxVoxels: o.maxVoxels ?? DEFAULT_VOLUME_LIMITS.maxVoxels, ...(o.workerHeapMb ? { workerHeapMb: o.workerHeapMb } : {}),
    ...(o.ctTimeoutMs ? { timeoutMs: o.ctTimeoutMs } : {}),
  };

  // this context reads JSON bodies as plain JSON (the case parser of the other routes reads YAML too)
  app.removeContentTypeParser(['application/json']);
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: 256 * 1024 }, (_req, body, done) => {
    try { done(null, JSON.parse(String(body))); } catch {
      done(new HttpProblem(400, 'invalid_body', (l) => t(l, 'server.bad_request'), { reason: 'parse_json' }));
    }
  });

  const jobUrl = (id: string) => `/api/ct/jobs/${id}`;
  const notFound = (id: string) => new HttpProblem(404, 'not_found', (l) => t(l, 'queue.job_not_found', { id, days: Math.round(settings.keepSeconds / 86400) }));

  async function fromUpload(req: FastifyRequest, lang: Lang): Promise<string> {
    const length = Number(req.headers['content-length']);
    if (Number.isFinite(length) && length > uploadLimit) throw new HttpProblem(413, 'payload_too_large', (l) => t(l, 'server.upload_too_large', { limit: uploadLimit }));
    // with a spool the upload is received inside it, so that queuing it is a rename
    const tmp = await uploadDir(o.spool ?? o.tmpDir ?? tmpdir());
    try {
      const input = await receiveCtUpload(req, tmp.dir, { uploadBytes: uploadLimit, maxFiles: o.maxUploadFiles, maxVoxels: limits.maxVoxels, ...(o.workerHeapMb ? { workerHeapMb: o.workerHeapMb } : {}) }, CT_FORM);
      app.requests.received(req);
      ctOptions(input.fields, input.maskPath !== undefined);
      const paths = (await stat(input.volumePath)).isDirectory()
        ? (await readdir(input.volumePath)).sort().map((f) => join(input.volumePath, f))
        : [input.volumePath];
      const files: InputFile[] = paths.map((p) => ({ path: p, role: 'volume', name: input.names?.get(p) ?? 'upload' }));
      if (input.maskPath) files.push({ path: input.maskPath, role: 'mask', name: input.names?.get(input.maskPath) ?? 'mask' });
      let bytes = 0;
      for (const f of files) bytes += (await stat(f.path)).size;
      const source = { kind: 'upload' as const, files: files.length, bytes, mask: input.maskPath !== undefined };
      if (!o.spool) return await submitJob(q, settings, { source, fields: input.fields, lang, limits }, files);
      const id = randomUUID();
      await spoolPut(o.spool, id, tmp.dir, input);
      try {
        return await submitJob(q, settings, { source: { ...source, spool: true }, fields: input.fields, lang, limits }, [], id);
      } catch (e) {
        await spoolDrop(o.spool, id);
        throw e;
      }
    } finally {
      await tmp.remove();
    }
  }

  async function fromArchive(req: FastifyRequest, lang: Lang): Promise<string> {
    const { ctJobRequest } = await import('../../queue/schema.js');
    const parsed = ctJobRequest.safeParse(req.body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const path = `body.${issue.path.join('.')}`;
      if (req.body === null || typeof req.body !== 'object' || !('dicomweb' in req.body)) throw new HttpProblem(400, 'bad_parameter', (l) => t(l, 'queue.archive_required'), { reason: 'dicomweb_required' });
      throw badParameter(path, issue.code === 'unrecognized_keys' ? (issue as { keys?: string[] }).keys?.join(', ') : issue.message, 'dicomweb {archive, study, series}, roi, threshold, connectivity, minVoxels');
    }
    const b = parsed.data;
    const { archiveFromEnv } = await import('../../pacs/dicomweb.js');
    let url: string;
    try { url = archiveFromEnv(b.dicomweb.archive, {}).url; } catch { url = b.dicomweb.archive; }
    if (!archives.has(url)) throw badParameter('body.dicomweb.archive', b.dicomweb.archive, archives.size ? [...archives].join(', ') : 'none is configured (--archive or CALCDX_DICOMWEB_ARCHIVES)');
    const fields: Record<string, string> = { roi: b.roi };
    if (b.threshold !== undefined) fields.threshold = String(b.threshold);
    if (b.connectivity !== undefined) fields.connectivity = String(b.connectivity);
    if (b.minVoxels !== undefined) fields.minVoxels = String(b.minVoxels);
    ctOptions(fields, false);
    return submitJob(q, settings, { source: { kind: 'dicomweb', archive: url, study: b.dicomweb.study, ...(b.dicomweb.series ? { series: b.dicomweb.series } : {}) }, fields, lang, limits });
  }

  /** A series of an archive of "Open from PACS", queued as a DICOMweb job (the worker reads the archive with its own credentials). */
  async function fromPacs(req: FastifyRequest, lang: Lang): Promise<string> {
    const entry = pacsArchiveOf(req);
    for (const k of Object.keys((req.query ?? {}) as object)) if (k !== 'lang') throw badParameter(`query.${k}`, 'an unknown parameter', 'lang');
    const parsed = pacsMeasureBodySchema.safeParse(req.body ?? undefined);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw badParameter(`body.${issue.path.join('.')}`, issue.code === 'unrecognized_keys' ? (issue as { keys?: string[] }).keys?.join(', ') : issue.message, 'study, series, roi, options {threshold, connectivity, minVoxels}');
    }
    if (!archives.has(entry.archive.url)) {
      throw new HttpProblem(503, 'queue_not_configured', (l) => t(l, 'queue.archive_not_queued', { label: entry.label }), { reason: 'archive_not_queued' });
    }
    const b = parsed.data;
    const fields: Record<string, string> = { roi: b.roi };
    if (b.options?.threshold !== undefined) fields.threshold = String(b.options.threshold);
    if (b.options?.connectivity !== undefined) fields.connectivity = String(b.options.connectivity);
    if (b.options?.minVoxels !== undefined) fields.minVoxels = String(b.options.minVoxels);
    ctOptions(fields, false);
    return submitJob(q, settings, { source: { kind: 'dicomweb', archive: entry.archive.url, study: b.study, series: b.series }, fields, lang, limits });
  }

  app.post('/api/pacs/:archive/jobs', pacsJobRoute, async (req, reply) => {
    const id = await fromPacs(req, langOf(req));
    return reply.code(202).header('location', jobUrl(id)).send({ id, state: 'queued', url: jobUrl(id), events: `${jobUrl(id)}/events` });
  });

  // an upload's timeout is the CT one (config.upload, plugins/requests.ts)
  app.post('/api/ct/jobs', { config: { upload: true } }, async (req, reply) => {
    const lang = langOf(req);
    const id = req.isMultipart() ? await fromUpload(req, lang) : await fromArchive(req, lang);
    return reply.code(202).header('location', jobUrl(id)).send({ id, state: 'queued', url: jobUrl(id), events: `${jobUrl(id)}/events` });
  });

  const jobOf = async (id: string) => {
    if (!UUID.test(id)) throw notFound(id);
    const row = await getJob(q.pool, id);
    if (!row) throw notFound(id);
    // waited past its expiry: expired, whether or not a worker has written it yet
    const state = !TERMINAL_STATES.has(row.state) && row.state !== 'running' && row.expires_at.getTime() < Date.now() ? 'expired' : row.state;
    return {
      id: row.id, state, progress: row.progress, attempt: row.attempt,
      created: row.created_at.toISOString(), updated: row.updated_at.toISOString(),
      ...(row.result ? { result: row.result } : {}),
      ...(row.error && state !== 'completed' ? { error: row.error } : {}),
    };
  };

  app.get<{ Params: { id: string } }>('/api/ct/jobs/:id', async (req) => {
    langOf(req);
    return jobOf(req.params.id);
  });

  app.get<{ Params: { id: string } }>('/api/ct/jobs/:id/events', async (req, reply) => {
    langOf(req);
    const id = req.params.id;
    if (!UUID.test(id)) throw notFound(id);
    const queuedEvents: Array<{ state: string; progress: number; attempt: number }> = [];
    const sink: { write?: (e: { state: string; progress: number; attempt: number }) => void } = {};
    // subscribe before reading the state, so that no change falls between the two
    const unsubscribe = await events.subscribe(id, (e) => (sink.write ? sink.write(e) : queuedEvents.push(e)));
    let job;
    try { job = await jobOf(id); } catch (e) { unsubscribe(); throw e; }
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-content-type-options': 'nosniff' });
    sse.add(reply);
    let lastState = '';
    let lastProgress = -1;
    let n = 0;
    const heartbeat = setInterval(() => raw.write(': keep-alive\n\n'), HEARTBEAT_MS).unref();
    const end = () => { clearInterval(heartbeat); unsubscribe(); sse.delete(reply); if (!raw.writableEnded) raw.end(); };
    raw.on('close', end);
    const write = (e: { state: string; progress: number; attempt: number }) => {
      if (raw.writableEnded) return;
      const kind = e.state === lastState ? 'progress' : 'state';
      // an event older than the state read first
      if (kind === 'progress' && e.progress <= lastProgress) return;
      lastState = e.state;
      lastProgress = e.progress;
      raw.write(`id: ${++n}\nevent: ${kind}\ndata: ${JSON.stringify({ id, state: e.state, progress: e.progress, attempt: e.attempt })}\n\n`);
      if (TERMINAL_STATES.has(e.state as never)) end();
    };
    write(job);
    for (const e of queuedEvents) write(e);
    sink.write = write;
  });
}
