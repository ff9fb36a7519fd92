/**
 * End-to-end through the real CLI (bin/calcdx.js over dist/): calcdx fhir import and assess --format fhir.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../src/test-support/cases.js';
import { fhirProblems } from '../../src/test-support/fhir-validate.js';

const BIN = join(ROOT, 'bin', 'calcdx.js');
const BUNDLE = join(ROOT, 'test', 'fixtures', 'fhir', 'thigh-mass-bundle.json');
let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'calcdx-fhir-cli-')); });
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

function cli(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8', env: { ...process.env, LANG: 'C', CALCDX_LANG: '' }, timeout: 30_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('calcdx fhir import', () => {
  it('writes the case as YAML (a valid case file), lists what was not mapped on standard error', () => {
    const out = join(dir, 'case.yaml');
    const r = cli(['fhir', 'import', BUNDLE, '--out', out, '--reference-date', '2026-12-03']);
    expect(r.code).toBe(0);
    expect(r.err).toContain('4 item(s) not mapped');
    expect(r.err).toContain('Observation/hr code http://loinc.org|8867-4: known code, not used: vital sign');
    const c = parse(readFileSync(out, 'utf8'));
    expect(c).toMatchObject({ patient: { age: 35, sex: 'male' }, labs: { calciumMmolL: 2.3453 }, lesion: { region: 'thigh', sizeCm: 7.2 } });
    const v = cli(['validate', out]);
    expect(v.code).toBe(0);
    // and the imported case assesses
    expect(cli(['assess', out, '--format', 'json']).code).toBe(0);
  });

  it('bad input: not JSON, not a Bundle, no Patient, strict with unmapped items, a too large file — exit 1, one clear message, no stack', () => {
    const cases: Array<[string, string, RegExp]> = [
      ['{bad', '', /the input is not JSON/],
      ['{"resourceType":"Patient"}', '', /expected a FHIR Bundle or a CDS Hooks prefetch object; found resourceType Patient/],
      ['{"resourceType":"Bundle","entry":[]}', '', /no Patient resource/],
      [readFileSync(BUNDLE, 'utf8'), '--strict', /4 item\(s\) could not be mapped \(strict mode\)/],
    ];
    for (const [input, flag, msg] of cases) {
      const r = cli(['fhir', 'import', '-', ...(flag ? [flag] : [])], input);
      expect(r.code, input.slice(0, 30)).toBe(1);
      expect(r.err).toMatch(msg);
      expect(r.err).not.toMatch(/\n\s+at /);
      expect(r.out).toBe('');
    }
    const big = join(dir, 'big.json');
    writeFileSync(big, `{"resourceType":"Bundle","entry":[${'{"resource":{"resourceType":"Basic"}},'.repeat(600_000)}{}]}`);
    const r = cli(['fhir', 'import', big, '--out', join(dir, 'never.yaml')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/too large|larger/);
    expect(existsSync(join(dir, 'never.yaml'))).toBe(false);
  });
});

describe('calcdx assess --format fhir', () => {
  it('prints a valid R4 Bundle; importing it gives the case back', () => {
    const r = cli(['assess', join(ROOT, 'examples', 'cases', 'synovial-sarcoma-knee.yaml'), '--format', 'fhir']);
    expect(r.code).toBe(0);
    const b = JSON.parse(r.out);
    expect(fhirProblems(b)).toEqual([]);
    expect(b.entry.map((e: { resource: { resourceType: string } }) => e.resource.resourceType)).toEqual(expect.arrayContaining(['RiskAssessment', 'DiagnosticReport', 'CarePlan', 'ServiceRequest']));
    const back = cli(['fhir', 'import', '-', '--json', '--reference-date', '2026-12-03'], r.out);
    expect(back.code).toBe(0);
    const { id: _id, ...original } = parse(readFileSync(join(ROOT, 'examples', 'cases', 'synovial-sarcoma-knee.yaml'), 'utf8'));
    expect(JSON.parse(back.out).case).toEqual(original);
  });
});

describe('calcdx serve --cds-dev-no-auth', () => {
  it('is refused (exit 2, one message) when bound to a non-loopback address', () => {
    const r = cli(['serve', '--host', '0.0.0.0', '--port', '0', '--cds-dev-no-auth']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--cds-dev-no-auth .* refused with --host 0\.0\.0\.0/);
    expect(r.err).not.toMatch(/\n\s+at /);
  });
});
