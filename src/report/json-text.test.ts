import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { CaseFile } from '../core/case-format/schema.js';
import { assess } from '../core/engine/assess.js';
import type { Lang } from '../i18n/index.js';
import { loadKnowledgeBase } from '../io/kb-files.js';
import { arbitraryCase } from '../test-support/arbitrary-case.js';
import { exampleCases, textbookCases } from '../test-support/cases.js';
import { assessmentJsonBytes, assessmentJsonText, utf8Bytes } from './json-text.js';
import { assessmentToJson, EVIDENCE_SCOPES, LEADING_EVIDENCE_ENTITIES, LIKELY_MIN_PROBABILITY, type EvidenceScope } from './json.js';

const kb = loadKnowledgeBase();
const cases: CaseFile[] = [...exampleCases(), ...textbookCases()].map((c) => c.case);
const reference = (c: CaseFile, lang: Lang, scope: EvidenceScope, date?: string) =>
  JSON.stringify(assessmentToJson(kb, assess(kb, c, date ? { date } : {}), lang, scope));

describe('assessmentJsonText', () => {
  it('is JSON.stringify(assessmentToJson(…)) byte for byte: every example and textbook case, both languages, every evidence scope', () => {
    expect(cases.length).toBeGreaterThan(20);
    for (const c of cases) {
      for (const lang of ['en', 'zh'] as const) {
        for (const scope of EVIDENCE_SCOPES) {
          expect(assessmentJsonText(kb, assess(kb, c, { date: '2026-12-03' }), lang, scope)).toBe(reference(c, lang, scope, '2026-12-03'));
        }
      }
    }
  });

  it('random valid cases (with and without an id, a date, odd characters in the id): the same bytes as JSON.stringify(assessmentToJson(…)), asked twice', () => {
    const id = fc.option(fc.oneof(fc.string(), fc.constant('"differential":[]'), fc.constant('\u2028\\"</script>'), fc.string({ unit: 'binary' })), { nil: undefined });
    const date = fc.option(fc.constantFrom('2026-12-03', '2020-02-29'), { nil: undefined });
    fc.assert(fc.property(arbitraryCase, id, date, fc.constantFrom<Lang>('en', 'zh'), fc.constantFrom(...EVIDENCE_SCOPES), (c0, caseId, d, lang, scope) => {
      const c = caseId === undefined ? c0 : { ...c0, id: caseId };
      const a = assess(kb, c, d ? { date: d } : {});
      const want = JSON.stringify(assessmentToJson(kb, a, lang, scope));
      expect(assessmentJsonText(kb, a, lang, scope)).toBe(want);
      // the fragments made the first time are the ones used the second time
      expect(assessmentJsonText(kb, assess(kb, c, d ? { date: d } : {}), lang, scope)).toBe(want);
    }), { numRuns: 300 });
  });

  it('keeps the fragments of each knowledge base apart', () => {
    const other = loadKnowledgeBase();
    const c = cases[0]!;
    expect(assessmentJsonText(other, assess(other, c), 'zh')).toBe(assessmentJsonText(kb, assess(kb, c), 'zh'));
  });

  it('assessmentJsonBytes is Buffer.from of the text (non-Latin-1, Chinese, lone surrogates), also after a longer answer', () => {
    for (const s of ['', 'abc', '≥ 3 cm — 软组织', '\ud800x', 'a'.repeat(70_000) + '—', 'b']) expect(utf8Bytes(s).equals(Buffer.from(s))).toBe(true);
    for (const c of cases.slice(0, 4)) {
      for (const lang of ['en', 'zh'] as const) {
        const a = assess(kb, c, { date: '2026-12-03' });
        expect(assessmentJsonBytes(kb, a, lang, 'likely').equals(Buffer.from(reference(c, lang, 'likely', '2026-12-03')))).toBe(true);
      }
    }
  });
});

describe('evidence scopes', () => {
  type Row = { rank: number; probability: number; evidence?: unknown[] };
  type Answer = { calcdx: { evidence: string }; differential: Row[] };
  /** the answer with every entity's evidence, cut down to the rows `keep` says */
  const restrict = (all: Answer, keep: boolean[], scope: EvidenceScope): Answer => ({
    ...all,
    calcdx: { ...all.calcdx, evidence: scope },
    differential: all.differential.map((d, i) => { const { evidence, ...row } = d; return keep[i] ? { ...row, evidence } : row; }),
  });

  it('random valid cases, both languages: each scope is the full answer (evidence=all) restricted to the evidence it lists, and lists what it says', () => {
    fc.assert(fc.property(arbitraryCase, fc.constantFrom<Lang>('en', 'zh'), (c, lang) => {
      const a = assess(kb, c, { date: '2026-12-03' });
      const all = JSON.parse(assessmentJsonText(kb, a, lang, 'all')) as Answer;
      for (const scope of EVIDENCE_SCOPES) {
        const got = JSON.parse(assessmentJsonText(kb, a, lang, scope)) as Answer;
        const keep = got.differential.map((d) => Array.isArray(d.evidence));
        expect(got).toEqual(restrict(all, keep, scope));
        const want = all.differential.map((d) => scope === 'all' || (scope === 'leading' && d.rank <= LEADING_EVIDENCE_ENTITIES)
          || (scope === 'likely' && (d.rank === 1 || (d.rank <= LEADING_EVIDENCE_ENTITIES && d.probability >= LIKELY_MIN_PROBABILITY))));
        expect(keep).toEqual(want);
      }
    }), { numRuns: 200 });
  });
});

