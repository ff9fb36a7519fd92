/**
 * `calcdx serve --cds-config FILE` and `--cds-dev-no-auth`: the CDS Hooks service's trusted callers
 * and public URL, read from a JSON file (loaded only when one of these options is given).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { CalcdxError } from '../io/errors.js';
import type { CdsHooksOptions } from '../server/cds-hooks.js';

export const cdsConfigSchema = z.strictObject({
  publicUrl: z.url().optional(),
  appUrl: z.url().optional(),
  issuers: z.array(z.strictObject({
    iss: z.string().min(1),
    jku: z.array(z.url()).optional(),
    jwks: z.strictObject({ keys: z.array(z.looseObject({ kty: z.string() })).min(1) }).optional(),
    jwksUrl: z.url().optional(),
    fhirServers: z.array(z.url()).optional(),
  }).refine((i) => i.jwks || i.jwksUrl || i.jku?.length, { message: 'each issuer needs jwks, jwksUrl or jku' })).default([]),
});

export const isLoopback = (host: string): boolean => host === 'localhost' || host === '::1' || /^127\./.test(host);

export function cdsOptions(file: string | undefined, devNoAuth: boolean | undefined, host: string): CdsHooksOptions {
  if (devNoAuth && !isLoopback(host)) {
    throw new CalcdxError('usage', { detail: `--cds-dev-no-auth switches CDS Hooks authentication off and is for local trials only: it is refused with --host ${host}; bind 127.0.0.1 or configure trusted issuers with --cds-config` });
  }
  if (!file) return { devNoAuth: true };
  let raw: unknown;
  try { raw = JSON.parse(readFileSync(file, 'utf8')); } catch (e) {
    throw new CalcdxError('usage', { detail: `--cds-config ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` });
  }
  const v = cdsConfigSchema.safeParse(raw);
  if (!v.success) throw new CalcdxError('usage', { detail: `--cds-config ${file}: ${v.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`).join('; ')}` });
  return { ...v.data, issuers: v.data.issuers as CdsHooksOptions['issuers'], ...(devNoAuth ? { devNoAuth: true } : {}) };
}
