/** The browser app (dist/web, built by `npm run build:web`); a 503 problem at / when it is not built. */
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { t } from '../../i18n/index.js';
import { HttpProblem } from '../problem.js';

export const DEFAULT_WEB_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'dist', 'web');

export interface WebOptions {
  /** where the browser app is (index.html); default dist/web of this package */
  webRoot?: string;
}

export async function webPlugin(app: FastifyInstance, o: WebOptions): Promise<void> {
  const webRoot = o.webRoot ?? DEFAULT_WEB_ROOT;
  if (existsSync(resolve(webRoot, 'index.html'))) {
    await app.register(fastifyStatic, { root: webRoot, prefix: '/', index: ['index.html'], wildcard: true, cacheControl: true, maxAge: 0 });
  } else {
    app.get('/', async (req) => {
      void req;
      throw new HttpProblem(503, 'web_not_built', (l) => t(l, 'server.web_not_built'));
    });
  }
}
