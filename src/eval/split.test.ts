import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ROOT } from '../test-support/cases.js';
import { readEvalFolder } from './cases.js';
import { assignSplit, mulberry32, readSplit, stratifiedSplit, type SplitFile } from './split.js';

describe('stratifiedSplit', () => {
  const items = [
    ...['a1', 'a2', 'a3', 'a4'].map((file) => ({ file, stratum: 'a' })),
    ...['b1', 'b2', 'b3'].map((file) => ({ file, stratum: 'b' })),
    ...['c1'].map((file) => ({ file, stratum: 'c' })),
  ];
  it('puts every item in exactly one half, each stratum split within one, halves within one', () => {
    fc.assert(fc.property(fc.integer(), fc.array(fc.tuple(fc.constantFrom('x', 'y', 'z', 'w'), fc.integer({ min: 0, max: 40 })), { maxLength: 60 }), (seed, raw) => {
      const its = [...new Map(raw.map(([s, i]) => [`${s}${i}`, { file: `${s}${i}`, stratum: s }])).values()];
      const s = stratifiedSplit(its, seed);
      expect(s.size).toBe(its.length);
      for (const st of new Set(its.map((i) => i.stratum))) {
        const fs = its.filter((i) => i.stratum === st).map((i) => s.get(i.file));
        const dev = fs.filter((v) => v === 'development').length;
        expect(Math.abs(dev - (fs.length - dev))).toBeLessThanOrEqual(1);
      }
      const dev = [...s.values()].filter((v) => v === 'development').length;
      expect(Math.abs(dev - (s.size - dev))).toBeLessThanOrEqual(1);
    }));
  });
  it('is deterministic for a seed and independent of input order, and a different seed can differ', () => {
    const s1 = stratifiedSplit(items, 7);
    expect(stratifiedSplit([...items].reverse(), 7)).toEqual(s1);
    // odd strata in name order: b gives its extra case to development, then c to holdout
    expect(['b1', 'b2', 'b3'].filter((f) => s1.get(f) === 'development')).toHaveLength(2);
    expect(s1.get('c1')).toBe('holdout');
    const draws = new Set([1, 2, 3, 4, 5, 6, 8, 9].map((seed) => JSON.stringify([...stratifiedSplit(items, seed)].sort())));
    expect(draws.size).toBeGreaterThan(1);
  });
  it('mulberry32 gives the same stream for a seed, in [0, 1)', () => {
    const a = mulberry32(42), b = mulberry32(42);
    for (let i = 0; i < 100; i++) { const x = a(); expect(x).toBe(b()); expect(x).toBeGreaterThanOrEqual(0); expect(x).toBeLessThan(1); }
  });
});

describe('assignSplit', () => {
  const split: SplitFile = { seed: 1, method: 'm', rule: 'r', development: ['a.yaml'], holdout: ['b.yaml'] };
  it('unlisted cases are holdout', () => {
    expect(assignSplit(['a.yaml', 'b.yaml', 'new.yaml'], split)).toEqual(new Map([['a.yaml', 'development'], ['b.yaml', 'holdout'], ['new.yaml', 'holdout']]));
  });
  it('refuses a file in both halves, or a listed file that is not among the cases', () => {
    expect(() => assignSplit(['a.yaml', 'b.yaml'], { ...split, holdout: ['a.yaml', 'b.yaml'] })).toThrow(/both halves: a.yaml/);
    expect(() => assignSplit(['a.yaml'], split)).toThrow(/not among the cases: b.yaml/);
    expect(() => assignSplit(['a.yaml', 'b.yaml'], { ...split, added: ['a.yaml'] })).toThrow(/added after the draw but not in holdout: a.yaml/);
  });
});

describe('the recorded split of eval/cases', () => {
  const split = readSplit(join(ROOT, 'eval', 'split.yaml'));
  const cases = readEvalFolder(join(ROOT, 'eval', 'cases'));
  it('lists every case in exactly one half', () => {
    const all = [...split.development, ...split.holdout];
    expect(new Set(all).size).toBe(all.length);
    expect(all.sort()).toEqual(cases.map((c) => c.file).sort());
  });
  it('development is the seeded, stratified draw over the cases it was drawn from; later cases are holdout', () => {
    // the draw covered the cases present then; it is reproduced from the seed over the same files
    const drawn = new Set(split.development);
    const added = new Set(split.added ?? []);
    for (const f of added) expect(split.holdout).toContain(f);
    const original = cases.filter((c) => !added.has(c.file));
    expect(drawn.size).toBeGreaterThan(0);
    const again = stratifiedSplit(original.map((c) => ({ file: c.file, stratum: c.finalDiagnosis })), split.seed);
    expect([...again].filter(([, v]) => v === 'development').map(([f]) => f).sort()).toEqual([...split.development].sort());
  });
});
