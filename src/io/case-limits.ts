/**
 * Resource limits for reading a case (CLI file or HTTP body), enforced while and right after
 * parsing, before validation: the nesting depth, the number of values (nodes), the keys of one
 * mapping, and a time budget for the whole parse. A case file of format v1 is at most 5 levels
 * deep with a few hundred values, so these limits only ever refuse hostile or broken input —
 * and they keep the cost of any input linear and small (no recursion past MAX_CASE_DEPTH, no
 * quadratic duplicate-key checks past MAX_CASE_KEYS keys). Every refusal is a CalcdxError.
 */
import { CST, Lexer, Parser } from 'yaml';
import { CalcdxError } from './errors.js';

/** nesting levels of mappings and sequences (the case format uses 5) */
export const MAX_CASE_DEPTH = 32;
/** values of any kind (mappings, sequences, scalars), aliases expanded */
export const MAX_CASE_NODES = 5_000;
/** keys of one mapping (the widest mapping of the case format has fewer than 40) */
export const MAX_CASE_KEYS = 1_000;
/** validation issues listed in an error (the count of all of them is given) */
export const MAX_REPORTED_ISSUES = 50;
/** time (wall clock and CPU, both) for reading, parsing and checking one case (ms) */
export const CASE_PARSE_BUDGET_MS = 500;

export interface CaseLimits { depth: number; nodes: number; keys: number; budgetMs: number }
export const CASE_LIMITS: CaseLimits = { depth: MAX_CASE_DEPTH, nodes: MAX_CASE_NODES, keys: MAX_CASE_KEYS, budgetMs: CASE_PARSE_BUDGET_MS };

/** how old the process's CPU time that starts a budget may be (ms) */
const CPU_SAMPLE_MS = 10;
let cpuSample: { at: number; cpu: NodeJS.CpuUsage } | undefined;

/**
 * Monotonic milliseconds, as performance.now() but without it: the global `performance` loads
 * node:perf_hooks on first use, ~2 ms and 55 page faults of every command that reads a case (issue 15).
 */
const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/**
 * The process's CPU time, read at most once per CPU_SAMPLE_MS: reading it (getrusage) costs about
 * 10 µs, as much as parsing a small case, and a server starts a budget for every case body.
 */
function recentCpuUsage(now: number): NodeJS.CpuUsage {
  if (cpuSample === undefined || now - cpuSample.at > CPU_SAMPLE_MS) cpuSample = { at: now, cpu: process.cpuUsage() };
  return cpuSample.cpu;
}

/**
 * A deadline checked at intervals during the linear passes over a case. It fires when both the
 * wall-clock time and the process's CPU time spent since the start exceed the budget: on a busy
 * machine wall time alone runs out while this parse has barely run (a valid case refused), and in
 * a server CPU time alone counts the other threads' work too. The CPU time is counted from a
 * reading up to CPU_SAMPLE_MS before the start (see recentCpuUsage); the CPU time is read again
 * only once the wall-clock time has run out.
 */
export class ParseBudget {
  private readonly deadline: number;
  private readonly cpuStart: NodeJS.CpuUsage;
  constructor(readonly file: string, readonly ms: number) {
    const now = nowMs();
    this.deadline = now + ms;
    this.cpuStart = recentCpuUsage(now);
  }
  check(): void {
    if (nowMs() <= this.deadline) return;
    const cpu = process.cpuUsage(this.cpuStart);
    if ((cpu.user + cpu.system) / 1000 > this.ms) throw new CalcdxError('parse_timeout', { file: this.file, limit: this.ms });
  }
}

const tooDeep = (file: string, limit: number) => new CalcdxError('case_too_deep', { file, limit });
const tooMany = (file: string, limit: number) => new CalcdxError('case_too_many_nodes', { file, limit });
const tooWide = (file: string, path: string, limit: number) => new CalcdxError('case_too_many_keys', { file, path: path || '(top level)', limit });

/** Lexemes that stand for a value or its key; a value of the case format takes at most two of them. */
const COUNTED = new Set(['scalar', 'single-quoted-scalar', 'double-quoted-scalar', 'alias', 'flow-map-start', 'flow-seq-start', 'seq-item-ind', 'explicit-key-ind', 'map-value-ind', 'comma']);

/**
 * YAML text → CST tokens (the yaml library's lexer and parser, both iterative), refusing as soon
 * as the text holds more value lexemes than 2 × the node limit could need, or the budget runs out.
 */
export function lexAndParseYaml(text: string, file: string, limits: CaseLimits, budget: ParseBudget): CST.Token[] {
  const lexer = new Lexer();
  const parser = new Parser();
  const tokens: CST.Token[] = [];
  let counted = 0;
  let n = 0;
  for (const lexeme of lexer.lex(text)) {
    if ((++n & 255) === 0) budget.check();
    const type = CST.tokenType(lexeme);
    if (type !== null && COUNTED.has(type) && ++counted > 2 * limits.nodes) throw tooMany(file, limits.nodes);
    for (const token of parser.next(lexeme)) tokens.push(token);
  }
  for (const token of parser.end()) tokens.push(token);
  budget.check();
  return tokens;
}

/** Depth, node and per-mapping key counts over the CST, iteratively (no recursion on the input's depth). */
export function checkYamlTree(tokens: readonly CST.Token[], file: string, limits: CaseLimits, budget: ParseBudget): void {
  const stack: Array<{ token: CST.Token; depth: number }> = [];
  for (const token of tokens) if (token.type === 'document' && token.value) stack.push({ token: token.value, depth: 0 });
  let nodes = 0;
  while (stack.length) {
    const { token, depth } = stack.pop()!;
    if (++nodes > limits.nodes) throw tooMany(file, limits.nodes);
    if ((nodes & 255) === 0) budget.check();
    if (token.type !== 'block-map' && token.type !== 'block-seq' && token.type !== 'flow-collection') continue;
    if (depth + 1 > limits.depth) throw tooDeep(file, limits.depth);
    const isMap = token.type === 'block-map' || (token.type === 'flow-collection' && token.start.source === '{');
    if (isMap && token.items.length > limits.keys) throw tooWide(file, '', limits.keys);
    for (const item of token.items) {
      const it = item as { key?: CST.Token | null; value?: CST.Token | null };
      if (it.key) stack.push({ token: it.key, depth: depth + 1 });
      if (it.value) stack.push({ token: it.value, depth: depth + 1 });
    }
  }
}

/**
 * Depth, node and per-object key counts over parsed data (JSON, or YAML after aliases were
 * expanded), iteratively; stops at the first limit passed. `path` in the error is the dotted
 * path of the mapping with too many keys.
 */
export function checkDataLimits(data: unknown, file: string, limits: CaseLimits, budget: ParseBudget): void {
  const stack: Array<{ v: unknown; depth: number; path: string }> = [{ v: data, depth: 0, path: '' }];
  let nodes = 0;
  while (stack.length) {
    const { v, depth, path } = stack.pop()!;
    if (++nodes > limits.nodes) throw tooMany(file, limits.nodes);
    if ((nodes & 255) === 0) budget.check();
    if (v === null || typeof v !== 'object') continue;
    if (depth + 1 > limits.depth) throw tooDeep(file, limits.depth);
    if (Array.isArray(v)) {
      if (v.length > limits.nodes) throw tooMany(file, limits.nodes);
      for (let i = 0; i < v.length; i++) stack.push({ v: v[i], depth: depth + 1, path: path ? `${path}.${i}` : String(i) });
    } else {
      const keys = Object.keys(v);
      if (keys.length > limits.keys) throw tooWide(file, path, limits.keys);
      for (const k of keys) stack.push({ v: (v as Record<string, unknown>)[k], depth: depth + 1, path: path ? `${path}.${k}` : k });
    }
  }
}
