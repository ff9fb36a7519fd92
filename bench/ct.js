// npm run bench (CT part): calcdx's CT pipeline against the reference pipeline an imaging
// scientist would write (pydicom + numpy + scipy.ndimage.label, ../shared/bench-reference), side by
// side in one run, on a generated 512x512x300 CT series with the ROI covering the whole volume.
// Needs Debian's python3-pydicom python3-numpy python3-scipy python3-nibabel (skipped otherwise).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const refDir = resolve(here, '..', '..', 'shared', 'bench-reference');
const PY = '/usr/bin/python3';
const SLICES = Number(process.env.CALCDX_BENCH_SLICES ?? 300);
const RUNS = Number(process.env.CALCDX_BENCH_RUNS ?? 3);

function havePython() {
  if (!existsSync(join(refDir, 'ref_pipeline.py'))) return `no reference pipeline at ${refDir}`;
  const r = spawnSync(PY, ['-c', 'import pydicom, numpy, scipy, nibabel'], { encoding: 'utf8' });
  return r.status === 0 ? '' : 'python3-pydicom, python3-numpy, python3-scipy and python3-nibabel are needed (apt-get install -y python3-pydicom python3-numpy python3-scipy python3-nibabel)';
}

const why = havePython();
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
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const py = [];
const js = [];
for (let r = 0; r < RUNS; r++) {
  const out = join(cache, `ref-${r}.json`);
  execFileSync(PY, [join(refDir, 'ref_pipeline.py'), '--dicom', dicom, '--truth', join(cache, 'truth.json'), '--roi', 'whole', '--quiet', '--no-components', '--json-out', out], { stdio: 'inherit' });
  py.push(JSON.parse(readFileSync(out, 'utf8')));
  const j = execFileSync(process.execPath, [join(here, 'ct-run.js'), dicom, 'whole'], { encoding: 'utf8', maxBuffer: 1 << 20 });
  js.push(JSON.parse(j.trim().split('\n').at(-1)));
}
const pyT = (k) => median(py.map((x) => x.timings_s[k]));
const jsT = (k) => median(js.map((x) => x.timings_s[k]));
const rows = [
  ['load + HU', pyT('load'), jsT('load')],
  ['threshold + label', pyT('threshold') + pyT('label'), jsT('threshold_label')],
  ['stats + shape (fg)', pyT('stats_fg_extra') + pyT('shape'), jsT('stats_shape')],
  ['end to end', pyT('total_with_fg_stats'), jsT('total')],
];
console.log(`\nCT pipeline, 512x512x${SLICES} DICOM series, ROI = whole volume, median of ${RUNS} runs (seconds)`);
console.log(`${'stage'.padEnd(22)}${'python ref'.padStart(12)}${'calcdx'.padStart(10)}${'ratio'.padStart(8)}`);
for (const [name, p, c] of rows) console.log(`${name.padEnd(22)}${p.toFixed(3).padStart(12)}${c.toFixed(3).padStart(10)}${(c / p).toFixed(2).padStart(8)}`);
const rss = median(js.map((x) => x.peakRssMB));
const raw = js[0].rawMB;
console.log(`components: python ${py[0].components} / calcdx ${js[0].components}; foreground voxels calcdx ${js[0].foreground}`);
console.log(`peak memory: calcdx ${rss.toFixed(0)} MB = ${(rss / raw).toFixed(2)}x the raw volume (${raw.toFixed(0)} MB; goal <= 2.5x); python ${median(py.map((x) => x.peak_rss_mb ?? 0)).toFixed(0)} MB`);
const e2e = jsT('total') / pyT('total_with_fg_stats');
const ok = jsT('load') < pyT('load') && jsT('threshold_label') <= pyT('threshold') + pyT('label') && e2e <= 0.5 && rss / raw <= 2.5;
console.log(ok ? 'CT goals met' : 'CT GOALS NOT MET');
