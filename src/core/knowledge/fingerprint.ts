/**
 * A version of the knowledge base for reports: a short fingerprint of its content (FNV-1a over
 * the compiled rules, plans, sources and entities), so that a printed report says which knowledge
 * it was made with, and any change of the data changes it. Computed once per knowledge base.
 *
 * A knowledge base restored from the build's snapshot (src/io/kb-snapshot.ts) is an exact copy of
 * the compiled one the build fingerprinted, so it adopts that fingerprint instead of computing it
 * again (issue 15: about 10 ms of each command). The snapshot is not used once the YAML or this
 * folder's code changes, so an adopted fingerprint is always the one kbFingerprint would compute.
 */
import type { KnowledgeBase } from './compile.js';

const memo = new WeakMap<KnowledgeBase, string>();

export function kbFingerprint(kb: KnowledgeBase): string {
  let v = memo.get(kb);
  if (v === undefined) {
    const text = JSON.stringify([kb.entities, kb.rules, kb.plans, [...kb.sources.keys()]]);
    let h = 0x811c9dc5;
    for (let i = 0; i < text.length; i++) { h ^= text.charCodeAt(i); h = Math.imul(h, 0x01000193) >>> 0; }
    v = `kb-${h.toString(16).padStart(8, '0')}`;
    memo.set(kb, v);
  }
  return v;
}

/** Gives a knowledge base restored from a snapshot the fingerprint computed at build time from the original. */
export function adoptKbFingerprint(kb: KnowledgeBase, fingerprint: string): void {
  memo.set(kb, fingerprint);
}
