/**
 * Runs one mutant through the real entry points and judges the outcome: the CLI code path in
 * process (`run` of src/cli/main.ts, what `calcdx assess/validate/ct` call: its exit code and
 * what it prints) and the HTTP server in process (fastify inject over buildServer). A mutant
 * fails on an internal error (exit 70, HTTP 5xx, an internal error logged), or a stack trace or
 * an absolute path in what it prints or answers. Time and memory are judged by the caller.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { run } from '../cli/main.js';
import type { FastifyInstance } from '../server/app.js';
import { BOUNDARY, type Mutant } from './families.js';

export interface Outcome { ok: boolean; reason?: string }

const STACK = /\n\s+at [^\n]*(?:\(|:\d+:\d+)|^\s*at (?:async )?[\w.<>]+ \(/m;
const ABS_PATH = /(?:^|[\s"'(=,[])(?:\/(?:tmp|work|home|root|usr|var|etc|proc|opt|srv|mnt|run|dev)\/|[A-Za-z]:\\\\)/m;

/** What must never be in an answer or an error message: a stack trace, an absolute path, or the given folders. */
export function leak(text: string, folders: readonly string[]): string | undefined {
  if (STACK.test(text)) return 'stack trace in the output';
  if (ABS_PATH.test(text)) return `absolute path in the output: ${text.match(ABS_PATH)![0].trim().slice(0, 40)}`;
  for (const f of folders) if (f && text.includes(f)) return `folder ${f} in the output`;
  return undefined;
}

/** Runs the CLI in this process, capturing what it writes. */
async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const ow = process.stdout.write.bind(process.stdout);
  const ew = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((c: string | Uint8Array) => { out.push(String(c)); return true; }) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array) => { err.push(String(c)); return true; }) as typeof process.stderr.write;
  try {
    const code = await run(args);
    return { code, out: out.join(''), err: err.join('') };
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
  }
}

export interface TargetContext {
  app: FastifyInstance;
  /** the working folder of this process (mutants are written here under relative names) */
  dir: string;
  /** folders whose names must not appear in an output (the working folder, the repository) */
  folders: string[];
  /** log lines of the server at level error or above, emptied by the caller */
  errorLogs: string[];
}

const CASE_ROUTES = ['/api/assess', '/api/validate', '/api/report?format=text', '/api/followup.ics'] as const;

/** The kind and first frames of the internal errors the server logged (it logs no message): "TypeError at decimal < decimals < frameGeometry". */
function loggedError(lines: readonly string[]): string {
  const out: string[] = [];
  for (const line of lines) {
    try {
      const err = (JSON.parse(line) as { err?: { type?: string; stack?: string } }).err;
      const frames = [...(err?.stack ?? '').matchAll(/at (?:async )?([\w.$<>]+) [([]/g)].map((m) => m[1]).filter((f) => f !== 'a.value').slice(0, 3);
      out.push(`${err?.type ?? 'error'} at ${frames.join(' < ') || '?'}`);
    } catch { out.push('an unreadable log line'); }
  }
  return out.join('; ') || 'nothing';
}

/** The text without the names the client supplied (JSON-escaped or not), which an answer may quote. */
function withoutSupplied(text: string, supplied: readonly string[] = []): string {
  let t = text;
  for (const name of supplied) if (name) t = t.split(JSON.stringify(name).slice(1, -1)).join('<supplied>').split(name).join('<supplied>');
  return t;
}

/** What an error answer must be: problem+json, or an OperationOutcome (application/fhir+json) on the FHIR routes. */
const errorTypeOf = (url: string): string => (url.startsWith('/fhir/') || url.startsWith('/api/fhir/') ? 'application/fhir+json' : 'application/problem+json');

async function http(ctx: TargetContext, url: string, payload: Buffer, contentType: string, supplied?: readonly string[]): Promise<Outcome> {
  const r = await ctx.app.inject({ method: 'POST', url, payload, headers: { 'content-type': contentType } });
  if (r.statusCode >= 500) return { ok: false, reason: `HTTP ${r.statusCode} from ${url} (logged: ${loggedError(ctx.errorLogs)})` };
  const type = String(r.headers['content-type'] ?? '');
  if (r.statusCode >= 400 && !type.startsWith(errorTypeOf(url))) return { ok: false, reason: `HTTP ${r.statusCode} from ${url} is not ${errorTypeOf(url)} (${type})` };
  let text = type.startsWith('application/gzip') ? '' : r.body;
  if (type.startsWith('application/json') && text.includes('"labels"')) {
    try { const j = JSON.parse(text) as Record<string, unknown>; delete j.labels; text = JSON.stringify(j); } catch { /* judged as it is */ }
  }
  const l = leak(withoutSupplied(`${text}\n${String(r.headers['x-calcdx-warnings'] ?? '')}`, supplied), ctx.folders);
  if (l) return { ok: false, reason: `${url}: ${l}` };
  return { ok: true };
}

function judgeCli(what: string, r: { code: number; out: string; err: string }, folders: readonly string[]): Outcome {
  if (r.code === 70) return { ok: false, reason: `${what}: exit 70: ${r.err.slice(0, 200)}` };
  if (r.code !== 0 && r.code !== 1 && r.code !== 2) return { ok: false, reason: `${what}: exit ${r.code}` };
  const l = leak(`${r.err}\n${r.out}`, folders);
  if (l) return { ok: false, reason: `${what}: ${l}` };
  return { ok: true };
}

/** Runs the mutant through its entry points; the first failure is returned. */
export async function runMutant(m: Mutant, ctx: TargetContext): Promise<Outcome> {
  const work = join(ctx.dir, `m${m.index}`);
  mkdirSync(work, { recursive: true });
  const cwd = process.cwd();
  try {
    for (const f of m.files) {
      mkdirSync(dirname(join(work, f.name)), { recursive: true });
      writeFileSync(join(work, f.name), f.data);
    }
    process.chdir(work);
    const outcomes: Outcome[] = [];
    if (m.run.kind === 'case') {
      const name = m.files[0]!.name;
      outcomes.push(judgeCli('calcdx validate', await cli(['validate', name, '--lang', 'en']), ctx.folders));
      outcomes.push(judgeCli('calcdx assess', await cli(['assess', name, '--format', 'json', '--lang', 'zh']), ctx.folders));
      const type = m.run.json ? 'application/json' : m.index % 2 ? 'application/yaml' : 'text/plain';
      outcomes.push(await http(ctx, '/api/assess?lang=en', m.files[0]!.data, type));
      outcomes.push(await http(ctx, `${CASE_ROUTES[1 + (m.index % 3)]}`, m.files[0]!.data, type));
    } else if (m.run.kind === 'fhir') {
      const name = m.files[0]!.name;
      outcomes.push(judgeCli('calcdx fhir import', await cli(['fhir', 'import', name, '--json', '--reference-date', '2026-12-03']), ctx.folders));
      outcomes.push(await http(ctx, '/api/fhir/case?lang=zh', m.files[0]!.data, 'application/fhir+json'));
      outcomes.push(await http(ctx, '/fhir/$assess?lang=en', m.files[0]!.data, m.index % 2 ? 'application/json' : 'application/fhir+json'));
    } else if (m.run.kind === 'ct') {
      outcomes.push(judgeCli('calcdx ct', await cli(['ct', ...m.run.inputs, '--roi', m.run.roi ?? 'whole', '--json']), ctx.folders));
    } else {
      outcomes.push(await http(ctx, `${m.run.route}?lang=en`, m.files[0]!.data, `multipart/form-data; boundary=${BOUNDARY}`, m.supplied));
    }
    if (ctx.errorLogs.length) outcomes.push({ ok: false, reason: `internal error logged: ${ctx.errorLogs.join(' ').slice(0, 300)}` });
    return outcomes.find((o) => !o.ok) ?? { ok: true };
  } finally {
    process.chdir(cwd);
    ctx.errorLogs.length = 0;
    rmSync(work, { recursive: true, force: true });
  }
}
