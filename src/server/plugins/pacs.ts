/**
 * "Open from PACS": the server reaches the image archives of its configuration (--pacs-config,
 * src/pacs/config.ts) over DICOMweb on the browser's behalf, so the browser never holds the
 * archive's credentials. Not an open proxy: only the configured archives, only the requests
 * built here (QIDO-RS studies with an allow-list of query keys, QIDO-RS series of a study,
 * WADO-RS of one series, STOW-RS to its study), every UID checked against the DICOM UID grammar.
 *
 * A retrieved series is written to a private temporary folder and measured as an upload is: in
 * the server's CT job slots (shared with POST /api/ct and /api/volume) and its worker threads.
 * Retrieved series stay in a small cache of the server's memory (bounded in bytes, 10 minutes by
 * default: src/pacs/series-cache.ts), so that viewing, measuring and storing a series retrieve it once.
 * The store route measures again (the same input gives the same result) and writes the SEG and the
 * SR in the worker, then stores both with one STOW-RS request.
 *
 * Access: the archive answers with any patient's names and IDs, so every route is behind login
 * (src/server/auth): searching, listing, retrieving and measuring need a clinician or a viewer
 * (READ_CLINICAL), storing into the archive a clinician (WRITE_CLINICAL); every POST carries the
 * session's CSRF token. buildServer refuses archives without the registry that enforces this.
 *
 * Problems name the archive by its label, never its URL or credentials; an archive that cannot be
 * reached or answers wrongly is a 502. Logs carry the archive id and the error code only.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { z } from 'zod';
import { t, type Lang } from '../../i18n/index.js';
import { chooseSeries } from '../../pacs/ct.js';
import type { ConfiguredArchive } from '../../pacs/config.js';
import { dicomDateRange, retrieveSeries, searchSeries, searchStudies, storeInstances, type StudyQuery } from '../../pacs/dicomweb.js';
import { PacsError } from '../../pacs/errors.js';
import { SeriesCache } from '../../pacs/series-cache.js';
import { READ_CLINICAL, WRITE_CLINICAL } from '../auth/access.js';
import { archiveLookup, measureUpload, sendVolume, volumeUpload, writebackUpload, type CtInput } from '../ct.js';
import { CtJobAborted, ctWorkerAvailable, CtSlots, runCtJob } from '../ct-jobs.js';
import { DICOM_UID, pacsMeasureBodySchema, pacsSeriesBodySchema } from '../openapi-pacs.js';
import { badParameter, HttpProblem, type ProblemError } from '../problem.js';
import { langOf, pathOf, safeLang } from '../request.js';

export interface PacsPluginOptions {
  archives: readonly ConfiguredArchive[];
  slots: CtSlots;
  uploadLimit: number;
  maxUploadFiles: number;
  ctTimeoutMs: number;
  tmpDir?: string;
  ctWorker?: boolean;
  maxVoxels?: number;
  ctWorkerHeapMb?: number;
  /** the cache of retrieved series: its bytes (0: none) and how long a series stays (seconds) */
  cacheBytes?: number;
  cacheSeconds?: number;
}

/** 512 MiB (three 512×512×300 CT series), 10 minutes: long enough to view, place the ROI, measure and store */
export const DEFAULT_PACS_CACHE = { bytes: 512 * 1024 * 1024, seconds: 600 } as const;

/** the query keys a study search passes on (and `lang`, for the answer) */
export const STUDY_QUERY_KEYS = ['PatientID', 'AccessionNumber', 'StudyDate', 'PatientName', 'limit', 'offset'] as const;

const PRINTABLE = /^[^\u0000-\u001f\u007f\\]*$/; // eslint-disable-line no-control-regex

/** The archive error as a problem: named by the archive's label, its URL and the environment variables of the CLI left out. */
function archiveProblem(e: PacsError, entry: ConfiguredArchive): HttpProblem {
  const status = e.code === 'not_found' ? 404 : e.code === 'not_ct' || e.code === 'ambiguous_series' || e.code === 'cannot_store' ? 422 : e.code === 'bad_config' ? 400 : 502;
  const clean = (s: string) => s.split(entry.archive.url).join(entry.label)
    .replace(/\s*\([^()]*CALCDX_DICOMWEB[^()]*\)/g, '')
    .replace(/;?\s*(set )?CALCDX_DICOMWEB_\w+[^;]*/g, '')
    .replace(/ with --series/g, '');
  return new HttpProblem(status, 'pacs', (lang: Lang) => t(lang, 'server.pacs_error', {
    label: entry.label,
    context: clean(e.context),
    what: t(lang, `pacs.${e.code}`).replace(/[；;]\s*(请用|choose).*$/, ''),
    detail: e.code === 'unauthorized' ? t(lang, 'server.pacs_unauthorized') : clean(e.detail),
  }), { reason: e.code });
}

/** A body that does not fit its schema: each issue with its field path (body.<field>), what was found and what is allowed. */
function bodyProblem(issues: z.core.$ZodIssue[], fields: readonly string[]): HttpProblem {
  const errors = (lang: Lang): ProblemError[] => issues.flatMap((i) => {
    const list = i.code === 'unrecognized_keys'
      ? i.keys.map((k) => ({ path: ['body', ...i.path, k].join('.'), found: k, allowed: i.path.length ? i.message : fields.join(', ') }))
      : [{ path: ['body', ...i.path].join('.'), found: i.input === undefined ? undefined : JSON.stringify(i.input).slice(0, 80), allowed: i.message }];
    return list.map((e) => ({
      path: e.path, code: i.code, ...(e.found !== undefined ? { found: e.found } : {}), allowed: e.allowed,
      message: t(lang, 'server.bad_parameter', { path: e.path, found: e.found ?? t(lang, 'allowed.nothing'), allowed: e.allowed }),
    }));
  });
  return new HttpProblem(400, 'bad_parameter', (lang) => errors(lang).map((e) => e.message).join('; '), { errors });
}

export async function pacsPlugin(app: FastifyInstance, o: PacsPluginOptions): Promise<void> {
  const tmpRoot = o.tmpDir ?? tmpdir();
  const inWorker = o.ctWorker !== false && ctWorkerAvailable();
  const { requests } = app;

  const archiveOf = archiveLookup(o.archives);
  /** runs a DICOMweb call; an archive error becomes a problem naming the archive by its label (and a log line with its id and code) */
  const call = async <T>(req: FastifyRequest, entry: ConfiguredArchive, f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (e) {
      if (e instanceof PacsError) {
        req.log.warn({ archive: entry.id, pacs: e.code }, 'archive error');
        throw archiveProblem(e, entry);
      }
      throw e;
    }
  };
  const onlyLang = (req: FastifyRequest) => {
    for (const k of Object.keys((req.query ?? {}) as object)) if (k !== 'lang') throw badParameter(`query.${k}`, 'an unknown parameter', 'lang');
    langOf(req);
  };
  const uidParam = (name: string, v: string): string => {
    if (v.length > 64 || !DICOM_UID.test(v)) throw badParameter(name, v.slice(0, 80), 'a DICOM UID (digits and dots, no leading zeros, at most 64 characters)');
    return v;
  };

  // the archive holds any patient's data: every route needs a logged-in clinician or viewer, and
  // storing into the archive a clinician (the auth plugin checks the role, and the CSRF token of a POST)
  const read = { config: { access: READ_CLINICAL } };

  app.get('/api/pacs/archives', read, async (req) => {
    onlyLang(req);
    return { archives: o.archives.map((a) => ({ id: a.id, label: a.label })) };
  });

  app.get('/api/pacs/:archive/studies', read, async (req) => {
    const entry = archiveOf(req);
    const query = (req.query ?? {}) as Record<string, unknown>;
    const q: StudyQuery = {};
    for (const [k, v] of Object.entries(query)) {
      if (k === 'lang') continue;
      if (!(STUDY_QUERY_KEYS as readonly string[]).includes(k)) throw badParameter(`query.${k}`, 'an unknown parameter', [...STUDY_QUERY_KEYS, 'lang'].join(', '));
      if (typeof v !== 'string') throw badParameter(`query.${k}`, 'several values', 'one value');
      if (v === '') continue;
      const text = (max: number): string => {
        if (v.length > max || !PRINTABLE.test(v)) throw badParameter(`query.${k}`, v.slice(0, 80), `at most ${max} printable characters, no backslash`);
        return v.trim();
      };
      const whole = (min: number, max: number): number => {
        const n = Number(v);
        if (!/^\d+$/.test(v) || n < min || n > max) throw badParameter(`query.${k}`, v.slice(0, 80), `a whole number from ${min} to ${max}`);
        return n;
      };
      if (k === 'PatientID') q.patientId = text(64);
      else if (k === 'AccessionNumber') q.accession = text(16);
      else if (k === 'PatientName') q.patientName = text(320);
      else if (k === 'StudyDate') {
        if (!dicomDateRange(v)) throw badParameter('query.StudyDate', v.slice(0, 80), 'YYYYMMDD, YYYY-MM-DD, or a range FROM-TO, FROM-, -TO');
        q.date = v;
      } else if (k === 'limit') q.limit = whole(1, 1000);
      else if (k === 'offset') q.offset = whole(0, 1_000_000);
    }
    langOf(req);
    return { studies: await call(req, entry, () => searchStudies(entry.archive, q)) };
  });

  app.get('/api/pacs/:archive/studies/:study/series', read, async (req) => {
    const entry = archiveOf(req);
    const study = uidParam('path.study', (req.params as { study: string }).study);
    onlyLang(req);
    const series = await call(req, entry, () => searchSeries(entry.archive, study));
    return { series: series.map((s) => ({ ...s, ct: s.modality === 'CT' })) };
  });

  /** series retrieved recently (src/pacs/series-cache.ts): a view, a measure and a store of the same series retrieve it once */
  const cache = new SeriesCache<{ instances: Uint8Array[] }>(o.cacheBytes ?? DEFAULT_PACS_CACHE.bytes, 1000 * (o.cacheSeconds ?? DEFAULT_PACS_CACHE.seconds));
  app.addHook('onClose', async () => cache.clear());

  /**
   * A CT series of the archive (from the cache, else retrieved), written into a private folder in a
   * CT job slot, and `work` run on it as on an upload; the slot and the folder are given back
   * whatever happens (CtSlots.run).
   */
  async function withSeries<T>(req: FastifyRequest, entry: ConfiguredArchive, study: string, series: string, fields: Record<string, string>, work: (input: CtInput) => Promise<T>): Promise<T> {
    return o.slots.run(tmpRoot, o.ctTimeoutMs, async (folder) => {
      requests.received(req);
      const { instances } = await cache.get(`${entry.id}\n${study}\n${series}`, async () => {
        const chosen = await call(req, entry, () => chooseSeries(entry.archive, study, series));
        return {
          instances: await call(req, entry, () => retrieveSeries(entry.archive, study, series, {
            ...(chosen.instances !== undefined ? { expected: chosen.instances } : {}), maxBytes: o.uploadLimit,
          })),
        };
      });
      if (instances.length > o.maxUploadFiles) throw new HttpProblem(413, 'payload_too_large', (l) => t(l, 'server.too_many_files', { limit: o.maxUploadFiles }));
      if (requests.signalOf(req).aborted) throw new CtJobAborted();
      const top = await folder();
      const dir = join(top, 'in');
      await mkdir(dir, { mode: 0o700 });
      const names = new Map<string, string>([[top, `series ${series}`], [dir, `series ${series}`]]);
      for (let i = 0; i < instances.length; i++) {
        const file = join(dir, `f${String(i + 1).padStart(6, '0')}`);
        await writeFile(file, instances[i]!, { flag: 'wx', mode: 0o600 });
        names.set(file, `instance ${i + 1}`);
      }
      return work({
        volumePath: dir, fields: { ...fields, series }, names,
        limits: { maxBytes: o.uploadLimit, maxVoxels: o.maxVoxels ?? 2 ** 28, ...(o.ctWorkerHeapMb !== undefined ? { workerHeapMb: o.ctWorkerHeapMb } : {}) },
      });
    });
  }

  const signal = (req: FastifyRequest) => requests.signalOf(req);
  const parse = <S extends z.ZodObject>(schema: S, req: FastifyRequest): z.infer<S> => {
    const v = schema.safeParse(req.body ?? undefined, { reportInput: true });
    if (!v.success) throw bodyProblem(v.error.issues, Object.keys(schema.shape));
    return v.data;
  };
  const measureFields = (b: z.infer<typeof pacsMeasureBodySchema>): Record<string, string> => ({
    roi: b.roi,
    ...(b.options?.threshold !== undefined ? { threshold: String(b.options.threshold) } : {}),
    ...(b.options?.connectivity !== undefined ? { connectivity: String(b.options.connectivity) } : {}),
    ...(b.options?.minVoxels !== undefined ? { minVoxels: String(b.options.minVoxels) } : {}),
  });
  // a client gone while the series is retrieved or measured: stop the job (as plugins/ct.ts does)
  app.addHook('preHandler', async (req, reply) => {
    reply.raw.once('close', () => { if (!reply.raw.writableFinished) requests.abort(req); });
  });
  const ctRoute = { config: { upload: true, access: READ_CLINICAL } };

  app.post('/api/pacs/:archive/volume', ctRoute, async (req, reply) => {
    const entry = archiveOf(req);
    onlyLang(req);
    const b = parse(pacsSeriesBodySchema, req);
    const v = await withSeries(req, entry, b.study, b.series, {}, (input) => inWorker ? runCtJob('volume', input, safeLang(req), pathOf(req), signal(req)) : volumeUpload(input));
    if (reply.sent) return reply;
    return sendVolume(reply, v);
  });

  app.post('/api/pacs/:archive/measure', ctRoute, async (req, reply) => {
    const entry = archiveOf(req);
    onlyLang(req);
    const b = parse(pacsMeasureBodySchema, req);
    const result = await withSeries(req, entry, b.study, b.series, measureFields(b), (input) => inWorker ? runCtJob('measure', input, safeLang(req), pathOf(req), signal(req)) : measureUpload(input));
    if (reply.sent) return reply;
    return result;
  });

  app.post('/api/pacs/:archive/store', { config: { upload: true, access: WRITE_CLINICAL } }, async (req, reply) => {
    const entry = archiveOf(req);
    onlyLang(req);
    const b = parse(pacsMeasureBodySchema, req);
    const r = await withSeries(req, entry, b.study, b.series, measureFields(b), (input) => inWorker ? runCtJob('writeback', input, safeLang(req), pathOf(req), signal(req)) : writebackUpload(input));
    if (reply.sent) return reply;
    const { seg, sr, ...result } = r;
    await call(req, entry, () => storeInstances(entry.archive, b.study, [
      { ...seg, what: `SEG ${seg.sopInstanceUid}` },
      { ...sr, what: `SR ${sr.sopInstanceUid}` },
    ]));
    const ids = (x: typeof seg) => ({ sopInstanceUid: x.sopInstanceUid, seriesInstanceUid: x.seriesInstanceUid, sopClassUid: x.sopClassUid });
    return { ...result, stored: { archive: entry.id, study: b.study, seg: ids(seg), sr: ids(sr) } };
  });
}
