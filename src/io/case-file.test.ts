import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, openSync, ftruncateSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_CASE_BYTES, readCaseFile } from './case-file.js';
import { CalcdxError } from './errors.js';

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'calcdx-case-')); });
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

function write(name: string, content: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

function codeOf(fn: () => unknown): string {
  try { fn(); } catch (e) { if (e instanceof CalcdxError) return e.code; throw e; }
  return 'no error';
}

describe('reading case files', () => {
  it('reads YAML and JSON', () => {
    expect(readCaseFile(write('a.yaml', 'formatVersion: 1\npatient: { age: 40 }\n')).patient?.age).toBe(40);
    expect(readCaseFile(write('a.json', '{"formatVersion":1,"patient":{"sex":"female"}}')).patient?.sex).toBe('female');
    expect(readCaseFile(write('bom.yaml', '\ufeffformatVersion: 1\n')).formatVersion).toBe(1);
  });

  it('rejects malformed YAML and JSON with the parser detail', () => {
    expect(codeOf(() => readCaseFile(write('bad.yaml', 'formatVersion: 1\npatient: { age: 40\n')))).toBe('parse_yaml');
    expect(codeOf(() => readCaseFile(write('bad.json', '{"formatVersion": 1,}')))).toBe('parse_json');
    expect(codeOf(() => readCaseFile(write('dup.yaml', 'formatVersion: 1\nformatVersion: 1\n')))).toBe('parse_yaml');
    expect(codeOf(() => readCaseFile(write('two.yaml', 'formatVersion: 1\n---\nformatVersion: 1\n')))).toBe('multiple_documents');
  });

  it('rejects wrong types, out-of-range numbers and unknown fields as case_invalid with every issue', () => {
    try {
      readCaseFile(write('inv.yaml', 'formatVersion: 1\npatient: { age: "old", sex: other }\nlesion: { sizeCm: -3 }\ncolour: red\n'));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(CalcdxError);
      const err = e as CalcdxError;
      expect(err.code).toBe('case_invalid');
      expect(err.issues.map((i) => i.path).sort()).toEqual(['colour', 'lesion.sizeCm', 'patient.age', 'patient.sex']);
    }
  });

  it('rejects empty, whitespace-only and null documents', () => {
    expect(codeOf(() => readCaseFile(write('empty.yaml', '')))).toBe('file_empty');
    expect(codeOf(() => readCaseFile(write('blank.yaml', '  \n\n')))).toBe('file_empty');
    expect(codeOf(() => readCaseFile(write('comment.yaml', '# nothing\n')))).toBe('file_empty');
  });

  it('rejects binary content', () => {
    expect(codeOf(() => readCaseFile(write('bin.yaml', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]))))).toBe('file_binary');
    expect(codeOf(() => readCaseFile(write('latin1.yaml', Buffer.from([0x66, 0x6f, 0xe9, 0x0a]))))).toBe('file_binary');
  });

  it('rejects a 50 MB file by its size, before reading it', () => {
    const p = join(dir, 'huge.yaml');
    const fd = openSync(p, 'w');
    ftruncateSync(fd, 50 * 1024 * 1024);
    closeSync(fd);
    try { readCaseFile(p); expect.unreachable(); } catch (e) {
      expect((e as CalcdxError).code).toBe('file_too_large');
      expect((e as CalcdxError).params.limit).toBe(MAX_CASE_BYTES);
    }
  });

  it('reports missing files and directories clearly', () => {
    expect(codeOf(() => readCaseFile(join(dir, 'nope.yaml')))).toBe('file_not_found');
    const sub = join(dir, 'sub');
    mkdirSync(sub);
    expect(codeOf(() => readCaseFile(sub))).toBe('not_a_file');
  });
});
