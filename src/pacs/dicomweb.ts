/**
 * A DICOMweb client on Node's fetch: QIDO-RS search (studies, series), WADO-RS retrieve of a
 * series (streamed: each instance is handed on as its part completes) and STOW-RS store.
 *
 * Why not the `dicomweb-client` package: it is built on XMLHttpRequest, which Node 20 does not
 * have, and it has no per-request timeout; a polyfill would add a second HTTP stack. fetch (undici)
 * verifies TLS certificates (extra CAs via NODE_EXTRA_CA_CERTS), and every request here has a
 * timeout: until the answer's headers arrive, and between two chunks of its body.
 *
 * Credentials come from the environment (CALCDX_DICOMWEB_USER + CALCDX_DICOMWEB_PASSWORD for
 * HTTP basic, or CALCDX_DICOMWEB_TOKEN for a bearer token), never from a URL, a request body or
 * a command-line argument (which other users of the machine can read in the process list).
 */
import { randomUUID } from 'node:crypto';
import { PacsError } from './errors.js';
import { boundaryOf, buildMultipart, MultipartError, MultipartParser } from './multipart.js';

export interface Archive {
  /** the DICOMweb base URL (…/dicom-web), without a trailing slash or credentials */
  url: string;
  auth?: { kind: 'basic'; user: string; password: string } | { kind: 'bearer'; token: string };
  /** how long to wait for an answer to start, and between two chunks of its body */
  timeoutMs: number;
}

export const DEFAULT_TIMEOUT_S = 30;
/** the largest instance accepted in a WADO-RS answer */
const MAX_INSTANCE_BYTES = 1024 * 1024 * 1024;
/** the largest series retrieved (it is held in memory, then read into a volume of about the same size) */
export const MAX_SERIES_BYTES = 4 * 1024 * 1024 * 1024;
/** the largest JSON answer (QIDO, STOW) */
const MAX_JSON_BYTES = 64 * 1024 * 1024;

/** The archive from a URL and the environment; a bad URL or configuration is a PacsError `bad_config`. */
export function archiveFromEnv(rawUrl: string, env: NodeJS.ProcessEnv = process.env, timeoutSeconds?: string): Archive {
  let u: URL;
  const shown = rawUrl.replace(/\/\/[^/@]*@/, '//…@');
  try {
    u = new URL(rawUrl);
  } catch {
    throw new PacsError('bad_config', shown, 'configuration', 'not a valid URL (e.g. https://pacs.example.org/dicom-web)');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new PacsError('bad_config', shown, 'configuration', `the URL scheme is ${u.protocol.replace(':', '')}; allowed: http, https`);
  if (u.username || u.password) {
    throw new PacsError('bad_config', shown, 'configuration', 'credentials in the URL are not accepted (they would show in the process list and in logs); set CALCDX_DICOMWEB_USER and CALCDX_DICOMWEB_PASSWORD, or CALCDX_DICOMWEB_TOKEN');
  }
  if (u.search || u.hash) throw new PacsError('bad_config', shown, 'configuration', 'the URL must be the DICOMweb base, without a query or fragment');
  const url = `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
  const user = env.CALCDX_DICOMWEB_USER, password = env.CALCDX_DICOMWEB_PASSWORD, token = env.CALCDX_DICOMWEB_TOKEN;
  let auth: Archive['auth'];
  if (token && (user || password)) throw new PacsError('bad_config', url, 'configuration', 'both CALCDX_DICOMWEB_TOKEN and CALCDX_DICOMWEB_USER/PASSWORD are set; set one kind of credentials');
  if (token) auth = { kind: 'bearer', token };
  else if (user || password) {
    if (!user || password === undefined) throw new PacsError('bad_config', url, 'configuration', 'CALCDX_DICOMWEB_USER and CALCDX_DICOMWEB_PASSWORD must be set together');
    if (user.includes(':')) throw new PacsError('bad_config', url, 'configuration', 'CALCDX_DICOMWEB_USER cannot contain ":" (HTTP basic authentication)');
    auth = { kind: 'basic', user, password };
  }
  const raw = timeoutSeconds ?? env.CALCDX_DICOMWEB_TIMEOUT;
  let timeoutMs = DEFAULT_TIMEOUT_S * 1000;
  if (raw !== undefined && raw !== '') {
    const s = Number(raw);
    if (!Number.isFinite(s) || s <= 0 || s > 3600) throw new PacsError('bad_config', url, 'configuration', `timeout "${raw}": allowed a number of seconds above 0 and at most 3600`);
    timeoutMs = Math.round(s * 1000);
  }
  return { url, ...(auth ? { auth } : {}), timeoutMs };
}

// ---------------------------------------------------------------------------------------------
// requests

interface RequestOptions {
  method?: 'GET' | 'POST';
  accept: string;
  body?: Uint8Array;
  contentType?: string;
  /** names what was asked, for errors: "study 1.2.3" */
  context: string;
}

function headersOf(a: Archive, o: RequestOptions): Record<string, string> {
  const h: Record<string, string> = { accept: o.accept, 'user-agent': 'calcdx' };
  if (o.contentType) h['content-type'] = o.contentType;
  if (a.auth?.kind === 'basic') h.authorization = `Basic ${Buffer.from(`${a.auth.user}:${a.auth.password}`, 'utf8').toString('base64')}`;
  if (a.auth?.kind === 'bearer') h.authorization = `Bearer ${a.auth.token}`;
  return h;
}

const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused (nothing listens on that port)',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name could not be resolved now',
  ECONNRESET: 'the connection was reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  UND_ERR_SOCKET: 'the connection was closed',
};

function networkError(a: Archive, context: string, e: unknown): PacsError {
  const cause = (e as { cause?: { code?: string; message?: string } })?.cause;
  const code = cause?.code ?? (e as { code?: string })?.code ?? '';
  if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/.test(code)) {
    return new PacsError('tls', a.url, context, `the TLS certificate of the archive is not trusted (${code}); certificates are always verified: add the archive's CA with NODE_EXTRA_CA_CERTS`, { cause: e });
  }
  const what = NETWORK_CODES[code] ?? (cause?.message ? `${cause.message}` : (e as Error)?.message ?? String(e));
  return new PacsError('unreachable', a.url, context, `cannot reach the archive: ${what}${code && !what.includes(code) ? ` (${code})` : ''}`, { cause: e });
}

function statusError(a: Archive, context: string, res: Response): PacsError {
  const s = res.status;
  if (s === 401) return new PacsError('unauthorized', a.url, context, `401 Unauthorized: ${a.auth ? 'the archive refused the credentials of CALCDX_DICOMWEB_USER/PASSWORD or CALCDX_DICOMWEB_TOKEN' : 'the archive wants credentials: set CALCDX_DICOMWEB_USER and CALCDX_DICOMWEB_PASSWORD, or CALCDX_DICOMWEB_TOKEN'}`);
  if (s === 403) return new PacsError('forbidden', a.url, context, '403 Forbidden: the credentials are not allowed this');
  if (s === 404) return new PacsError('not_found', a.url, context, '404 Not Found: the archive does not have it (check the UIDs, and that the URL is the DICOMweb base)');
  if (s >= 300 && s < 400) return new PacsError('http_error', a.url, context, `${s}: the archive redirects${res.headers.get('location') ? ` to ${res.headers.get('location')}` : ''}; give the final DICOMweb URL (redirects are not followed, so credentials are never sent elsewhere)`);
  return new PacsError('http_error', a.url, context, `HTTP ${s}${res.statusText ? ` ${res.statusText}` : ''}`);
}

/**
 * One request with a timeout until the headers arrive. The caller reads the body with readBody /
 * streamBody (which time out between chunks) or cancels it.
 */
async function request(a: Archive, path: string, o: RequestOptions, okStatuses: number[] = [200]): Promise<{ res: Response; abort: AbortController }> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), a.timeoutMs);
  let res: Response;
  try {
    res = await fetch(`${a.url}${path}`, {
      method: o.method ?? 'GET',
      headers: headersOf(a, o),
      ...(o.body ? { body: o.body as Uint8Array<ArrayBuffer> } : {}),
      redirect: 'manual',
      signal: abort.signal,
    });
  } catch (e) {
    if (abort.signal.aborted) throw new PacsError('timeout', a.url, o.context, `no answer within ${a.timeoutMs / 1000} s (CALCDX_DICOMWEB_TIMEOUT or --timeout sets the limit)`, { cause: e });
    throw networkError(a, o.context, e);
  } finally {
    clearTimeout(timer);
  }
  if (!okStatuses.includes(res.status)) {
    await res.body?.cancel().catch(() => undefined);
    throw statusError(a, o.context, res);
  }
  return { res, abort };
}

/** Reads the body chunk by chunk, failing when nothing arrives for the timeout or past `limit` bytes. */
async function streamBody(a: Archive, context: string, res: Response, abort: AbortController, onChunk: (c: Uint8Array) => void, limit = Infinity): Promise<void> {
  if (!res.body) return;
  const reader = res.body.getReader();
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  const arm = () => { clearTimeout(timer); timer = setTimeout(() => { timedOut = true; abort.abort(); }, a.timeoutMs); };
  let total = 0;
  try {
    arm();
    for (;;) {
      let r: ReadableStreamReadResult<Uint8Array>;
      try {
        r = await reader.read();
      } catch (e) {
        if (timedOut) throw new PacsError('timeout', a.url, context, `the archive stopped sending for ${a.timeoutMs / 1000} s after ${total} bytes (CALCDX_DICOMWEB_TIMEOUT or --timeout sets the limit)`, { cause: e });
        throw new PacsError('truncated', a.url, context, `the connection broke after ${total} bytes of the answer (${(e as Error)?.message ?? String(e)})`, { cause: e });
      }
      if (r.done) break;
      total += r.value.length;
      if (total > limit) throw new PacsError('bad_answer', a.url, context, `the answer is larger than ${limit >= 1 << 20 ? `${(limit / 1048576).toFixed(0)} MiB` : `${limit} bytes`}, the most accepted`);
      arm();
      onChunk(r.value);
    }
  } catch (e) {
    abort.abort();
    throw e;
  } finally {
    clearTimeout(timer);
    reader.releaseLock();
  }
}

async function getJson(a: Archive, path: string, context: string): Promise<unknown> {
  const { res, abort } = await request(a, path, { accept: 'application/dicom+json, application/json', context }, [200, 204]);
  const chunks: Uint8Array[] = [];
  await streamBody(a, context, res, abort, (c) => chunks.push(c), MAX_JSON_BYTES);
  if (res.status === 204) return [];
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return [];
  try {
    return JSON.parse(text);
  } catch {
    throw new PacsError('bad_answer', a.url, context, `the answer is not JSON (${res.headers.get('content-type') ?? 'no Content-Type'}): ${JSON.stringify(text.slice(0, 80))}`);
  }
}

// ---------------------------------------------------------------------------------------------
// DICOM JSON (PS3.18 F.2)

export type DicomJson = Record<string, { vr: string; Value?: unknown[] } | undefined>;

function first(ds: DicomJson, tag: string): unknown {
  return ds[tag]?.Value?.[0];
}
export function jsonString(ds: DicomJson, tag: string): string | undefined {
  const v = first(ds, tag);
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'object' && v && 'Alphabetic' in v) return String((v as { Alphabetic: unknown }).Alphabetic);
  return String(v);
}
export function jsonStrings(ds: DicomJson, tag: string): string[] {
  return (ds[tag]?.Value ?? []).map(String);
}
function jsonNumber(ds: DicomJson, tag: string): number | undefined {
  const v = Number(first(ds, tag));
  return first(ds, tag) === undefined || !Number.isFinite(v) ? undefined : v;
}

function asDatasets(a: Archive, context: string, j: unknown): DicomJson[] {
  if (!Array.isArray(j) || j.some((x) => !x || typeof x !== 'object')) throw new PacsError('bad_answer', a.url, context, 'the answer is not a DICOM JSON array of datasets');
  return j as DicomJson[];
}

// ---------------------------------------------------------------------------------------------
// QIDO-RS

export interface StudyQuery {
  patientId?: string;
  accession?: string;
  /** a DICOM date or range: YYYYMMDD, YYYYMMDD-YYYYMMDD, -YYYYMMDD, YYYYMMDD- (dashes inside dates allowed: 2026-01-31) */
  date?: string;
  /** PatientName, DICOM PN matching (wildcards * and ? allowed) */
  patientName?: string;
  limit?: number;
  /** the first result to return (paging) */
  offset?: number;
}

export interface StudySummary {
  studyInstanceUid: string;
  date?: string;
  accession?: string;
  patientId?: string;
  patientName?: string;
  description?: string;
  modalities: string[];
  series?: number;
  instances?: number;
}

export interface SeriesSummary {
  seriesInstanceUid: string;
  modality?: string;
  number?: number;
  description?: string;
  instances?: number;
}

/** A date range of the command line as DICOM DA range matching; undefined when not valid. */
export function dicomDateRange(raw: string): string | undefined {
  const date = (s: string): string | undefined => {
    const d = s.replace(/^(\d{4})-(\d{2})-(\d{2})$/, '$1$2$3');
    if (!/^\d{8}$/.test(d)) return undefined;
    const [y, m, dd] = [Number(d.slice(0, 4)), Number(d.slice(4, 6)), Number(d.slice(6, 8))];
    const t = new Date(Date.UTC(y, m - 1, dd));
    return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === dd ? d : undefined;
  };
  const s = raw.trim();
  // a range separator is a dash between two 8-digit or ISO dates, or at an end
  const m = /^(\d{4}-?\d{2}-?\d{2})?\s*(?:(-|to|\.\.)\s*(\d{4}-?\d{2}-?\d{2})?)?$/.exec(s);
  if (!m || (!m[1] && !m[3])) return undefined;
  const a = m[1] ? date(m[1]) : '';
  const b = m[3] ? date(m[3]) : '';
  if (a === undefined || b === undefined) return undefined;
  if (!m[2]) return a;
  if (a && b && a > b) return undefined;
  return `${a}-${b}`;
}

const STUDY_FIELDS = ['00080020', '00080050', '00100020', '00100010', '00081030', '00080061', '00201206', '00201208'];

export async function searchStudies(a: Archive, q: StudyQuery): Promise<StudySummary[]> {
  const p = new URLSearchParams();
  const parts: string[] = [];
  if (q.patientId) { p.set('PatientID', q.patientId); parts.push(`patient ID ${q.patientId}`); }
  if (q.accession) { p.set('AccessionNumber', q.accession); parts.push(`accession ${q.accession}`); }
  if (q.date) {
    const d = dicomDateRange(q.date);
    if (!d) throw new PacsError('bad_config', a.url, 'study search', `date "${q.date}" is not a date or range (YYYYMMDD, YYYY-MM-DD, FROM-TO, FROM-, -TO)`);
    p.set('StudyDate', d);
    parts.push(`date ${d}`);
  }
  if (q.patientName) { p.set('PatientName', q.patientName); parts.push('patient name'); }
  for (const f of STUDY_FIELDS) p.append('includefield', f);
  p.set('limit', String(q.limit ?? 100));
  if (q.offset) p.set('offset', String(q.offset));
  const context = `study search${parts.length ? ` (${parts.join(', ')})` : ''}`;
  const list = asDatasets(a, context, await getJson(a, `/studies?${p.toString()}`, context));
  return list.map((s) => ({
    studyInstanceUid: jsonString(s, '0020000D') ?? '',
    date: jsonString(s, '00080020'),
    accession: jsonString(s, '00080050'),
    patientId: jsonString(s, '00100020'),
    patientName: jsonString(s, '00100010'),
    description: jsonString(s, '00081030'),
    modalities: jsonStrings(s, '00080061'),
    series: jsonNumber(s, '00201206'),
    instances: jsonNumber(s, '00201208'),
  })).filter((s) => s.studyInstanceUid);
}

const UID = /^[0-9]+(\.[0-9]+)*$/;
export function checkUid(a: Archive, what: string, uid: string): void {
  if (!UID.test(uid) || uid.length > 64) throw new PacsError('bad_config', a.url, `${what} ${uid.slice(0, 80)}`, `not a DICOM UID (digits and dots, at most 64 characters)`);
}

/** The series of a study; a study the archive does not know is `not_found`. */
export async function searchSeries(a: Archive, study: string): Promise<SeriesSummary[]> {
  checkUid(a, 'study', study);
  const context = `study ${study}`;
  const p = new URLSearchParams();
  for (const f of ['00080060', '00200011', '0008103E', '00201209']) p.append('includefield', f);
  const list = asDatasets(a, context, await getJson(a, `/studies/${study}/series?${p.toString()}`, context));
  if (list.length === 0) throw new PacsError('not_found', a.url, context, 'the archive has no series of this study (is the StudyInstanceUID right?)');
  return list.map((s) => ({
    seriesInstanceUid: jsonString(s, '0020000E') ?? '',
    modality: jsonString(s, '00080060'),
    number: jsonNumber(s, '00200011'),
    description: jsonString(s, '0008103E'),
    instances: jsonNumber(s, '00201209'),
  })).filter((s) => s.seriesInstanceUid);
}

// ---------------------------------------------------------------------------------------------
// WADO-RS

export interface RetrieveOptions {
  /** instances expected (from QIDO), for progress */
  expected?: number;
  /** the most bytes accepted for the whole series (default MAX_SERIES_BYTES) */
  maxBytes?: number;
  onInstance?: (received: number, expected: number | undefined) => void;
}

/**
 * Retrieves every instance of a series (WADO-RS, any transfer syntax the archive holds: the reader
 * decodes the compressed ones it supports and names the others). Instances come back in the order
 * of the answer; a malformed or truncated answer is an error, never a shorter series.
 */
export async function retrieveSeries(a: Archive, study: string, series: string, o: RetrieveOptions = {}): Promise<Uint8Array[]> {
  checkUid(a, 'study', study);
  checkUid(a, 'series', series);
  const context = `study ${study}, series ${series}`;
  const { res, abort } = await request(a, `/studies/${study}/series/${series}`, { accept: 'multipart/related; type="application/dicom"; transfer-syntax=*', context });
  let parser: MultipartParser;
  try {
    parser = new MultipartParser(boundaryOf(res.headers.get('content-type')), MAX_INSTANCE_BYTES);
  } catch (e) {
    abort.abort();
    throw new PacsError('bad_answer', a.url, context, (e as Error).message, { cause: e });
  }
  const out: Uint8Array[] = [];
  const wrap = (e: unknown): never => {
    if (e instanceof MultipartError) {
      throw new PacsError(e.kind === 'truncated' ? 'truncated' : 'malformed_multipart', a.url, context, `${e.message} (after ${out.length} complete instance${out.length === 1 ? '' : 's'}${o.expected ? ` of ${o.expected}` : ''})`, { cause: e });
    }
    throw e;
  };
  try {
    await streamBody(a, context, res, abort, (chunk) => {
      for (const part of parser.push(chunk)) {
        const type = part.headers['content-type'];
        if (type && !/^application\/dicom\s*(;|$)/i.test(type)) throw new PacsError('bad_answer', a.url, context, `part ${out.length + 1} is ${type}, not application/dicom`);
        out.push(part.body);
        o.onInstance?.(out.length, o.expected);
      }
    }, o.maxBytes ?? MAX_SERIES_BYTES);
    parser.end();
  } catch (e) {
    wrap(e);
  }
  if (out.length === 0) throw new PacsError('not_found', a.url, context, 'the archive answered with no instance');
  return out;
}

// ---------------------------------------------------------------------------------------------
// STOW-RS

export interface StoredInstance { sopClassUid: string; sopInstanceUid: string; url?: string }

/**
 * Stores DICOM Part 10 objects in one STOW-RS request to the study. Every object must come back in
 * the answer's ReferencedSOPSequence; a failed one (FailedSOPSequence, a 4xx/5xx, or one the answer
 * does not mention) is a `store_rejected` error that says which were stored and which not.
 */
export async function storeInstances(a: Archive, study: string, objects: { sopClassUid: string; sopInstanceUid: string; bytes: Uint8Array; what: string }[]): Promise<StoredInstance[]> {
  checkUid(a, 'study', study);
  const context = `study ${study}, storing ${objects.map((o) => o.what).join(' + ')}`;
  const boundary = `calcdx-${randomUUID()}`;
  const body = buildMultipart(boundary, objects.map((o) => ({ contentType: 'application/dicom', body: o.bytes })));
  let res: Response, abort: AbortController;
  try {
    ({ res, abort } = await request(a, `/studies/${study}`, {
      method: 'POST',
      accept: 'application/dicom+json',
      contentType: `multipart/related; type="application/dicom"; boundary=${boundary}`,
      body,
      context,
    }, [200, 202, 409]));
  } catch (e) {
    if (e instanceof PacsError && (e.code === 'http_error' || e.code === 'forbidden')) throw new PacsError('store_rejected', e.archive, e.context, `the archive refused the store: ${e.detail}`, { cause: e });
    throw e;
  }
  const chunks: Uint8Array[] = [];
  await streamBody(a, context, res, abort, (c) => chunks.push(c), MAX_JSON_BYTES);
  const text = Buffer.concat(chunks).toString('utf8');
  let j: DicomJson = {};
  try {
    const parsed = text.trim() ? JSON.parse(text) : {};
    j = (Array.isArray(parsed) ? parsed[0] : parsed) ?? {};
  } catch {
    throw new PacsError('bad_answer', a.url, context, `the STOW-RS answer (HTTP ${res.status}) is not DICOM JSON`);
  }
  const items = (tag: string) => (j[tag]?.Value ?? []) as DicomJson[];
  const stored = new Map(items('00081199').map((x) => [jsonString(x, '00081155') ?? '', { url: jsonString(x, '00081190') }]));
  const failed = new Map(items('00081198').map((x) => [jsonString(x, '00081155') ?? '', jsonNumber(x, '00081197')]));
  const problems: string[] = [];
  for (const o of objects) {
    if (failed.has(o.sopInstanceUid)) problems.push(`${o.what} refused (FailureReason ${failed.get(o.sopInstanceUid) ?? 'not given'})`);
    else if (!stored.has(o.sopInstanceUid)) problems.push(`${o.what} not confirmed by the archive`);
  }
  // 202 with every object confirmed: stored, with warnings (e.g. attributes coerced by the archive)
  if (problems.length || res.status === 409) {
    const ok = objects.filter((o) => stored.has(o.sopInstanceUid)).map((o) => o.what);
    throw new PacsError('store_rejected', a.url, context, `HTTP ${res.status}: ${problems.join('; ') || 'the archive reports a partial store'}${ok.length ? `; stored: ${ok.join(', ')}` : '; nothing was stored'}`);
  }
  return objects.map((o) => ({ sopClassUid: o.sopClassUid, sopInstanceUid: o.sopInstanceUid, ...(stored.get(o.sopInstanceUid)?.url ? { url: stored.get(o.sopInstanceUid)!.url! } : {}) }));
}
