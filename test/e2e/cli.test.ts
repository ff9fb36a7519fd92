/**
 * End-to-end through the real CLI (bin/calcdx.js over dist/), as a user runs it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../../src/test-support/cases.js';

const BIN = join(ROOT, 'bin', 'calcdx.js');
const EX = join(ROOT, 'examples', 'cases');
let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'calcdx-cli-')); });
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

function cli(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8', env: { ...process.env, LANG: 'C', CALCDX_LANG: '' }, timeout: 30_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

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
    expect(patient.out).toMatch(/免责声明/);
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
    ['types.yaml', 'formatVersion: 1\npatient: { age: "forty" }\n', /patient\.age: found "forty" \(string\); allowed: a value of type number/],
    ['range.yaml', 'formatVersion: 1\nlesion: { sizeCm: 500 }\n', /lesion\.sizeCm: found 500; allowed: a number ≤ 100/],
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
    expect(r.err).toMatch(/patient\.sex:发现 "x";允许:以下之一:male、female/);
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
    expect(r.err).toMatch(/symptoms\.growth: found "fast"; allowed: one of rapid, slow, stable, shrinking/);
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
    expect((h.match(/<svg /g) ?? []).length).toBe(2);
    expect(h).toMatch(/calibration plot/);
    expect(h).toMatch(/confusion matrix/);
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
