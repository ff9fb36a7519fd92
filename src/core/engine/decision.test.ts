import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { CaseFile } from '../case-format/schema.js';
import { loadKnowledgeBase } from '../../io/kb-files.js';
import { arbitraryCase } from '../../test-support/arbitrary-case.js';
import { ROOT } from '../../test-support/cases.js';
import { assess } from './assess.js';
import { boundedPercent, percentAgainst } from './bounded.js';
import { addDays, addWeeks, isIsoDate } from './dates.js';

const kb = loadKnowledgeBase();
const DATE = '2026-12-03';
const issue14 = (name: string): CaseFile => parse(readFileSync(join(ROOT, 'test', 'fixtures', 'issue14', name), 'utf8')) as CaseFile;
const isoDate = fc.date({ min: new Date('2000-01-01'), max: new Date('2099-12-31'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10));

describe('boundedPercent', () => {
  it('never prints 0% or 100%', () => {
    expect(boundedPercent(0)).toBe('< 1%');
    expect(boundedPercent(0.00013)).toBe('< 1%');
    expect(boundedPercent(0.0099)).toBe('< 1%');
    expect(boundedPercent(0.01)).toBe('1%');
    expect(boundedPercent(0.424)).toBe('42%');
    expect(boundedPercent(0.99)).toBe('99%');
    expect(boundedPercent(0.9951)).toBe('> 99%');
    expect(boundedPercent(1)).toBe('> 99%');
    expect(boundedPercent(Number.NaN)).toBe('< 1%');
    fc.assert(fc.property(fc.double({ min: 0, max: 1, noNaN: true }), (p) => {
      const s = boundedPercent(p);
      expect(s).not.toMatch(/^(0|0\.0|100)%$/);
      expect(s).toMatch(/^(< 1%|> 99%|[1-9]\d?%)$/);
    }));
  });
});

describe('percentAgainst', () => {
  it('does not print a value below a threshold as equal to it', () => {
    expect(percentAgainst(0.0296, 0.03)).toBe('2.9%');
    expect(percentAgainst(0.031, 0.03)).toBe('3%');
    expect(percentAgainst(0.2, 0.03)).toBe('20%');
    expect(percentAgainst(0.001, 0.03)).toBe('< 1%');
  });
});

describe('dates', () => {
  it('adds days and weeks across months, years and leap days', () => {
    expect(addDays('2026-12-03', 28)).toBe('2026-12-31');
    expect(addWeeks('2026-12-03', 6)).toBe('2027-01-14');
    expect(addDays('2028-02-28', 1)).toBe('2028-02-29');
    expect(isIsoDate('2026-02-30')).toBe(false);
    expect(isIsoDate('2026-2-3')).toBe(false);
    expect(isIsoDate('2028-02-29')).toBe(true);
  });
});

describe('issue 14: reassurance never comes without a safety net', () => {
  it('case 1 (trauma, rim, zonal; > 5 cm, deep, painful): dated re-imaging at 4-6 weeks and the reconciling sentence', () => {
    const a = assess(kb, issue14('case1-trauma-zonal.yaml'), { date: DATE });
    const d = a.malignancy.decision;
    expect(a.redFlags.map((f) => f.id)).toEqual(expect.arrayContaining(['size_over_5cm', 'deep_to_fascia', 'painful']));
    expect(a.malignancy.urgentReferral).toBe(false);
    expect(d.kind).toBe('safety_net_reimaging');
    expect(d.entity).toBe('myositis_ossificans');
    expect(d.reimageWeeks).toEqual([4, 6]);
    expect(d.reimageFrom).toBe('2026-12-31');
    expect(d.reimageBy).toBe('2027-01-14');
    expect(d.referIf!.map((r) => r.id)).toContain('not_maturing');
    expect(d.referIf!.map((r) => r.id)).toContain('growing');
    expect(d.reason.en).toMatch(/^> 5 cm, deep and painful are red flags; they do not lead to urgent referral here because the findings characterise myositis ossificans \(probability > 99%\)/);
    expect(d.reason.en).toContain('between 2026-12-31 and 2027-01-14');
    expect(d.reason.en).toContain('refer to a sarcoma team if it is not maturing');
    expect(d.reason.zh).toContain('2026-12-31');
    expect(d.reason.zh).toContain('骨化性肌炎');
    for (const l of ['en', 'zh'] as const) expect(d.reason[l]).not.toMatch(/\{\w+\}|0\.0%|100%/);
  });

  it('case 2 (no trauma, no zonal): still a dated plan with the sentence', () => {
    const a = assess(kb, issue14('case2-no-trauma-no-zonal.yaml'), { date: DATE });
    const d = a.malignancy.decision;
    expect(a.redFlags.length).toBeGreaterThan(0);
    if (d.kind === 'urgent_referral') {
      expect(a.malignancy.urgentReferral).toBe(true);
    } else {
      expect(['safety_net_reimaging', 'sarcoma_centre_review']).toContain(d.kind);
      expect(d.reimageBy ?? d.reviewBy).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(d.reason.en).toMatch(/red flag|not characterised/);
    }
  });

  it('without an assessment date the plan gives weeks and no dates', () => {
    const d = assess(kb, issue14('case1-trauma-zonal.yaml')).malignancy.decision;
    expect(d.reimageWeeks).toEqual([4, 6]);
    expect(d.reimageBy).toBeUndefined();
    expect(d.reason.en).toContain('in 4-6 weeks');
  });

  it('keeps the malignant group visible (can\'t-miss) whatever its rank', () => {
    const a = assess(kb, issue14('case1-trauma-zonal.yaml'), { date: DATE });
    expect(a.cantMiss.length).toBe(3);
    for (const m of a.cantMiss) expect(kb.groups[kb.entityIndex.get(m.id)!]).toBe('malignant');
    expect(a.cantMiss.map((m) => m.probability)).toEqual([...a.cantMiss.map((m) => m.probability)].sort((x, y) => y - x));
  });

  it('an urgent referral says why; a case without red flags and without a safety net is routine', () => {
    const urgent = assess(kb, { formatVersion: 1, history: { recurrenceAfterExcision: true }, lesion: { region: 'thigh' } } as CaseFile, { date: DATE });
    expect(urgent.malignancy.decision.kind).toBe('urgent_referral');
    expect(urgent.malignancy.decision.reason.en).toMatch(/^Urgent referral to a sarcoma team: .*Recurrence after previous excision/);
  });

  it('the safety net data: every referIf id is defined, every entity exists, and every re-imaging interval the knowledge base states for an entity is the safety net\'s', () => {
    const net = kb.plans.safetyNet;
    for (const [id, p] of Object.entries(net.entities)) {
      expect(kb.entityIndex.has(id)).toBe(true);
      for (const r of p.referIf) expect(net.referIf[r]).toBeDefined();
      // one interval everywhere: any "N-M weeks" in texts about re-imaging this entity is the safety net's
      const e = kb.entities[kb.entityIndex.get(id)!]!;
      const texts = [
        ...e.workup.map((w) => w.en), e.followUp.note.en, e.patient.en,
        ...kb.rules.safetyRules.filter((r) => JSON.stringify(r.when).includes(id)).map((r) => r.text.en),
        ...kb.plans.workup.filter((w) => w.when && JSON.stringify(w.when).includes(id)).map((w) => w.en),
      ];
      for (const t of texts) {
        for (const m of t.matchAll(/(\d+)-(\d+) weeks/g)) expect(`${m[1]}-${m[2]}`, t).toBe(`${p.reimageWeeks[0]}-${p.reimageWeeks[1]}`);
      }
    }
    for (const p of Object.values(net.groups)) if (p && 'referIf' in p) for (const r of p.referIf) expect(net.referIf[r]).toBeDefined();
  });
});

describe('a pathology report decides the plan', () => {
  it('a reported sarcoma goes to a sarcoma team, even when the imaging favours a benign lesion', () => {
    const c = parse(readFileSync(join(ROOT, 'test', 'fixtures', 'full-case.yaml'), 'utf8')) as CaseFile;
    const a = assess(kb, c, { date: DATE });
    expect(a.differential[0]!.id).not.toBe('synovial_sarcoma');
    const d = a.malignancy.decision;
    expect(['urgent_referral', 'sarcoma_centre_review']).toContain(d.kind);
    if (d.kind === 'sarcoma_centre_review') {
      expect(d.entity).toBe('synovial_sarcoma');
      expect(d.reviewBy).toBe('2026-12-17');
      expect(d.reason.en).toMatch(/^Pathology reports synovial sarcoma/);
    }
  });
  it('property: a malignant or intermediate pathology never ends in re-imaging or routine', () => {
    const ids = kb.entities.filter((e) => e.group === 'malignant' || e.group === 'intermediate').map((e) => e.id);
    fc.assert(fc.property(arbitraryCase, fc.constantFrom(...ids), (c, id) => {
      const d = assess(kb, { ...c, pathology: { ...(c.pathology ?? {}), diagnosis: id } } as CaseFile, { date: DATE }).malignancy.decision;
      expect(['urgent_referral', 'sarcoma_centre_review']).toContain(d.kind);
    }), { numRuns: 100 });
  });
});

describe('property: a case with a red flag ends in urgent referral or a dated plan', () => {
  it('never neither', () => {
    fc.assert(fc.property(arbitraryCase, isoDate, (c, date) => {
      const a = assess(kb, c, { date });
      const d = a.malignancy.decision;
      expect(d.kind === 'urgent_referral').toBe(a.malignancy.urgentReferral);
      if (a.redFlags.length > 0) {
        expect(d.kind).not.toBe('routine');
        if (!a.malignancy.urgentReferral) {
          const dated = d.kind === 'safety_net_reimaging' ? d.reimageBy : d.reviewBy;
          expect(isIsoDate(dated)).toBe(true);
          expect(dated! > date).toBe(true);
          expect(d.referIf?.length ?? 1).toBeGreaterThan(0);
        }
      }
      for (const l of ['en', 'zh'] as const) {
        expect(d.reason[l].length).toBeGreaterThan(10);
        expect(d.reason[l]).not.toMatch(/\{\w+\}|undefined/);
      }
    }), { numRuns: 300 });
  });
});

describe('issue-14 fixtures', () => {
  it('are both in test/fixtures/issue14', () => {
    expect(readdirSync(join(ROOT, 'test', 'fixtures', 'issue14')).filter((f) => f.endsWith('.yaml')).length).toBe(2);
  });
});
