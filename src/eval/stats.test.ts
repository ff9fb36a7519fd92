import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rocArea, rocAuc, rocCurve, wilson } from './stats.js';

describe('wilson', () => {
  it('matches published values', () => {
    // Brown, Cai & DasGupta 2001 / standard tables: 0 of 10 → 0-0.278; 5 of 10 → 0.237-0.763; 81 of 263 → 0.255-0.366
    const [a0, b0] = wilson(0, 10);
    expect(a0).toBe(0);
    expect(b0).toBeCloseTo(0.2775, 4);
    const [a5, b5] = wilson(5, 10);
    expect(a5).toBeCloseTo(0.2366, 4);
    expect(b5).toBeCloseTo(0.7634, 4);
    const [a, b] = wilson(81, 263);
    expect(a).toBeCloseTo(0.2553, 3);
    expect(b).toBeCloseTo(0.3662, 3);
    expect(wilson(10, 10)[1]).toBe(1);
  });
  it('no trials: the whole range; impossible counts are refused', () => {
    expect(wilson(0, 0)).toEqual([0, 1]);
    expect(() => wilson(11, 10)).toThrow(/k=11, n=10/);
  });
  it('contains the observed proportion, stays in [0, 1], and narrows as n grows at the same proportion', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 500 }), fc.double({ min: 0, max: 1, noNaN: true }), (n, q) => {
      const k = Math.round(q * n);
      const [lo, hi] = wilson(k, n);
      expect(lo).toBeGreaterThanOrEqual(0);
      expect(hi).toBeLessThanOrEqual(1);
      expect(lo).toBeLessThanOrEqual(k / n + 1e-12);
      expect(hi).toBeGreaterThanOrEqual(k / n - 1e-12);
      const [lo4, hi4] = wilson(4 * k, 4 * n);
      expect(hi4 - lo4).toBeLessThan(hi - lo + 1e-12);
    }));
  });
});

describe('rocAuc', () => {
  it('1 when every positive scores higher, 0.5 for ties, undefined without a group', () => {
    expect(rocAuc([0.9, 0.8], [0.1, 0.2])).toBe(1);
    expect(rocAuc([0.1], [0.9])).toBe(0);
    expect(rocAuc([0.5, 0.5], [0.5])).toBe(0.5);
    expect(rocAuc([0.6, 0.2], [0.4])).toBe(0.5);
    expect(rocAuc([], [0.1])).toBeUndefined();
  });
  it('is 1 − the AUC with the groups swapped', () => {
    fc.assert(fc.property(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 20 }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 20 }), (p, q) => {
      expect(rocAuc(p, q)! + rocAuc(q, p)!).toBeCloseTo(1, 10);
    }));
  });
});

describe('rocCurve', () => {
  it('steps from (0, 0) to (1, 1), one point per distinct score', () => {
    expect(rocCurve([0.9, 0.4], [0.4, 0.1])).toEqual([
      { threshold: Infinity, fpr: 0, tpr: 0 },
      { threshold: 0.9, fpr: 0, tpr: 0.5 },
      { threshold: 0.4, fpr: 0.5, tpr: 1 },
      { threshold: 0.1, fpr: 1, tpr: 1 },
    ]);
    expect(rocCurve([], [0.1])).toEqual([]);
  });
  it('is monotone and its trapezoidal area is the Mann-Whitney ROC area', () => {
    const score = fc.array(fc.integer({ min: 0, max: 20 }).map((x) => x / 20), { minLength: 1, maxLength: 25 });
    fc.assert(fc.property(score, score, (p, q) => {
      const c = rocCurve(p, q);
      expect(c.at(-1)).toMatchObject({ fpr: 1, tpr: 1 });
      for (let i = 1; i < c.length; i++) { expect(c[i]!.fpr).toBeGreaterThanOrEqual(c[i - 1]!.fpr); expect(c[i]!.tpr).toBeGreaterThanOrEqual(c[i - 1]!.tpr); }
      expect(rocArea(c)).toBeCloseTo(rocAuc(p, q)!, 10);
    }));
  });
});
