/**
 * `calcdx serve`: the command's options. Its work (src/cli/serve-run.ts) and the server are
 * imported only when the command runs, so other commands do not load them.
 */
import { Option, type Command } from 'commander';
import type { Lang } from '../i18n/index.js';
import { DEFAULTS } from '../server/defaults.js';

export interface ServeOptions {
  port: string;
  host: string;
  maxCtJobs?: string;
  uploadLimitMb?: string;
  quiet?: boolean;
  /** server processes: a whole number, or auto (one per core) */
  workers?: string;
  /** CDS Hooks: trusted issuers and public URL (JSON), or no authentication on loopback */
  cdsConfig?: string;
  cdsDevNoAuth?: boolean;
  /** the registry: sqlite:PATH or postgres://… (default CALCDX_DB, else the file under the user's data folder); false: --no-registry */
  db?: string;
  registry?: boolean;
  /** the CT job queue (with a postgres:// --db): the archives jobs may name, retries, time limit of an attempt */
  archive?: string[];
  jobRetries?: string;
  jobRetryDelay?: string;
  jobTimeout?: string;
  /** with a postgres:// --db: a folder shared with the workers (queued uploads stay there) */
  spool?: string;
  /** every API route but login, health and the OpenAPI document needs a session */
  requireLogin?: boolean;
  /** behind a TLS-terminating reverse proxy: its address (or "true") */
  trustProxy?: string;
  /** the image archives of "Open from PACS" (JSON or YAML, src/pacs/config.ts) */
  pacsConfig?: string;
}

export function registerServe(program: Command, envLang: () => Lang): void {
  program.command('serve')
    .description('run the HTTP API and the browser app (binds 127.0.0.1 unless --host says otherwise)')
    .option('--port <port>', 'TCP port (0 = any free port)', '8080')
    .option('--host <host>', 'address to bind; 0.0.0.0 exposes calcdx to the network (the registry needs a login; the stateless API does only with --require-login)', '127.0.0.1')
    .option('--max-ct-jobs <n>', `CT uploads measured at once (default ${DEFAULTS.maxCtJobs})`)
    .option('--upload-limit-mb <n>', `largest CT upload, MiB (default ${DEFAULTS.uploadLimit / 1024 / 1024})`)
    .option('--quiet', 'no request log')
    .option('--workers <n>', 'server processes sharing the port: a number, or auto (one per core); default 1')
    .option('--cds-config <file>', 'CDS Hooks: trusted issuers (iss, jku allow-list, jwks or jwksUrl, fhirServers) and publicUrl, as JSON')
    .option('--pacs-config <file>', 'image archives for "Open from PACS" (JSON or YAML: archives with id, label, url, auth none|basic|bearer; secrets in the file or named environment variables)')
    .option('--cds-dev-no-auth', 'CDS Hooks without authentication, for local trials only (refused unless --host is a loopback address)')
    .option('--db <location>', 'registry: sqlite:PATH or postgres://user@host:port/database (default: $CALCDX_DB, else ~/.local/share/calcdx/registry.db); a postgres:// database also queues CT jobs (POST /api/ct/jobs) for calcdx worker')
    .option('--archive <url...>', 'with a postgres:// --db: DICOMweb archives a queued CT job may name (also CALCDX_DICOMWEB_ARCHIVES)')
    .option('--spool <dir>', 'with a postgres:// --db: a folder shared with every worker (same machine or a network mount): queued uploads stay there instead of going through PostgreSQL')
    .option('--job-retries <n>', 'with a postgres:// --db: attempts after the first for a transient CT job failure (default 3)')
    .option('--job-retry-delay <s>', 'with a postgres:// --db: seconds before the first retry, doubled for each further one (default 10)')
    .option('--job-timeout <s>', 'with a postgres:// --db: seconds a CT job attempt may run before it is retried (a worker that died: pg-boss 10 has no heartbeat); default 1.5 × the CT time budget, 900')
    .option('--no-registry', 'no registry: the stateless API only (no patients, users or login)')
    .option('--trust-proxy <address>', 'behind a reverse proxy that terminates TLS: its address (or true): X-Forwarded-Proto/For are believed, so the session cookie is Secure and login limits count client addresses')
    .option('--require-login', 'every API route (assessments included) needs a logged-in user; default: only the registry routes do')
    .addOption(new Option('--lang <lang>', 'language of the start message').choices(['zh', 'en']))
    .action(async (o: ServeOptions & { lang?: Lang }) => {
      await (await import('./serve-run.js')).runServe(o, o.lang ?? envLang());
    });
}
