/**
 * Chinese text is written as Chinese: full-width punctuation next to Chinese characters (，：；？！（）),
 * and the terms clinicians use. Scans every Chinese string of the interface (src/i18n/locales/zh.json),
 * of the knowledge base (every `zh:` value of data/kb, except the seed map, which quotes the
 * seed article as written), and the Chinese string literals of the adapters that keep their own
 * message tables (src/fhir, src/server, src/cli/fhir-run.ts; tests excluded).
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT } from '../test-support/cases.js';
import { HALF_WIDTH_NEXT_TO_HAN, zhStringsOf } from '../test-support/zh-source.js';

function strings(x: unknown, path: string, out: Array<{ path: string; text: string }>, onlyZhKeys: boolean): void {
  if (typeof x === 'string') { out.push({ path, text: x }); return; }
  if (Array.isArray(x)) { x.forEach((v, i) => strings(v, `${path}.${i}`, out, onlyZhKeys)); return; }
  if (x && typeof x === 'object') {
    for (const [k, v] of Object.entries(x)) {
      if (onlyZhKeys && typeof v === 'string') { if (k === 'zh') out.push({ path: `${path}.${k}`, text: v }); continue; }
      strings(v, `${path}.${k}`, out, onlyZhKeys);
    }
  }
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? yamlFiles(join(dir, e.name)) : e.name.endsWith('.yaml') ? [join(dir, e.name)] : []));
}

const zhInterface: Array<{ path: string; text: string }> = [];
strings(JSON.parse(readFileSync(join(ROOT, 'src', 'i18n', 'locales', 'zh.json'), 'utf8')), 'zh.json', zhInterface, false);
const zhKb: Array<{ path: string; text: string }> = [];
for (const f of yamlFiles(join(ROOT, 'data', 'kb')).filter((f) => !f.endsWith('seed-map.yaml'))) {
  strings(parse(readFileSync(f, 'utf8')), f.slice(ROOT.length + 1), zhKb, true);
}
const sourceFiles = [
  ...['fhir', 'server'].flatMap((d) => readdirSync(join(ROOT, 'src', d)).map((f) => join('src', d, f))),
  join('src', 'cli', 'fhir-run.ts'),
].filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
const zhSources = sourceFiles.flatMap((f) => zhStringsOf(join(ROOT, f), f));
const all = [...zhInterface, ...zhKb, ...zhSources];

describe('Chinese text', () => {
  it('finds the Chinese strings it checks', () => {
    expect(zhInterface.length).toBeGreaterThan(200);
    expect(zhKb.length).toBeGreaterThan(300);
    // the FHIR import report and errors, the CDS Hooks problems and cards, the problem+json titles
    for (const f of ['src/fhir/messages.ts', 'src/fhir/cds-cards.ts', 'src/server/cds-hooks.ts']) expect(zhSources.filter((s) => s.path.startsWith(`${f}:`)).length).toBeGreaterThan(5);
  });

  it('uses full-width punctuation next to Chinese characters', () => {
    const bad = all.filter((s) => HALF_WIDTH_NEXT_TO_HAN.test(s.text)).map((s) => `${s.path}: ${s.text}`);
    expect(bad).toEqual([]);
  });

  it('uses the terms clinicians use (不支持, 最可能诊断, 分带现象; no 比特) and no English sentence', () => {
    const bad = all.filter((s) => /反对|首位|分区现象|比特|seed article/.test(s.text)).map((s) => `${s.path}: ${s.text}`);
    expect(bad).toEqual([]);
  });
});
