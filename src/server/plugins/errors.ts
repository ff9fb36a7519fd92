/**
 * Errors as problems (RFC 9457), for every route of the server (a global plugin): the error
 * handler (a case field named as people name it, "Age", with its path in `path`; an internal
 * error logged by kind and place, never by its message, which may quote the input), and the
 * not-found handler (a path that exists with other methods is a 405 with Allow, else a 404).
 * `clientProblem` answers the errors of node's HTTP parser, before there is a request.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { KnowledgeBase } from '../../core/knowledge/compile.js';
import { t, type Lang } from '../../i18n/index.js';
import { fieldLabel } from '../../report/describe.js';
import { HttpProblem, RenderedProblem, toProblem } from '../problem.js';
import { pathOf, safeLang } from '../request.js';

/**
 * An error of node's HTTP parser, before there is a request: a malformed request (400), headers
 * larger than node accepts (431), headers that did not arrive in time (408). Answered on the
 * socket as a problem in English (no Accept-Language was read), then the connection is closed.
 */
export function clientProblem(err: Error & { code?: string }, socket: Socket, headersTimeoutMs: number): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const e = err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
    ? new HttpProblem(408, 'request_timeout', (l) => t(l, 'server.header_timeout', { seconds: Math.round(headersTimeoutMs / 1000) }))
    : err.code === 'HPE_HEADER_OVERFLOW'
      ? new HttpProblem(431, 'header_too_large', (l) => t(l, 'server.header_too_large'))
      : new HttpProblem(400, 'bad_request', (l) => t(l, 'server.bad_request'), err.code?.startsWith('HPE_') ? { reason: err.code } : {});
  const { problem } = toProblem(e, 'en', '');
  const body = Buffer.from(JSON.stringify(problem));
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status] ?? ''}\r\nContent-Type: application/problem+json; charset=utf-8\r\n`
      + `Content-Length: ${body.length}\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n`);
    socket.write(body);
  }
  socket.destroy();
}

export interface ErrorsOptions { kb: KnowledgeBase }

async function errors(app: FastifyInstance, o: ErrorsOptions): Promise<void> {
  const labelOf = (path: string, l: Lang): string | undefined => fieldLabel(o.kb, path, l);
  app.setErrorHandler((err, req, reply) => {
    // answered already (a timeout): what the abandoned work throws afterwards has nobody to go to
    if (reply.sent) return;
    const lang = safeLang(req);
    const { problem, headers, internal } = toProblem(err, lang, pathOf(req), labelOf);
    if (internal) {
      const e = err as Error & { code?: string };
      // the message may quote the input: log the kind of error and where, not what it said
      req.log.error({ err: err instanceof RenderedProblem && err.log ? err.log : { type: e?.name, code: e?.code, stack: e?.stack?.split('\n').slice(1).join('\n') } }, 'internal error');
    }
    if (!app.requests.wasReceived(req) && req.method === 'POST') reply.header('connection', 'close');
    void reply.code(problem.status).headers(headers).type('application/problem+json; charset=utf-8').send(problem);
  });
  // the app's catch-all GET is left out of the routes a 405 lists
  const routes: Array<{ method: string; re: RegExp }> = [];
  app.addHook('onRoute', (r) => {
    if (r.url.includes('*')) return;
    const re = new RegExp(`^${r.url.split('/').map((seg) => (seg.startsWith(':') ? '[^/]+' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('/')}$`);
    for (const m of [r.method].flat()) routes.push({ method: m, re });
  });
  app.setNotFoundHandler((req, reply) => {
    const lang = safeLang(req);
    const path = pathOf(req);
    const allow = [...new Set(routes.filter((r) => r.re.test(path)).map((r) => r.method))];
    const e = allow.length
      ? new HttpProblem(405, 'method_not_allowed', (l) => t(l, 'server.method_not_allowed', { method: req.method, allowed: allow.join(', ') }), { headers: { allow: allow.join(', ') } })
      : new HttpProblem(404, 'not_found', (l) => t(l, 'server.not_found', { method: req.method }));
    const { problem, headers } = toProblem(e, lang, path);
    if (req.method !== 'GET' && req.method !== 'HEAD') reply.header('connection', 'close');
    void reply.code(problem.status).headers(headers).type('application/problem+json; charset=utf-8').send(problem);
  });
}

export const errorsPlugin = fp(errors, { name: 'calcdx-errors', fastify: '5.x', dependencies: ['calcdx-requests'] });
