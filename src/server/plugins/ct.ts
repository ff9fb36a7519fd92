/**
 * CT quantification over HTTP (POST /api/ct: measure the calcification of an upload; POST
 * /api/volume: the upload's HU volume as gzip NIfTI-1 for the viewer). One pool of job slots: a
 * slot is taken before the upload is read and given back when the answer is ready; the upload's
 * private folder is removed then too. The work (decode, measure, encode) runs in a worker thread
 * when dist/ is built, so the event loop keeps answering; it stops when the request times out or
 * its client goes away. The multipart limits are in bodies.ts.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { tmpdir } from 'node:os';
import { t } from '../../i18n/index.js';
import { CT_FORM, measureUpload, receiveCtUpload, sendVolume, VOLUME_FORM, volumeUpload, type CtInput, type CtResult, type UploadForm } from '../ct.js';
import { ctWorkerAvailable, CtSlots, runCtJob } from '../ct-jobs.js';
import { HttpProblem } from '../problem.js';
import { langOf, multipartType, pathOf, safeLang } from '../request.js';

export interface CtPluginOptions {
  uploadLimit: number;
  maxUploadFiles: number;
  maxCtJobs: number;
  retryAfterSeconds: number;
  ctTimeoutMs: number;
  /** parent of the private upload folders; default the system's temporary folder */
  tmpDir?: string;
  /** replaces the CT measurement (tests of limits and timeouts) */
  measureCt?: (input: CtInput) => Promise<CtResult>;
  /** false: CT work on the server's own thread instead of a worker thread (default: a worker when dist/ is built) */
  ctWorker?: boolean;
  maxVoxels?: number;
  ctWorkerHeapMb?: number;
  /** the server's CT job slots (shared with the archive routes, plugins/pacs.ts); default: its own */
  slots?: CtSlots;
}

export async function ctPlugin(app: FastifyInstance, o: CtPluginOptions): Promise<void> {
  const tmpRoot = o.tmpDir ?? tmpdir();
  const inWorker = o.measureCt === undefined && o.ctWorker !== false && ctWorkerAvailable();
  const { requests } = app;
  const measure = (req: FastifyRequest) => (input: CtInput): Promise<CtResult> =>
    o.measureCt ? o.measureCt(input) : inWorker ? runCtJob('measure', input, safeLang(req), pathOf(req), requests.signalOf(req)) : measureUpload(input);
  const volumeOf = (req: FastifyRequest) => (input: CtInput) =>
    inWorker ? runCtJob('volume', input, safeLang(req), pathOf(req), requests.signalOf(req)) : volumeUpload(input);

  // onRequestAbort covers a client gone while its body arrives; one gone after its upload was read
  // (while the CT job runs) shows as the response closing before it was written: stop the job too
  // (the controller may not exist yet, the upload was just read: the job then never starts)
  app.addHook('preHandler', async (req, reply) => {
    reply.raw.once('close', () => {
      if (reply.raw.writableFinished) return;
      requests.abort(req);
    });
  });

  // anything but multipart is a 415 at once, before a byte of the body is parsed; the request's
  // timeout is the CT one (config.upload, plugins/requests.ts)
  const uploadBody = {
    config: { upload: true },
    onRequest: async (req: FastifyRequest) => {
      if (!multipartType(req)) throw new HttpProblem(415, 'unsupported_media_type', (l) => t(l, 'server.ct_multipart'));
    },
  };

  const slots = o.slots ?? new CtSlots(o.maxCtJobs, o.retryAfterSeconds);
  async function ctUpload<T>(req: FastifyRequest, form: UploadForm, work: (input: CtInput) => Promise<T>): Promise<T> {
    langOf(req);
    if (!req.isMultipart()) throw new HttpProblem(415, 'unsupported_media_type', (l) => t(l, 'server.ct_multipart'));
    const length = Number(req.headers['content-length']);
    if (Number.isFinite(length) && length > o.uploadLimit) throw new HttpProblem(413, 'payload_too_large', (l) => t(l, 'server.upload_too_large', { limit: o.uploadLimit }));
    return slots.run(tmpRoot, o.ctTimeoutMs, async (folder) => {
      const input = await receiveCtUpload(req, await folder(), {
        uploadBytes: o.uploadLimit, maxFiles: o.maxUploadFiles,
        ...(o.maxVoxels !== undefined ? { maxVoxels: o.maxVoxels } : {}), ...(o.ctWorkerHeapMb !== undefined ? { workerHeapMb: o.ctWorkerHeapMb } : {}),
      }, form);
      requests.received(req);
      return work(input);
    });
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
    return sendVolume(reply, v);
  });
}
