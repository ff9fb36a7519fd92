import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AttemptCounter } from './rate-limit.js';

describe('AttemptCounter', () => {
  it('allows `limit` attempts per key per window, then says how long to wait; a new window starts afresh', () => {
    let now = 1_000_000;
    const c = new AttemptCounter(60_000, () => now);
    expect([1, 2, 3].map(() => c.hit('a', 3))).toEqual([0, 0, 0]);
    expect(c.hit('a', 3)).toBe(60);
    expect(c.hit('b', 3)).toBe(0);
    now += 30_000;
    expect(c.hit('a', 3)).toBe(30);
    now += 30_000;
    expect(c.hit('a', 3)).toBe(0);
    c.clear('b');
    expect(c.hit('b', 1)).toBe(0);
  });

  it('property: within one window, exactly the attempts beyond the limit are refused, whatever the order of keys', () => {
    fc.assert(fc.property(fc.array(fc.constantFrom('x', 'y', 'z'), { maxLength: 60 }), fc.integer({ min: 1, max: 10 }), (keys, limit) => {
      const c = new AttemptCounter(60_000, () => 0);
      const seen = new Map<string, number>();
      for (const k of keys) {
        const n = (seen.get(k) ?? 0) + 1;
        seen.set(k, n);
        expect(c.hit(k, limit) > 0).toBe(n > limit);
      }
    }));
  });
});
