// npm run bench (CLI part): whole-process wall times of calcdx commands next to `node -e 0`, the
// floor of starting Node on this machine, measured interleaved in one run (medians of RUNS rounds),
// so that a loaded machine shifts both. Goals (issue 15): `calcdx --version` <= 0.1 s and
// `calcdx assess <case> --format json` <= 0.2 s wall, and at most 3x `node -e 0`.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'calcdx.js');
const kase = join(root, 'examples', 'cases', 'synovial-sarcoma-knee.yaml');
const RUNS = Number(process.env.CALCDX_BENCH_RUNS ?? 11);

const commands = [
  ['node -e 0 (the floor)', ['-e', '0']],
  ['calcdx --version', [bin, '--version']],
  ['calcdx assess --format json', [bin, 'assess', kase, '--format', 'json', '--date', '2026-12-03']],
  ['calcdx assess (text report)', [bin, 'assess', kase, '--date', '2026-12-03']],
  ['calcdx kb list', [bin, 'kb', 'list']],
];

// CPU time (user + system) too, from GNU time when there is one: on a machine shared with other
// work, the wall time includes waiting for a core, the CPU time does not
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

/** wall seconds and CPU seconds (user + system; NaN without GNU time) of one whole process */
function time(args) {
  const t0 = process.hrtime.bigint();
  const r = TIME
    ? spawnSync(TIME, ['-f', '%U %S', process.execPath, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 })
    : spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  const [u, s] = TIME ? r.stderr.trim().split('\n').at(-1).split(' ').map(Number) : [NaN, NaN];
  return { wall, cpu: u + s };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const times = commands.map(() => []);
for (const [, args] of commands) time(args); // warm the page cache
for (let r = 0; r < RUNS; r++) commands.forEach(([, args], i) => times[i].push(time(args)));

const wallOf = (i) => median(times[i].map((x) => x.wall));
const cpuOf = (i) => median(times[i].map((x) => x.cpu));
const floor = wallOf(0);
const floorCpu = cpuOf(0);
console.log(`calcdx command line, whole processes, median of ${RUNS} interleaved rounds (node ${process.version})`);
console.log(`${'command'.padEnd(30)}${'wall s'.padStart(8)}${'x node -e 0'.padStart(13)}${'CPU s'.padStart(8)}${'x node -e 0'.padStart(13)}`);
const result = commands.map(([name], i) => {
  const m = wallOf(i), c = cpuOf(i);
  console.log(`${name.padEnd(30)}${m.toFixed(3).padStart(8)}${(m / floor).toFixed(2).padStart(13)}${c.toFixed(2).padStart(8)}${(c / floorCpu).toFixed(2).padStart(13)}`);
  return m;
});
const [, version, assessJson] = result;
const ok = version <= 0.1 && assessJson <= 0.2 && assessJson / floor <= 3;
console.log(`goals: --version <= 0.100 s (${version.toFixed(3)}), assess --format json <= 0.200 s (${assessJson.toFixed(3)}) and <= 3x node -e 0 (${(assessJson / floor).toFixed(2)}x)`);
console.log(ok ? 'CLI goals met' : 'CLI GOALS NOT MET');
