import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { CaseFile } from '../core/case-format/schema.js';
import { assess } from '../core/engine/assess.js';
import type { Lang } from '../i18n/index.js';
import { loadKnowledgeBase } from '../io/kb-files.js';
import { arbitraryCase } from '../test-support/arbitrary-case.js';
import { exampleCases, textbookCases } from '../test-support/cases.js';
import { assessmentJsonText } from './json-text.js';
import { assessmentToJson, EVIDENCE_SCOPES, type EvidenceScope } from './json.js';

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
});
