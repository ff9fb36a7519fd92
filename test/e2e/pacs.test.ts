/**
 * calcdx against a real image archive: Debian's Orthanc with its DICOMweb plugin, started here on
 * a free loopback port (src/test-support/orthanc.ts). The DICOM fixtures and a generated phantom
 * series are uploaded through Orthanc's own REST API; then, through the real CLI (bin/calcdx.js over
 * dist/): search, retrieve, measure (the same JSON as from the files), store SEG + SR, retrieve
 * them again and check them with dcmtk (dcmdump, dsrdump; dciodvfy when installed) and pydicom
 * (scripts/reference/check-seg.py: the segment equals the label mask voxel for voxel); and the
 * faults an archive gives: unreachable, 404, 401, a series that is not CT, a study with several
 * CT series. Skipped with a message when Orthanc, dcmtk or pydicom is missing — except in CI
 * (CI=true), where that is a failure.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../src/test-support/cases.js';
import { archiveTools, freePort, PYTHON, startPhantomArchive, type Orthanc, type PhantomArchive, type PhantomStudy } from '../../src/test-support/orthanc.js';
import { toolGate } from '../../src/test-support/tool-gate.js';
import { PHANTOM_SERIES_UID, PHANTOM_STUDY_UID } from '../../src/test-support/dicom-series.js';
import { analyseCalcification } from '../../src/imaging/pattern.js';
import { labelVolume } from '../../src/imaging/label.js';
import { readDicom } from '../../src/imaging/read-dicom.js';
import { archiveFromEnv, retrieveSeries, searchSeries } from '../../src/pacs/dicomweb.js';

const BIN = join(ROOT, 'bin', 'calcdx.js');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'dicom', 'series');
const FIXTURE_STUDY = '1.2.826.0.1.3680043.10.1337.2';
const gate = toolGate('test/e2e/pacs.test.ts', archiveTools());

let archive: PhantomArchive;
let orthanc: Orthanc;
let dir: string;
let phantom: PhantomStudy;
let env: NodeJS.ProcessEnv;

/** Runs the CLI asynchronously (the archive runs in this process's children, so no spawnSync). */
function cli(args: string[], extraEnv: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<{ code: number | null; out: string; err: string; ms: number }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...env, ...extraEnv } });
    let out = '', err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, out, err, ms: performance.now() - t0 }); });
  });
}

describe.skipIf(gate.skip)('calcdx and a DICOMweb archive (Orthanc)', () => {
  beforeAll(async () => {
    gate.assert();
    archive = await startPhantomArchive('calcdx-pacs-');
    ({ orthanc, dir, phantom } = archive);
    env = { ...process.env, LANG: 'C', CALCDX_LANG: '', CALCDX_DICOMWEB_USER: orthanc.user, CALCDX_DICOMWEB_PASSWORD: orthanc.password, CALCDX_DICOMWEB_TOKEN: '' };
    delete env.CALCDX_DICOMWEB_TOKEN;
    for (const series of readdirSync(FIXTURES)) {
      if (series === 'mixed') continue; // copies of axial and float
      for (const f of readdirSync(join(FIXTURES, series))) await orthanc.upload(readFileSync(join(FIXTURES, series, f)));
    }
  }, 120_000);
  afterAll(async () => {
    await archive?.stop();
  });

  it('searches studies by patient ID, accession number and date, and lists a study\'s series', async () => {
    const all = await cli(['pacs', 'studies', '--url', orthanc.dicomweb, '--json']);
    expect(all.code, all.err).toBe(0);
    const uids = JSON.parse(all.out).map((s: { studyInstanceUid: string }) => s.studyInstanceUid);
    expect(uids).toEqual(expect.arrayContaining([FIXTURE_STUDY, PHANTOM_STUDY_UID]));
    for (const filter of [['--patient-id', 'CALCDX-PHANTOM'], ['--accession', 'ACC-PHANTOM-1'], ['--date', '2026-12-01'], ['--date', '20261130-20261202']]) {
      const r = await cli(['pacs', 'studies', '--url', orthanc.dicomweb, ...filter, '--json']);
      expect(r.code, r.err).toBe(0);
      const found = JSON.parse(r.out);
      expect(found.map((s: { studyInstanceUid: string }) => s.studyInstanceUid)).toEqual([PHANTOM_STUDY_UID]);
      expect(found[0]).toMatchObject({ patientId: 'CALCDX-PHANTOM', accession: 'ACC-PHANTOM-1', date: '20261201', modalities: ['CT'], instances: 64 });
    }
    const none = await cli(['pacs', 'studies', '--url', orthanc.dicomweb, '--patient-id', 'NOBODY']);
    expect(none.out).toMatch(/no study found/);
    const text = await cli(['pacs', 'studies', '--url', orthanc.dicomweb, '--patient-id', 'CALCDX-PHANTOM']);
    expect(text.out).toMatch(/20261201\s+ACC-PHANTOM-1\s+CALCDX-PHANTOM\s+CT\s+1\s+64/);
    const series = await cli(['pacs', 'series', '--url', orthanc.dicomweb, '--study', FIXTURE_STUDY, '--json']);
    expect(series.code, series.err).toBe(0);
    const list = JSON.parse(series.out);
    expect(list).toEqual(expect.arrayContaining([
      expect.objectContaining({ seriesInstanceUid: '1.2.826.0.1.3680043.10.1337.1.1', modality: 'CT', instances: 5, description: 'axial' }),
      expect.objectContaining({ seriesInstanceUid: '1.2.826.0.1.3680043.10.1337.1.7', modality: 'MR' }),
    ]));
    const bad = await cli(['pacs', 'studies', '--url', orthanc.dicomweb, '--date', '2026-13-01']);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/date "2026-13-01" is not a date or range/);
  }, 240_000);

  it('measures every CT series of the archive to the same JSON as from its files', async () => {
    const cases: [string, string, string][] = [];
    for (const name of readdirSync(FIXTURES)) {
      if (name === 'mixed' || name === 'mr') continue;
      const files = readdirSync(join(FIXTURES, name)).map((f) => join(FIXTURES, name, f));
      const out = spawnSync('dcmdump', ['+P', '0020,000d', '+P', '0020,000e', files[0]!], { encoding: 'utf8' }).stdout;
      const [study, series] = [...out.matchAll(/\[([\d.]+)\]/g)].map((m) => m[1]!);
      cases.push([join(FIXTURES, name), study!, series!]);
    }
    expect(cases.length).toBeGreaterThanOrEqual(9);
    for (const [folder, study, series] of cases) {
      const [fromFiles, fromArchive] = await Promise.all([
        cli(['ct', folder, '--roi', 'whole', '--json']),
        cli(['ct', '--dicomweb', orthanc.dicomweb, '--study', study, '--series', series, '--roi', 'whole', '--json']),
      ]);
      expect(fromArchive.code, `${folder}: ${fromArchive.err}`).toBe(0);
      expect(JSON.parse(fromArchive.out), folder).toEqual(JSON.parse(fromFiles.out));
    }
  }, 240_000);

  it('measures the phantom from the archive as from its files, stores SEG + SR, and both read back right in dcmtk and pydicom', async () => {
    const s = phantom.truth.roi;
    const roi = `sphere-ijk-mm:${s.center.join(',')},${s.radius}`;
    const fromFiles = await cli(['ct', join(dir, 'phantom'), '--roi', roi, '--json']);
    expect(fromFiles.code, fromFiles.err).toBe(0);
    // a study with a single CT series needs no --series
    const r = await cli(['ct', '--dicomweb', orthanc.dicomweb, '--study', PHANTOM_STUDY_UID, '--roi', roi, '--json', '--store']);
    expect(r.code, r.err).toBe(0);
    const measured = JSON.parse(r.out);
    expect(measured).toEqual(JSON.parse(fromFiles.out));
    expect(measured.lesion.calcifiedVoxels).toBe(phantom.truth.calcifiedVoxels);
    const stored = /SEG (\S+), SR (\S+)/.exec(r.err);
    expect(stored, r.err).not.toBeNull();
    const [segUid, srUid] = [stored![1]!, stored![2]!];

    // retrieve them again (QIDO finds them in the study, WADO-RS returns them)
    const archive = archiveFromEnv(orthanc.dicomweb, env);
    const series = await searchSeries(archive, PHANTOM_STUDY_UID);
    const seg = series.find((x) => x.modality === 'SEG');
    const sr = series.find((x) => x.modality === 'SR');
    expect(seg && sr, JSON.stringify(series)).toBeTruthy();
    const [segBytes] = await retrieveSeries(archive, PHANTOM_STUDY_UID, seg!.seriesInstanceUid);
    const [srBytes] = await retrieveSeries(archive, PHANTOM_STUDY_UID, sr!.seriesInstanceUid);
    const segFile = join(dir, 'seg.dcm'), srFile = join(dir, 'sr.dcm');
    writeFileSync(segFile, segBytes!);
    writeFileSync(srFile, srBytes!);

    // dcmtk: both parse; the SR tree is valid and says what was measured
    for (const f of [segFile, srFile]) {
      const d = spawnSync('dcmdump', ['-q', '+E', f], { encoding: 'utf8', maxBuffer: 64 << 20 });
      expect(d.status, d.stderr).toBe(0);
      expect(d.stderr).not.toMatch(/^E:/m);
    }
    expect(spawnSync('dcmdump', ['-q', segFile], { encoding: 'utf8', maxBuffer: 64 << 20 }).stdout).toContain(segUid);
    expect(spawnSync('dcmdump', ['-q', srFile], { encoding: 'utf8', maxBuffer: 64 << 20 }).stdout).toContain(srUid);
    const tree = spawnSync('dsrdump', [srFile], { encoding: 'utf8', maxBuffer: 64 << 20 });
    expect(tree.status, tree.stderr).toBe(0);
    expect(tree.stderr).not.toMatch(/^[EF]:/m);
    expect(tree.stdout).toContain('Comprehensive SR Document');
    expect(tree.stdout).toContain('<CONTAINER:(,,"Imaging Measurement Report")=SEPARATE>');
    expect(tree.stdout).toContain('<contains CODE:(,,"Finding")=(18115005,SCT,"Pathologic calcification")>');
    expect(tree.stdout).toContain(`<contains NUM:(,,"Number of calcifications")="${measured.lesion.componentCount}" (1,UCUM,"no units")>`);
    expect(tree.stdout).toMatch(new RegExp(`<contains NUM:\\(,,"Volume"\\)="${measured.lesion.calcifiedVolumeMm3.toFixed(2).replace(/\.?0+$/, '')}[0-9]*" \\(mm3,UCUM,"cubic millimeter"\\)>`));
    expect(tree.stdout).toContain(`="${measured.lesion.maxHU}" ([hnsf'U],UCUM,"Hounsfield unit")>`);
    expect(tree.stdout).toContain(`<contains IMAGE:(,,"Referenced Segment")=(SG image,,1)>`);
    expect(tree.stdout).toContain(`<contains UIDREF:(,,"Source series for segmentation")="${PHANTOM_SERIES_UID}">`);
    // dicom3tools' IOD checker, when installed: no errors
    if (spawnSync('sh', ['-c', 'command -v dciodvfy']).status === 0) {
      for (const f of [segFile, srFile]) {
        const v = spawnSync('dciodvfy', [f], { encoding: 'utf8', maxBuffer: 64 << 20 });
        expect(`${v.stdout}${v.stderr}`, f).not.toMatch(/^Error/m);
      }
    }

    // pydicom: the segment is the label mask, voxel for voxel, each frame at its source slice's position
    const volume = await readDicom(join(dir, 'phantom'));
    const labels = labelVolume(analyseCalcification(volume, phantom.truth.roi).components);
    const maskFile = join(dir, 'mask.raw');
    writeFileSync(maskFile, Uint8Array.from(labels, (x) => (x ? 1 : 0)));
    const py = spawnSync(PYTHON, [join(ROOT, 'scripts', 'reference', 'check-seg.py'), segFile, maskFile, ...volume.dims.map(String), join(dir, 'phantom')], { encoding: 'utf8' });
    expect(py.status, py.stderr).toBe(0);
    const check = JSON.parse(py.stdout);
    expect(check).toEqual({
      frames: volume.dims[2],
      segVoxels: phantom.truth.calcifiedVoxels,
      maskVoxels: phantom.truth.calcifiedVoxels,
      mismatches: 0,
      geometryMismatches: [],
      segmentLabel: 'calcification',
      category: '49755003',
      type: '18115005',
      referencedSeries: PHANTOM_SERIES_UID,
      patientName: 'Phantom^Test=张^三',
    });
  }, 240_000);

  it('fails clearly, naming the archive and the study or series: unreachable, 404, 401, not CT, several CT series', async () => {
    const closed = await freePort();
    const unreachable = await cli(['ct', '--dicomweb', `http://127.0.0.1:${closed}/dicom-web`, '--study', PHANTOM_STUDY_UID, '--roi', 'whole']);
    expect(unreachable.code).toBe(1);
    expect(unreachable.err).toContain(`http://127.0.0.1:${closed}/dicom-web (study ${PHANTOM_STUDY_UID})`);
    expect(unreachable.err).toMatch(/cannot be reached: .*connection refused/);

    const unknown = await cli(['ct', '--dicomweb', orthanc.dicomweb, '--study', '1.2.3.4.5.6', '--roi', 'whole']);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/\(study 1\.2\.3\.4\.5\.6\): not found in the archive/);
    const noSeries = await cli(['ct', '--dicomweb', orthanc.dicomweb, '--study', PHANTOM_STUDY_UID, '--series', '1.2.3.4', '--roi', 'whole']);
    expect(noSeries.code).toBe(1);
    expect(noSeries.err).toContain(`(study ${PHANTOM_STUDY_UID}, series 1.2.3.4): not found in the archive: the study has no such series; its series: `);
    expect(noSeries.err).toContain(`${PHANTOM_SERIES_UID} (CT, "calcdx phantom", series number 3, 64 instance(s))`);

    const wrong = await cli(['pacs', 'studies', '--url', orthanc.dicomweb], { CALCDX_DICOMWEB_PASSWORD: 'wrong' });
    expect(wrong.code).toBe(1);
    expect(wrong.err).toMatch(/the archive refused the credentials: 401 Unauthorized/);
    expect(wrong.err).not.toContain('wrong');
    const none = await cli(['pacs', 'studies', '--url', orthanc.dicomweb], { CALCDX_DICOMWEB_USER: '', CALCDX_DICOMWEB_PASSWORD: '' });
    expect(none.code).toBe(1);
    expect(none.err).toMatch(/401 Unauthorized: the archive wants credentials/);

    const mr = await cli(['ct', '--dicomweb', orthanc.dicomweb, '--study', FIXTURE_STUDY, '--series', '1.2.826.0.1.3680043.10.1337.1.7', '--roi', 'whole']);
    expect(mr.code).toBe(1);
    expect(mr.err).toMatch(/series 1\.2\.826\.0\.1\.3680043\.10\.1337\.1\.7\): not a CT series: the series is MR/);
    const several = await cli(['ct', '--dicomweb', orthanc.dicomweb, '--study', FIXTURE_STUDY, '--roi', 'whole']);
    expect(several.code).toBe(1);
    expect(several.err).toMatch(/several CT series; choose one with --series: the study has \d+ CT series/);
    expect(several.err).toContain('1.2.826.0.1.3680043.10.1337.1.1 (CT, "axial"');

    // the SEG of a multi-frame source is refused before anything is stored
    const enhanced = await cli(['ct', '--dicomweb', orthanc.dicomweb, '--study', FIXTURE_STUDY, '--series', '1.2.826.0.1.3680043.10.1337.4', '--roi', 'whole', '--store']);
    expect(enhanced.code).toBe(1);
    expect(enhanced.err).toMatch(/the results cannot be written back: the SEG cannot reference the source: .*multi-frame/);
    const after = await searchSeries(archiveFromEnv(orthanc.dicomweb, env), FIXTURE_STUDY);
    expect(after.filter((x) => x.modality === 'SEG' || x.modality === 'SR')).toEqual([]);

    for (const r of [unreachable, unknown, wrong, mr, several, enhanced]) {
      expect(r.err).not.toMatch(/\n\s+at /); // no stack trace
      expect(r.ms).toBeLessThan(20_000);
    }
  }, 240_000);

  it('refuses usage errors before contacting anything', async () => {
    const both = await cli(['ct', join(dir, 'phantom'), '--dicomweb', orthanc.dicomweb, '--study', PHANTOM_STUDY_UID, '--roi', 'whole']);
    expect(both.code).toBe(2);
    const noStudy = await cli(['ct', '--dicomweb', orthanc.dicomweb, '--roi', 'whole']);
    expect(noStudy.code).toBe(2);
    expect(noStudy.err).toMatch(/--dicomweb needs --study UID/);
    const store = await cli(['ct', join(dir, 'phantom'), '--roi', 'whole', '--store']);
    expect(store.code).toBe(2);
    expect(store.err).toMatch(/need --dicomweb/);
    const creds = await cli(['pacs', 'studies', '--url', `http://user:pw@127.0.0.1:1/dicom-web`]);
    expect(creds.code).toBe(1);
    expect(creds.err).toMatch(/credentials in the URL are not accepted/);
    expect(creds.err).not.toContain('pw@');
  });
});
