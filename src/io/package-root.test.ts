import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT, packagePath } from './package-root.js';

describe('package root', () => {
  it('is the folder of calcdx\'s package.json, whatever the depth of the module asking', () => {
    expect((JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { name: string }).name).toBe('calcdx');
    expect(existsSync(packagePath('data', 'kb', 'findings.yaml'))).toBe(true);
    expect(existsSync(packagePath('eval', 'cases'))).toBe(true);
  });
});
