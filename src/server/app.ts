/**
 * The calcdx HTTP server (fastify): the JSON API over the engine, the reports, the follow-up
 * calendar and CT quantification, and the browser app from dist/web.
 *
 * `buildServer` only wires the plugins, one per concern (src/server/plugins/*, fhir.ts,
 * cds-hooks.ts). The global ones (requests, security, errors, bodies) come first: their hooks and
 * handlers apply to every route registered after them. A new concern is a new plugin and one
 * `await app.register(...)` line in the list below.
 *
 * Logs: one line per request (method, route pattern, status, duration); never a body, a query
 * string, an uploaded file name or an error message that could carry patient data.
 */
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Socket } from 'node:net';
interface DestinationStream { write(msg: string): void }
import type { KnowledgeBase } from '../core/knowledge/compile.js';
import { loadKnowledgeBase } from '../io/kb-files.js';
import type { CtInput, CtResult } from './ct.js';
import { DEFAULTS } from './defaults.js';
import { authPlugin } from './auth/plugin.js';
import { usersPlugin } from './auth/users.js';
import { assessPlugin } from './plugins/assess.js';
import { bodiesPlugin } from './plugins/bodies.js';
import { CtSlots } from './ct-jobs.js';
import { ctPlugin } from './plugins/ct.js';
import { pacsPlugin } from './plugins/pacs.js';
import { ctJobsPlugin } from './plugins/ct-jobs.js';
import { clientProblem, errorsPlugin } from './plugins/errors.js';
import { kbPlugin } from './plugins/kb.js';
import { requestsPlugin } from './plugins/requests.js';
import { securityPlugin } from './plugins/security.js';
import { webPlugin } from './plugins/web.js';
import { toProblem } from './problem.js';
import { registryPlugin } from './registry/plugin.js';
import { pathOf, safeLang } from './request.js';

export { DEFAULTS };
export { DEFAULT_WEB_ROOT } from './plugins/web.js';
export { CSP_REPORT } from './plugins/security.js';
export { ResponseCache } from './plugins/assess.js';

export interface ServerOptions {
  /** false: no logs; true: pino JSON to standard output; a stream: pino JSON to it (tests) */
  logger?: boolean | DestinationStream;
  logLevel?: string;
  bodyLimit?: number;
  uploadLimit?: number;
  maxUploadFiles?: number;
  maxCtJobs?: number;
  retryAfterSeconds?: number;
  requestTimeoutMs?: number;
  headersTimeoutMs?: number;
  ctTimeoutMs?: number;
  assessCacheBytes?: number;
  /** where the browser app is (index.html); default dist/web of this package */
  webRoot?: string;
  /** parent of the private upload folders; default the system's temporary folder */
  tmpDir?: string;
  knowledgeBase?: KnowledgeBase;
  /** replaces the CT measurement (tests of limits and timeouts) */
  measureCt?: (input: CtInput) => Promise<CtResult>;
  /** false: CT work on the server's own thread instead of a worker thread (default: a worker when dist/ is built) */
  ctWorker?: boolean;
  /** voxels of a CT volume (default 2^28; its decompressed bytes are limited to `uploadLimit`) */
  maxVoxels?: number;
  /** the JavaScript heap of a CT worker thread, MiB (default 512) */
  ctWorkerHeapMb?: number;
  /** the CT job queue in PostgreSQL (plugins/ct-jobs.ts): its database, settings and the archives jobs may name */
  ctQueue?: Pick<import('./plugins/ct-jobs.js').CtJobsPluginOptions, 'db' | 'settings' | 'archives' | 'spool'>;
  /** CDS Hooks: trusted issuers, public URL, --cds-dev-no-auth (src/server/cds-hooks.ts) */
  cds?: import('./cds-hooks.js').CdsHooksOptions;
  /**
   * The registry (patients, follow-up, outcomes, users): an open store, or its location (--db:
   * sqlite:PATH or postgres://…; the server opens it and closes it with itself). Without either
   * the server has no registry, auth or user routes (the stateless API only).
   */
  registry?: import('../registry/store.js').RegistryStore;
  db?: string;
  /** every /api and /fhir route but login, health and the OpenAPI document needs a session */
  requireLogin?: boolean;
  /**
   * behind a reverse proxy that terminates TLS: trust its X-Forwarded-For / X-Forwarded-Proto
   * (true, or the proxy's address), so that the session cookie is Secure and login limits count
   * the client's address, not the proxy's
   */
  trustProxy?: boolean | string;
  /** session timeouts, login limits and lock, the clock (src/server/auth/plugin.ts) */
  auth?: Omit<import('./auth/plugin.js').AuthOptions, 'store' | 'requireLogin'>;
  /** the image archives the server may reach ("Open from PACS"; --pacs-config, src/pacs/config.ts); needs a registry (its routes need login) */
  pacs?: readonly import('../pacs/config.js').ConfiguredArchive[];
  /** the server's cache of series retrieved from the archives: bytes (0: none) and seconds a series stays (default 512 MiB, 600 s) */
  pacsCache?: { bytes?: number; seconds?: number };
}

export async function buildServer(options: ServerOptions = {}): Promise<FastifyInstance> {
  const o = { ...DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as typeof DEFAULTS & ServerOptions;
  // the archive's routes are guarded by the auth plugin (clinician/viewer only): without it they would be open to anyone
  if (o.pacs?.length && !o.registry && o.db === undefined) throw new Error('buildServer: pacs (image archives, --pacs-config) needs a registry (registry or db): the archive\'s patient data is shown only to logged-in users');
  const kb = o.knowledgeBase ?? loadKnowledgeBase();

  const logger = o.logger === undefined || o.logger === false
    ? false
    : { level: o.logLevel ?? 'info', ...(o.logger === true ? {} : { stream: o.logger }) };
  const app = Fastify({
    logger,
    // fastify's own request lines carry the URL with its query: one line of ours instead (plugins/requests.ts)
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: o.bodyLimit,
    // our own timers answer a request whose headers arrived with a problem (408 or 503); node's
    // checker, every second, answers headers that do not arrive in time with a 408 problem
    requestTimeout: 0,
    http: { headersTimeout: o.headersTimeoutMs, connectionsCheckingInterval: Math.min(1000, o.headersTimeoutMs) },
    // errors of the HTTP parser (malformed request, headers too large, headers too slow) and of the
    // router (a malformed URL) as problems too
    clientErrorHandler: (err: Error & { code?: string }, socket: Socket) => clientProblem(err, socket, o.headersTimeoutMs),
    frameworkErrors: (err, req, reply) => {
      const { problem } = toProblem(err, safeLang(req as FastifyRequest), pathOf(req as FastifyRequest));
      void (reply as FastifyReply).code(problem.status).type('application/problem+json; charset=utf-8').send(problem);
    },
    return503OnClosing: true,
    ...(o.trustProxy !== undefined ? { trustProxy: o.trustProxy } : {}),
  });

  // ---- global: hooks and handlers for every route registered after them
  await app.register(requestsPlugin, { requestTimeoutMs: o.requestTimeoutMs, uploadTimeoutMs: o.ctTimeoutMs });
  await app.register(securityPlugin);
  await app.register(errorsPlugin, { kb });
  await app.register(bodiesPlugin, { uploadLimit: o.uploadLimit, maxUploadFiles: o.maxUploadFiles });
  // sessions and the role guard (global: --require-login covers the routes registered below)
  const store = o.registry ?? (o.db !== undefined ? await (await import('../registry/open.js')).openRegistry(o.db) : undefined);
  if (store && !o.registry) app.addHook('onClose', async () => store.close());
  if (o.requireLogin && !store) throw new Error('buildServer: requireLogin needs a registry (registry or db)');
  if (store) await app.register(authPlugin, { ...o.auth, store, requireLogin: o.requireLogin ?? false });

  // ---- one plugin per concern (each in its own context)
  await app.register(kbPlugin, { kb });
  await app.register(assessPlugin, { kb, assessCacheBytes: o.assessCacheBytes });
  // one pool of CT job slots for uploads and archive retrievals
  const slots = new CtSlots(o.maxCtJobs, o.retryAfterSeconds);
  await app.register(ctPlugin, {
    slots, uploadLimit: o.uploadLimit, maxUploadFiles: o.maxUploadFiles, maxCtJobs: o.maxCtJobs, retryAfterSeconds: o.retryAfterSeconds, ctTimeoutMs: o.ctTimeoutMs,
    tmpDir: o.tmpDir, measureCt: o.measureCt, ctWorker: o.ctWorker, maxVoxels: o.maxVoxels, ctWorkerHeapMb: o.ctWorkerHeapMb,
  });
  await app.register(pacsPlugin, {
    archives: o.pacs ?? [], slots, uploadLimit: o.uploadLimit, maxUploadFiles: o.maxUploadFiles, ctTimeoutMs: o.ctTimeoutMs,
    tmpDir: o.tmpDir, ctWorker: o.ctWorker, maxVoxels: o.maxVoxels, ctWorkerHeapMb: o.ctWorkerHeapMb,
    ...(o.pacsCache?.bytes !== undefined ? { cacheBytes: o.pacsCache.bytes } : {}), ...(o.pacsCache?.seconds !== undefined ? { cacheSeconds: o.pacsCache.seconds } : {}),
  });
  await app.register(ctJobsPlugin, { ...o.ctQueue, pacs: o.pacs ?? [], ctTimeoutMs: o.ctTimeoutMs, uploadLimit: o.uploadLimit, maxUploadFiles: o.maxUploadFiles, tmpDir: o.tmpDir, maxVoxels: o.maxVoxels, workerHeapMb: o.ctWorkerHeapMb });
  await app.register((await import('./fhir.js')).fhirPlugin, { kb });
  await app.register((await import('./cds-hooks.js')).cdsHooksPlugin, { ...o.cds, kb });
  if (store) {
    await app.register(usersPlugin, { store });
    await app.register(registryPlugin, { kb, store });
  }
  await app.register(webPlugin, { ...(o.webRoot !== undefined ? { webRoot: o.webRoot } : {}) });

  return app;
}

export type { FastifyInstance, FastifyReply };
