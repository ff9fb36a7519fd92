/**
 * The development / holdout split of the evaluation cases. The split was drawn once, by a fixed
 * seed and stratified by the final diagnosis, and is recorded as data (eval/split.yaml), so it does
 * not move when cases are added: a case the file does not list belongs to the holdout half (new
 * cases are never tuned on). `stratifiedSplit` is the draw; `readSplit` / `assignSplit` apply the
 * recorded result.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { CalcdxError } from '../io/errors.js';

export type SplitSet = 'development' | 'holdout';
export const SPLIT_SETS: readonly SplitSet[] = ['development', 'holdout'];

/** mulberry32: a small, well-known 32-bit PRNG; enough to shuffle reproducibly from a seed */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Splits items into two halves, stratified by `stratum` (here the final diagnosis): within each
 * stratum the files, sorted by name, are shuffled (Fisher-Yates, seeded) and the first half goes to
 * development. A stratum of odd size gives its extra case to development and holdout in turn
 * (strata taken in name order), so the two halves differ by at most one case overall and by at
 * most one within every stratum. Deterministic: the same items and seed give the same split.
 */
export function stratifiedSplit(items: ReadonlyArray<{ file: string; stratum: string }>, seed: number): Map<string, SplitSet> {
  const rnd = mulberry32(seed);
  const byStratum = new Map<string, string[]>();
  for (const { file, stratum } of items) byStratum.set(stratum, [...(byStratum.get(stratum) ?? []), file]);
  const out = new Map<string, SplitSet>();
  let oddToDevelopment = true;
  for (const stratum of [...byStratum.keys()].sort()) {
    const files = [...byStratum.get(stratum)!].sort();
    for (let i = files.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [files[i], files[j]] = [files[j]!, files[i]!];
    }
    let dev = Math.floor(files.length / 2);
    if (files.length % 2 === 1) {
      if (oddToDevelopment) dev++;
      oddToDevelopment = !oddToDevelopment;
    }
    files.forEach((f, i) => out.set(f, i < dev ? 'development' : 'holdout'));
  }
  return out;
}

const splitFileSchema = z.strictObject({
  seed: z.number().int(),
  method: z.string().min(1),
  rule: z.string().min(1),
  development: z.array(z.string().min(1)),
  holdout: z.array(z.string().min(1)),
  /** holdout files appended after the draw (not part of it) */
  added: z.array(z.string().min(1)).optional(),
});
export type SplitFile = z.infer<typeof splitFileSchema>;

export function readSplit(path: string): SplitFile {
  let text: string;
  try { text = readFileSync(path, 'utf8'); } catch { throw new CalcdxError('file_not_found', { file: path }); }
  let data: unknown;
  try { data = parse(text); } catch (e) { throw new CalcdxError('parse_yaml', { file: path, detail: e instanceof Error ? e.message : String(e) }); }
  const r = splitFileSchema.safeParse(data);
  if (!r.success) {
    throw new CalcdxError('eval_file_invalid', { file: path, kind: 'split', detail: `${r.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`).join('; ')} (expected seed, method, rule, development: [files], holdout: [files], added: [files])` });
  }
  return r.data;
}

/**
 * The half of every case file. A file listed in both halves, or listed but not among the cases,
 * is an error (a renamed file must not silently change halves); a case the split does not list is
 * holdout (cases added after the split are never tuned on).
 */
export function assignSplit(files: readonly string[], split: SplitFile, splitPath = 'split'): Map<string, SplitSet> {
  const dev = new Set(split.development);
  const hold = new Set(split.holdout);
  const both = [...dev].filter((f) => hold.has(f));
  const addedNotHoldout = (split.added ?? []).filter((f) => !hold.has(f));
  const present = new Set(files);
  const missing = [...dev, ...hold].filter((f) => !present.has(f));
  if (both.length || missing.length || addedNotHoldout.length) {
    const parts = [
      ...(both.length ? [`listed in both halves: ${both.join(', ')}`] : []),
      ...(missing.length ? [`listed but not among the cases: ${missing.join(', ')}`] : []),
      ...(addedNotHoldout.length ? [`added after the draw but not in holdout: ${addedNotHoldout.join(', ')}`] : []),
    ];
    throw new CalcdxError('eval_file_invalid', { file: splitPath, kind: 'split', detail: parts.join('; ') });
  }
  return new Map(files.map((f) => [f, dev.has(f) ? 'development' : 'holdout']));
}
