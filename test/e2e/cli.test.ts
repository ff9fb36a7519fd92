/**
 * End-to-end through the real CLI (bin/calcdx.js over dist/), as a user runs it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../../src/test-support/cases.js';
import { hostileCases, manyIssuesYaml } from '../../src/test-support/hostile-cases.js';

const BIN = join(ROOT, 'bin', 'calcdx.js');
const EX = join(ROOT, 'examples', 'cases');
let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'calcdx-cli-')); });
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

function cli(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8', env: { ...process.env, LANG: 'C', CALCDX_LANG: '' }, timeout: 30_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('calcdx --version', () => {
  it('prints the package version, the same from the fast path (alone) and from the program (with other options)', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const args of [['--version'], ['-V'], ['--lang', 'en', '--version']]) {
      const r = cli(args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.out).toBe(`${pkg.version}\n`);
    }
  });
});

describe('calcdx assess', () => {
  it('prints the JSON contract', () => {
    const r = cli(['assess', join(EX, 'synovial-sarcoma-knee.yaml'), '--format', 'json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.differential[0]).toMatchObject({ id: 'synovial_sarcoma', group: 'malignant' });
    expect(typeof j.differential[0].probability).toBe('number');
    expect(Array.isArray(j.differential[0].evidence)).toBe(true);
    expect(j.malignancy).toMatchObject({ urgentReferral: true });
    expect(typeof j.malignancy.probability).toBe('number');
    for (const f of j.redFlags) expect(Object.keys(f)).toEqual(expect.arrayContaining(['id', 'text']));
    for (const q of j.nextQuestions) { expect(typeof q.finding).toBe('string'); expect(typeof q.expectedGain).toBe('number'); }
    for (const m of j.mechanism) { expect(typeof m.id).toBe('string'); expect(typeof m.probability).toBe('number'); }
    const probs = j.differential.map((d: { probability: number }) => d.probability);
    expect([...probs].sort((a: number, b: number) => b - a)).toEqual(probs);
  });

  it('reads standard input with "-" and gives the same answer as the file', () => {
    const file = join(EX, 'myositis-ossificans-thigh.yaml');
    const a = cli(['assess', file, '--format', 'json']);
    const b = cli(['assess', '-', '--format', 'json'], readFileSync(file, 'utf8'));
    expect(b.code).toBe(0);
    expect(JSON.parse(b.out).differential).toEqual(JSON.parse(a.out).differential);
  });

  it('renders text, Markdown and HTML in English and Chinese, for clinicians and patients', () => {
    const f = join(EX, 'tumoral-calcinosis-hip.yaml');
    const text = cli(['assess', f, '--lang', 'en']);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/Differential diagnosis/);
    expect(text.out).toMatch(/Disclaimer/);
    const md = cli(['assess', f, '--format', 'md', '--lang', 'zh']);
    expect(md.out).toMatch(/^# calcdx 评估报告/m);
    expect(md.out).toMatch(/## 鉴别诊断/);
    expect(md.out).toMatch(/免责声明/);
    const html = cli(['assess', f, '--format', 'html', '--lang', 'en']);
    expect(html.out).toMatch(/^<!DOCTYPE html>/);
    expect(html.out).toMatch(/<svg class="bars"/);
    expect(html.out).not.toMatch(/<script|<link |src="http/);
    const patient = cli(['assess', f, '--audience', 'patient']);
    expect(patient.out).toMatch(/关于您的检查结果/); // zh by default for patients
    expect(patient.out).toMatch(/关于本说明/); // the disclaimer written for patients
  });

  it('writes the report to a file with --out', () => {
    const out = join(dir, 'report.html');
    const r = cli(['assess', join(EX, 'calcific-tendinitis-shoulder.yaml'), '--format', 'html', '--out', out]);
    expect(r.code).toBe(0);
    expect(readFileSync(out, 'utf8')).toMatch(/<\/html>\s*$/);
  });
});

describe('bad input: clear error, non-zero exit, no stack trace', () => {
  const cases: Array<[string, string | Buffer, RegExp]> = [
    ['malformed.yaml', 'formatVersion: 1\npatient: { age: 4\n', /not valid YAML/],
    ['malformed.json', '{"formatVersion": 1,,}', /not valid JSON/],
    ['types.yaml', 'formatVersion: 1\npatient: { age: "forty" }\n', /Age \(patient\.age\): found "forty" \(string\); allowed: a value of type number/],
    ['range.yaml', 'formatVersion: 1\nlesion: { sizeCm: 500 }\n', /Size \(lesion\.sizeCm\): found 500; allowed: a number ≤ 100/],
    ['unknown.yaml', 'formatVersion: 1\nlesion: { colour: red }\n', /lesion\.colour: unknown field/],
    ['empty.yaml', '', /the file is empty/],
    ['binary.yaml', Buffer.from([0, 1, 2, 3, 255, 254]), /not a text file/],
  ];
  for (const [name, content, msg] of cases) {
    it(name, () => {
      const p = join(dir, name);
      writeFileSync(p, content);
      const r = cli(['assess', p]);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(msg);
      expect(r.err).not.toMatch(/\n\s+at .*\(/);
      expect(r.out).toBe('');
    });
  }
  it('reports in Chinese with --lang zh', () => {
    const p = join(dir, 'zh.yaml');
    writeFileSync(p, 'formatVersion: 1\npatient: { sex: x }\n');
    const r = cli(['assess', p, '--lang', 'zh']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/性别（patient\.sex）：发现 "x"；允许：以下之一：male、female/);
  });
  it('rejects a 50 MB file by its size', () => {
    const p = join(dir, 'big.yaml');
    writeFileSync(p, Buffer.alloc(50 * 1024 * 1024, 0x20));
    const r = cli(['assess', p]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/larger than the limit/);
  });
  it('a missing file', () => {
    const r = cli(['assess', join(dir, 'missing.yaml')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/file not found/);
  });
  it('usage errors exit 2', () => {
    expect(cli(['assess']).code).toBe(2);
    expect(cli(['assess', join(EX, 'calcific-tendinitis-shoulder.yaml'), '--format', 'pdf']).code).toBe(2);
    expect(cli(['frobnicate']).code).toBe(2);
  });
  it('does not leave a half-written file when the output cannot be written', () => {
    const out = join(dir, 'no-such-dir', 'r.html');
    const r = cli(['assess', join(EX, 'calcific-tendinitis-shoulder.yaml'), '--out', out]);
    expect(r.code).toBe(1);
    expect(existsSync(out)).toBe(false);
  });
});

describe('calcdx validate, kb, followup, demo', () => {
  it('validate: ok and not ok', () => {
    expect(cli(['validate', join(EX, 'synovial-sarcoma-knee.yaml')])).toMatchObject({ code: 0 });
    const p = join(dir, 'v.yaml');
    writeFileSync(p, 'formatVersion: 1\nsymptoms: { growth: fast }\n');
    const r = cli(['validate', p]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/\(symptoms\.growth\): found "fast"; allowed: one of rapid, slow, stable, shrinking/);
  });
  it('kb list and show', () => {
    const l = cli(['kb', 'list', '--json']);
    expect(l.code).toBe(0);
    expect(JSON.parse(l.out).length).toBeGreaterThanOrEqual(23);
    const s = cli(['kb', 'show', 'myositis_ossificans', '--lang', 'zh']);
    expect(s.code).toBe(0);
    expect(s.out).toMatch(/骨化性肌炎/);
    const sj = JSON.parse(cli(['kb', 'show', 'myositis_ossificans', '--json']).out);
    expect(sj.id).toBe('myositis_ossificans');
    const u = cli(['kb', 'show', 'unicorn']);
    expect(u.code).toBe(1);
    expect(u.err).toMatch(/unknown entity "unicorn"/);
  });
  it('followup --ics writes a calendar dated from the surgery', () => {
    const out = join(dir, 'fu.ics');
    const r = cli(['followup', join(EX, 'synovial-sarcoma-knee.yaml'), '--ics', out]);
    expect(r.code).toBe(0);
    const ics = readFileSync(out, 'utf8');
    expect(ics).toMatch(/^BEGIN:VCALENDAR/);
    expect(ics).toMatch(/DTSTART;VALUE=DATE:20260602/);
    expect((ics.match(/BEGIN:VEVENT/g) ?? []).length).toBeGreaterThanOrEqual(8);
  });
  it('followup without a surgery date says so', () => {
    const r = cli(['followup', join(EX, 'calcific-tendinitis-shoulder.yaml'), '--ics', join(dir, 'x.ics')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/surgeryDate/);
    expect(readdirSync(dir).includes('x.ics')).toBe(false);
  });
  it('demo (npm start) assesses every bundled example', () => {
    const r = cli(['demo']);
    expect(r.code).toBe(0);
    expect((r.out.match(/Differential diagnosis/g) ?? []).length).toBe(readdirSync(EX).length);
  });
});

describe('calcdx eval', () => {
  it('measures the published cases and writes JSON and HTML', () => {
    const json = join(dir, 'eval.json');
    const html = join(dir, 'eval.html');
    const r = cli(['eval', join(ROOT, 'eval', 'cases'), '--json', json, '--html', html]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/top-1/);
    expect(r.out).toMatch(/malignant cases flagged/);
    const j = JSON.parse(readFileSync(json, 'utf8'));
    expect(j.metrics.n).toBeGreaterThanOrEqual(80);
    expect(j.metrics.brier).toBeLessThan(j.baseline.brier);
    const h = readFileSync(html, 'utf8');
    // calibration plot, confusion matrix and one ROC plot (all cases: no split given)
    expect((h.match(/<svg /g) ?? []).length).toBe(3);
    expect(h).toMatch(/calibration plot/);
    expect(h).toMatch(/confusion matrix/);
    expect(j.sets.map((x: { set: string }) => x.set)).toEqual(['all']);
    expect(j.sets[0].referral.map((x: { id: string }) => x.id)).toEqual(['calcdx', 'prior_only', 'uk_red_flags', 'nice_ng12', 'indeterminate_to_centre']);
  });
  it('with the recorded split reports all, development and holdout, each beside the guideline rules', () => {
    const json = join(dir, 'eval-split.json');
    const html = join(dir, 'eval-split.html');
    const r = cli(['eval', join(ROOT, 'eval', 'cases'), '--split', join(ROOT, 'eval', 'split.yaml'), '--json', json, '--html', html]);
    expect(r.code).toBe(0);
    for (const h of ['all cases: n=', 'development half: n=', 'holdout half: n=', 'UK red flags (any)', 'NICE NG12', 'ACR/ESSR indeterminate']) expect(r.out).toContain(h);
    const j = JSON.parse(readFileSync(json, 'utf8'));
    const [all, dev, hold] = j.sets;
    expect(dev.n + hold.n).toBe(all.n);
    expect((readFileSync(html, 'utf8').match(/aria-label="ROC curve/g) ?? []).length).toBe(3);
  });
  it('a split that names a file twice or a file not among the cases is refused', () => {
    const split = join(dir, 'bad-split.yaml');
    writeFileSync(split, 'seed: 1\nmethod: m\nrule: r\ndevelopment: [lipoma--nope.yaml]\nholdout: []\n');
    const r = cli(['eval', join(ROOT, 'eval', 'cases'), '--split', split]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/not among the cases: lipoma--nope\.yaml/);
    expect(r.err).not.toMatch(/at .*\.js:\d+/);
  });
  it('a missing or empty folder is a clear error', () => {
    const r = cli(['eval', join(dir, 'no-such-folder')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/no-such-folder: file not found/);
    const empty = join(dir, 'eval-empty');
    mkdirSync(empty);
    const e = cli(['eval', empty]);
    expect(e.code).toBe(1);
    expect(e.err).toMatch(/eval-empty: the file is empty/);
  });
  it('rejects a folder with an invalid case, naming the file and field', () => {
    const bad = join(dir, 'evalbad');
    mkdirSync(bad);
    writeFileSync(join(bad, 'x.yaml'), 'formatVersion: 1\nfinalDiagnosis: unicorn\nconfirmedBy: histology\nsource: { url: "https://a.b", title: t }\n');
    writeFileSync(join(bad, 'y.yaml'), 'formatVersion: 1\nfinalDiagnosis: lipoma\nconfirmedBy: histology\nsource: { url: "https://a.b", title: t }\npatient: { age: -4 }\n');
    const r = cli(['eval', bad]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/x\.yaml: finalDiagnosis/);
    expect(r.err).toMatch(/y\.yaml: patient\.age/);
  });
});

describe('calcdx ct', () => {
  let ctDir: string;
  let dicom: string;
  let nifti: string;
  let roi: string;
  let maskFile: string;
  beforeAll(async () => {
    const { makePhantom } = await import('../../src/test-support/phantom.js');
    const { writeCtSeries } = await import('../../src/imaging/write-dicom.js');
    const { encodeNiftiMask } = await import('../../src/imaging/write-nifti.js');
    ctDir = mkdtempSync(join(tmpdir(), 'calcdx-ct-'));
    const { volume, truth } = makePhantom({ preset: 'small', objects: ['rim', 'punctate'] });
    dicom = join(ctDir, 'dicom');
    writeCtSeries(dicom, volume, { shuffle: true });
    nifti = join(ctDir, 'phantom.nii.gz');
    writeFileSync(nifti, encodeNiftiMask(volume, volume.data as Int16Array, { gzip: true, intent: 'none' }));
    const s = truth.roi;
    roi = `sphere-ijk-mm:${s.center.join(',')},${s.radius}`;
    // the same sphere as a mask volume
    const { resolveRoi } = await import('../../src/imaging/roi.js');
    const r = resolveRoi(volume, truth.roi);
    const mask = new Uint8Array(volume.data.length);
    const [nx, ny, nz] = volume.dims;
    for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) if (r.contains(i, j, k)) mask[i + nx * (j + ny * k)] = 1;
    maskFile = join(ctDir, 'roi-mask.nii.gz');
    writeFileSync(maskFile, encodeNiftiMask(volume, mask, { gzip: true }));
  });
  afterAll(() => { rmSync(ctDir, { recursive: true, force: true }); });

  it('measures a DICOM series and a NIfTI file alike, writing PNG pictures and a label mask', () => {
    const png = join(ctDir, 'png');
    const mask = join(ctDir, 'labels.nii.gz');
    const a = cli(['ct', dicom, '--roi', roi, '--json', '--png', png, '--mask-out', mask]);
    expect(a.code, a.err).toBe(0);
    const b = cli(['ct', nifti, '--roi', roi, '--json']);
    expect(b.code, b.err).toBe(0);
    const ja = JSON.parse(a.out);
    const jb = JSON.parse(b.out);
    expect(ja.findings).toEqual(jb.findings);
    expect(ja.findings.imaging.calcification.morphology).toEqual(expect.arrayContaining(['rim', 'punctate']));
    expect(ja.lesion.calcifiedVoxels).toBe(jb.lesion.calcifiedVoxels);
    expect(readdirSync(png).filter((f) => f.endsWith('.png'))).toHaveLength(2);
    expect(readFileSync(mask).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    const text = cli(['ct', dicom, '--roi', roi]);
    expect(text.out).toMatch(/calcified: \d+ voxels/);
    expect(text.out).toMatch(/morphology rim/);
  });

  it('a NIfTI mask as the ROI gives the same calcified voxels as the sphere it holds', () => {
    const a = JSON.parse(cli(['ct', dicom, '--roi', roi, '--json']).out);
    const m = cli(['ct', dicom, '--roi', `mask:${maskFile}`, '--json']);
    expect(m.code, m.err).toBe(0);
    const b = JSON.parse(m.out);
    expect(b.lesion.calcifiedVoxels).toBe(a.lesion.calcifiedVoxels);
    expect(b.lesion.componentCount).toBe(a.lesion.componentCount);
    const missing = cli(['ct', dicom, '--roi', `mask:${join(ctDir, 'nope.nii')}`]);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/nope\.nii: file not found/);
  });

  it('assess --ct merges the measured findings into the case', () => {
    const c = join(ctDir, 'case.yaml');
    writeFileSync(c, 'formatVersion: 1\npatient: { age: 60, sex: male }\nlesion: { region: thigh, depth: deep }\n');
    const r = cli(['assess', c, '--ct', dicom, '--roi', roi, '--format', 'json']);
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    const terms = j.differential.flatMap((d: { evidence?: Array<{ finding: string }> }) => (d.evidence ?? []).map((e) => e.finding));
    expect(terms).toContain('imaging.calcification.morphology.rim');
  });

  it('refuses to measure without an ROI, explaining why', () => {
    const r = cli(['ct', dicom]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/ROI is required.*bone/i);
  });
  it('clear errors for bad input, naming the file; no crash', () => {
    const notDicom = join(ctDir, 'notes.txt');
    writeFileSync(notDicom, 'hello');
    const a = cli(['ct', notDicom, '--roi', roi]);
    expect(a.code).toBe(1);
    expect(a.err).toContain(notDicom);
    const bad = join(ctDir, 'bad.nii.gz');
    writeFileSync(bad, Buffer.concat([readFileSync(nifti).subarray(0, 200)]));
    const b = cli(['ct', bad, '--roi', roi]);
    expect(b.code).toBe(1);
    expect(b.err).toContain(bad);
    const empty = join(ctDir, 'empty');
    mkdirSync(empty);
    const c = cli(['ct', empty, '--roi', roi]);
    expect(c.code).toBe(1);
    expect(c.err).toContain(empty);
    const outside = cli(['ct', dicom, '--roi', 'sphere:500,500,500,3']);
    expect(outside.code).toBe(1);
    expect(outside.err).toMatch(/outside the volume/);
    for (const r of [a, b, c, outside]) expect(r.err).not.toMatch(/\n\s+at .*\(/);
  });

  /** Runs calcdx with a preload that prints the process's peak resident memory (MiB) on exit. */
  function cliPeak(args: string[]): { code: number | null; err: string; out: string; peakMiB: number } {
    const preload = join(ctDir, 'peak.cjs');
    writeFileSync(preload, "process.on('exit', () => process.stderr.write(`\\npeak-rss-kib=${process.resourceUsage().maxRSS}\\n`));");
    const r = spawnSync(process.execPath, ['--require', preload, BIN, ...args], { encoding: 'utf8', env: { ...process.env, LANG: 'C', CALCDX_LANG: '' }, timeout: 60_000 });
    const kib = Number(/peak-rss-kib=(\d+)/.exec(r.stderr)?.[1]);
    return { code: r.status, out: r.stdout, err: r.stderr.replace(/\npeak-rss-kib=\d+\n/, ''), peakMiB: kib / 1024 };
  }

  it('hostile headers (issue 13): too few values, 65535² RLE, a 2048³ NIfTI header, deflate and gzip bombs → exit 1 naming the file, low peak memory', async () => {
    const h = await import('../../src/test-support/hostile-images.js');
    const shortIpp = join(ctDir, 'short-ipp.dcm');
    writeFileSync(shortIpp, h.dicomWithShortPosition());
    const rle = join(ctDir, 'rle-65535.dcm');
    writeFileSync(rle, h.rleDicom65535());
    const huge = join(ctDir, 'huge.nii.gz');
    await h.writeGzipWithZeros(huge, h.niftiHeaderDeclaring([2048, 2048, 2048]), 256 * 1024 * 1024);
    const deflated = join(ctDir, 'deflate-bomb.dcm');
    await h.writeDeflatedDicomWithZeros(deflated, 512 * 1024 * 1024);
    const cases: Array<[string, RegExp]> = [
      [shortIpp, /ImagePositionPatient \(0020,0032\) has 2 values/],
      [rle, /larger than the size limits: the header declares 1 frame of 65535×65535 16-bit samples/],
      [huge, /larger than the size limits: the header declares 2048×2048×2048 int16 voxels/],
      [deflated, /larger than the size limits: the deflated dataset inflates to more than/],
    ];
    for (const [file, message] of cases) {
      const r = cliPeak(['ct', file, '--roi', 'whole']);
      expect(r.code, r.err).toBe(1);
      expect(r.err).toContain(file);
      expect(r.err).toMatch(message);
      expect(r.err).not.toMatch(/\n\s+at .*\(|internal error/i);
      // the 512 MiB of zeros are never inflated (a few times the 16 MiB allowed past the declared size, plus node itself)
      expect(r.peakMiB, file).toBeLessThan(200);
    }
    // a small volume followed by 512 MiB of zeros in its gzip stream: read as its header declares
    const trailing = join(ctDir, 'trailing.nii.gz');
    await h.writeGzipWithZeros(trailing, Buffer.concat([h.niftiHeaderDeclaring([8, 8, 8]), Buffer.alloc(8 * 8 * 8 * 2)]), 512 * 1024 * 1024);
    const ok = cliPeak(['ct', trailing, '--roi', 'whole', '--json']);
    expect(ok.code, ok.err).toBe(0);
    expect(JSON.parse(ok.out).volume.dims).toEqual([8, 8, 8]);
    expect(ok.peakMiB).toBeLessThan(200);
  }, 60_000);
});

describe('issue 14: every red flag ends in a dated plan, through the CLI', () => {
  const FIX = join(ROOT, 'test', 'fixtures', 'issue14');
  for (const f of ['case1-trauma-zonal.yaml', 'case2-no-trauma-no-zonal.yaml']) {
    it(`${f}: the JSON and every report carry the dated plan and the reconciling sentence`, () => {
      const r = cli(['assess', join(FIX, f), '--format', 'json', '--lang', 'en', '--date', '2026-12-03']);
      expect(r.code).toBe(0);
      const j = JSON.parse(r.out);
      expect(j.assessedOn).toBe('2026-12-03');
      expect(j.calcdx).toMatchObject({ version: expect.stringMatching(/^\d+\.\d+\.\d+$/), knowledgeBase: expect.stringMatching(/^kb-[0-9a-f]{8}$/) });
      expect(j.redFlags.length).toBeGreaterThan(0);
      const d = j.malignancy.decision;
      expect(['urgent_referral', 'safety_net_reimaging', 'sarcoma_centre_review']).toContain(d.kind);
      expect(d.kind === 'urgent_referral').toBe(j.malignancy.urgentReferral);
      const date = d.reimageBy ?? d.reviewBy;
      if (d.kind !== 'urgent_referral') expect(date).toMatch(/^2027-01-|^2026-12-/);
      expect(d.reason).toMatch(/red flag|not characterised|Urgent referral/);
      expect(j.cantMiss.length).toBeGreaterThan(0);
      for (const m of j.cantMiss) expect(m.display).toMatch(/^(< 1%|> 99%|\d{1,2}%)$/);
      for (const [format, lang] of [['text', 'en'], ['md', 'zh'], ['html', 'en']] as const) {
        const rep = cli(['assess', join(FIX, f), '--format', format, '--lang', lang, '--date', '2026-12-03']);
        expect(rep.code).toBe(0);
        if (date) expect(rep.out).toContain(date);
        expect(rep.out).not.toMatch(/\b0\.0\s?%/);
      }
      const en = cli(['assess', join(FIX, f), '--lang', 'en', '--date', '2026-12-03']).out;
      expect(en.replace(/\s+/g, ' ')).toContain(d.reason.replace(/\s+/g, ' '));
    });
  }

  it('case 1: re-image between 4 and 6 weeks after the assessment date, refer if not maturing', () => {
    const j = JSON.parse(cli(['assess', join(FIX, 'case1-trauma-zonal.yaml'), '--format', 'json', '--lang', 'en', '--date', '2026-12-03']).out);
    expect(j.malignancy.decision).toMatchObject({ kind: 'safety_net_reimaging', reimageWeeks: [4, 6], reimageFrom: '2026-12-31', reimageBy: '2027-01-14' });
    expect(j.malignancy.decision.referIf.map((x: { id: string }) => x.id)).toContain('not_maturing');
    expect(j.malignancy.decision.reason).toMatch(/^> 5 cm, deep and painful are red flags; they do not lead to urgent referral here because the findings characterise myositis ossificans/);
    expect(j.followUp).toMatchObject({ applies: 'now', datedFrom: 'assessment' });
  });

  it('a bad --date is a usage error (exit 2), without a stack trace', () => {
    const r = cli(['assess', join(FIX, 'case1-trauma-zonal.yaml'), '--date', '2026-02-30']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/2026-02-30/);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('the patient report of an urgent case names no diagnosis and never says benign', () => {
    const r = cli(['assess', '-', '--audience', 'patient', '--lang', 'en', '--date', '2026-12-03'], 'formatVersion: 1\npatient: { age: 55 }\nhistory: { recurrenceAfterExcision: true }\nlesion: { region: thigh, depth: deep, sizeCm: 9 }\n');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/specialist team to look at this soon/);
    expect(r.out).not.toMatch(/benign|synovial|liposarcoma|osteosarcoma|chondrosarcoma|pleomorphic|metastasis|Try not to worry/i);
  });
});

describe('hostile case files (issue 13 D4-D6): exit 1 with a clear message, never 70', () => {
  it('unresolved alias, billion laughs, 10,000 levels of nesting, 60,000 keys', () => {
    const want: Record<string, RegExp> = {
      'unresolved-alias.yaml': /not valid YAML: Unresolved alias/,
      'billion-laughs.yaml': /not valid YAML: .*alias/i,
      'deep-arrays.json': /nested more than 32 levels deep/,
      'deep-objects.json': /nested more than 32 levels deep/,
      'deep-flow.yaml': /nested more than 32 levels deep/,
      'deep-block.yaml': /nested more than 32 levels deep/,
      'many-keys.yaml': /more than 5000 values|took longer than/,
    };
    for (const c of hostileCases()) {
      const file = join(dir, c.name);
      writeFileSync(file, c.text);
      // every case through validate; the alias cases (D4, reported on every command) through assess and followup too
      const commands = [['validate', file], ...(c.name.includes('alias') || c.name.includes('laughs') ? [['assess', file, '--format', 'json'], ['followup', file, '--ics', join(dir, 'out.ics')]] : [])];
      for (const args of commands) {
        const r = cli(args);
        expect(r.code, `${args[0]} ${c.name}: ${r.err}`).toBe(1);
        expect(r.err).toMatch(want[c.name]!);
        expect(r.err).not.toMatch(/internal error|\n\s+at /);
        expect(r.err.length).toBeLessThan(1000);
      }
    }
    expect(existsSync(join(dir, 'out.ics'))).toBe(false);
  });

  it('a case with 900 issues: the first 50 listed, the rest counted, in both languages', () => {
    const file = join(dir, 'many-issues.yaml');
    writeFileSync(file, manyIssuesYaml(900));
    const en = cli(['validate', file, '--lang', 'en']);
    expect(en.code).toBe(1);
    expect(en.err).toMatch(/900 problem/);
    expect(en.err.split('\n').filter((l) => l.startsWith('  - '))).toHaveLength(50);
    expect(en.err).toMatch(/and 850 more problem/);
    const zh = cli(['validate', file, '--lang', 'zh']);
    expect(zh.err).toMatch(/另有 850 处问题未列出/);
  });
});
