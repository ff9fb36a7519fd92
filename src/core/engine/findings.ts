/**
 * Reads the case into observed findings: for each catalogue finding the case answers,
 * the index of the value it takes. Omitted fields are unknown and produce nothing.
 */
import type { CaseFile } from '../case-format/schema.js';
import type { CompiledFinding, KnowledgeBase } from '../knowledge/compile.js';

export interface Observation {
  finding: number;
  value: number;
}

export function getField(c: unknown, path: readonly string[]): unknown {
  let node: unknown = c;
  for (const seg of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[seg];
  }
  return node;
}

/**
 * The value index the case gives a finding, -1 when unknown. A member finding (one pattern of a
 * list) is present when the list names it, absent only when the list of excluded members
 * (`absentRaw`) names it, and unknown otherwise: a list names what was seen, not what was looked for.
 */
export function valueIndexOf(f: CompiledFinding, raw: unknown, absentRaw?: unknown): number {
  const def = f.def;
  switch (def.kind) {
    case 'boolean':
      return typeof raw === 'boolean' ? (raw ? 0 : 1) : -1;
    case 'member':
      if (Array.isArray(raw) && raw.includes(f.member)) return 0;
      return Array.isArray(absentRaw) && absentRaw.includes(f.member) ? 1 : -1;
    case 'enum':
      return typeof raw === 'string' ? f.values.indexOf(raw) : -1;
    case 'binned': {
      if (typeof raw !== 'number') return -1;
      const bins = def.bins;
      for (let i = 0; i < bins.length; i++) {
        const b = bins[i]!;
        if (b.below !== undefined ? raw < b.below : b.atMost !== undefined ? raw <= b.atMost : true) return i;
      }
      return bins.length - 1;
    }
  }
}

export function observe(kb: KnowledgeBase, c: CaseFile): Observation[] {
  const out: Observation[] = [];
  for (const group of kb.readPlan) {
    const parent = getField(c, group.parent);
    if (parent === null || typeof parent !== 'object') continue;
    for (const m of group.members) {
      const raw = (parent as Record<string, unknown>)[m.key];
      const absentRaw = m.absentKey === undefined ? undefined : (parent as Record<string, unknown>)[m.absentKey];
      if (raw === undefined && absentRaw === undefined) continue;
      const v = valueIndexOf(kb.findings[m.finding]!, raw, absentRaw);
      if (v >= 0) out.push({ finding: m.finding, value: v });
    }
  }
  return out;
}

/**
 * How many findings beyond the demographic ones (age, sex, site) the case gives; the members of one
 * list (calcification morphology) count once. With stopAt, counting stops there (enough is enough).
 */
export function knownFindingCount(kb: KnowledgeBase, obs: readonly Observation[], stopAt = Infinity): number {
  const known = new Set<string>();
  for (const o of obs) {
    const def = kb.findings[o.finding]!.def;
    if (def.role !== 'demographic') known.add(def.kind === 'member' ? def.field : def.id);
    if (known.size >= stopAt) break;
  }
  return known.size;
}
