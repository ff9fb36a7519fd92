/** The service's description: health, the OpenAPI document, and the knowledge base's entities. */
import type { FastifyInstance } from 'fastify';
import type { KnowledgeBase } from '../../core/knowledge/compile.js';
import { CalcdxError } from '../../io/errors.js';
import { kbEntityJson } from '../../report/kb-view.js';
import { VERSION } from '../../report/version.js';
import { openApiDocument } from '../openapi.js';

export interface KbOptions { kb: KnowledgeBase }

export async function kbPlugin(app: FastifyInstance, o: KbOptions): Promise<void> {
  const { kb } = o;
  app.get('/api/health', async () => ({ status: 'ok', version: VERSION, entities: kb.entities.length }));

  app.get('/api/openapi.json', async () => openApiDocument());

  const kbList = kb.entities.map((e) => ({ id: e.id, names: e.names, group: e.group, seed: e.seed }));
  app.get('/api/kb', async () => kbList);
  app.get<{ Params: { id: string } }>('/api/kb/:id', async (req) => {
    const i = kb.entityIndex.get(req.params.id);
    if (i === undefined) throw new CalcdxError('unknown_entity', { id: req.params.id, list: kb.entities.map((e) => e.id).join(', ') });
    return kbEntityJson(kb, kb.entities[i]!);
  });
}
