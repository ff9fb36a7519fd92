import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MORPHOLOGIES, type CaseFile } from '../case-format/schema.js';
import { validateCase } from '../case-format/validate.js';
import { loadKnowledgeBase } from '../../io/kb-files.js';
import { arbitraryCase } from '../../test-support/arbitrary-case.js';
import { assess } from './assess.js';
import { observe } from './findings.js';

const kb = loadKnowledgeBase();
const member = (m: string): number => kb.findingIndex.get(`imaging.calcification.morphology.${m}`)!;
const morphologyObs = (c: CaseFile): Map<string, string> => new Map(observe(kb, c)
  .filter((o) => kb.findings[o.finding]!.member !== undefined)
  .map((o) => [kb.findings[o.finding]!.member!, kb.findings[o.finding]!.values[o.value]!]));
const valid = (c: unknown): CaseFile => {
  const v = validateCase(c);
  if (!v.ok) throw new Error(JSON.stringify(v.issues));
  return v.value;
};

describe('a morphology list names what was seen (case format: not listed = not evidence)', () => {
  it('a listed pattern is present; the patterns not listed are unknown, not absent', () => {
    const c = valid({ formatVersion: 1, imaging: { calcification: { morphology: ['rim'] } } });
    expect(morphologyObs(c)).toEqual(new Map([['rim', 'true']]));
  });

  it('an empty list (calcification seen, pattern not described) is no evidence at all', () => {
    const c = valid({ formatVersion: 1, imaging: { calcification: { morphology: [] } } });
    expect(morphologyObs(c).size).toBe(0);
  });

  it('morphologyAbsent names the patterns known absent (evidence); the rest stay unknown', () => {
    const c = valid({ formatVersion: 1, imaging: { calcification: { morphology: ['rim'], morphologyAbsent: ['trabecular', 'dense_central'] } } });
    expect(morphologyObs(c)).toEqual(new Map([['rim', 'true'], ['trabecular', 'false'], ['dense_central', 'false']]));
    const a = assess(kb, c);
    const terms = a.differential.flatMap((d) => d.evidence.map((e) => e.finding));
    expect(terms).not.toContain('imaging.calcification.morphology.punctate');
  });

  it('ticking one more pattern never changes the evidence of the others (no silent evidence from unticked boxes)', () => {
    fc.assert(fc.property(fc.subarray([...MORPHOLOGIES]), fc.constantFrom(...MORPHOLOGIES), (seen, extra) => {
      fc.pre(!seen.includes(extra));
      const before = morphologyObs(valid({ formatVersion: 1, imaging: { calcification: { morphology: seen } } }));
      const after = morphologyObs(valid({ formatVersion: 1, imaging: { calcification: { morphology: [...seen, extra] } } }));
      expect(after.get(extra)).toBe('true');
      after.delete(extra);
      expect(after).toEqual(before);
    }));
  });

  it('a pattern excluded lowers an entity it is typical of, against not stating it', () => {
    const base = { formatVersion: 1, patient: { age: 30 }, lesion: { region: 'thigh', depth: 'deep' } };
    const typical = kb.findings[member('trabecular')]!;
    // the entity for which organised bone is most likely
    let best = 0;
    for (let e = 0; e < kb.entities.length; e++) if (typical.lik[e * 2]! > typical.lik[best * 2]!) best = e;
    const id = kb.entities[best]!.id;
    const p = (c: unknown) => assess(kb, valid(c)).differential.find((d) => d.id === id)!.probability;
    const unstated = p(base);
    const excluded = p({ ...base, imaging: { calcification: { morphologyAbsent: ['trabecular'] } } });
    expect(excluded).toBeLessThan(unstated);
  });

  it('every generated case (with setting and morphologyAbsent) validates and assesses (property)', () => {
    fc.assert(fc.property(arbitraryCase, (c) => {
      const v = validateCase(c);
      expect(v.ok).toBe(true);
      if (v.ok) expect(assess(kb, v.value).differential.reduce((s, d) => s + d.probability, 0)).toBeCloseTo(1, 6);
    }), { numRuns: 200 });
  });
});

describe('case format: setting and morphologyAbsent', () => {
  it('accepts every setting and rejects another value, naming the field', () => {
    for (const s of ['primary_care', 'specialist', 'sarcoma_centre']) expect(validateCase({ formatVersion: 1, setting: s }).ok).toBe(true);
    const v = validateCase({ formatVersion: 1, setting: 'hospital' });
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.issues[0]).toMatchObject({ code: 'not_allowed', path: 'setting' });
  });

  it('a pattern both seen and excluded is a conflict at the excluded entry', () => {
    const v = validateCase({ formatVersion: 1, imaging: { calcification: { morphology: ['rim', 'punctate'], morphologyAbsent: ['linear', 'punctate'] } } });
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.issues).toEqual([{ code: 'conflict', path: 'imaging.calcification.morphologyAbsent.1', found: '"punctate"', allowed: { conflictsWith: 'imaging.calcification.morphology' } }]);
  });

  it('rejects an unknown or repeated excluded pattern', () => {
    expect(validateCase({ formatVersion: 1, imaging: { calcification: { morphologyAbsent: ['blob'] } } }).ok).toBe(false);
    expect(validateCase({ formatVersion: 1, imaging: { calcification: { morphologyAbsent: ['rim', 'rim'] } } }).ok).toBe(false);
  });
});
