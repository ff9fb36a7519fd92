import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { t } from '../i18n/index.js';
import { ROOT } from '../test-support/cases.js';
import { errorText } from '../cli/error-text.js';
import { PACS_ERROR_CODES, PacsError } from './errors.js';

describe('archive error codes', () => {
  it('are translated in both languages and documented in the README', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    for (const code of PACS_ERROR_CODES) {
      for (const lang of ['en', 'zh'] as const) expect(t(lang, `pacs.${code}`)).not.toBe(`pacs.${code}`);
      expect(readme).toContain(`\`${code}\``);
    }
  });
  it('print as one line naming the archive and the study or series, exit code 1', () => {
    const e = new PacsError('not_ct', 'https://pacs.example.org/dicom-web', 'study 1.2, series 3.4', 'the series is MR, not CT');
    expect(errorText(e, 'en')).toEqual({ text: 'https://pacs.example.org/dicom-web (study 1.2, series 3.4): not a CT series: the series is MR, not CT', exitCode: 1 });
    expect(errorText(e, 'zh').text).toBe('https://pacs.example.org/dicom-web(study 1.2, series 3.4):不是CT序列：the series is MR, not CT');
  });
});
