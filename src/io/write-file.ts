/**
 * Writes a file completely or not at all: a temporary file beside the target, then rename.
 */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CalcdxError } from './errors.js';

export function writeFileAtomic(path: string, content: string | Uint8Array): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    writeFileSync(tmp, content, { flag: 'wx' });
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new CalcdxError('output_exists', { file: path, reason: (e as NodeJS.ErrnoException).code ?? String(e) });
  }
}
