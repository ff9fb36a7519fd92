import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPacsConfig, PacsConfigError, resolvePacsConfig } from './config.js';

const one = (archive: Record<string, unknown>) => ({ archives: [{ id: 'main', label: 'PACS', url: 'https://pacs.example.org/dicom-web/', ...archive }] });
const fail = (raw: unknown, env: NodeJS.ProcessEnv = {}): string => {
  try { resolvePacsConfig(raw, 'pacs.yaml', env); } catch (e) { expect(e).toBeInstanceOf(PacsConfigError); return (e as Error).message; }
  throw new Error('accepted');
};

describe('the archive configuration (--pacs-config)', () => {
  it('resolves each kind of authentication, secrets from the file or a named environment variable', () => {
    expect(resolvePacsConfig(one({}), 'f')).toEqual([{ id: 'main', label: 'PACS', archive: { url: 'https://pacs.example.org/dicom-web', timeoutMs: 30_000 } }]);
    expect(resolvePacsConfig(one({ auth: { kind: 'basic', user: 'u', passwordEnv: 'PW' }, timeoutSeconds: 5 }), 'f', { PW: 's3cret' })[0]!.archive)
      .toEqual({ url: 'https://pacs.example.org/dicom-web', auth: { kind: 'basic', user: 'u', password: 's3cret' }, timeoutMs: 5000 });
    expect(resolvePacsConfig(one({ auth: { kind: 'bearer', token: 'tok' } }), 'f')[0]!.archive.auth).toEqual({ kind: 'bearer', token: 'tok' });
    expect(resolvePacsConfig(one({ url: 'http://127.0.0.1:8042/dicom-web', auth: { kind: 'bearer', tokenEnv: 'T' } }), 'f', { T: 'x' })[0]!.archive.auth).toEqual({ kind: 'bearer', token: 'x' });
  });

  it('refuses a configuration that is not valid, naming the file and the field', () => {
    expect(fail(one({ auth: { kind: 'basic', user: 'u', passwordEnv: 'PW' } }))).toMatch(/--pacs-config pacs\.yaml: archives\.0\.auth\.passwordEnv: the environment variable PW is not set/);
    expect(fail(one({ auth: { kind: 'basic', user: 'u', password: 'a', passwordEnv: 'PW' } }))).toMatch(/archives\.0\.auth: give one of password and passwordEnv/);
    expect(fail(one({ auth: { kind: 'bearer' } }))).toMatch(/give one of token and tokenEnv/);
    expect(fail(one({ auth: { kind: 'digest' } }))).toMatch(/archives\.0\.auth\.kind/);
    expect(fail(one({ url: 'https://u:p@pacs.example.org/dicom-web' }))).toMatch(/archives\.0\.url: credentials in the URL are not accepted/);
    expect(fail(one({ url: 'ftp://pacs.example.org/' }))).toMatch(/archives\.0\.url: the URL scheme is ftp/);
    expect(fail(one({ url: 'http://pacs.example.org/dicom-web', auth: { kind: 'bearer', token: 't' } }))).toMatch(/credentials are sent only over https/);
    expect(fail(one({ tlsVerify: false }))).toMatch(/archives\.0: Unrecognized key.*tlsVerify/);
    expect(fail(one({ id: 'Main Archive' }))).toMatch(/archives\.0\.id/);
    expect(fail({ archives: [one({}).archives[0], one({}).archives[0]] })).toMatch(/archive ids must be unique/);
    expect(fail({ archives: [] })).toMatch(/archives/);
  });

  it('reads JSON and YAML files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'calcdx-pacs-config-'));
    try {
      writeFileSync(join(dir, 'a.yaml'), 'archives:\n  - id: main\n    label: PACS\n    url: https://pacs.example.org/dicom-web\n');
      writeFileSync(join(dir, 'a.json'), JSON.stringify(one({})));
      writeFileSync(join(dir, 'bad.json'), '{');
      expect(loadPacsConfig(join(dir, 'a.yaml'))[0]!.id).toBe('main');
      expect(loadPacsConfig(join(dir, 'a.json'))[0]!.archive.url).toBe('https://pacs.example.org/dicom-web');
      expect(() => loadPacsConfig(join(dir, 'bad.json'))).toThrow(/not valid JSON/);
      expect(() => loadPacsConfig(join(dir, 'none.yaml'))).toThrow(/cannot read it \(ENOENT\)/);
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });
});
