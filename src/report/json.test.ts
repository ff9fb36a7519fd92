import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { CaseFile } from '../core/case-format/schema.js';
import { assess } from '../core/engine/assess.js';
import { loadKnowledgeBase } from '../io/kb-files.js';
import type { Lang } from '../i18n/index.js';
import { arbitraryCase } from '../test-support/arbitrary-case.js';
import { exampleCases, textbookCases } from '../test-support/cases.js';
import { cachedFindingValueText, findingValueText } from './describe.js';
import { assessmentToJson, EVIDENCE_SCOPES, JSON_MIN_ABS_LOG_LR, LEADING_EVIDENCE_ENTITIES, LIKELY_MIN_PROBABILITY } from './json.js';
import { kbVersion } from './kb-version.js';
import { VERSION } from './version.js';

const kb = loadKnowledgeBase();
const LANGS: Lang[] = ['en', 'zh'];
const cases: CaseFile[] = [...exampleCases(), ...textbookCases()].map((c) => c.case);

interface EvidenceOut { finding: string; value: string; role: string; direction: string; lr: number; logLr: number; text: string }
interface DifferentialOut { id: string; rank: number; probability: number; prior: number; evidence: EvidenceOut[] }

/** The evidence as the first version of assessmentToJson wrote it (toFixed, uncached texts), with the cut-off. */
function referenceEvidence(c: CaseFile, lang: Lang): unknown {
  return assess(kb, c).differential.map((d) => d.evidence
    .filter((e) => Math.abs(e.logLr) >= JSON_MIN_ABS_LOG_LR)
    .map((e) => ({
      finding: e.finding, value: e.value, role: e.role, direction: e.direction,
      lr: Number(e.lr.toFixed(4)), logLr: Number(e.logLr.toFixed(4)), text: findingValueText(kb, e.finding, e.value, lang),
    })));
}

const differentialOf = (c: CaseFile, lang: Lang): DifferentialOut[] => assessmentToJson(kb, assess(kb, c), lang, 'all').differential as DifferentialOut[];

describe('assessmentToJson evidence', () => {
  it('the cut-off is a 10 % change of the odds', () => {
    expect(JSON_MIN_ABS_LOG_LR).toBeCloseTo(Math.log(1.1), 12);
  });

  it('lists, per entity, the engine\'s terms that change the odds by at least 10 %, strongest first, as before', () => {
    expect(cases.length).toBeGreaterThan(20);
    for (const c of cases) {
      for (const lang of LANGS) {
        const got = differentialOf(c, lang).map((d) => d.evidence);
        expect(JSON.stringify(got)).toBe(JSON.stringify(referenceEvidence(c, lang)));
        for (const ev of got) {
          for (const e of ev) expect(Math.abs(e.lr) >= 1.1 - 1e-4 || Math.abs(e.lr) <= 1 / 1.1 + 1e-4).toBe(true);
        }
      }
    }
  });

  it('leaves out weaker terms only: at least one is left out in a typical case, none of |logLr| ≥ ln 1.1', () => {
    const c = exampleCases().find((x) => x.file.startsWith('synovial-sarcoma'))!.case;
    const a = assess(kb, c);
    const engineTerms = a.differential.reduce((n, d) => n + d.evidence.length, 0);
    const strong = a.differential.reduce((n, d) => n + d.evidence.filter((e) => Math.abs(e.logLr) >= JSON_MIN_ABS_LOG_LR).length, 0);
    const listed = (assessmentToJson(kb, a, 'en', 'all').differential as DifferentialOut[]).reduce((n, d) => n + d.evidence.length, 0);
    expect(listed).toBe(strong);
    expect(listed).toBeLessThan(engineTerms);
  });

  it('random valid cases: same evidence as the reference, same answer twice, CLI-style and API-style serialisations agree', () => {
    fc.assert(fc.property(arbitraryCase, fc.constantFrom<Lang>('en', 'zh'), (c, lang) => {
      const j1 = assessmentToJson(kb, assess(kb, c), lang, 'all');
      const j2 = assessmentToJson(kb, assess(kb, c), lang, 'all');
      expect(JSON.stringify(j1)).toBe(JSON.stringify(j2));
      expect(JSON.parse(JSON.stringify(j1, null, 2))).toEqual(JSON.parse(JSON.stringify(j2)));
      expect(JSON.stringify((j1.differential as DifferentialOut[]).map((d) => d.evidence))).toBe(JSON.stringify(referenceEvidence(c, lang)));
    }), { numRuns: 150 });
  });

  it('random valid cases: the evidence scope chooses whose evidence is listed and changes nothing else', () => {
    fc.assert(fc.property(arbitraryCase, fc.constantFrom<Lang>('en', 'zh'), (c, lang) => {
      const a = assess(kb, c);
      const all = assessmentToJson(kb, a, lang, 'all');
      for (const scope of EVIDENCE_SCOPES) {
        const j = assessmentToJson(kb, a, lang, scope);
        expect(j.calcdx).toEqual({ assessmentVersion: 1, lang, evidence: scope, version: VERSION, knowledgeBase: kbVersion(kb) });
        const d = j.differential as DifferentialOut[];
        d.forEach((x, i) => {
          const want = scope === 'all' || (scope === 'leading' && x.rank <= LEADING_EVIDENCE_ENTITIES)
            || (scope === 'likely' && (x.rank === 1 || (x.rank <= LEADING_EVIDENCE_ENTITIES && x.probability >= LIKELY_MIN_PROBABILITY)));
          expect('evidence' in x).toBe(want);
          if (want) expect(x).toEqual((all.differential as DifferentialOut[])[i]);
          else { const { evidence: _e, ...rest } = (all.differential as DifferentialOut[])[i]!; expect(x).toEqual(rest); }
        });
        const { differential: _d, calcdx: _c, ...rest } = j;
        const { differential: _d2, calcdx: _c2, ...restAll } = all;
        expect(rest).toEqual(restAll);
      }
    }), { numRuns: 100 });
  });

  it('probabilities are rounded to 6 decimals as toFixed(6) rounds them', () => {
    for (const c of cases.slice(0, 10)) {
      const a = assess(kb, c);
      const d = assessmentToJson(kb, a, 'en').differential as DifferentialOut[];
      a.differential.forEach((x, i) => {
        expect(d[i]!.probability).toBe(Number(x.probability.toFixed(6)));
        expect(d[i]!.prior).toBe(Number(x.prior.toFixed(6)));
      });
    }
  });
});

describe('cachedFindingValueText', () => {
  it('equals findingValueText for every finding value of the knowledge base, both languages, also when asked again', () => {
    for (const lang of LANGS) {
      for (let round = 0; round < 2; round++) {
        for (const f of kb.findings) {
          for (const v of f.values) expect(cachedFindingValueText(kb, f.def.id, v, lang)).toBe(findingValueText(kb, f.def.id, v, lang));
        }
        for (const e of kb.entities) expect(cachedFindingValueText(kb, 'pathology.diagnosis', e.id, lang)).toBe(findingValueText(kb, 'pathology.diagnosis', e.id, lang));
        expect(cachedFindingValueText(kb, 'no.such.finding', 'x', lang)).toBe(lang === 'zh' ? 'no.such.finding：x' : 'no.such.finding: x');
      }
    }
  });

  it('keeps one cache per knowledge base', () => {
    const other = loadKnowledgeBase();
    const f = kb.findings[0]!;
    expect(cachedFindingValueText(other, f.def.id, f.values[0]!, 'zh')).toBe(cachedFindingValueText(kb, f.def.id, f.values[0]!, 'zh'));
  });
});

describe('assessmentToJson: the plan and the can\'t-miss list (added keys, nothing renamed)', () => {
  it('keeps every earlier key and adds malignancy.decision, cantMiss, assessedOn, calcdx versions, workup purposes', () => {
    fc.assert(fc.property(arbitraryCase, fc.constantFrom<Lang>('en', 'zh'), (c, lang) => {
      const a = assess(kb, c, { date: '2026-12-03' });
      const j = assessmentToJson(kb, a, lang) as Record<string, any>;
      expect(Object.keys(j.malignancy)).toEqual(expect.arrayContaining(['probability', 'intermediateProbability', 'urgentReferral', 'threshold', 'reasons', 'decision']));
      expect(j.assessedOn).toBe('2026-12-03');
      const d = j.malignancy.decision;
      expect(d.kind === 'urgent_referral').toBe(j.malignancy.urgentReferral);
      expect(typeof d.reason).toBe('string');
      if (d.kind === 'safety_net_reimaging') expect(d.reimageBy >= d.reimageFrom).toBe(true);
      if (d.kind === 'sarcoma_centre_review') expect(d.reviewBy).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(j.cantMiss.length).toBeLessThanOrEqual(3);
      for (const m of j.cantMiss) expect(m.display).toMatch(/^(< 1%|> 99%|\d{1,2}%)$/);
      for (const w of j.workup) expect(typeof w.purpose).toBe('string');
      expect(j.followUp.applies).toMatch(/^(now|after_treatment)$/);
    }), { numRuns: 60 });
  });
});
