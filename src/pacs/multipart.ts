/**
 * multipart/related (RFC 2387, on RFC 2046's multipart syntax) as DICOMweb WADO-RS answers it:
 * an incremental parser fed the response body chunk by chunk, so that each instance is handed on
 * (and counted for the progress bar) as soon as its part is complete, and a body that stops in the
 * middle of a part is told apart from a complete one.
 *
 * A part's body ends at the next delimiter "CRLF--boundary". When the part carries a
 * Content-Length (Orthanc and dcm4chee send one), the body is taken by that length and the
 * delimiter must follow it — a length that disagrees with the delimiter is an error, not a guess.
 * Preamble and epilogue are ignored; transport padding (spaces and tabs) after a delimiter is
 * allowed. Everything else that does not follow the syntax throws a MultipartError.
 */

export class MultipartError extends Error {
  constructor(
    /** 'malformed': the bytes do not follow multipart syntax; 'truncated': the body ended inside a part or before the close delimiter */
    readonly kind: 'malformed' | 'truncated',
    message: string,
    /** the 1-based number of the part the problem is in (0: before the first part) */
    readonly part: number,
  ) {
    super(message);
    this.name = 'MultipartError';
  }
}

export interface Part {
  /** header names in lower case */
  headers: Record<string, string>;
  body: Uint8Array;
}

/** The parameters of a Content-Type value, names in lower case, quotes removed. */
export function contentTypeParams(value: string): { type: string; params: Record<string, string> } {
  const [type = '', ...rest] = splitParams(value);
  const params: Record<string, string> = {};
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    const name = p.slice(0, eq).trim().toLowerCase();
    let v = p.slice(eq + 1).trim();
    if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
    params[name] = v;
  }
  return { type: type.trim().toLowerCase(), params };
}

/** Splits on semicolons that are not inside a quoted string. */
function splitParams(value: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (quoted && c === '\\' && i + 1 < value.length) { cur += c + value[++i]!; continue; }
    if (c === '"') quoted = !quoted;
    if (c === ';' && !quoted) { out.push(cur); cur = ''; } else cur += c;
  }
  out.push(cur);
  return out;
}

/** The boundary of a multipart Content-Type, checked against RFC 2046 (1-70 characters). */
export function boundaryOf(contentType: string | null | undefined): string {
  if (!contentType) throw new MultipartError('malformed', 'the answer has no Content-Type (multipart/related was expected)', 0);
  const { type, params } = contentTypeParams(contentType);
  if (!type.startsWith('multipart/')) throw new MultipartError('malformed', `the answer is ${type || 'of no type'}, not multipart/related`, 0);
  const b = params.boundary;
  if (!b) throw new MultipartError('malformed', `the Content-Type "${contentType.slice(0, 200)}" has no boundary`, 0);
  if (b.length > 70 || !/^[0-9A-Za-z'()+_,\-./:=? ]*[0-9A-Za-z'()+_,\-./:=?]$/.test(b)) {
    throw new MultipartError('malformed', `the multipart boundary "${b.slice(0, 80)}" is not valid (RFC 2046: 1-70 characters of a restricted set)`, 0);
  }
  return b;
}

const CR = 0x0d, LF = 0x0a, DASH = 0x2d;
const enc = new TextEncoder();
const dec = new TextDecoder('latin1');
/** the longest header block of one part we accept (headers are a few lines) */
const MAX_HEADER_BYTES = 16 * 1024;

function indexOf(hay: Uint8Array, needle: Uint8Array, from: number): number {
  return Buffer.from(hay.buffer, hay.byteOffset, hay.byteLength).indexOf(needle, from);
}

type State = 'preamble' | 'afterDelimiter' | 'headers' | 'body' | 'epilogue';

/**
 * Incremental parser. push() returns the parts completed by that chunk; end() checks that the
 * close delimiter was seen. Memory: the unconsumed bytes (at most one part plus one chunk).
 */
export class MultipartParser {
  private buf: Uint8Array = new Uint8Array(0);
  private state: State = 'preamble';
  private readonly dashBoundary: Uint8Array;
  private readonly delimiter: Uint8Array;
  private headers: Record<string, string> = {};
  private length: number | undefined;
  /** where to resume looking for the delimiter in a body without Content-Length */
  private scanned = 0;
  /** chunks received but not yet appended to buf, while fewer than `need` bytes are there */
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  /** bytes buf must hold before parsing can go on (a part's announced length: no copy per chunk) */
  private need = 0;
  /** parts completed so far */
  count = 0;

  constructor(readonly boundary: string, private readonly maxPartBytes = 2 ** 31) {
    this.dashBoundary = enc.encode(`--${boundary}`);
    this.delimiter = enc.encode(`\r\n--${boundary}`);
  }

  get done(): boolean {
    return this.state === 'epilogue';
  }

  push(chunk: Uint8Array): Part[] {
    if (this.state === 'epilogue') return [];
    // a plain view (a Buffer's slice() would share memory, Uint8Array's copies)
    if (Buffer.isBuffer(chunk)) chunk = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.buf.length + this.pendingBytes < this.need) return [];
    this.flush();
    const parts: Part[] = [];
    for (;;) {
      const p = this.step();
      if (p === false) break;
      if (p) parts.push(p);
    }
    return parts;
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    const all = this.buf.length ? [this.buf, ...this.pending] : this.pending;
    const b = all.length === 1 ? all[0]! : Buffer.concat(all);
    this.buf = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    this.pending = [];
    this.pendingBytes = 0;
  }

  end(): void {
    this.flush();
    const part = this.count + 1;
    if (this.state === 'epilogue') return;
    if (this.state === 'preamble') throw new MultipartError(this.count === 0 && this.buf.length === 0 ? 'truncated' : 'malformed', this.buf.length === 0 ? 'the multipart answer is empty' : `no multipart boundary "--${this.boundary}" found in the answer`, 0);
    if (this.state === 'body' && this.length !== undefined && this.buf.length >= this.length) {
      throw new MultipartError('truncated', `the answer ends after the data of part ${part}, without the closing boundary "--${this.boundary}--"`, part);
    }
    if (this.state === 'body') {
      const expected = this.length !== undefined ? ` of ${this.length} bytes announced` : '';
      throw new MultipartError('truncated', `the answer ends inside part ${part} (${this.buf.length} bytes${expected} received, no closing boundary)`, part);
    }
    throw new MultipartError('truncated', `the answer ends after part ${this.count} without the closing boundary "--${this.boundary}--"`, part);
  }

  /** One step of the state machine: a completed part, null (progress, no part), or false (needs more bytes). */
  private step(): Part | null | false {
    const b = this.buf;
    // by default any further byte may let parsing go on; a body of known length waits for all of it
    this.need = b.length + 1;
    switch (this.state) {
      case 'preamble': {
        // the first boundary may start the body, or follow a preamble after CRLF
        if (b.length < this.dashBoundary.length) return false;
        let at = -1;
        if (this.startsWith(b, this.dashBoundary, 0)) at = 0;
        else {
          const i = indexOf(b, this.delimiter, 0);
          if (i >= 0) at = i + 2;
        }
        if (at < 0) {
          if (b.length > 64 * 1024) throw new MultipartError('malformed', `no multipart boundary "--${this.boundary}" in the first ${b.length} bytes of the answer`, 0);
          return false;
        }
        this.buf = b.subarray(at + this.dashBoundary.length);
        this.state = 'afterDelimiter';
        return null;
      }
      case 'afterDelimiter': {
        // "--" closes; else optional padding, then CRLF
        if (b.length < 2) return false;
        if (b[0] === DASH && b[1] === DASH) { this.state = 'epilogue'; this.buf = new Uint8Array(0); return null; }
        let i = 0;
        while (i < b.length && (b[i] === 0x20 || b[i] === 0x09)) i++;
        if (i + 2 > b.length) {
          if (i > 1024) throw new MultipartError('malformed', 'too much padding after a multipart boundary', this.count + 1);
          return false;
        }
        if (b[i] !== CR || b[i + 1] !== LF) throw new MultipartError('malformed', `a multipart boundary is followed by ${JSON.stringify(dec.decode(b.subarray(i, i + 8)))}, not a line break (the boundary text occurs inside the data, or the answer is corrupted)`, this.count + 1);
        this.buf = b.subarray(i + 2);
        this.state = 'headers';
        return null;
      }
      case 'headers': {
        // headers end at an empty line; a part may have no headers at all (then the body starts with CRLF)
        let end: number;
        let bodyStart: number;
        if (b.length >= 2 && b[0] === CR && b[1] === LF) { end = 0; bodyStart = 2; } else {
          end = indexOf(b, enc.encode('\r\n\r\n'), 0);
          if (end < 0) {
            if (b.length > MAX_HEADER_BYTES) throw new MultipartError('malformed', `part ${this.count + 1} has no end of headers in its first ${MAX_HEADER_BYTES} bytes`, this.count + 1);
            return false;
          }
          bodyStart = end + 4;
        }
        this.headers = {};
        if (end > 0) {
          for (const line of dec.decode(b.subarray(0, end)).split('\r\n')) {
            const colon = line.indexOf(':');
            if (colon <= 0) throw new MultipartError('malformed', `part ${this.count + 1} has a header line without a name: ${JSON.stringify(line.slice(0, 80))}`, this.count + 1);
            this.headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
          }
        }
        this.length = undefined;
        this.scanned = 0;
        const cl = this.headers['content-length'];
        if (cl !== undefined) {
          if (!/^\d{1,15}$/.test(cl)) throw new MultipartError('malformed', `part ${this.count + 1} has an invalid Content-Length "${cl.slice(0, 40)}"`, this.count + 1);
          this.length = Number(cl);
          if (this.length > this.maxPartBytes) throw new MultipartError('malformed', `part ${this.count + 1} announces ${this.length} bytes, more than the ${this.maxPartBytes} bytes allowed for one instance`, this.count + 1);
        }
        this.buf = b.subarray(bodyStart);
        this.state = 'body';
        return null;
      }
      case 'body': {
        let bodyEnd: number;
        if (this.length !== undefined) {
          if (b.length < this.length + this.delimiter.length) { this.need = this.length + this.delimiter.length; return false; }
          if (!this.startsWith(b, this.delimiter, this.length)) {
            throw new MultipartError('malformed', `part ${this.count + 1} announces ${this.length} bytes (Content-Length) but the boundary does not follow them`, this.count + 1);
          }
          bodyEnd = this.length;
        } else {
          bodyEnd = indexOf(b, this.delimiter, this.scanned);
          if (bodyEnd < 0) {
            this.scanned = Math.max(0, b.length - this.delimiter.length + 1);
            if (b.length > this.maxPartBytes) throw new MultipartError('malformed', `part ${this.count + 1} is longer than the ${this.maxPartBytes} bytes allowed for one instance`, this.count + 1);
            return false;
          }
        }
        // the body is copied out: the buffer it came from is shared with the next part
        const part: Part = { headers: this.headers, body: b.slice(0, bodyEnd) };
        this.buf = b.subarray(bodyEnd + this.delimiter.length);
        this.state = 'afterDelimiter';
        this.count++;
        return part;
      }
      case 'epilogue':
        return false;
    }
  }

  private startsWith(b: Uint8Array, s: Uint8Array, at: number): boolean {
    if (at + s.length > b.length) return false;
    for (let i = 0; i < s.length; i++) if (b[at + i] !== s[i]) return false;
    return true;
  }
}

/** Builds a multipart/related body (for STOW-RS and for tests). */
export function buildMultipart(boundary: string, parts: { contentType: string; body: Uint8Array }[]): Uint8Array {
  const chunks: Uint8Array[] = [];
  for (const p of parts) {
    chunks.push(enc.encode(`--${boundary}\r\nContent-Type: ${p.contentType}\r\nContent-Length: ${p.body.length}\r\n\r\n`), p.body, enc.encode('\r\n'));
  }
  chunks.push(enc.encode(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}
