/**
 * The body formats of the server (a global plugin): a case as JSON, YAML or plain text (either),
 * read as the CLI reads a case file (JSON.parse makes "__proto__" an own key, which validation
 * then refuses as an unknown field), and multipart uploads (CT) under their limits.
 *
 * Global rather than inside the assessment and CT plugins: the not-found handler (404/405) reads
 * a body with the root's parsers, and a 405 on a case or upload route must be answered as before.
 * Plugins with other formats (fhir.ts, cds-hooks.ts) replace all parsers in their own context.
 */
import fastifyMultipart from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { parseCaseText } from '../../io/case-file.js';

declare module 'fastify' {
  interface FastifyInstance { caseBodies: { raw(req: FastifyRequest): Buffer | undefined } }
}

export interface BodiesOptions {
  uploadLimit: number;
  maxUploadFiles: number;
}

async function bodies(app: FastifyInstance, o: BodiesOptions): Promise<void> {
  const rawBodies = new WeakMap<FastifyRequest, Buffer>();
  app.decorate('caseBodies', { raw: (req: FastifyRequest) => rawBodies.get(req) });
  const caseText = (req: FastifyRequest, body: Buffer, done: (err: Error | null, body?: unknown) => void) => {
    rawBodies.set(req, body);
    try { done(null, parseCaseText(body, 'body')); } catch (e) { done(e as Error); }
  };
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser(['application/json', 'text/plain', 'application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml'], { parseAs: 'buffer' }, caseText);
  await app.register(fastifyMultipart, {
    limits: { fileSize: o.uploadLimit, files: o.maxUploadFiles + 1, fields: 20, fieldSize: 64 * 1024, parts: o.maxUploadFiles + 21, headerPairs: 100 },
  });
}

export const bodiesPlugin = fp(bodies, { name: 'calcdx-bodies', fastify: '5.x' });
