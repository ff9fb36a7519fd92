/**
 * The image archives a server may reach (`calcdx serve --pacs-config FILE`, JSON or YAML): each
 * with an id (in the API's paths), a label (shown to users), its DICOMweb base URL and how to
 * authenticate (none, HTTP basic or a bearer token; the secret written in the file or, better,
 * named as an environment variable). TLS certificates are always verified (extra CAs through
 * NODE_EXTRA_CA_CERTS); there is no option to switch that off. Credentials never leave the
 * server: the API lists ids and labels only.
 *
 *   archives:
 *     - id: main
 *       label: Hospital PACS
 *       url: https://pacs.example.org/dicom-web
 *       auth: { kind: basic, user: calcdx, passwordEnv: PACS_PASSWORD }
 *       timeoutSeconds: 30
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { archiveFromEnv, type Archive } from './dicomweb.js';
import { PacsError } from './errors.js';

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name (letters, digits, _)');

export const pacsConfigSchema = z.strictObject({
  archives: z.array(z.strictObject({
    id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, 'lower-case letters, digits, - and _, at most 32, starting with a letter or digit'),
    label: z.string().trim().min(1).max(80),
    url: z.string().min(1),
    auth: z.discriminatedUnion('kind', [
      z.strictObject({ kind: z.literal('none') }),
      z.strictObject({ kind: z.literal('basic'), user: z.string().min(1), password: z.string().optional(), passwordEnv: envName.optional() })
        .refine((a) => (a.password === undefined) !== (a.passwordEnv === undefined), { message: 'give one of password and passwordEnv' }),
      z.strictObject({ kind: z.literal('bearer'), token: z.string().min(1).optional(), tokenEnv: envName.optional() })
        .refine((a) => (a.token === undefined) !== (a.tokenEnv === undefined), { message: 'give one of token and tokenEnv' }),
    ]).default({ kind: 'none' }),
    timeoutSeconds: z.number().positive().max(3600).optional(),
  })).min(1).refine((l) => new Set(l.map((a) => a.id)).size === l.length, { message: 'archive ids must be unique' }),
});
export type PacsConfigFile = z.infer<typeof pacsConfigSchema>;

/** A configured archive: what the API shows (id, label) and what only the server uses (the rest). */
export interface ConfiguredArchive { id: string; label: string; archive: Archive }

const isLoopbackHost = (host: string): boolean => host === 'localhost' || host === '[::1]' || /^127\./.test(host);

/** Checks a parsed configuration and resolves the secrets (from `env` when named there); an error names the file and field. */
export function resolvePacsConfig(raw: unknown, file: string, env: NodeJS.ProcessEnv = process.env): ConfiguredArchive[] {
  const v = pacsConfigSchema.safeParse(raw);
  if (!v.success) throw new PacsConfigError(file, v.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`).join('; '));
  return v.data.archives.map((c, n) => {
    const at = `archives.${n}`;
    const secret = (name: string | undefined, field: string): string => {
      const value = name === undefined ? undefined : env[name];
      if (value === undefined || value === '') throw new PacsConfigError(file, `${at}.auth.${field}: the environment variable ${name} is not set`);
      return value;
    };
    const a = c.auth;
    const creds: NodeJS.ProcessEnv = a.kind === 'basic'
      ? { CALCDX_DICOMWEB_USER: a.user, CALCDX_DICOMWEB_PASSWORD: a.password ?? secret(a.passwordEnv, 'passwordEnv') }
      : a.kind === 'bearer' ? { CALCDX_DICOMWEB_TOKEN: a.token ?? secret(a.tokenEnv, 'tokenEnv') } : {};
    let archive: Archive;
    try {
      archive = archiveFromEnv(c.url, creds, c.timeoutSeconds === undefined ? undefined : String(c.timeoutSeconds));
    } catch (e) {
      if (e instanceof PacsError) throw new PacsConfigError(file, `${at}.url: ${e.detail.replace(/CALCDX_DICOMWEB_\w+/g, 'auth')}`);
      throw e;
    }
    // credentials in clear over the network: refused (TLS is for everything but this machine)
    const u = new URL(archive.url);
    if (a.kind !== 'none' && u.protocol === 'http:' && !isLoopbackHost(u.hostname)) {
      throw new PacsConfigError(file, `${at}.url: credentials are sent only over https (or to this machine); found http://${u.host}`);
    }
    return { id: c.id, label: c.label, archive };
  });
}

/** Reads `--pacs-config FILE` (JSON or YAML). */
export function loadPacsConfig(file: string, env: NodeJS.ProcessEnv = process.env): ConfiguredArchive[] {
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch (e) {
    throw new PacsConfigError(file, `cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let raw: unknown;
  try { raw = /\.json$/i.test(file) ? JSON.parse(text) : parseYaml(text); } catch (e) {
    throw new PacsConfigError(file, `not valid ${/\.json$/i.test(file) ? 'JSON' : 'YAML'}: ${(e as Error).message.split('\n')[0]}`);
  }
  return resolvePacsConfig(raw, file, env);
}

export class PacsConfigError extends Error {
  constructor(readonly file: string, readonly detail: string) {
    super(`--pacs-config ${file}: ${detail}`);
    this.name = 'PacsConfigError';
  }
}
