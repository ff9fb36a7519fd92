// npm run bench (CT part): `calcdx ct` as a user runs it (a whole process: start-up, reading the
// series, measuring, printing JSON) against the reference pipeline an imaging scientist would
// write (pydicom + numpy + scipy.ndimage.label, ../shared/bench-reference/ref_pipeline.py, also a
// whole process), in its cropped mode (--mode crop: only the ROI's bounding box is labelled) and
// its full mode, interleaved in one run on a generated 512x512x300 CT series with the 35 mm sphere
// ROI of the phantom's truth.json. Wall time and peak memory (RSS) of each process, medians.
// Goals (issue 15): calcdx <= 0.5x the cropped reference's wall time, peak memory <= the reference's.
// Needs Debian's python3-pydicom python3-numpy python3-scipy python3-nibabel (skipped otherwise);
// CALCDX_BENCH_REF names the reference folder, CALCDX_BENCH_RUNS the rounds (default 5).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
// the checkout's ../shared (from a git worktree under wt/, one level further up)
const refDir = process.env.CALCDX_BENCH_REF
  ?? [resolve(here, '..', '..', 'shared', 'bench-reference'), resolve(here, '..', '..', '..', 'shared', 'bench-reference')].find((d) => existsSync(join(d, 'ref_pipeline.py')))
  ?? resolve(here, '..', '..', 'shared', 'bench-reference');
const PY = '/usr/bin/python3';
const TIME = '/usr/bin/time';
const SLICES = Number(process.env.CALCDX_BENCH_SLICES ?? 300);
const RUNS = Number(process.env.CALCDX_BENCH_RUNS ?? 5);

function missing() {
  if (!existsSync(join(refDir, 'ref_pipeline.py'))) return `no reference pipeline at ${refDir}`;
  if (!existsSync(TIME)) return `${TIME} (GNU time, for peak memory) is needed`;
  const r = spawnSync(PY, ['-c', 'import pydicom, numpy, scipy, nibabel'], { encoding: 'utf8' });
  return r.status === 0 ? '' : 'python3-pydicom, python3-numpy, python3-scipy and python3-nibabel are needed (apt-get install -y python3-pydicom python3-numpy python3-scipy python3-nibabel)';
}

const why = missing();
if (why) {
  console.log(`CT benchmark skipped: ${why}`);
  process.exit(0);
}
const cache = join(tmpdir(), 'calcdx-bench', `phantom-${SLICES}`);
if (!existsSync(join(cache, 'truth.json'))) {
  mkdirSync(dirname(cache), { recursive: true });
  console.log(`generating a 512x512x${SLICES} phantom in ${cache} ...`);
  execFileSync(PY, [join(refDir, 'make_phantom.py'), '--slices', String(SLICES), '--out', cache], { stdio: 'inherit' });
}
const dicom = join(cache, 'dicom');
const truth = JSON.parse(readFileSync(join(cache, 'truth.json'), 'utf8'));
const [ci, cj, ck] = truth.roi.center_vox_ijk;
const roi = `sphere-ijk-mm:${ci},${cj},${ck},${truth.roi.radius_mm}`;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** one whole process under GNU time: wall seconds, peak RSS (MiB) and its standard output */
function timed(cmd, args) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(TIME, ['-f', '%M', cmd, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  const kb = Number(r.stderr.trim().split('\n').at(-1));
  return { wall, rssMB: kb / 1024, stdout: r.stdout };
}

const runs = {
  'python reference, full': () => timed(PY, [join(refDir, 'ref_pipeline.py'), '--dicom', dicom, '--truth', join(cache, 'truth.json'), '--mode', 'full', '--quiet', '--no-components']),
  'python reference, crop': () => timed(PY, [join(refDir, 'ref_pipeline.py'), '--dicom', dicom, '--truth', join(cache, 'truth.json'), '--mode', 'crop', '--quiet', '--no-components']),
  'calcdx ct': () => timed(process.execPath, [join(here, '..', 'bin', 'calcdx.js'), 'ct', dicom, '--roi', roi, '--json']),
};
const names = Object.keys(runs);
const got = Object.fromEntries(names.map((n) => [n, []]));
// the full mode labels the whole grid (about 15x the cropped time, 1.8 GiB): one round only
const once = new Set(['python reference, full']);
for (const n of names) if (!once.has(n)) runs[n](); // warm the page cache
for (let r = 0; r < RUNS; r++) for (const n of names) if (r === 0 || !once.has(n)) got[n].push(runs[n]());

const out = JSON.parse(got['calcdx ct'][0].stdout);
const wall = (n) => median(got[n].map((x) => x.wall));
const rss = (n) => median(got[n].map((x) => x.rssMB));
const crop = wall('python reference, crop');
console.log(`\nCT, whole processes: 512x512x${SLICES} DICOM series (${(512 * 512 * SLICES * 2 / 1048576).toFixed(0)} MiB of pixels), sphere ROI ${truth.roi.radius_mm} mm, median of ${RUNS} interleaved rounds (the full mode: one)`);
console.log(`${'process'.padEnd(26)}${'wall s'.padStart(8)}${'x crop'.padStart(8)}${'peak MiB'.padStart(10)}`);
for (const n of names) console.log(`${n.padEnd(26)}${wall(n).toFixed(3).padStart(8)}${(wall(n) / crop).toFixed(2).padStart(8)}${rss(n).toFixed(0).padStart(10)}`);
const comps = out.lesion?.componentCount;
console.log(`calcdx found ${comps ?? '?'} components (truth: ${truth.expected_in_roi.components_26conn}), ${out.lesion?.calcifiedVoxels ?? '?'} calcified voxels (truth: ${truth.expected_in_roi.calcified_voxels})`);
const ok = wall('calcdx ct') <= 0.5 * crop && rss('calcdx ct') <= rss('python reference, crop');
console.log(`goals: calcdx <= 0.5x the cropped reference's wall time (${(wall('calcdx ct') / crop).toFixed(2)}x), peak memory <= the reference's (${rss('calcdx ct').toFixed(0)} vs ${rss('python reference, crop').toFixed(0)} MiB)`);
console.log(ok ? 'CT goals met' : 'CT GOALS NOT MET');
