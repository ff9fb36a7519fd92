/**
 * POST /api/ct and POST /api/volume: a CT upload (one NIfTI file, several DICOM files, or one .zip
 * of DICOM files, plus for /api/ct an optional ROI mask) is written to a private temporary folder
 * (mode 0700, names chosen here, never the uploaded ones), read, and measured as `calcdx ct --json`
 * does (/api/ct) or returned as a NIfTI volume (/api/volume); the folder is deleted afterwards,
 * whatever happened. Errors about a file name it by the name it was uploaded under.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ctReportJson } from '../report/ct-json.js';
import { t } from '../i18n/index.js';
import { labelVolume } from '../imaging/label.js';
import { SourceSeriesError } from '../imaging/dicom-source.js';
import { buildWriteback } from '../pacs/ct.js';
import type { ConfiguredArchive } from '../pacs/config.js';
import { analyseCalcification, type Analysis } from '../imaging/pattern.js';
import { readNifti } from '../imaging/read-nifti.js';
import { readVolume } from '../imaging/read-volume.js';
import { parseRoiSpec, ROI_SPEC_HELP, RoiError, type RoiSpec } from '../imaging/roi.js';
import type { Volume } from '../imaging/volume.js';
import { encodeNiftiMask } from '../imaging/write-nifti.js';
import { CtJobAborted, publishCtEvent } from './ct-jobs.js';
import { badParameter, HttpProblem, UploadImagingError } from './problem.js';
import { ImagingError } from '../imaging/errors.js';
import { DEFAULT_VOLUME_LIMITS, type VolumeLimits } from '../imaging/limits.js';

export interface CtLimits {
  /** total bytes of an upload (and of what a zip unpacks to); also the largest decompressed volume */
  uploadBytes: number;
  /** files in an upload (or entries in a zip) */
  maxFiles: number;
  /** voxels of a volume (default DEFAULT_VOLUME_LIMITS.maxVoxels) */
  maxVoxels?: number;
  /** the JavaScript heap of a CT worker thread, MiB (default DEFAULT_CT_WORKER_HEAP_MB) */
  workerHeapMb?: number;
}

/** What a CT job may use: the volume limits of the reader, and the worker's heap. */
export interface CtJobLimits extends VolumeLimits {
  workerHeapMb?: number;
}

export interface CtInput {
  /** the uploaded volume: one file (NIfTI or DICOM), or a folder of DICOM files */
  volumePath: string;
  maskPath?: string;
  fields: Record<string, string>;
  /** the upload's temporary files and folders (absolute paths) → the names they were uploaded under */
  names?: ReadonlyMap<string, string>;
  /** size limits of the volume read (default DEFAULT_VOLUME_LIMITS) and of the worker */
  limits?: CtJobLimits;
}

/** What an upload may hold besides its volume files. */
export interface UploadForm {
  /** the form fields allowed */
  fields: ReadonlySet<string>;
  /** whether a file part named "mask" is the ROI mask (else it is refused) */
  mask: boolean;
}

export interface CtResult {
  measurement: Record<string, unknown>;
  findings: Analysis['pattern']['fragment'];
  labels: string;
}

const FIELDS = new Set(['roi', 'threshold', 'connectivity', 'minVoxels', 'series']);
/** the form of POST /api/ct */
export const CT_FORM: UploadForm = { fields: FIELDS, mask: true };
/** the form of POST /api/volume: files and an optional series */
export const VOLUME_FORM: UploadForm = { fields: new Set(['series']), mask: false };

/** An uploaded file name as shown in a message: its last path part, printable, at most 120 characters. */
function displayName(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  // eslint-disable-next-line no-control-regex
  const base = raw.split(/[\\/]/).filter(Boolean).pop()?.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '?') ?? '';
  if (!base) return undefined;
  return base.length > 120 ? `${base.slice(0, 117)}…` : base;
}

const tooLarge = (limit: number) => new HttpProblem(413, 'payload_too_large', (lang) => t(lang, 'server.upload_too_large', { limit }));

/** Counts the bytes of one request across its files; fails the stream past the limit. */
class ByteBudget {
  used = 0;
  constructor(readonly limit: number) {}
  meter(): Transform {
    return new Transform({
      transform: (chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) => {
        this.used += chunk.length;
        if (this.used > this.limit) cb(tooLarge(this.limit));
        else cb(null, chunk);
      },
    });
  }
}

async function startsWithZip(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const b = Buffer.alloc(4);
    const { bytesRead } = await fh.read(b, 0, 4, 0);
    return bytesRead === 4 && b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04;
  } finally { await fh.close(); }
}

/** Unpacks a zip into `dest` under names chosen here (no path from the archive is used). */
async function unzip(zipPath: string, dest: string, limits: CtLimits, names: Map<string, string>, zipName: string): Promise<number> {
  const bad = (detail: string) => new HttpProblem(422, 'upload_invalid', (lang) => t(lang, 'server.zip_invalid', { detail }), { reason: 'zip_invalid' });
  let zip: yauzl.ZipFile;
  try { zip = await yauzl.openPromise(zipPath, { lazyEntries: true, validateEntrySizes: true, strictFileNames: false }); } catch (e) {
    throw bad((e as Error).message);
  }
  const budget = new ByteBudget(limits.uploadBytes);
  let n = 0;
  try {
    if (zip.entryCount > limits.maxFiles + 1000) throw tooLarge(limits.uploadBytes);
    for (;;) {
      const entry = await new Promise<yauzl.Entry | undefined>((resolve, reject) => {
        const onEntry = (e: yauzl.Entry) => { cleanup(); resolve(e); };
        const onEnd = () => { cleanup(); resolve(undefined); };
        const onError = (e: Error) => { cleanup(); reject(bad(e.message)); };
        const cleanup = () => { zip.off('entry', onEntry); zip.off('end', onEnd); zip.off('error', onError); };
        zip.on('entry', onEntry); zip.on('end', onEnd); zip.on('error', onError);
        zip.readEntry();
      });
      if (!entry) break;
      if (entry.fileName.endsWith('/') || /(^|\/)__MACOSX\//.test(entry.fileName)) continue;
      if (++n > limits.maxFiles) throw new HttpProblem(413, 'payload_too_large', (lang) => t(lang, 'server.too_many_files', { limit: limits.maxFiles }));
      if (entry.uncompressedSize > limits.uploadBytes - budget.used) throw tooLarge(limits.uploadBytes);
      let stream;
      try { stream = await zip.openReadStreamPromise(entry); } catch (e) { throw bad((e as Error).message); }
      const target = join(dest, `z${String(n).padStart(6, '0')}`);
      names.set(target, `${zipName}/${displayName(entry.fileName) ?? `#${n}`}`);
      await pipeline(stream, budget.meter(), createWriteStream(target, { flags: 'wx', mode: 0o600 }))
        .catch((e: unknown) => { throw e instanceof HttpProblem ? e : bad((e as Error).message); });
    }
  } finally { zip.close(); }
  return n;
}

/** True when a failed upload failed because its client closed the connection. */
function clientGone(request: FastifyRequest, e: unknown): boolean {
  if (e instanceof HttpProblem) return false;
  const raw = request.raw;
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return raw.destroyed && !raw.complete
    || code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ECONNABORTED'
    || raw.socket?.destroyed === true;
}

/**
 * Reads the multipart upload into `dir`. Form fields are checked here (`form`: those allowed,
 * and whether a mask may come); the files are written as in/f000001 … (or mask) and a single zip
 * is unpacked into zip/. The names they were uploaded under are kept for messages only.
 */
export async function receiveCtUpload(request: FastifyRequest, dir: string, limits: CtLimits, form: UploadForm = CT_FORM): Promise<CtInput> {
  const inDir = join(dir, 'in');
  await mkdir(inDir, { mode: 0o700 });
  const budget = new ByteBudget(limits.uploadBytes);
  const files: string[] = [];
  let maskPath: string | undefined;
  const fields: Record<string, string> = {};
  const names = new Map<string, string>([[dir, 'upload'], [inDir, 'upload']]);
  const parts = request.parts({
    limits: { fileSize: limits.uploadBytes, files: limits.maxFiles + 1, fields: 20, fieldSize: 64 * 1024, parts: limits.maxFiles + 21, headerPairs: 100 },
  });
  let started = false;
  const readParts = async (): Promise<void> => {
    for await (const part of parts) {
      if (part.type === 'file') {
        let target: string;
        if (part.fieldname === 'mask' && form.mask) {
          if (maskPath) throw badParameter('form.mask', 'two files', 'one mask file');
          target = maskPath = join(dir, 'mask');
          names.set(target, displayName(part.filename) ?? 'mask');
        } else {
          if (files.length >= limits.maxFiles) throw new HttpProblem(413, 'payload_too_large', (lang) => t(lang, 'server.too_many_files', { limit: limits.maxFiles }));
          target = join(inDir, `f${String(files.length + 1).padStart(6, '0')}`);
          files.push(target);
          names.set(target, displayName(part.filename) ?? `#${files.length}`);
        }
        if (!started) { started = true; publishCtEvent({ event: 'upload-start' }); }
        await pipeline(part.file, budget.meter(), createWriteStream(target, { flags: 'wx', mode: 0o600 }));
      } else {
        if (!form.fields.has(part.fieldname)) throw badParameter(`form.${part.fieldname}`, 'an unknown field', [...form.fields, ...(form.mask ? ['mask'] : []), '(files)'].join(', '));
        fields[part.fieldname] = String(part.value);
      }
    }
  };
  try {
    await readParts();
  } catch (e) {
    // the client went away mid-upload (ECONNRESET, "aborted", a premature close): nobody to answer,
    // and not an internal error
    const gone = clientGone(request, e);
    publishCtEvent({ event: 'upload-end', outcome: gone ? 'client_gone' : 'error' });
    if (gone) throw new CtJobAborted('the client went away during the upload');
    // a body that is not well-formed multipart (cut short, a malformed part header): the client's fault
    const message = e instanceof Error ? e.message : '';
    if (!(e instanceof HttpProblem) && (e as { statusCode?: unknown }).statusCode === undefined && /multipart|part header|end of form|boundary/i.test(message)) {
      throw new HttpProblem(400, 'upload_invalid', (lang) => t(lang, 'server.multipart_invalid', { detail: message }), { reason: 'multipart_invalid' });
    }
    throw e;
  }
  publishCtEvent({ event: 'upload-end', outcome: 'ok' });
  const jobLimits: CtJobLimits = {
    maxBytes: limits.uploadBytes,
    maxVoxels: limits.maxVoxels ?? DEFAULT_VOLUME_LIMITS.maxVoxels,
    ...(limits.workerHeapMb !== undefined ? { workerHeapMb: limits.workerHeapMb } : {}),
  };
  if (!files.length) throw new HttpProblem(400, 'upload_invalid', (lang) => t(lang, 'server.no_file'), { reason: 'no_file' });
  if (files.length === 1) {
    if (await startsWithZip(files[0]!)) {
      const zipDir = join(dir, 'zip');
      await mkdir(zipDir, { mode: 0o700 });
      const zipName = names.get(files[0]!)!;
      names.set(zipDir, zipName);
      const count = await unzip(files[0]!, zipDir, limits, names, zipName);
      await rm(files[0]!, { force: true });
      if (!count) throw new HttpProblem(400, 'upload_invalid', (lang) => t(lang, 'server.no_file'), { reason: 'empty_zip' });
      return { volumePath: zipDir, ...(maskPath ? { maskPath } : {}), fields, names, limits: jobLimits };
    }
    return { volumePath: files[0]!, ...(maskPath ? { maskPath } : {}), fields, names, limits: jobLimits };
  }
  return { volumePath: inDir, ...(maskPath ? { maskPath } : {}), fields, names, limits: jobLimits };
}

/** Replaces the upload's temporary paths (and file names) in a text by the names they were uploaded under. */
export function uploadedNames(text: string, names: ReadonlyMap<string, string> | undefined): string {
  if (!names?.size) return text;
  const pairs: Array<[string, string]> = [];
  for (const [path, name] of names) {
    pairs.push([path, name]);
    const base = path.slice(path.lastIndexOf('/') + 1);
    if (/^[fz]\d{6}$/.test(base)) pairs.push([base, name]);
  }
  // longest first, so a folder never replaces the start of a path inside it
  pairs.sort((a, b) => b[0].length - a[0].length);
  // whole names only: f000012 is not inside f0000123 or xf000012
  const re = new RegExp(`(?<![\\w.-])(?:${pairs.map(([p]) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})(?![\\w])`, 'g');
  const map = new Map(pairs);
  return text.replace(re, (m) => map.get(m) ?? m);
}

/**
 * Reads the volume of an upload received by receiveCtUpload (the `series` field picks one of
 * several DICOM series). An imaging error names the file by its uploaded name; the volume's
 * warnings too.
 */
export async function readUploadedVolume(input: CtInput, series?: string, onProgress?: (done: number, total: number) => void): Promise<Volume> {
  let volume: Volume;
  try {
    const limits = input.limits ? { maxBytes: input.limits.maxBytes, maxVoxels: input.limits.maxVoxels } : undefined;
    volume = await readVolume(input.volumePath, { ...(series ? { seriesInstanceUid: series } : {}), ...(limits ? { limits } : {}), ...(onProgress ? { onProgress } : {}) });
  } catch (e) {
    if (e instanceof ImagingError && !(e instanceof UploadImagingError)) {
      throw new UploadImagingError(e, uploadedNames(e.file, input.names), uploadedNames(e.detail, input.names));
    }
    throw e;
  }
  volume.warnings = volume.warnings.map((w) => uploadedNames(w, input.names));
  return volume;
}

/** Reads the volume of an upload received with VOLUME_FORM: the HU volume as a gzip NIfTI-1 file. */
export async function volumeUpload(input: CtInput): Promise<{ nifti: Buffer; warnings: string[]; dims: [number, number, number] }> {
  const volume = await readUploadedVolume(input, input.fields.series || undefined);
  const nifti = encodeNiftiMask(volume, volume.data, { gzip: true, intent: 'none', description: 'calcdx HU volume' });
  return { nifti, warnings: volume.warnings, dims: volume.dims };
}

/** Answers with a volume of volumeUpload: the gzip NIfTI-1 file, its warnings and dimensions in headers (the upload and the archive route alike). */
export function sendVolume(reply: FastifyReply, v: { nifti: Buffer; warnings: string[]; dims: [number, number, number] }): FastifyReply {
  return reply.type('application/gzip')
    .header('x-calcdx-warnings', asciiJson(v.warnings))
    .header('x-calcdx-dims', v.dims.join(','))
    .header('content-disposition', 'inline; filename="calcdx-volume.nii.gz"')
    .send(v.nifti);
}

/**
 * The configured archive a route's `:archive` names, or a 404 problem listing the configured ones:
 * one lookup for the archive routes (plugins/pacs.ts) and the archive jobs (plugins/ct-jobs.ts).
 */
export function archiveLookup(archives: readonly ConfiguredArchive[]): (req: FastifyRequest) => ConfiguredArchive {
  const byId = new Map(archives.map((a) => [a.id, a]));
  return (req) => {
    const id = (req.params as { archive: string }).archive;
    const entry = byId.get(id);
    if (!entry) {
      const list = [...byId.keys()].join(', ') || '—';
      const shown = id.slice(0, 40);
      throw new HttpProblem(404, 'not_found', (l) => t(l, 'server.pacs_unknown_archive', { id: shown, list }), { reason: 'unknown_archive' });
    }
    return entry;
  };
}

/** A JSON array of strings that fits in an HTTP header: every character outside printable ASCII escaped. */
export function asciiJson(list: readonly string[]): string {
  return JSON.stringify(list).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function numberField(name: string, raw: string | undefined, fallback: number, ok: (x: number) => boolean, allowed: string): number {
  if (raw === undefined || raw.trim() === '') return fallback;
  const x = Number(raw);
  if (!Number.isFinite(x) || !ok(x)) throw badParameter(`form.${name}`, raw, allowed);
  return x;
}

/** Checks the form fields before the (slow) read, so a bad ROI or option fails at once. */
export function ctOptions(fields: Record<string, string>, hasMask: boolean): { roiText: string; thresholdHU: number; connectivity: 6 | 26; minVoxels: number; series?: string } {
  const roiText = fields.roi ?? '';
  if (/^\s*mask\s*:/i.test(roiText)) {
    throw new RoiError('roi_syntax', { spec: roiText, detail: 'over HTTP a mask is uploaded as the form file "mask" and the ROI is written "mask"', allowed: ROI_SPEC_HELP.replace('mask:<path>', 'mask') });
  }
  if (roiText.trim().toLowerCase() === 'mask') {
    if (!hasMask) throw new RoiError('roi_syntax', { spec: roiText, detail: 'roi "mask" needs the form file "mask"', allowed: ROI_SPEC_HELP.replace('mask:<path>', 'mask') });
  } else {
    parseRoiSpec(roiText === '' ? undefined : roiText);
  }
  return {
    roiText,
    thresholdHU: numberField('threshold', fields.threshold, 100, () => true, 'a number of HU'),
    connectivity: numberField('connectivity', fields.connectivity, 26, (x) => x === 6 || x === 26, '6 or 26') as 6 | 26,
    minVoxels: numberField('minVoxels', fields.minVoxels, 1, (x) => Number.isInteger(x) && x >= 1, 'a whole number ≥ 1'),
    ...(fields.series ? { series: fields.series } : {}),
  };
}

/** Reads and analyses an upload received by receiveCtUpload (`onProgress`: files or slices read of all): the volume, the analysis, and the answer of POST /api/ct. */
export async function analyseUpload(input: CtInput, onProgress?: (done: number, total: number) => void): Promise<{ volume: Volume; analysis: Analysis; result: CtResult }> {
  const o = ctOptions(input.fields, input.maskPath !== undefined);
  const volume: Volume = await readUploadedVolume(input, o.series, onProgress);
  let spec: RoiSpec;
  if (o.roiText.trim().toLowerCase() === 'mask') {
    // .nii or .nii.gz, read as its header declares (the same limits as the volume)
    const mv = await readNifti(input.maskPath!, input.limits ? { limits: input.limits } : {}).catch((e: unknown) => {
      throw e instanceof ImagingError ? new UploadImagingError(e, uploadedNames(e.file, input.names), uploadedNames(e.detail, input.names)) : e;
    });
    const mask = new Uint8Array(mv.data.length);
    for (let i = 0; i < mask.length; i++) mask[i] = mv.data[i]! > 0 ? 1 : 0;
    spec = { kind: 'mask', mask, path: 'mask' };
  } else {
    spec = parseRoiSpec(o.roiText) as RoiSpec;
  }
  const analysis = analyseCalcification(volume, spec, { thresholdHU: o.thresholdHU, connectivity: o.connectivity, minVoxels: o.minVoxels, source: 'upload' });
  const labels = encodeNiftiMask(volume, labelVolume(analysis.components), { gzip: true, description: 'calcdx calcification labels' }).toString('base64');
  return { volume, analysis, result: { measurement: ctReportJson(volume, analysis), findings: analysis.pattern.fragment, labels } };
}

/** Reads and measures an upload received by receiveCtUpload. */
export async function measureUpload(input: CtInput, onProgress?: (done: number, total: number) => void): Promise<CtResult> {
  return (await analyseUpload(input, onProgress)).result;
}

/** A DICOM object written back to an archive (the bytes of a SEG or an SR). */
export interface WrittenDicom { bytes: Uint8Array; sopClassUid: string; sopInstanceUid: string; seriesInstanceUid: string }
export interface WritebackResult extends CtResult { seg: WrittenDicom; sr: WrittenDicom }

/**
 * Measures a folder of DICOM instances (a series retrieved from an archive) and writes the DICOM
 * SEG of the component labels and the TID 1500 SR of the measurement, referencing those instances.
 */
export async function writebackUpload(input: CtInput): Promise<WritebackResult> {
  const { volume, analysis, result } = await analyseUpload(input);
  const names = (await readdir(input.volumePath)).sort();
  const instances = await Promise.all(names.map((n) => readFile(join(input.volumePath, n))));
  try {
    const { seg, sr } = buildWriteback(instances, volume, analysis);
    return { ...result, seg, sr };
  } catch (e) {
    if (e instanceof SourceSeriesError) {
      const detail = e.message;
      throw new HttpProblem(422, 'pacs', (lang) => t(lang, 'server.pacs_cannot_store', { detail }), { reason: 'cannot_store' });
    }
    throw e;
  }
}

/** A private temporary folder for one upload, removed by the returned function. */
export async function uploadDir(root: string): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(root, 'calcdx-upload-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true, maxRetries: 2 }) };
}
