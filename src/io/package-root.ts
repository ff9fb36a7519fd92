/**
 * The folder calcdx is installed in (the one holding its package.json), found by walking up from
 * this module. Data files (knowledge base, code map, examples, evaluation cases) and build outputs
 * (dist/web, the CT worker) are addressed from it, so a path holds wherever the module that asks
 * sits: in dist/<folder>/, one folder deeper (dist/server/plugins/), or in the CLI bundle.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name === 'calcdx') return dir;
      } catch { /* not ours: keep walking */ }
    }
    if (dirname(dir) === dir) return resolve(start, '..', '..'); // not found: dist/<folder>/ → the root
  }
}

export const PACKAGE_ROOT = findPackageRoot(dirname(fileURLToPath(import.meta.url)));

/** A path inside the installed package. */
export const packagePath = (...parts: string[]): string => join(PACKAGE_ROOT, ...parts);
