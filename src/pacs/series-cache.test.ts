import { afterEach, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { SeriesCache } from './series-cache.js';

const series = (...sizes: number[]) => ({ instances: sizes.map((n) => Buffer.alloc(n)) });

describe('SeriesCache', () => {
  afterEach(() => { vi.useRealTimers(); });

  it('retrieves a series once, and again after it expired', async () => {
    vi.useFakeTimers();
    const c = new SeriesCache(1000, 60_000);
    const retrieve = vi.fn(async () => series(100, 100));
    await c.get('a', retrieve);
    await c.get('a', retrieve);
    expect(retrieve).toHaveBeenCalledTimes(1);
    expect(c.stats).toEqual({ bytes: 200, series: 1 });
    vi.advanceTimersByTime(60_001);
    expect(c.stats).toEqual({ bytes: 0, series: 0 });
    await c.get('a', retrieve);
    expect(retrieve).toHaveBeenCalledTimes(2);
  });

  it('requests at the same time share one retrieval; a failed one is not kept', async () => {
    const c = new SeriesCache(1000, 60_000);
    let calls = 0;
    const retrieve = async () => { calls++; await new Promise((r) => setTimeout(r, 5)); return series(10); };
    const [x, y] = await Promise.all([c.get('a', retrieve), c.get('a', retrieve)]);
    expect(x).toBe(y);
    expect(calls).toBe(1);
    const failing = vi.fn(async () => { throw new Error('archive down'); });
    await expect(c.get('b', failing)).rejects.toThrow('archive down');
    await expect(c.get('b', failing)).rejects.toThrow('archive down');
    expect(failing).toHaveBeenCalledTimes(2);
  });

  it('keeps the most recently used within its bytes; a series larger than the budget is not kept', async () => {
    const c = new SeriesCache(300, 60_000);
    await c.get('a', async () => series(100));
    await c.get('b', async () => series(100));
    await c.get('a', async () => series(100)); // a is now the most recent
    await c.get('c', async () => series(150)); // b leaves
    expect(c.stats).toEqual({ bytes: 250, series: 2 });
    const again = vi.fn(async () => series(100));
    await c.get('a', again);
    expect(again).not.toHaveBeenCalled();
    await c.get('huge', async () => series(301));
    expect(c.stats.bytes).toBe(250);
    c.clear();
    expect(c.stats).toEqual({ bytes: 0, series: 0 });
  });

  it('never holds more than its budget, whatever the requests (property)', async () => {
    await fc.assert(fc.asyncProperty(fc.integer({ min: 0, max: 500 }), fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c', 'd'), fc.integer({ min: 0, max: 400 })), { maxLength: 30 }), async (max, reqs) => {
      const c = new SeriesCache(max, 60_000);
      for (const [k, n] of reqs) {
        const got = await c.get(k, async () => series(n));
        expect(got.instances.length).toBe(1);
        expect(c.stats.bytes).toBeLessThanOrEqual(max);
      }
      c.clear();
    }));
  });
});
