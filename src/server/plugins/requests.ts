/**
 * Request bookkeeping for every route of the server (a global plugin): a timer per request that
 * answers 408 (body still arriving) or 503 (work too slow) with a problem, aborting the request's
 * work; the abort when the client goes away; one log line per request (method, route pattern,
 * status, duration), never a body, a query string, a file name or anything else from the patient.
 *
 * A route with `config: { upload: true }` (CT uploads) gets `uploadTimeoutMs` instead of
 * `requestTimeoutMs`, and counts as received only when its plugin says so (`app.requests.received`).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { t } from '../../i18n/index.js';
import { HttpProblem, toProblem } from '../problem.js';
import { pathOf, safeLang } from '../request.js';

export interface RequestTracker {
  /** the request's abort signal: aborted on timeout or when its client goes away */
  signalOf(req: FastifyRequest): AbortSignal;
  /** abort the request's work (created aborted if nothing asked for its signal yet) */
  abort(req: FastifyRequest): void;
  /** its body has been read: a timeout is then a 503, not a 408 */
  received(req: FastifyRequest): void;
  wasReceived(req: FastifyRequest): boolean;
}

declare module 'fastify' {
  interface FastifyInstance { requests: RequestTracker }
  interface FastifyContextConfig { upload?: boolean }
}

export interface RequestsOptions {
  requestTimeoutMs: number;
  uploadTimeoutMs: number;
}

async function requests(app: FastifyInstance, o: RequestsOptions): Promise<void> {
  const aborts = new WeakMap<FastifyRequest, AbortController>();
  const timers = new WeakMap<FastifyRequest, NodeJS.Timeout>();
  const receivedSet = new WeakSet<FastifyRequest>();
  const controllerOf = (req: FastifyRequest): AbortController => {
    let c = aborts.get(req);
    if (!c) { c = new AbortController(); aborts.set(req, c); }
    return c;
  };
  const tracker: RequestTracker = {
    signalOf: (req) => controllerOf(req).signal,
    abort: (req) => controllerOf(req).abort(),
    received: (req) => { receivedSet.add(req); },
    wasReceived: (req) => receivedSet.has(req),
  };
  app.decorate('requests', tracker);
  const isUpload = (req: FastifyRequest) => req.routeOptions.config?.upload === true;

  app.addHook('onRequest', async (req, reply) => {
    const ms = isUpload(req) ? o.uploadTimeoutMs : o.requestTimeoutMs;
    timers.set(req, setTimeout(() => {
      if (reply.sent) return;
      const lang = safeLang(req);
      const p = receivedSet.has(req)
        ? toProblem(new HttpProblem(503, 'timeout', (l) => t(l, 'server.timeout', { seconds: Math.round(ms / 1000) })), lang, pathOf(req))
        : toProblem(new HttpProblem(408, 'request_timeout', (l) => t(l, 'server.request_timeout', { seconds: Math.round(ms / 1000) })), lang, pathOf(req));
      reply.code(p.problem.status).header('connection', 'close').type('application/problem+json; charset=utf-8').send(p.problem);
      aborts.get(req)?.abort();
    }, ms).unref());
  });
  app.addHook('preHandler', async (req, reply) => {
    if (!isUpload(req)) receivedSet.add(req);
    if (reply.sent) return reply;
  });
  app.addHook('onResponse', async (req, reply) => {
    clearTimeout(timers.get(req));
    req.log.info({ method: req.method, route: req.routeOptions.url ?? '(no route)', status: reply.statusCode, durationMs: Math.round(reply.elapsedTime * 100) / 100 }, 'request');
  });
  app.addHook('onRequestAbort', async (req) => { clearTimeout(timers.get(req)); aborts.get(req)?.abort(); });
}

export const requestsPlugin = fp(requests, { name: 'calcdx-requests', fastify: '5.x' });
