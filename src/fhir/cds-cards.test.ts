import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { assess } from '../core/engine/assess.js';
import { loadKnowledgeBase } from '../io/kb-files.js';
import { cardSchema } from '../server/cds-hooks-schema.js';
import { arbitraryCase } from '../test-support/arbitrary-case.js';
import { fhirProblems } from '../test-support/fhir-validate.js';
import { HALF_WIDTH_NEXT_TO_HAN } from '../test-support/zh-source.js';
import { assessmentCards, clampSummary, hasLesionData } from './cds-cards.js';

const kb = loadKnowledgeBase();
const opts = (lang: 'en' | 'zh') => ({ lang, appUrl: 'https://calcdx.example.org', patientId: 'p-1', now: '2026-12-03T09:00:00Z', uuid: () => '7c5a0b1e-0000-4000-8000-000000000001' });

describe('CDS Hooks cards', () => {
  test('clampSummary: under 140 characters, cut at a word with an ellipsis', () => {
    expect(clampSummary('short')).toBe('short');
    const long = `${'word '.repeat(40)}end`;
    const s = clampSummary(long);
    expect(s.length).toBeLessThan(140);
    expect(s.endsWith('word…')).toBe(true);
  });

  test('property: for any case, in both languages, the card obeys the CDS Hooks 2.0 field rules (summary < 140) and its referral is valid R4', () => {
    fc.assert(fc.property(arbitraryCase, fc.constantFrom('en' as const, 'zh' as const), (c, lang) => {
      const a = assess(kb, c);
      const [card] = assessmentCards(kb, c, a, opts(lang));
      expect(cardSchema.safeParse(card).success).toBe(true);
      expect(card!.indicator).toBe(a.malignancy.urgentReferral ? 'critical' : a.redFlags.length ? 'warning' : 'info');
      expect(card!.suggestions !== undefined).toBe(a.malignancy.urgentReferral);
      if (lang === 'zh') {
        // the Chinese card as read: Markdown marks removed, full-width punctuation next to Chinese text
        const texts = [card!.summary, ...card!.detail!.replace(/\*\*|\\|(^|\s)_|_($|\s)/gm, '$1$2').split('\n'), ...(card!.links ?? []).map((l) => l.label),
          ...(card!.suggestions ?? []).flatMap((s) => [s.label, ...s.actions.map((x) => x.description)])];
        expect(texts.filter((t) => HALF_WIDTH_NEXT_TO_HAN.test(t))).toEqual([]);
      }
    }), { numRuns: 150 });
    const urgent = { formatVersion: 1 as const, lesion: { sizeCm: 9, depth: 'deep' as const } };
    const [card] = assessmentCards(kb, urgent, assess(kb, urgent), opts('zh'));
    expect(fhirProblems(card!.suggestions![0]!.actions[0]!.resource)).toEqual([]);
  });

  test('lesion data: lesion or imaging findings; labs or history alone are not', () => {
    expect(hasLesionData({ formatVersion: 1, labs: { calciumMmolL: 2.4 }, history: { gout: true } })).toBe(false);
    expect(hasLesionData({ formatVersion: 1, imaging: {} })).toBe(false);
    expect(hasLesionData({ formatVersion: 1, imaging: { ct: { maxHU: 400 } } })).toBe(true);
    expect(hasLesionData({ formatVersion: 1, lesion: { region: 'thigh' } })).toBe(true);
  });
});
