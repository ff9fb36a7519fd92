import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENTITY_IDS } from '../case-format/schema.js';
import { checkKnowledgeBase, readRawKnowledgeBase } from '../../io/kb-files.js';
import { compileKnowledgeBase } from './compile.js';
import { resolvePointer } from './pointer.js';
import { ROOT } from '../../test-support/cases.js';

const result = checkKnowledgeBase();

describe('knowledge base', () => {
  it('loads without a single problem', () => {
    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
  });
  if (!result.ok) return;
  const kb = result.kb;

  it('covers every entity id of the case format (at least 23), the seed six marked', () => {
    expect(kb.entities.length).toBeGreaterThanOrEqual(23);
    for (const id of ENTITY_IDS) expect(kb.entityIndex.has(id)).toBe(true);
    const seed = kb.entities.filter((e) => e.seed).map((e) => e.id).sort();
    expect(seed).toEqual(['calcific_tendinitis', 'extraskeletal_chondrosarcoma', 'myositis_ossificans', 'soft_tissue_chondroma', 'soft_tissue_metastasis', 'synovial_sarcoma']);
  });

  it('a finding is neutral (likelihood ratio 1) for an entity that gives it no likelihood, tempered or not', () => {
    const untempered = kb.findings.filter((f) => f.def.evidenceWeight?.value === 1).map((f) => f.def.id);
    expect(untempered).toEqual(expect.arrayContaining(['history.knownPrimaryCancer', 'history.gout', 'history.connectiveTissueDisease', 'history.chronicKidneyDisease']));
    let checked = 0;
    for (const f of kb.findings) {
      const k = f.values.length;
      kb.entities.forEach((e, ei) => {
        if (e.likelihoods[f.def.id] !== undefined) return;
        // the likelihood floor may lift a reference value below it; every other value keeps likelihood ratio 1
        const fl = f.def.likelihoodFloor?.value ?? kb.rules.thresholds.likelihoodFloor.value;
        for (let v = 0; v < k; v++) if (f.reference[v]! >= fl) { expect(Math.abs(f.logLr[ei * k + v]!), `${e.id} ${f.def.id}=${f.values[v]}`).toBeLessThan(0.02); checked++; }
      });
    }
    expect(checked).toBeGreaterThan(1000);
  });

  it("a finding's own likelihood floor replaces the general one (age: registry-measured shares stay rare)", () => {
    const general = kb.rules.thresholds.likelihoodFloor.value;
    const age = kb.findings[kb.findingIndex.get('patient.age')!]!;
    const own = age.def.likelihoodFloor!.value;
    expect(own).toBeLessThan(general);
    const k = age.values.length;
    const lt5 = age.values.indexOf('lt5');
    let belowGeneral = 0;
    kb.entities.forEach((e, ei) => {
      for (let v = 0; v < k; v++) expect(age.lik[ei * k + v]!, `${e.id} ${age.values[v]}`).toBeGreaterThanOrEqual(own * 0.99);
      if (age.lik[ei * k + lt5]! < general) belowGeneral++;
      // the sarcomas are tumours of adolescents and adults: under 5 they are less likely than in calcified lesions in general
      if (kb.groups[ei] === 'malignant') expect(age.logLr[ei * k + lt5]!, e.id).toBeLessThan(0);
    });
    expect(belowGeneral).toBeGreaterThan(0);
    // every other finding keeps the general floor
    for (const f of kb.findings) if (f !== age && !f.def.likelihoodFloor) {
      for (let i = 0; i < f.lik.length; i++) expect(f.lik[i]!).toBeGreaterThan(general * 0.5);
    }
  });

  it('has zh and en text everywhere', () => {
    const visit = (n: unknown, path: string): void => {
      if (Array.isArray(n)) n.forEach((x, i) => visit(x, `${path}.${i}`));
      else if (n && typeof n === 'object') {
        const o = n as Record<string, unknown>;
        if ('en' in o || 'zh' in o) {
          expect(typeof o.en, `${path}.en`).toBe('string');
          expect(typeof o.zh, `${path}.zh`).toBe('string');
          expect((o.zh as string).length, `${path}.zh`).toBeGreaterThan(0);
          expect(/[\u4e00-\u9fff]/.test(o.zh as string) || /^[\x20-\x7e]*$/.test(o.zh as string), `${path}.zh has Chinese`).toBe(true);
        }
        for (const [k, v] of Object.entries(o)) visit(v, `${path}.${k}`);
      }
    };
    for (const e of kb.entities) visit(e, e.id);
    visit(kb.plans, 'plans');
    visit(kb.rules, 'rules');
  });

  it('every compiled likelihood is a probability and every distribution sums to 1', () => {
    for (const f of kb.findings) {
      const k = f.values.length;
      for (let e = 0; e < kb.entities.length; e++) {
        let s = 0;
        for (let v = 0; v < k; v++) {
          const p = f.lik[e * k + v]!;
          expect(p).toBeGreaterThan(0);
          expect(p).toBeLessThan(1);
          s += p;
        }
        expect(s).toBeCloseTo(1, 9);
      }
    }
  });

  it('every number has a source or the expert-estimate mark', () => {
    for (const e of kb.entities) {
      for (const [fid, l] of Object.entries(e.likelihoods)) {
        expect(l.src === 'expert' || (Array.isArray(l.src) && l.src.length > 0), `${e.id}.${fid}`).toBe(true);
      }
      const local = new Set(e.sources.map((s) => s.id));
      for (const s of e.sources) expect(s.url).toMatch(/^https?:\/\//);
      expect(e.prior.src === 'expert' || e.prior.src.every((id) => local.has(id) || kb.sources.has(id))).toBe(true);
    }
  });

  it("a history fact's reference is its population prevalence where sourced, so the entity it points to gains against every unrelated one", () => {
    const based = kb.findings.filter((f) => f.def.referenceBasis).map((f) => f.def.id);
    expect(based).toEqual(expect.arrayContaining(['history.connectiveTissueDisease', 'history.dialysis', 'history.hyperparathyroidism', 'history.neurologicInjuryOrBurns']));
    for (const f of kb.findings.filter((x) => x.def.referenceBasis)) {
      expect(f.def.referenceBasis!.src === 'expert' || f.def.referenceBasis!.src.every((id) => kb.sources.has(id)), f.def.id).toBe(true);
      // a rare fact: every value but the commonest ('none' / false) is at most 1% in the population
      const k = f.values.length;
      const ref = [...f.reference];
      const top = ref.indexOf(Math.max(...ref));
      ref.forEach((r, v) => { if (v !== top) expect(r, `${f.def.id}=${f.values[v]}`).toBeLessThanOrEqual(0.01); });
      // an entity that lists the fact with a higher share than the population's gains by at least that ratio
      kb.entities.forEach((e, ei) => {
        const l = e.likelihoods[f.def.id];
        if (l === undefined) return;
        for (let v = 0; v < k; v++) if (v !== top && f.lik[ei * k + v]! > 10 * f.reference[v]!) expect(f.logLr[ei * k + v]!, `${e.id} ${f.def.id}=${f.values[v]}`).toBeGreaterThan(Math.log(5));
      });
    }
    const raw = readRawKnowledgeBase();
    const bad = structuredClone(raw);
    const dialysis = (bad.findings as { findings: Record<string, any>[] }).findings.find((x) => x.id === 'history.dialysis')!;
    dialysis.referenceBasis = { src: ['no-such-source'], note: { en: 'x', zh: '无' } };
    const r = compileKnowledgeBase(bad);
    expect(r.problems.map((p) => `${p.path}: ${p.message}`).join('\n')).toMatch(/findings\.history\.dialysis\.referenceBasis\.src: unknown source id "no-such-source"/);
  });

  it('a recurrence after excision implies an operation at the site: P(surgery) >= P(recurrence) for every entity and the reference', () => {
    const s = kb.findings[kb.findingIndex.get('history.surgeryAtSite')!]!;
    const r = kb.findings[kb.findingIndex.get('history.recurrenceAfterExcision')!]!;
    const t = s.values.indexOf('true');
    expect(r.values.indexOf('true')).toBe(t);
    expect(s.reference[t]!).toBeGreaterThanOrEqual(r.reference[t]!);
    kb.entities.forEach((e, ei) => {
      expect(s.lik[ei * 2 + t]!, e.id).toBeGreaterThanOrEqual(r.lik[ei * 2 + t]! - 1e-12);
    });
  });

  it('deposits around several joints or widespread are several lesions: P(multiple) >= P(not localised) for every entity and the reference', () => {
    const count = kb.findings[kb.findingIndex.get('lesion.count')!]!;
    const dist = kb.findings[kb.findingIndex.get('lesion.distribution')!]!;
    const m = count.values.indexOf('multiple');
    const loc = dist.values.indexOf('localized');
    const kc = count.values.length, kd = dist.values.length;
    expect(count.reference[m]!).toBeGreaterThanOrEqual(1 - dist.reference[loc]!);
    kb.entities.forEach((e, ei) => {
      expect(count.lik[ei * kc + m]!, e.id).toBeGreaterThanOrEqual(1 - dist.lik[ei * kd + loc]! - 1e-9);
    });
  });

  it('rejects a knowledge base with a bad probability, an unknown finding or a missing translation', () => {
    const raw = readRawKnowledgeBase();
    const bad = structuredClone(raw);
    const ent = bad.entities.find((x) => x.file.endsWith('synovial_sarcoma.yaml'))!.data as Record<string, any>;
    ent.likelihoods['imaging.mri.fluidFluidLevels'].p = 1.5;
    ent.likelihoods['imaging.mri.sparkles'] = { p: 0.5, src: 'expert' };
    delete ent.names.zh;
    const r = compileKnowledgeBase(bad);
    expect(r.ok).toBe(false);
    const msgs = r.problems.map((p) => `${p.path}: ${p.message}`).join('\n');
    expect(msgs).toMatch(/likelihoods\.imaging\.mri\.fluidFluidLevels\.p/);
    expect(msgs).toMatch(/names\.zh/);
    const bad2 = structuredClone(raw);
    (bad2.entities.find((x) => x.file.endsWith('synovial_sarcoma.yaml'))!.data as Record<string, any>).likelihoods['imaging.mri.sparkles'] = { p: 0.5, src: 'expert' };
    const r2 = compileKnowledgeBase(bad2);
    expect(r2.problems.map((p) => p.message).join('\n')).toMatch(/unknown finding "imaging\.mri\.sparkles"/);
  });
});

describe('seed coverage map', () => {
  if (!result.ok) return;
  const kb = result.kb;
  const seedMap = kb.seedMap!;
  // a verbatim copy of ../shared/seed, bundled so the test runs from any checkout
  const seedText = readFileSync(join(ROOT, 'data', 'seed', 'seed-article.txt'), 'utf8');
  const norm = (s: string) => s.replace(/^\s*(?:•|\d+\.)\s*/, '').replace(/\s+/g, '').replace(/[。.]$/, '');

  it('every pointer resolves to a knowledge-base item', () => {
    expect(seedMap.statements.length).toBeGreaterThanOrEqual(40);
    for (const s of seedMap.statements) for (const p of s.carriedBy) expect(resolvePointer(kb, p), `${s.id} → ${p}`).toBeDefined();
  });

  it('every statement of the seed article is mapped', () => {
    // the article body: from the first paragraph to the advice to patients, without page furniture
    const lines = seedText.split('\n').map((l) => l.trim().replace(/^•\s*/, '')).filter(Boolean);
    const start = lines.findIndex((l) => l.startsWith('软组织肿瘤伴大量钙化影是'));
    const end = lines.findIndex((l) => l.startsWith('上一篇'));
    const headings = new Set(['钙化形成的机制与意义', '影像学表现特征', '临床分类与鉴别诊断', '良性病变', '恶性病变', '治疗策略选择', '手术治疗', '非手术治疗', '预后与随访', '总结建议']);
    const body = lines.slice(start, end).filter((l) => !headings.has(l) && !/^\d+\.\s*\S{1,12}$/.test(l) && !/^\d+\.\s*(X线|CT|MRI|超声)表现$/.test(l));
    const mapped = seedMap.statements.map((s) => norm(s.zh));
    const unmapped = body.filter((l) => { const n = norm(l); return n.length > 0 && !mapped.some((m) => m.includes(n) || n.includes(m)); });
    expect(unmapped).toEqual([]);
  });
});
