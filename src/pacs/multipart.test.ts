import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { boundaryOf, buildMultipart, contentTypeParams, MultipartError, MultipartParser, type Part } from './multipart.js';

const enc = new TextEncoder();

/** Feeds the body in the given chunk sizes (cycled) and returns every part, after end(). */
function parse(boundary: string, body: Uint8Array, sizes: number[] = [body.length || 1]): Part[] {
  const p = new MultipartParser(boundary);
  const parts: Part[] = [];
  let at = 0, n = 0;
  while (at < body.length) {
    const size = Math.max(1, sizes[n++ % sizes.length]!);
    parts.push(...p.push(body.subarray(at, at + size)));
    at += size;
  }
  p.end();
  return parts;
}

function expectError(f: () => unknown, kind: 'malformed' | 'truncated', message: RegExp): void {
  let err: unknown;
  try { f(); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(MultipartError);
  expect((err as MultipartError).kind).toBe(kind);
  expect((err as MultipartError).message).toMatch(message);
}

describe('boundaryOf', () => {
  it('reads quoted and unquoted boundaries among other parameters', () => {
    expect(boundaryOf('multipart/related; type="application/dicom"; boundary=abc-123')).toBe('abc-123');
    expect(boundaryOf('Multipart/Related; boundary="a b:c"; type="application/dicom;x=1"')).toBe('a b:c');
    expect(contentTypeParams('multipart/related; type="application/dicom"; transfer-syntax=*').params).toEqual({ type: 'application/dicom', 'transfer-syntax': '*' });
  });
  it('refuses a missing type, a non-multipart type, a missing or invalid boundary', () => {
    expectError(() => boundaryOf(undefined), 'malformed', /no Content-Type/);
    expectError(() => boundaryOf('application/json'), 'malformed', /application\/json, not multipart/);
    expectError(() => boundaryOf('multipart/related; type="application/dicom"'), 'malformed', /has no boundary/);
    expectError(() => boundaryOf(`multipart/related; boundary=${'x'.repeat(71)}`), 'malformed', /not valid/);
    expectError(() => boundaryOf('multipart/related; boundary="ends with space "'), 'malformed', /not valid/);
  });
});

describe('MultipartParser', () => {
  const B = 'b0und4ry';
  const dicom = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + n) & 0xff);

  it('parses what buildMultipart writes, with and without Content-Length, with preamble, padding and epilogue', () => {
    const body = buildMultipart(B, [{ contentType: 'application/dicom', body: dicom(300) }, { contentType: 'application/dicom', body: dicom(0) }]);
    const parts = parse(B, body);
    expect(parts.map((p) => p.body)).toEqual([dicom(300), dicom(0)]);
    expect(parts[0]!.headers['content-type']).toBe('application/dicom');
    const raw = enc.encode(`preamble text\r\n--${B}  \t\r\nContent-Type: application/dicom\r\n\r\nABC\r\n--${B}\r\n\r\nDE\r\n--${B}--\r\nepilogue`);
    expect(parse(B, raw).map((p) => Buffer.from(p.body).toString())).toEqual(['ABC', 'DE']);
  });

  it('gives the same parts whatever the chunking, for any bodies (property)', () => {
    fc.assert(fc.property(
      fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 6 }),
      fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 8 }),
      fc.boolean(),
      (bodies, sizes, withLength) => {
        const built = withLength
          ? buildMultipart(B, bodies.map((b) => ({ contentType: 'application/dicom', body: b })))
          : Buffer.concat([...bodies.flatMap((b) => [enc.encode(`--${B}\r\nContent-Type: application/dicom\r\n\r\n`), b, enc.encode('\r\n')]), enc.encode(`--${B}--`)]);
        // a body that happens to contain the delimiter cannot be told apart without Content-Length
        if (!withLength && bodies.some((b) => Buffer.from(b).includes(`\r\n--${B}`))) return;
        expect(parse(B, built, sizes).map((p) => p.body)).toEqual(bodies);
      },
    ), { numRuns: 300 });
  });

  it('reports a body cut at any point as truncated, never as complete (property)', () => {
    const body = buildMultipart(B, [{ contentType: 'application/dicom', body: dicom(100) }, { contentType: 'application/dicom', body: dicom(50) }]);
    fc.assert(fc.property(fc.integer({ min: 0, max: body.length - 3 }), (cut) => {
      const p = new MultipartParser(B);
      p.push(body.subarray(0, cut));
      expect(() => p.end()).toThrow(MultipartError);
    }));
  });

  it('names the part that is cut short and the bytes announced', () => {
    const body = buildMultipart(B, [{ contentType: 'application/dicom', body: dicom(100) }, { contentType: 'application/dicom', body: dicom(500) }]);
    expectError(() => parse(B, body.subarray(0, body.length - 300)), 'truncated', /ends inside part 2 \(\d+ bytes of 500 bytes announced/);
    expectError(() => parse(B, body.subarray(0, body.length - 8)), 'truncated', /part 2.*without the closing boundary/);
    expectError(() => parse(B, new Uint8Array(0)), 'truncated', /empty/);
  });

  it('refuses malformed bodies: no boundary, a wrong Content-Length, garbage after a boundary, a header without a name', () => {
    expectError(() => parse(B, enc.encode('{"error": "not multipart"}')), 'malformed', /no multipart boundary/);
    expectError(() => parse(B, enc.encode(`--${B}\r\nContent-Length: 10\r\n\r\nABC\r\n--${B}--`)), 'truncated', /part 1, without the closing boundary/);
    expectError(() => parse(B, enc.encode(`--${B}\r\nContent-Length: 2\r\n\r\nABC\r\n--${B}--`)), 'malformed', /announces 2 bytes .* boundary does not follow/);
    expectError(() => parse(B, enc.encode(`--${B}\r\nContent-Length: -4\r\n\r\nABC\r\n--${B}--`)), 'malformed', /invalid Content-Length/);
    expectError(() => parse(B, enc.encode(`--${B}XYZ\r\n\r\nABC\r\n--${B}--`)), 'malformed', /followed by "XYZ/);
    expectError(() => parse(B, enc.encode(`--${B}\r\nno colon here\r\n\r\nABC\r\n--${B}--`)), 'malformed', /header line without a name/);
    expectError(() => parse(B, enc.encode(`--${B}\r\n${'X-A: b\r\n'.repeat(3000)}`)), 'malformed', /no end of headers/);
  });

  it('refuses a part larger than the limit without buffering it all', () => {
    const p = new MultipartParser(B, 1000);
    expectError(() => p.push(enc.encode(`--${B}\r\nContent-Length: 5000\r\n\r\n`)), 'malformed', /announces 5000 bytes, more than the 1000/);
    const q = new MultipartParser(B, 1000);
    q.push(enc.encode(`--${B}\r\n\r\n`));
    expectError(() => q.push(new Uint8Array(2000)), 'malformed', /longer than the 1000 bytes/);
  });
});
