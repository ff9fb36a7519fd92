/**
 * How the registry stores an assessment's case input and output (schema v3): the JSON text,
 * UTF-8, compressed with Brotli at quality 1. Lossless: decoding gives back the exact text
 * that was encoded.
 *
 * Chosen by measurement (an engine output is ~25 kB of JSON, mostly repeated keys and
 * knowledge-base wording): Brotli quality 1 stores it in ~6.7 kB (3.7x smaller) for about the
 * cost of the UTF-8 encoding alone (0.08 ms on a quiet machine, 0.4 ms loaded); deflate level 1
 * gives 6.3 kB at about twice that time, Brotli 2 6.0 kB at twice, Brotli 4-6 5.3-5.7 kB at 3-5x
 * (notes/registry.md). Inserting an assessment must stay above 1,000 a second, reading a
 * timeline decodes a few: the fast level wins.
 */
import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib';

export const JSON_CODEC_QUALITY = 1;

/** the stored form of a JSON text */
export function encodeJsonText(text: string): Buffer {
  const raw = Buffer.from(text, 'utf8');
  return brotliCompressSync(raw, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: JSON_CODEC_QUALITY,
      [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
      [constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
    },
  });
}

/** the stored form of a JSON value */
export function encodeJson(value: unknown): Buffer {
  return encodeJsonText(JSON.stringify(value));
}

/** the JSON text back from its stored form */
export function decodeJsonText(stored: Uint8Array): string {
  return brotliDecompressSync(stored).toString('utf8');
}

export function decodeJson<T = unknown>(stored: Uint8Array): T {
  return JSON.parse(decodeJsonText(stored)) as T;
}
