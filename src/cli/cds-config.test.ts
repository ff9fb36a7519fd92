import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CalcdxError } from '../io/errors.js';
import { cdsOptions, isLoopback } from './cds-config.js';

const dir = mkdtempSync(join(tmpdir(), 'calcdx-cds-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => { const p = join(dir, name); writeFileSync(p, text); return p; };
const usage = (f: () => unknown): string => {
  try { f(); } catch (e) { expect(e).toBeInstanceOf(CalcdxError); return (e as CalcdxError).params.detail as string; }
  throw new Error('accepted');
};

describe('serve --cds-config / --cds-dev-no-auth', () => {
  it('reads issuers and the public URL', () => {
    const p = file('ok.json', JSON.stringify({ publicUrl: 'https://calcdx.example.org', issuers: [{ iss: 'https://ehr', jku: ['https://ehr/jwks.json'], fhirServers: ['https://ehr/fhir'] }] }));
    expect(cdsOptions(p, false, '0.0.0.0')).toEqual({ publicUrl: 'https://calcdx.example.org', issuers: [{ iss: 'https://ehr', jku: ['https://ehr/jwks.json'], fhirServers: ['https://ehr/fhir'] }] });
  });

  it('refuses an issuer without keys, unknown fields, a file that is not JSON, each naming the problem', () => {
    expect(usage(() => cdsOptions(file('nokey.json', '{"issuers":[{"iss":"x"}]}'), false, '127.0.0.1'))).toContain('each issuer needs jwks, jwksUrl or jku');
    expect(usage(() => cdsOptions(file('extra.json', '{"issuer":[]}'), false, '127.0.0.1'))).toMatch(/issuer/);
    expect(usage(() => cdsOptions(file('bad.json', '{'), false, '127.0.0.1'))).toContain('bad.json');
    expect(usage(() => cdsOptions(join(dir, 'missing.json'), false, '127.0.0.1'))).toContain('ENOENT');
  });

  it('--cds-dev-no-auth only on a loopback address', () => {
    expect(cdsOptions(undefined, true, '127.0.0.1')).toEqual({ devNoAuth: true });
    expect(usage(() => cdsOptions(undefined, true, '0.0.0.0'))).toContain('refused with --host 0.0.0.0');
    expect(usage(() => cdsOptions(undefined, true, '192.168.1.4'))).toContain('local trials only');
    expect(['127.0.0.1', '127.1.2.3', '::1', 'localhost'].every(isLoopback)).toBe(true);
    expect(['0.0.0.0', '::', '10.0.0.1', 'example.org'].some(isLoopback)).toBe(false);
  });
});
