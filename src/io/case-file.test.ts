import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, openSync, ftruncateSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_CASE_BYTES, parseCaseText, readCaseFile } from './case-file.js';
import { CASE_LIMITS, MAX_CASE_DEPTH, MAX_CASE_KEYS, MAX_CASE_NODES, MAX_REPORTED_ISSUES } from './case-limits.js';
import { CalcdxError } from './errors.js';
import { formatIssue } from '../i18n/index.js';

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

describe('resource limits (issue 13: D4-D6)', () => {
  const laughs = (levels: number) => {
    let s = 'a0: &a0 [x, x, x, x, x, x, x, x, x]\n';
    for (let i = 1; i < levels; i++) s += `a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(', ')}]\n`;
    return s;
  };

  it('an unresolved alias and a "billion laughs" expansion are "not valid YAML", not internal errors', () => {
    expect(codeOf(() => readCaseFile(write('alias.yaml', 'formatVersion: 1\npatient: *nowhere\n')))).toBe('parse_yaml');
    expect(codeOf(() => readCaseFile(write('laughs.yaml', laughs(10))))).toBe('parse_yaml');
  });

  it('JSON and YAML nested 10,000 levels are refused by the depth limit', () => {
    expect(codeOf(() => readCaseFile(write('deep.json', `${'['.repeat(10_000)}${']'.repeat(10_000)}`)))).toBe('case_too_deep');
    expect(codeOf(() => readCaseFile(write('deep-obj.json', `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`)))).toBe('case_too_deep');
    expect(codeOf(() => readCaseFile(write('deep.yaml', `${'['.repeat(10_000)}${']'.repeat(10_000)}`)))).toBe('case_too_deep');
    const block = Array.from({ length: MAX_CASE_DEPTH + 2 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n');
    expect(codeOf(() => readCaseFile(write('deep-block.yaml', `${block} 1\n`)))).toBe('case_too_deep');
    // the limit, exactly: MAX_CASE_DEPTH levels are read (and refused as a case, with issues)
    expect(codeOf(() => readCaseFile(write('at-limit.json', `${'['.repeat(MAX_CASE_DEPTH)}${']'.repeat(MAX_CASE_DEPTH)}`)))).toBe('case_invalid');
  });

  it('60,000 top-level keys are refused quickly; many keys in one mapping and many values too', () => {
    const keys = Array.from({ length: 60_000 }, (_, i) => `k${i}: ${i}\n`).join('');
    // refused by the count of values while lexing, long before the 60,000th key (quadratic before)
    expect(codeOf(() => parseCaseText(Buffer.from(keys), 'keys.yaml', { ...CASE_LIMITS, budgetMs: 60_000 }))).toBe('case_too_many_nodes');
    const wide = Array.from({ length: MAX_CASE_KEYS + 1 }, (_, i) => `k${i}: 1\n`).join('');
    expect(codeOf(() => readCaseFile(write('wide.yaml', wide)))).toBe('case_too_many_keys');
    expect(codeOf(() => readCaseFile(write('wide.json', JSON.stringify(Object.fromEntries(Array.from({ length: MAX_CASE_KEYS + 1 }, (_, i) => [`k${i}`, 1]))))))).toBe('case_too_many_keys');
    expect(codeOf(() => readCaseFile(write('long.json', JSON.stringify(Array(MAX_CASE_NODES + 1).fill(0)))))).toBe('case_too_many_nodes');
  });

  it('a case with many issues counts them all and lists the first MAX_REPORTED_ISSUES', () => {
    const text = `formatVersion: 1\n${Array.from({ length: 900 }, (_, i) => `unknown${i}: 1\n`).join('')}`;
    try { readCaseFile(write('many.yaml', text)); expect.unreachable(); } catch (e) {
      const err = e as CalcdxError;
      expect(err.code).toBe('case_invalid');
      expect(err.params.count).toBe(900);
      expect(err.issues).toHaveLength(MAX_REPORTED_ISSUES);
    }
  });

  it('a length bound reads "at most N characters", in both languages', () => {
    try { readCaseFile(write('long-id.yaml', `formatVersion: 1\nid: ${'x'.repeat(201)}\n`)); expect.unreachable(); } catch (e) {
      const issue = (e as CalcdxError).issues[0]!;
      expect(issue.allowed).toMatchObject({ max: 200, unit: 'characters' });
      expect(formatIssue('en', issue)).toMatch(/allowed: at most 200 characters$/);
      expect(formatIssue('zh', issue)).toMatch(/最多 200 个字符$/);
      expect(formatIssue('en', issue)).not.toMatch(/a number/);
    }
  });

  it('the parse budget stops a parse that runs too long', () => {
    const text = Array.from({ length: 3000 }, (_, i) => `# comment ${i}\nk${i % 10}x: 1\n`).join('');
    try { parseCaseText(Buffer.from(text), 'slow.yaml', { ...CASE_LIMITS, budgetMs: -1 }); expect.unreachable(); } catch (e) {
      expect((e as CalcdxError).code).toBe('parse_timeout');
    }
  });

  it('reads the process\'s CPU time for the budget at most every 10 ms, not for every case (a server parses one per request)', () => {
    const spy = vi.spyOn(process, 'cpuUsage');
    try {
      const started = performance.now();
      for (let i = 0; i < 1000; i++) parseCaseText(Buffer.from(`{"formatVersion":1,"id":"c${i}"}`), 'body');
      for (let i = 0; i < 200; i++) parseCaseText(Buffer.from(`formatVersion: 1\nid: c${i}\n`), 'body.yaml');
      const elapsed = performance.now() - started;
      expect(spy.mock.calls.length).toBeLessThanOrEqual(Math.ceil(elapsed / 10) + 1);
      expect(spy.mock.calls.length).toBeLessThan(1200);
    } finally { spy.mockRestore(); }
  });
});
