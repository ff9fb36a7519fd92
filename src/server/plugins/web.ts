/**
 * The browser app (dist/web, built by `npm run build:web`); a 503 problem at / when it is not built.
 *
 * Files of the app are served as they are. The app's pages live at their own paths
 * (/patients/42, /worklist, …; web/src/app/routes.ts): a GET of a path that is no file, outside
 * /api/ and /fhir/, from a browser asking for HTML (Accept: text/html) is answered with
 * index.html, whose assets are addressed from the root (/app.js), and the app's router draws the
 * page. Anything else that is not a file (an /api path, a script or image that does not exist,
 * another method) stays the not-found / method-not-allowed problem of the errors plugin.
 */
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { existsSync, statSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { t } from '../../i18n/index.js';
import { HttpProblem } from '../problem.js';
import { packagePath } from '../../io/package-root.js';

export const DEFAULT_WEB_ROOT = packagePath('dist', 'web');

export interface WebOptions {
  /** where the browser app is (index.html); default dist/web of this package */
  webRoot?: string;
}

/** paths that are never the app's pages: their unknown addresses stay problems */
const NOT_PAGES = /^\/(api|fhir|cds-services)(\/|$)/;

/** a GET the app's index.html answers: not a file, not an API path, from a browser asking for HTML */
export function isPageRequest(path: string, accept: string | undefined): boolean {
  return !NOT_PAGES.test(path) && /\btext\/html\b/i.test(accept ?? '');
}

/** a path with a parent segment (either slash) or a NUL: left to the static files' own checks (403 / 400) */
const SUSPICIOUS = /(?:^|[\\/])\.\.(?:[\\/]|$)|\0/;

/** the file of the app a (decoded) path names, or undefined (no such file, a folder, or outside the root) */
function fileOf(root: string, rel: string): string | undefined {
  if (SUSPICIOUS.test(rel)) return undefined;
  const abs = resolve(root, `.${rel}`);
  if (abs !== root && !abs.startsWith(root + sep)) return undefined;
  try { return statSync(abs).isFile() ? abs.slice(root.length + 1).split(sep).join('/') : undefined; } catch { return undefined; }
}

export async function webPlugin(app: FastifyInstance, o: WebOptions): Promise<void> {
  const webRoot = resolve(o.webRoot ?? DEFAULT_WEB_ROOT);
  if (existsSync(resolve(webRoot, 'index.html'))) {
    // reply.sendFile only; the one route below chooses the file
    await app.register(fastifyStatic, { root: webRoot, serve: false, cacheControl: true, maxAge: 0 });
    const serve = async (req: FastifyRequest, reply: FastifyReply) => {
      const path = req.url.split('?')[0]!;
      if (path === '/') return reply.sendFile('index.html');
      let rel: string;
      try { rel = decodeURIComponent(path); } catch {
        throw Object.assign(new Error('malformed path'), { statusCode: 400 });
      }
      const file = fileOf(webRoot, rel);
      if (file) return reply.sendFile(file);
      if (!SUSPICIOUS.test(rel) && isPageRequest(path, req.headers.accept)) return reply.sendFile('index.html');
      // anything else meets the static files' own checks: a refused path is their 403 or 400, a missing file the not-found problem
      return reply.sendFile(rel);
    };
    app.get('/', serve);
    app.get('/*', serve);
  } else {
    app.get('/', async (req) => {
      void req;
      throw new HttpProblem(503, 'web_not_built', (l) => t(l, 'server.web_not_built'));
    });
  }
}
