import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { catalogueKeys, t } from './index.js';
import { ERROR_CODES } from '../io/errors.js';
import { IMAGING_ERROR_CODES } from '../imaging/errors.js';
import { ROI_ERROR_CODES } from '../imaging/roi.js';
import { ROOT } from '../test-support/cases.js';
import { VERSION } from '../report/version.js';

describe('strings', () => {
  it('zh and en catalogues have the same keys', () => {
    expect(catalogueKeys('zh')).toEqual(catalogueKeys('en'));
  });
  it('every error code has a message in both languages and is documented in the README', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    for (const code of ERROR_CODES) {
      expect(t('en', `error.${code}`)).not.toBe(`error.${code}`);
      expect(t('zh', `error.${code}`)).not.toBe(`error.${code}`);
      expect(readme).toContain(`\`${code}\``);
    }
    for (const code of ['required', 'wrong_type', 'not_allowed', 'too_small', 'too_big', 'unknown_field', 'bad_date', 'duplicate', 'invalid']) {
      expect(readme).toContain(`\`${code}\``);
      expect(catalogueKeys('en')).toContain(`issue.${code}`);
    }
  });
  it('every imaging and ROI error code is translated and documented', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    for (const [prefix, codes] of [['imaging', IMAGING_ERROR_CODES], ['roi', ROI_ERROR_CODES]] as const) {
      for (const code of codes) {
        for (const lang of ['en', 'zh'] as const) expect(t(lang, `${prefix}.${code}`)).not.toBe(`${prefix}.${code}`);
        expect(readme).toContain(`\`${code}\``);
      }
    }
  });
  it('the report version matches package.json', () => {
    expect(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version).toBe(VERSION);
  });
});
