import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { CaseFile } from '../core/case-format/schema.js';
import { assess } from '../core/engine/assess.js';
import type { NextQuestion } from '../core/engine/next-questions.js';
import { t } from '../i18n/index.js';
import { loadKnowledgeBase } from '../io/kb-files.js';
import { arbitraryCase } from '../test-support/arbitrary-case.js';
import { exampleCases, ROOT } from '../test-support/cases.js';
import { buildClinicianReport, buildPatientReport, sentences } from './build.js';
import type { Block, ReportDocument } from './document.js';
import { mergeNextQuestions, shownEvidence } from './format.js';
import { assessmentToJson } from './json.js';
import { renderHtml } from './render-html.js';
import { renderMarkdown, renderText } from './render-text.js';

const kb = loadKnowledgeBase();
const DATE = '2026-12-03';
const textOf = (blocks: Block[]): string => JSON.stringify(blocks);
const issue14 = (name: string): CaseFile => parse(readFileSync(join(ROOT, 'test', 'fixtures', 'issue14', name), 'utf8')) as CaseFile;
const example = (name: string): CaseFile => exampleCases().find((x) => x.file.startsWith(name))!.case;
const renders = (doc: ReportDocument): string[] => [renderText(doc), renderMarkdown(doc), renderHtml(doc)];
const section = (doc: ReportDocument, role: 'summary' | 'appendix'): Block[] => {
  const s = doc.blocks.find((b) => b.kind === 'section' && b.role === role);
  return s && s.kind === 'section' ? s.blocks : [];
};
/** the patient-facing sentences of a report (not headings, titles or the timeline) */
function patientSentences(doc: ReportDocument): string[] {
  const out: string[] = [];
  for (const b of doc.blocks) {
    if (b.kind === 'paragraph') out.push(...sentences(b.text.map((x) => (typeof x === 'string' ? x : 'strong' in x ? x.strong : x.text)).join('')));
    if (b.kind === 'alert') out.push(...sentences(b.text));
    if (b.kind === 'list') for (const it of b.items) out.push(...sentences(it.map((x) => (typeof x === 'string' ? x : 'strong' in x ? x.strong : x.text)).join('')));
  }
  return out;
}

describe('clinician report: issue 14 cases', () => {
  for (const file of ['case1-trauma-zonal.yaml', 'case2-no-trauma-no-zonal.yaml']) {
    it(`${file}: the summary carries the dated plan and the sentence that reconciles the red flags, in every format and language`, () => {
      const a = assess(kb, issue14(file), { date: DATE });
      const d = a.malignancy.decision;
      for (const lang of ['en', 'zh'] as const) {
        const doc = buildClinicianReport(kb, a, lang);
        const summary = textOf(section(doc, 'summary'));
        expect(summary).toContain(JSON.stringify(d.reason[lang]).slice(1, -1));
        expect(summary).toContain(DATE);
        if (d.reimageBy) expect(summary).toContain(d.reimageBy);
        for (const r of renders(doc)) {
          expect(r).toContain(d.reimageBy ?? d.reviewBy ?? DATE);
          const shown = r.replace(/<style>[\s\S]*?<\/style>/, '').replace(/(width|height)="100%"/g, '');
          expect(shown).not.toMatch(/(^|[^\d.])(0\.0|100)\s?%/);
        }
        const j = assessmentToJson(kb, a, lang);
        expect((j.malignancy as { decision: { reason: string } }).decision.reason).toBe(d.reason[lang]);
      }
    });
  }

  it('case 1 (likely early myositis ossificans): follow-up starts with re-imaging at 4-6 weeks and "refer if not maturing"; no scar, no treatment of other diagnoses', () => {
    const a = assess(kb, issue14('case1-trauma-zonal.yaml'), { date: DATE });
    const doc = buildClinicianReport(kb, a, 'en');
    const appendix = section(doc, 'appendix');
    const fu = appendix.findIndex((b) => b.kind === 'heading' && b.text === t('en', 'report.followUp'));
    expect(fu).toBeGreaterThan(0);
    const first = JSON.stringify(appendix[fu + 1]);
    expect(first).toContain('2026-12-31');
    expect(first).toContain('not maturing');
    const text = renderText(doc);
    expect(text).not.toMatch(/scar/i);
    expect(text).not.toMatch(/allopurinol|colchicine|lavage|barbotage|sevelamer|shock-wave/i);
    expect(text).not.toContain('Benign tumours: good prognosis');
  });
});

describe('clinician report for the chart', () => {
  it('page 1 is a summary: findings, conclusion, decision, top differential, can\'t-miss, next step, dated with both versions', () => {
    const a = assess(kb, example('synovial-sarcoma'), { date: DATE });
    const doc = buildClinicianReport(kb, a, 'en');
    expect(doc.blocks.map((b) => b.kind === 'section' && b.role)).toEqual(['summary', 'appendix']);
    const s = textOf(section(doc, 'summary'));
    for (const key of ['report.findingsEntered', 'report.conclusion', 'report.topDifferential', 'report.cantMiss', 'report.nextStep']) expect(s).toContain(t('en', key));
    expect(s).toMatch(/Assessed 2026-12-03 · calcdx \d+\.\d+\.\d+ · knowledge base kb-[0-9a-f]{8}/);
    expect(s).toContain('Region: knee');
    expect(s).toContain('Size: 7 cm');
  });

  it('shows the evidence the JSON lists (|log LR| ≥ ln 1.1) and no weaker term', () => {
    const a = assess(kb, example('synovial-sarcoma'), { date: DATE });
    const table = section(buildClinicianReport(kb, a, 'en'), 'appendix').find((b) => b.kind === 'table')!;
    if (table.kind !== 'table') throw new Error('no table');
    const j = assessmentToJson(kb, a, 'en').differential as Array<{ evidence?: Array<{ text: string; role: string; direction: string }> }>;
    a.differential.slice(0, 5).forEach((d, i) => {
      const row = table.rows[i]!.join(' | ');
      for (const e of j[i]!.evidence!) expect(row).toContain(e.text);
      const shown = shownEvidence(d);
      expect(shown.for.length + shown.against.length + shown.prior.length).toBe(j[i]!.evidence!.length);
    });
  });

  it('no internal labels: no finding paths, rule ids or raw "expert" tags; each source once', () => {
    for (const c of [...exampleCases().map((x) => x.case), issue14('case1-trauma-zonal.yaml')]) {
      const a = assess(kb, c, { date: DATE });
      for (const lang of ['en', 'zh'] as const) {
        const text = renderText(buildClinicianReport(kb, a, lang));
        expect(text).not.toMatch(/\b(patient|history|symptoms|lesion|imaging|labs|pathology)\.[a-zA-Z]/);
        expect(text).not.toMatch(/\bplans\.workup\.|\[expert\]|safety_net_reimaging|urgent_referral/);
        const urls = [...text.slice(text.lastIndexOf(t(lang, 'report.sources'))).matchAll(/<(https?:[^>]+)>/g)].map((m) => m[1]);
        expect(urls.length).toBeGreaterThan(0);
        expect(new Set(urls).size).toBe(urls.length);
      }
    }
  });

  it('before histology, a pre-biopsy plan grouped by purpose with chest CT once; drug-level treatment only under "if confirmed"', () => {
    const { treatment: _t, ...untreated } = example('synovial-sarcoma');
    const a = assess(kb, untreated, { date: DATE });
    expect(a.malignancy.urgentReferral).toBe(true);
    const appendix = section(buildClinicianReport(kb, a, 'en'), 'appendix');
    const start = appendix.findIndex((b) => b.kind === 'heading' && b.text === t('en', 'report.preBiopsy'));
    const end = appendix.findIndex((b, i) => i > start && b.kind === 'heading');
    expect(start).toBeGreaterThan(0);
    const plan = JSON.stringify(appendix.slice(start, end));
    for (const p of ['referral', 'imaging', 'biopsy', 'staging']) expect(plan).toContain(t('en', `report.purpose.${p}`));
    expect(plan.match(/CT of the chest|Chest CT/gi)?.length).toBe(1);
    expect(plan).toMatch(/whole compartment/);
    // treatment: nothing outside the "if confirmed" panel names a drug
    const tStart = appendix.findIndex((b) => b.kind === 'heading' && b.text === t('en', 'report.treatment'));
    const tEnd = appendix.findIndex((b, i) => i > tStart && b.kind === 'heading');
    const outside = JSON.stringify(appendix.slice(tStart, tEnd).filter((b) => b.kind !== 'details'));
    expect(outside).not.toMatch(/doxorubicin|pazopanib|anlotinib|pembrolizumab/i);
    expect(JSON.stringify(appendix.slice(tStart, tEnd))).toMatch(/doxorubicin/);
    // no post-operative follow-up shown as if it applied now
    expect(JSON.stringify(appendix)).toContain(t('en', 'report.followUpAfter'));
  });

  it('next questions: no "bits", CT and MRI versions of one finding merged', () => {
    const qs: NextQuestion[] = [
      { finding: 'imaging.ct.fatInLesion', test: 'ct', expectedGain: 0.3, outcomes: [] },
      { finding: 'lesion.depth', test: 'exam', expectedGain: 0.2, outcomes: [] },
      { finding: 'imaging.mri.fatInLesion', test: 'mri', expectedGain: 0.1, outcomes: [] },
    ];
    const m = mergeNextQuestions(qs);
    expect(m.map((q) => q.finding)).toEqual(['imaging.ct.fatInLesion', 'lesion.depth']);
    expect(m[0]!.tests).toEqual(['ct', 'mri']);
    for (const c of exampleCases()) {
      const text = renderText(buildClinicianReport(kb, assess(kb, c.case), 'en')) + renderText(buildClinicianReport(kb, assess(kb, c.case), 'zh'));
      expect(text).not.toMatch(/\bbits\b|比特/);
    }
  });

  it('links each entity of the differential to its reference source in the HTML', () => {
    const a = assess(kb, issue14('case1-trauma-zonal.yaml'), { date: DATE });
    const html = renderHtml(buildClinicianReport(kb, a, 'en'));
    for (const d of a.differential.slice(0, 3)) {
      const src = kb.entities[kb.entityIndex.get(d.id)!]!.sources[0]!;
      expect(html).toContain(`href="${src.url.replace(/&/g, '&amp;')}"`);
    }
  });

  it('shows input notes (warnings) on page 1', () => {
    const a = assess(kb, { formatVersion: 1 });
    const summary = section(buildClinicianReport(kb, a, 'en'), 'summary');
    expect(summary.some((b) => b.kind === 'alert' && b.level === 'warning' && b.text.includes('beyond age, sex and site'))).toBe(true);
  });
});

describe('patient report', () => {
  it('a case with a likely diagnosis explains that diagnosis in plain words', () => {
    const a = assess(kb, example('calcific-tendinitis'));
    expect(a.differential[0]!.probability).toBeGreaterThanOrEqual(0.5);
    const lead = kb.entities[kb.entityIndex.get(a.differential[0]!.id)!]!;
    for (const lang of ['en', 'zh'] as const) {
      const doc = textOf(buildPatientReport(kb, a, lang).blocks);
      expect(doc).toContain(JSON.stringify(lead.patient[lang]).slice(1, -1));
    }
  });

  it('when malignancy is not excluded: a specialist team soon, no reassurance, no "benign", no diagnosis names, no post-treatment follow-up', () => {
    const { treatment: _t, ...untreated } = example('synovial-sarcoma');
    for (const c of [untreated, { formatVersion: 1, patient: { age: 40 } } as CaseFile]) {
      const a = assess(kb, c, { date: DATE });
      expect(['urgent_referral', 'sarcoma_centre_review']).toContain(a.malignancy.decision.kind);
      for (const lang of ['en', 'zh'] as const) {
        const doc = buildPatientReport(kb, a, lang);
        const text = renderText(doc);
        expect(text).toContain(a.malignancy.decision.kind === 'urgent_referral' ? t(lang, 'patient.specialistSoon') : t(lang, 'patient.specialistReview'));
        expect(text).not.toMatch(/benign|harmless|try not to worry|良性|避免过度焦虑/i);
        for (const d of a.differential.slice(0, 5)) expect(text).not.toContain(kb.entities[kb.entityIndex.get(d.id)!]!.names[lang]);
        expect(text).not.toMatch(/recurrence|scar|复发|瘢痕/i);
        expect(text).toContain(t(lang, 'patient.disclaimer'));
      }
    }
  });

  it('property: never "benign" when malignancy is not excluded before a biopsy, and no sentence twice, in either language', () => {
    fc.assert(fc.property(arbitraryCase, (c) => {
      const a = assess(kb, c, { date: DATE });
      for (const lang of ['en', 'zh'] as const) {
        const doc = buildPatientReport(kb, a, lang);
        const ss = patientSentences(doc).map((s) => s.toLowerCase());
        expect(new Set(ss).size, ss.join('\n')).toBe(ss.length);
        // before a biopsy (a pathology report names the diagnosis, and the patient text of that diagnosis may then say what it is)
        if (!a.treatment.basis.confirmed && (a.malignancy.decision.kind === 'urgent_referral' || a.malignancy.decision.kind === 'sarcoma_centre_review')) {
          expect(renderText(doc), JSON.stringify(c)).not.toMatch(/benign|良性/i);
        }
      }
    }), { numRuns: 150 });
  });

  it('no sentence twice in the example cases and the issue-14 cases', () => {
    for (const c of [...exampleCases().map((x) => x.case), issue14('case1-trauma-zonal.yaml'), issue14('case2-no-trauma-no-zonal.yaml')]) {
      for (const lang of ['en', 'zh'] as const) {
        const ss = patientSentences(buildPatientReport(kb, assess(kb, c, { date: DATE }), lang)).map((s) => s.toLowerCase());
        expect(new Set(ss).size).toBe(ss.length);
      }
    }
  });

  it('after surgery the patient sees the dated follow-up visits', () => {
    const a = assess(kb, example('synovial-sarcoma'), { date: DATE });
    expect(a.followUp.surgeryDate).toBeDefined();
    const text = renderText(buildPatientReport(kb, a, 'en'));
    expect(text).toContain(t('en', 'report.followUp'));
    expect(text).toContain(a.followUp.visits[0]!.date!);
  });

  it('the issue-14 case 1 patient report gives the dated repeat scan and when it goes to a specialist', () => {
    const a = assess(kb, issue14('case1-trauma-zonal.yaml'), { date: DATE });
    const text = renderText(buildPatientReport(kb, a, 'en'));
    expect(text).toContain('between 2026-12-31 and 2027-01-14');
    expect(text).toContain('specialist team');
    expect(text).not.toMatch(/recurrence|scar/i);
  });
});
