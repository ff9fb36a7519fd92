/**
 * Reads a case file (YAML or JSON, a path or "-" for standard input) with a size limit,
 * rejects binary content, parses and validates it. Every failure is a CalcdxError.
 */
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { Composer } from 'yaml';
import type { CaseFile } from '../core/case-format/schema.js';
import { validateCase } from '../core/case-format/validate.js';
import { CASE_LIMITS, checkDataLimits, checkYamlTree, lexAndParseYaml, MAX_REPORTED_ISSUES, ParseBudget, type CaseLimits } from './case-limits.js';
import { CalcdxError } from './errors.js';

/** Case files are a few kilobytes; 1 MiB leaves room for comments and still refuses junk. */
export const MAX_CASE_BYTES = 1024 * 1024;

function readLimited(fd: number, name: string, limit: number): Buffer {
  const chunks: Buffer[] = [];
  let total = 0;
  const buf = Buffer.alloc(64 * 1024);
  for (;;) {
    let n: number;
    try { n = readSync(fd, buf, 0, buf.length, null); } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') continue;
      if (code === 'EOF') break;
      throw new CalcdxError('file_unreadable', { file: name, reason: code ?? String(e) });
    }
    if (n === 0) break;
    total += n;
    if (total > limit) throw new CalcdxError('file_too_large', { file: name, size: `> ${limit}`, limit });
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
  return Buffer.concat(chunks);
}

export function readCaseBytes(path: string, limit = MAX_CASE_BYTES): Buffer {
  if (path === '-') return readLimited(0, '<stdin>', limit);
  let st;
  try { st = statSync(path); } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new CalcdxError('file_not_found', { file: path });
    throw new CalcdxError('file_unreadable', { file: path, reason: code ?? String(e) });
  }
  if (!st.isFile()) throw new CalcdxError('not_a_file', { file: path });
  if (st.size > limit) throw new CalcdxError('file_too_large', { file: path, size: st.size, limit });
  let fd: number;
  try { fd = openSync(path, 'r'); } catch (e) {
    throw new CalcdxError('file_unreadable', { file: path, reason: (e as NodeJS.ErrnoException).code ?? String(e) });
  }
  try {
    if (fstatSync(fd).size > limit) throw new CalcdxError('file_too_large', { file: path, size: fstatSync(fd).size, limit });
    return readLimited(fd, path, limit);
  } finally { closeSync(fd); }
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Text → plain data (JSON or YAML, one document), within the limits of case-limits.ts: the
 * nesting depth, the number of values, the keys of one mapping and a time budget are checked
 * while and right after parsing, before anything recursive (alias expansion, validation) runs.
 */
export function parseCaseText(bytes: Buffer, name: string, limits: CaseLimits = CASE_LIMITS): unknown {
  const budget = new ParseBudget(name, limits.budgetMs);
  if (bytes.length === 0) throw new CalcdxError('file_empty', { file: name });
  if (bytes.includes(0)) throw new CalcdxError('file_binary', { file: name });
  let text: string;
  try { text = decoder.decode(bytes); } catch { throw new CalcdxError('file_binary', { file: name }); }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') throw new CalcdxError('file_empty', { file: name });
  const first = text.trimStart()[0];
  if (first === '{' || first === '[') {
    let data: unknown;
    // V8's JSON.parse is not recursive: deep nesting is refused by the check that follows
    try { data = JSON.parse(text); } catch (e) {
      throw new CalcdxError('parse_json', { file: name, detail: (e as Error).message });
    }
    checkDataLimits(data, name, limits, budget);
    return data;
  }
  const tokens = lexAndParseYaml(text, name, limits, budget);
  checkYamlTree(tokens, name, limits, budget);
  const docs = [...new Composer({ prettyErrors: true, uniqueKeys: true }).compose(tokens)];
  if (docs.length === 0) throw new CalcdxError('file_empty', { file: name });
  if (docs.length > 1) throw new CalcdxError('multiple_documents', { file: name, count: docs.length });
  const doc = docs[0]!;
  if (doc.errors.length) {
    const err = doc.errors[0]!;
    throw new CalcdxError('parse_yaml', { file: name, detail: err.message.split('\n')[0] ?? err.code });
  }
  let data: unknown;
  // an alias to an anchor that is not there, or an expansion past the alias limit ("billion laughs")
  try { data = doc.toJS({ maxAliasCount: 100 }); } catch (e) {
    throw new CalcdxError('parse_yaml', { file: name, detail: (e as Error).message.split('\n')[0] ?? 'alias' });
  }
  if (data === null || data === undefined) throw new CalcdxError('file_empty', { file: name });
  checkDataLimits(data, name, limits, budget);
  return data;
}

export function toCase(data: unknown, name: string, opts: { jitless?: boolean } = {}): CaseFile {
  const v = validateCase(data, opts);
  // every issue is counted; the first MAX_REPORTED_ISSUES are listed
  if (!v.ok) throw new CalcdxError('case_invalid', { file: name, count: v.issues.length }, v.issues.slice(0, MAX_REPORTED_ISSUES));
  return v.value;
}

/** A case file as a command reads it: one case per process, so validated without zod's compiled fast path (validate.ts). */
export function readCaseFile(path: string): CaseFile {
  const name = path === '-' ? '<stdin>' : path;
  return toCase(parseCaseText(readCaseBytes(path), name), name, { jitless: true });
}

