/**
 * The spool: a folder that the server and the workers share (the same machine, or a network file
 * system mounted on each; `calcdx serve --spool DIR` and `calcdx worker --spool DIR`). With it, an
 * upload is not copied into PostgreSQL and back (ct_input, store.ts): the server receives it into
 * a private folder inside the spool and renames that folder to the job's id, the worker reads the
 * files where they are, and the folder is removed when the job ends. The job's data says only that
 * its input is spooled; the files' uploaded names are in the folder's manifest (job.json), as they
 * would be in ct_input, never in the job.
 */
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';

export const MANIFEST = 'job.json';

interface Manifest { volume: string; mask?: string; names: Array<[string, string]> }

/** Writes the manifest into `dir` (a folder inside the spool holding the upload) and renames the folder to the job's id. */
export async function spoolPut(spool: string, id: string, dir: string, input: { volumePath: string; maskPath?: string | undefined; names?: ReadonlyMap<string, string> | undefined }): Promise<void> {
  const rel = (p: string) => relative(dir, p);
  const m: Manifest = {
    volume: rel(input.volumePath),
    ...(input.maskPath ? { mask: rel(input.maskPath) } : {}),
    names: [...(input.names ?? new Map<string, string>())].filter(([p]) => p.startsWith(dir)).map(([p, n]) => [rel(p), n]),
  };
  await writeFile(join(dir, MANIFEST), JSON.stringify(m), { mode: 0o600, flag: 'wx' });
  await rename(dir, join(spool, id));
}

/** The spooled input of a job (absolute paths), or undefined when its folder is gone. */
export async function spoolGet(spool: string, id: string): Promise<{ volumePath: string; maskPath?: string; names: Map<string, string> } | undefined> {
  const dir = join(spool, id);
  let m: Manifest;
  try { m = JSON.parse(await readFile(join(dir, MANIFEST), 'utf8')) as Manifest; } catch { return undefined; }
  const inside = (p: string): string => {
    const abs = resolve(dir, p);
    if (isAbsolute(p) || relative(dir, abs).startsWith('..')) throw new Error('spool manifest names a path outside its folder');
    return abs;
  };
  const names = new Map<string, string>(m.names.map(([p, n]) => [inside(p), n]));
  return { volumePath: inside(m.volume), ...(m.mask ? { maskPath: inside(m.mask) } : {}), names };
}

/** Removes a job's spooled input (its end). */
export async function spoolDrop(spool: string | undefined, id: string): Promise<void> {
  if (spool) await rm(join(spool, id), { recursive: true, force: true, maxRetries: 2 }).catch(() => undefined);
}
