/**
 * The input families of the fuzz harness and how one mutant of each is made from the project's
 * fixtures: DICOM (every transfer syntax of test/fixtures/dicom, single files and series), NIfTI
 * (.nii and .nii.gz of test/fixtures/nifti), case YAML/JSON (examples/cases, the full-case
 * fixture, ../shared/cases), multipart/zip uploads to /api/ct and /api/volume, and FHIR R4 Bundles
 * (test/fixtures/fhir) to `calcdx fhir import`, /api/fhir/case and /fhir/$assess.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { bytesMutation, caseMutation, dicomMutation, makeZip, mutantSeed, niftiGzMutation, niftiMutation, Rng, type ZipEntry } from './mutate.js';

export const FAMILIES = ['case', 'dicom', 'nifti', 'upload', 'fhir'] as const;
export type Family = (typeof FAMILIES)[number];

export interface MutantFile { name: string; data: Buffer }

/** One mutant: the files it consists of and how it is to be run. */
export interface Mutant {
  family: Family;
  index: number;
  what: string;
  files: MutantFile[];
  /** names the mutant itself supplies (zip entry names): an answer may quote them, even when they look like absolute paths */
  supplied?: string[];
  /** case: the text's media type; ct: the CLI `ct` inputs (file names or one folder "series") and its `--roi` (default whole: a region makes the DICOM reader read only the ROI's box); upload: the route (files[0] is the multipart body) */
  run:
    | { kind: 'case'; json: boolean }
    | { kind: 'ct'; inputs: string[]; roi?: string }
    | { kind: 'upload'; route: '/api/ct' | '/api/volume' }
    | { kind: 'fhir' };
}

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).sort().flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

export interface Fixtures {
  root: string;
  cases: Array<{ name: string; text: string; json: boolean }>;
  dicomSingles: Array<{ name: string; data: Buffer }>;
  dicomSeries: Array<{ name: string; files: MutantFile[] }>;
  nifti: Array<{ name: string; data: Buffer; gz: boolean }>;
  fhir: Array<{ name: string; text: string }>;
}

/** The seeds of the mutants, read once from the repository (root) and ../shared/cases when present. */
export function loadFixtures(root: string): Fixtures {
  const caseFiles = [...walk(join(root, 'examples', 'cases')), join(root, 'test', 'fixtures', 'full-case.yaml'), ...walk(join(root, '..', 'shared', 'cases')), ...walk(join(root, '..', '..', 'shared', 'cases'))]
    .filter((f) => /\.(ya?ml|json)$/.test(f) && existsSync(f));
  const cases: Fixtures['cases'] = [];
  for (const f of caseFiles) {
    const text = readFileSync(f, 'utf8');
    cases.push({ name: basename(f), text, json: f.endsWith('.json') });
    // the same case as JSON: the JSON path of the parser gets its share
    try { cases.push({ name: basename(f).replace(/\.ya?ml$/, '.json'), text: JSON.stringify(parseYaml(text)), json: true }); } catch { /* a seed that is not YAML stays a YAML seed */ }
  }
  const dicomRoot = join(root, 'test', 'fixtures', 'dicom');
  const dicomSingles = walk(join(dicomRoot, 'single')).concat(walk(join(dicomRoot, 'bad'))).map((p) => ({ name: relative(dicomRoot, p), data: readFileSync(p) }));
  const seriesRoot = join(dicomRoot, 'series');
  const dicomSeries = existsSync(seriesRoot)
    ? readdirSync(seriesRoot).sort().map((d) => ({ name: `series/${d}`, files: walk(join(seriesRoot, d)).map((p) => ({ name: basename(p), data: readFileSync(p) })) }))
    : [];
  const nifti = walk(join(root, 'test', 'fixtures', 'nifti')).filter((p) => /\.nii(\.gz)?$/.test(p)).map((p) => ({ name: basename(p), data: readFileSync(p), gz: p.endsWith('.gz') }));
  const fhir = walk(join(root, 'test', 'fixtures', 'fhir')).filter((p) => p.endsWith('.json')).map((p) => ({ name: basename(p), text: readFileSync(p, 'utf8') }));
  return { root, cases, dicomSingles, dicomSeries, nifti, fhir };
}

export const BOUNDARY = 'calcdxfuzzboundary7';

/** A multipart/form-data body (boundary BOUNDARY): the fields, then the files. */
export function multipartBody(fields: Record<string, string>, files: MutantFile[]): Buffer {
  const chunks: Buffer[] = [];
  for (const [k, v] of Object.entries(fields)) chunks.push(Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  for (const f of files) {
    chunks.push(Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="${f.name === 'mask.nii.gz' ? 'mask' : 'file'}"; filename="${f.name}"\r\nContent-Type: application/octet-stream\r\n\r\n`), f.data, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(chunks);
}

const upload = (family: Family, index: number, what: string, route: '/api/ct' | '/api/volume', fields: Record<string, string>, files: MutantFile[]): Mutant =>
  ({ family, index, what, files: [{ name: `${route === '/api/ct' ? 'ct' : 'volume'}.multipart`, data: multipartBody(fields, files) }], run: { kind: 'upload', route } });

const ROIS = ['whole', 'box:0,0,0,3,3,0', 'sphere:2,2,0,2', 'box-mm:-1e9,-1e9,-1e9,1e9,1e9,1e9', 'sphere-mm:0,0,0,1e308', 'box:0,0,0,-1,-1,-1', 'box:1,2', 'mask', '', 'sphere:NaN,0,0,1', 'x'.repeat(5000)];

/** The `--roi` of a CLI `ct` run of a DICOM mutant: half whole; otherwise an ROI, so the reader's region path (only the ROI's slices and rows read and converted) is fuzzed too. */
const cliRoi = (rng: Rng): string => (rng.chance(0.5) ? 'whole' : rng.pick(ROIS));

function mutateDicomFile(rng: Rng, data: Buffer): { data: Buffer; what: string } {
  const m = dicomMutation(rng, data);
  if (!rng.chance(0.15)) return m;
  const m2 = dicomMutation(rng, m.data);
  return { data: m2.data, what: `${m.what}; ${m2.what}` };
}

/** Mutant `index` of `family` for run `seed`: the same (seed, family, index) always gives the same mutant. */
export function makeMutant(fx: Fixtures, family: Family, seed: number, index: number): Mutant {
  const rng = new Rng(mutantSeed(seed, family, index));
  if (family === 'case') {
    const c = rng.pick(fx.cases);
    const m = caseMutation(rng, c.text, c.json);
    const json = m.data.toString('utf8', 0, Math.min(64, m.data.length)).trimStart().startsWith('{') || m.data.toString('utf8', 0, 64).trimStart().startsWith('[');
    return { family, index, what: `${c.name}: ${m.what}`, files: [{ name: json ? 'mutant.json' : 'mutant.yaml', data: m.data }], run: { kind: 'case', json } };
  }
  if (family === 'fhir') {
    const b = rng.pick(fx.fhir);
    const m = caseMutation(rng, b.text, true);
    return { family, index, what: `${b.name}: ${m.what}`, files: [{ name: 'mutant.json', data: m.data }], run: { kind: 'fhir' } };
  }
  if (family === 'dicom') {
    if (rng.chance(0.6) || !fx.dicomSeries.length) {
      const f = rng.pick(fx.dicomSingles);
      const m = mutateDicomFile(rng, f.data);
      return { family, index, what: `${f.name}: ${m.what}`, files: [{ name: 'mutant.dcm', data: m.data }], run: { kind: 'ct', inputs: ['mutant.dcm'], roi: cliRoi(rng) } };
    }
    const s = rng.pick(fx.dicomSeries);
    const k = rng.int(s.files.length);
    const m = mutateDicomFile(rng, s.files[k]!.data);
    const files = s.files.map((f, i) => ({ name: `series/${f.name}`, data: i === k ? m.data : f.data }));
    return { family, index, what: `${s.name}/${s.files[k]!.name}: ${m.what}`, files, run: { kind: 'ct', inputs: ['series'], roi: cliRoi(rng) } };
  }
  if (family === 'nifti') {
    const f = rng.pick(fx.nifti);
    const m = f.gz ? niftiGzMutation(rng, f.data) : niftiMutation(rng, f.data);
    const name = f.gz ? 'mutant.nii.gz' : 'mutant.nii';
    return { family, index, what: `${f.name}: ${m.what}`, files: [{ name, data: m.data }], run: { kind: 'ct', inputs: [name] } };
  }
  // uploads: a mutated NIfTI, DICOM files, a zip of them (entries and sizes mutated), or the multipart body itself
  const route = rng.chance(0.6) ? '/api/ct' as const : '/api/volume' as const;
  const fields: Record<string, string> = route === '/api/ct' ? { roi: rng.chance(0.7) ? 'whole' : rng.pick(ROIS) } : {};
  if (rng.chance(0.15)) fields[rng.pick(['threshold', 'connectivity', 'minVoxels', 'series', 'unknown'])] = rng.pick(['NaN', '-1', '1e400', '6', '', 'x'.repeat(100)]);
  const kind = rng.int(5);
  if (kind === 0) {
    const f = rng.pick(fx.nifti);
    const m = f.gz ? niftiGzMutation(rng, f.data) : niftiMutation(rng, f.data);
    return upload(family, index, `${route} ${f.name}: ${m.what}`, route, fields, [{ name: f.gz ? 'volume.nii.gz' : 'volume.nii', data: m.data }]);
  }
  const s = fx.dicomSeries.length ? rng.pick(fx.dicomSeries) : { name: 'single', files: [{ name: 'a.dcm', data: rng.pick(fx.dicomSingles).data }] };
  const k = rng.int(s.files.length);
  const m = mutateDicomFile(rng, s.files[k]!.data);
  const files = s.files.map((f, i) => ({ name: f.name, data: i === k ? m.data : f.data }));
  if (kind === 1) return upload(family, index, `${route} ${s.name} as files, ${s.files[k]!.name}: ${m.what}`, route, fields, files);
  if (kind === 2 || kind === 3) {
    const entries: ZipEntry[] = files.map((f) => ({ name: `dir/${f.name}`, data: f.data, deflate: rng.chance(0.5) }));
    const zipWhat: string[] = [`${s.files[k]!.name}: ${m.what}`];
    const z = rng.int(8);
    if (z === 0) { entries[0]!.name = rng.pick(['../../evil', '/etc/evil', 'C:\\evil', 'a/../../b', '', 'x'.repeat(300)]); zipWhat.push(`entry named "${entries[0]!.name.slice(0, 20)}"`); }
    if (z === 1) { entries[0]!.declaredSize = rng.pick([0, 1, 0xffffffff, 0x7fffffff]); zipWhat.push(`declared size ${entries[0]!.declaredSize}`); }
    if (z === 2) { entries.push({ name: 'dir/bomb', data: Buffer.alloc((1 + rng.int(32)) * 1024 * 1024), deflate: true }); zipWhat.push('a deflated entry of zeros'); }
    if (z === 3) { const n = rng.pick([100, 5001]); for (let i = 0; i < n; i++) entries.push({ name: `dir/tiny${i}`, data: Buffer.from([i & 255]) }); zipWhat.push(`${n} tiny entries`); }
    if (z === 4) { entries.push({ name: 'dir/inner.zip', data: makeZip(entries.slice(0, 2)) }); zipWhat.push('a zip inside'); }
    let zip = makeZip(entries);
    if (kind === 3) { const b = bytesMutation(rng, zip); zip = b.data; zipWhat.push(`zip bytes: ${b.what}`); }
    return { ...upload(family, index, `${route} ${s.name} as zip: ${zipWhat.join('; ')}`, route, fields, [{ name: 'series.zip', data: zip }]), supplied: entries.map((e) => e.name) };
  }
  const body = bytesMutation(rng, multipartBody(fields, files));
  return { family, index, what: `${route} ${s.name}: multipart body: ${body.what}`, files: [{ name: `${route === '/api/ct' ? 'ct' : 'volume'}.multipart`, data: body.data }], run: { kind: 'upload', route } };
}

/** A stored regression fixture (test/fixtures/fuzz/<family>/<name>) as a mutant: the name says how it is run. */
export function fixtureMutant(family: Family, name: string, data: Buffer): Mutant {
  const what = `fixture ${family}/${name}`;
  if (family === 'case') {
    const json = name.endsWith('.json');
    return { family, index: 0, what, files: [{ name: json ? 'mutant.json' : 'mutant.yaml', data }], run: { kind: 'case', json } };
  }
  if (family === 'fhir') return { family, index: 0, what, files: [{ name: 'mutant.json', data }], run: { kind: 'fhir' } };
  if (family === 'upload') {
    const route = name.startsWith('volume') ? '/api/volume' as const : '/api/ct' as const;
    return { family, index: 0, what, files: [{ name: 'body.multipart', data }], run: { kind: 'upload', route } };
  }
  const file = family === 'nifti' ? (name.endsWith('.gz') ? 'mutant.nii.gz' : 'mutant.nii') : 'mutant.dcm';
  return { family, index: 0, what, files: [{ name: file, data }], run: { kind: 'ct', inputs: [file] } };
}
