import { describe, expect, it } from 'vitest';
import { assess } from '../core/engine/assess.js';
import { t } from '../i18n/index.js';
import { loadKnowledgeBase } from '../io/kb-files.js';
import { exampleCases } from '../test-support/cases.js';
import { buildClinicianReport, buildPatientReport } from './build.js';
import type { Block } from './document.js';

const kb = loadKnowledgeBase();
const textOf = (blocks: Block[]): string => JSON.stringify(blocks);

describe('patient report', () => {
  it('a case with a likely diagnosis explains that diagnosis in plain words', () => {
    const c = exampleCases().find((x) => x.file.startsWith('calcific-tendinitis'))!;
    const a = assess(kb, c.case);
    expect(a.differential[0]!.probability).toBeGreaterThanOrEqual(0.5);
    const lead = kb.entities[kb.entityIndex.get(a.differential[0]!.id)!]!;
    for (const lang of ['en', 'zh'] as const) {
      const doc = textOf(buildPatientReport(kb, a, lang).blocks);
      expect(doc).toContain(JSON.stringify(lead.patient[lang]).slice(1, -1));
      expect(doc).not.toContain(JSON.stringify(t(lang, 'patient.notYetClear')).slice(1, -1));
    }
  });
  it('when no diagnosis is more likely than not, it says the lump is not yet clear and lists the likeliest, describing none as the answer', () => {
    const a = assess(kb, { formatVersion: 1, patient: { age: 40 } });
    expect(a.differential[0]!.probability).toBeLessThan(0.5);
    const lead = kb.entities[kb.entityIndex.get(a.differential[0]!.id)!]!;
    for (const lang of ['en', 'zh'] as const) {
      const doc = textOf(buildPatientReport(kb, a, lang).blocks);
      expect(doc).toContain(JSON.stringify(t(lang, 'patient.notYetClear')).slice(1, -1));
      expect(doc).not.toContain(JSON.stringify(lead.patient[lang]).slice(1, -1));
      for (const d of a.differential.slice(0, 3)) expect(doc).toContain(kb.entities[kb.entityIndex.get(d.id)!]!.names[lang]);
    }
  });
});

describe('clinician report', () => {
  it('shows input notes (warnings) as alerts before the red flags', () => {
    const a = assess(kb, { formatVersion: 1 });
    const blocks = buildClinicianReport(kb, a, 'en').blocks;
    const warn = blocks.findIndex((b) => b.kind === 'alert' && b.level === 'warning' && b.text.includes('finding(s) beyond age, sex and site'));
    const flags = blocks.findIndex((b) => b.kind === 'heading' && b.text === t('en', 'report.redFlags'));
    expect(warn).toBeGreaterThan(0);
    expect(warn).toBeLessThan(flags);
  });
});
