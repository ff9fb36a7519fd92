import { describe, expect, it } from 'vitest';
import { compileKnowledgeBase } from '../knowledge/compile.js';
import { loadKnowledgeBase, readRawKnowledgeBase } from '../../io/kb-files.js';

const kb = loadKnowledgeBase();
const raw = readRawKnowledgeBase();
const lr = (finding: string, entity: string, value: string): number => {
  const f = kb.findings[kb.findingIndex.get(finding)!]!;
  return Math.exp(f.logLr[kb.entityIndex.get(entity)! * f.values.length + f.values.indexOf(value)]!);
};

describe('per-finding evidence weight', () => {
  it('a known cancer is not tempered: plain likelihood ratios (metastasis 0.12 / 0.015 = 8 for breast; an entity without its own figure 1)', () => {
    expect(kb.findings[kb.findingIndex.get('history.knownPrimaryCancer')!]!.def.evidenceWeight?.value).toBe(1);
    expect(lr('history.knownPrimaryCancer', 'soft_tissue_metastasis', 'breast')).toBeCloseTo(8, 6);
    // 0.997: the likelihood floor (0.5%) lifts the rarest reference values before renormalising
    expect(lr('history.knownPrimaryCancer', 'calcific_tendinitis', 'breast')).toBeCloseTo(1, 2);
  });

  it('without the override the finding is tempered by thresholds.evidenceWeight like the others', () => {
    const r = structuredClone(raw);
    const f = (r.findings as { findings: Array<{ id: string; evidenceWeight?: unknown }> }).findings.find((x) => x.id === 'history.knownPrimaryCancer')!;
    delete f.evidenceWeight;
    const c = compileKnowledgeBase(r);
    if (!c.ok) throw new Error('compile');
    const F = c.kb.findings[c.kb.findingIndex.get('history.knownPrimaryCancer')!]!;
    const m = c.kb.entityIndex.get('soft_tissue_metastasis')!;
    const t = c.kb.entityIndex.get('calcific_tendinitis')!;
    const b = F.values.indexOf('breast');
    const ratio = Math.exp(F.logLr[m * F.values.length + b]! - F.logLr[t * F.values.length + b]!);
    expect(ratio).toBeLessThan(5);
    expect(ratio).toBeGreaterThan(3);
  });
});
