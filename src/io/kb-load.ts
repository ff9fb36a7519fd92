/**
 * The bundled knowledge base for a command (issue 15): the build's snapshot when it is current,
 * read without loading the knowledge-base compiler and its zod schemas, whose construction is a
 * large part of a short command's time; else compiled from the YAML by ./kb-files.ts (imported
 * only then). Either way the same object as ./kb-files.ts loadKnowledgeBase() returns.
 */
import type { KnowledgeBase } from '../core/knowledge/compile.js';
import { readBundledSnapshot } from './kb-snapshot.js';

export async function loadBundledKnowledgeBase(): Promise<KnowledgeBase> {
  return readBundledSnapshot() ?? (await import('./kb-files.js')).loadKnowledgeBase();
}
