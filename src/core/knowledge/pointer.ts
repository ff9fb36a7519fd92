/**
 * Resolves knowledge-base pointers of the seed coverage map:
 * `entity:<id>#<path>`, `plans#<path>`, `rules#<path>`, `findings#<findingId>`.
 * Path segments are dotted; a list item is addressed by its `id` (or index); a key that
 * itself contains dots (likelihoods.imaging.ct.maxHU) is matched greedily.
 */
import type { KnowledgeBase } from './compile.js';

function walk(node: unknown, segs: string[]): unknown {
  let i = 0;
  let n: unknown = node;
  while (i < segs.length) {
    if (Array.isArray(n)) {
      const seg = segs[i]!;
      const byId = n.find((x) => x && typeof x === 'object' && (x as { id?: unknown }).id === seg);
      n = byId ?? (/^\d+$/.test(seg) ? n[Number(seg)] : undefined);
      i++;
    } else if (n && typeof n === 'object') {
      let matched = false;
      for (let j = segs.length; j > i; j--) {
        const key = segs.slice(i, j).join('.');
        if (Object.prototype.hasOwnProperty.call(n, key)) { n = (n as Record<string, unknown>)[key]; i = j; matched = true; break; }
      }
      if (!matched) return undefined;
    } else return undefined;
  }
  return n;
}

export function resolvePointer(kb: KnowledgeBase, pointer: string): unknown {
  const hash = pointer.indexOf('#');
  if (hash < 0) return undefined;
  const head = pointer.slice(0, hash);
  const path = pointer.slice(hash + 1);
  const segs = path === '' ? [] : path.split('.');
  if (head === 'plans') return walk(kb.plans, segs);
  if (head === 'rules') return walk(kb.rules, segs);
  if (head === 'findings') {
    const i = kb.findingIndex.get(path);
    return i === undefined ? undefined : kb.findings[i]!.def;
  }
  if (head.startsWith('entity:')) {
    const i = kb.entityIndex.get(head.slice('entity:'.length));
    return i === undefined ? undefined : walk(kb.entities[i], segs);
  }
  return undefined;
}
