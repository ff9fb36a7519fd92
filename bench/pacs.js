// npm run bench (archive part): `calcdx ct` on a generated 512x512x300 CT phantom series read from
// its files and retrieved from a real archive (Debian's Orthanc + DICOMweb plugin, started on a free
// loopback port), ROI = the phantom's mass, median of CALCDX_BENCH_RUNS runs of the real CLI; then
// one `--store` run (SEG of 300 frames + SR, STOW-RS). Skipped when Orthanc is not installed.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { orthancMissing, startOrthanc } from '../dist/test-support/orthanc.js';
import { writePhantomStudy, PHANTOM_STUDY_UID } from '../dist/test-support/dicom-series.js';

const here = dirname(fileURLToPath(import.meta.url));
const BIN = join(here, '..', 'bin', 'calcdx.js');
const SLICES = Number(process.env.CALCDX_BENCH_SLICES ?? 300);
const RUNS = Number(process.env.CALCDX_BENCH_RUNS ?? 3);

const missing = orthancMissing();
if (missing.length) {
  console.log(`archive benchmark skipped: needs ${missing.join('; ')}`);
  process.exit(0);
}
const dir = mkdtempSync(join(tmpdir(), 'calcdx-bench-pacs-'));
const orthanc = await startOrthanc();
try {
  console.log(`\nwriting a 512x512x${SLICES} phantom series ...`);
  const { truth, instances } = writePhantomStudy(join(dir, 'series'), { preset: 'reference', slices: SLICES });
  let t0 = performance.now();
  for (const b of instances) await orthanc.upload(b);
  const uploadS = (performance.now() - t0) / 1000;
  const roi = `sphere-ijk-mm:${truth.roi.center.join(',')},${truth.roi.radius}`;
  const env = { ...process.env, CALCDX_DICOMWEB_USER: orthanc.user, CALCDX_DICOMWEB_PASSWORD: orthanc.password };
  const run = (args) => {
    const t = performance.now();
    const out = execFileSync(process.execPath, [BIN, 'ct', ...args, '--roi', roi, '--json'], { env, encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
    return { s: (performance.now() - t) / 1000, json: JSON.parse(out) };
  };
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const files = [], archive = [];
  let same = true, last;
  for (let r = 0; r < RUNS; r++) {
    const f = run([join(dir, 'series')]);
    const a = run(['--dicomweb', orthanc.dicomweb, '--study', PHANTOM_STUDY_UID]);
    files.push(f.s);
    archive.push(a.s);
    same &&= JSON.stringify(f.json) === JSON.stringify(a.json);
    last = f.json;
  }
  t0 = performance.now();
  const stored = run(['--dicomweb', orthanc.dicomweb, '--study', PHANTOM_STUDY_UID, '--store']);
  const storeS = (performance.now() - t0) / 1000;
  const mb = instances.reduce((s, b) => s + b.length, 0) / 1048576;
  console.log(`calcdx ct, 512x512x${SLICES} series (${mb.toFixed(0)} MB in ${instances.length} instances), ROI = the phantom's mass, whole CLI run, median of ${RUNS} (seconds)`);
  console.log(`  from files                      ${median(files).toFixed(2)}`);
  console.log(`  from Orthanc (QIDO + WADO-RS)   ${median(archive).toFixed(2)}   (+${(median(archive) - median(files)).toFixed(2)} s, ${(mb / (median(archive) - median(files))).toFixed(0)} MB/s for the retrieval over loopback)`);
  console.log(`  from Orthanc with --store       ${storeS.toFixed(2)}   (SEG of ${SLICES} frames + SR, one STOW-RS request)`);
  console.log(`  (upload of the series to Orthanc through its REST API, not part of calcdx: ${uploadS.toFixed(1)} s)`);
  console.log(same && JSON.stringify(stored.json) === JSON.stringify(last) ? 'same measurement from files and from the archive' : 'MEASUREMENTS DIFFER between files and archive');
} finally {
  await orthanc.stop();
  rmSync(dir, { recursive: true, force: true });
}
