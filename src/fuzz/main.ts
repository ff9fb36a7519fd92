/**
 * The fuzz harness: `npm run fuzz [-- --seconds N --seed S --family F[,F] --count N --out DIR --json FILE]`.
 *
 * For each family (case, dicom, nifti, upload) it runs mutants 0..count-1 of the fixed seed in a
 * child process (dist/fuzz/child.js), which reports each mutant's outcome, time and the peak
 * RSS. A mutant fails on an internal error (exit 70, HTTP 5xx, an internal error logged, an
 * uncaught exception), a stack trace or absolute path in the output, a run over 10 s, or a peak
 * RSS over 1 GiB; a child that stops answering for 20 s or grows past 1.5 GiB is killed and the
 * mutant counted as failed, and a fresh child goes on with the next mutant. Each failure is
 * printed with seed, family, index and mutation, and written to DIR (default fuzz-out/) so it
 * can become a regression fixture (test/fixtures/fuzz/). Exit code 1 when anything failed.
 * `--seconds N` stops each family after N / families seconds (whatever the count); `--count case=80,upload=30`
 * sets the count per family.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MEMORY_LIMIT_MB, type ChildMessage } from './child.js';
import { FAMILIES, loadFixtures, makeMutant, type Family, type Fixtures } from './families.js';

const HERE = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(HERE, '..', '..');
export const TIME_LIMIT_MS = 10_000;
const HANG_MS = 20_000;
const KILL_RSS_MB = 1536;

export interface Failure { family: Family; seed: number; index: number; what: string; reason: string; ms: number; maxRssMb: number; saved?: string }
export interface FamilySummary {
  family: Family; seed: number; mutants: number; failures: number; internalErrors: number; overTime: number; overMemory: number; leaks: number;
  maxMs: number; p99Ms: number; maxRssMb: number; seconds: number;
}

interface Options { seed: number; count: number; counts: Partial<Record<Family, number>>; seconds?: number; families: Family[]; out: string; json?: string; quiet: boolean }

function parseArgs(argv: string[]): Options {
  const o: Options = { seed: 1, count: 1000, counts: {}, families: [...FAMILIES], out: join(ROOT, 'fuzz-out'), quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = () => { const x = argv[++i]; if (x === undefined) throw new Error(`${a} needs a value`); return x; };
    if (a === '--seed') o.seed = Number(v());
    else if (a === '--count') {
      // N for every family, or family=N,… (the others keep 1000)
      for (const part of v().split(',')) {
        const [f, n] = part.includes('=') ? part.split('=') : [undefined, part];
        if (f === undefined) o.count = Number(n);
        else if (FAMILIES.includes(f as Family)) o.counts[f as Family] = Number(n);
        else throw new Error(`--count: unknown family ${f}`);
      }
    }
    else if (a === '--seconds') o.seconds = Number(v());
    else if (a === '--family') o.families = v().split(',').map((f) => { if (!FAMILIES.includes(f as Family)) throw new Error(`--family: ${f}; allowed: ${FAMILIES.join(', ')}`); return f as Family; });
    else if (a === '--out') o.out = resolve(v());
    else if (a === '--json') o.json = resolve(v());
    else if (a === '--quiet') o.quiet = true;
    else throw new Error(`unknown option ${a}; usage: npm run fuzz -- [--seconds N] [--seed S] [--family ${FAMILIES.join(',')}] [--count N] [--out DIR] [--json FILE]`);
  }
  if (!Number.isInteger(o.seed) || ![o.count, ...Object.values(o.counts)].every((n) => Number.isInteger(n) && n >= 0) || (o.seconds !== undefined && !(o.seconds > 0))) throw new Error('--seed and --count are whole numbers, --seconds a positive number');
  return o;
}

function rssMb(pid: number): number {
  try { return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024; } catch { return 0; }
}

function classify(reason: string): 'internal' | 'leak' | 'time' | 'memory' {
  if (reason.startsWith('over 10 s') || reason.startsWith('no answer')) return 'time';
  if (reason.startsWith('peak RSS')) return 'memory';
  if (/stack trace|absolute path|folder .* in the output|not problem\+json/.test(reason)) return 'leak';
  return 'internal';
}

/** Runs mutants from..to-1 of a family in one child; resolves with the index to go on from (to when done). */
function runChild(family: Family, seed: number, from: number, to: number, deadline: number, report: (m: Extract<ChildMessage, { type: 'done' }>) => void, fail: (index: number, reason: string, ms: number) => void): Promise<number> {
  return new Promise((done) => {
    const child: ChildProcess = fork(join(HERE, 'child.js'), [family, String(seed), String(from), String(to), ROOT], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'], execArgv: ['--max-old-space-size=1536'],
    });
    child.stderr?.resume();
    let current = -1;
    let next = from;
    let startedAt = Date.now();
    let killedFor: string | undefined;
    const watch = setInterval(() => {
      if (current >= 0 && Date.now() - startedAt > HANG_MS) { killedFor = `no answer for ${HANG_MS / 1000} s (killed)`; child.kill('SIGKILL'); }
      else if (child.pid && rssMb(child.pid) > KILL_RSS_MB) { killedFor = `peak RSS over ${KILL_RSS_MB} MiB (killed)`; child.kill('SIGKILL'); }
      else if (Date.now() > deadline) { killedFor = 'deadline'; child.kill('SIGKILL'); }
    }, 200);
    child.on('message', (m: ChildMessage) => {
      if (m.type === 'start') { current = m.index; startedAt = Date.now(); }
      else if (m.type === 'done') { report(m); current = -1; next = m.index + 1; }
    });
    child.on('exit', () => {
      clearInterval(watch);
      if (current >= 0 && killedFor !== 'deadline') { fail(current, killedFor ?? 'child process died', Date.now() - startedAt); next = current + 1; }
      if (killedFor === 'deadline') next = to;
      done(next);
    });
  });
}

export async function fuzzFamily(fx: Fixtures, family: Family, seed: number, count: number, seconds: number | undefined, out: string, log: (s: string) => void): Promise<{ summary: FamilySummary; failures: Failure[] }> {
  const t0 = Date.now();
  const deadline = seconds === undefined ? Infinity : t0 + seconds * 1000;
  const failures: Failure[] = [];
  const times: number[] = [];
  let maxRssMb = 0;
  let mutants = 0;
  const record = (index: number, reason: string, ms: number, rss: number) => {
    const m = makeMutant(fx, family, seed, index);
    const dir = join(out, `${family}-s${seed}-i${index}`);
    mkdirSync(dir, { recursive: true });
    for (const f of m.files) { mkdirSync(dirname(join(dir, f.name)), { recursive: true }); writeFileSync(join(dir, f.name), f.data); }
    writeFileSync(join(dir, 'failure.json'), `${JSON.stringify({ family, seed, index, what: m.what, reason, ms: Math.round(ms), maxRssMb: Math.round(rss) }, null, 2)}\n`);
    failures.push({ family, seed, index, what: m.what, reason, ms, maxRssMb: rss, saved: dir });
    log(`FAIL ${family} seed=${seed} index=${index}: ${reason}\n     mutation: ${m.what}\n     saved: ${dir}`);
  };
  let from = 0;
  while (from < count && Date.now() < deadline) {
    from = await runChild(family, seed, from, count, deadline, (m) => {
      mutants++;
      times.push(m.ms);
      maxRssMb = Math.max(maxRssMb, m.maxRssMb);
      const reason = !m.ok ? m.reason ?? 'failed'
        : m.ms > TIME_LIMIT_MS ? `over 10 s: ${Math.round(m.ms)} ms`
          : m.maxRssMb > MEMORY_LIMIT_MB ? `peak RSS ${Math.round(m.maxRssMb)} MiB > ${MEMORY_LIMIT_MB} MiB` : undefined;
      if (reason) record(m.index, reason, m.ms, m.maxRssMb);
    }, (index, reason, ms) => {
      mutants++;
      if (reason.includes('RSS')) maxRssMb = Math.max(maxRssMb, KILL_RSS_MB);
      record(index, reason, ms, reason.includes('RSS') ? KILL_RSS_MB : 0);
    });
  }
  times.sort((a, b) => a - b);
  const by = (k: string) => failures.filter((f) => classify(f.reason) === k).length;
  return {
    summary: {
      family, seed, mutants, failures: failures.length, internalErrors: by('internal'), overTime: by('time'), overMemory: by('memory'), leaks: by('leak'),
      maxMs: Math.round(times[times.length - 1] ?? 0), p99Ms: Math.round(times[Math.floor(times.length * 0.99)] ?? 0), maxRssMb: Math.round(maxRssMb), seconds: Math.round((Date.now() - t0) / 100) / 10,
    },
    failures,
  };
}

async function main(): Promise<number> {
  let o: Options;
  try { o = parseArgs(process.argv.slice(2)); } catch (e) { process.stderr.write(`fuzz: ${(e as Error).message}\n`); return 2; }
  const fx = loadFixtures(ROOT);
  const log = (s: string) => process.stdout.write(`${s}\n`);
  const summaries: FamilySummary[] = [];
  const all: Failure[] = [];
  for (const family of o.families) {
    const seconds = o.seconds === undefined ? undefined : o.seconds / o.families.length;
    const { summary, failures } = await fuzzFamily(fx, family, o.seed, o.counts[family] ?? o.count, seconds, o.out, log);
    summaries.push(summary);
    all.push(...failures);
    log(`${family}: ${summary.mutants} mutants (seed ${o.seed}) in ${summary.seconds} s: ${summary.failures} failed — internal errors ${summary.internalErrors}, over 10 s ${summary.overTime}, over 1 GiB ${summary.overMemory}, stack/path/not-problem ${summary.leaks}; slowest ${summary.maxMs} ms (p99 ${summary.p99Ms} ms), peak RSS ${summary.maxRssMb} MiB`);
  }
  if (o.json) { mkdirSync(dirname(o.json), { recursive: true }); writeFileSync(o.json, `${JSON.stringify({ seed: o.seed, count: o.count, summaries, failures: all }, null, 2)}\n`); }
  return all.length ? 1 : 0;
}

if (process.argv[1] && /fuzz[\\/]main\.js$/.test(process.argv[1])) process.exitCode = await main();
