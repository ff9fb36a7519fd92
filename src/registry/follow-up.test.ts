import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { addDays } from '../core/engine/dates.js';
import { datedVisits, followUpOf, visitStatus } from './follow-up.js';

const RANK = { planned: 0, due: 1, overdue: 2 } as Record<string, number>;
const day = fc.integer({ min: 0, max: 3650 }).map((n) => addDays('2024-01-01', n));

describe('visit status', () => {
  it('is planned before the window, due inside it (both ends included), overdue after', () => {
    const v = { state: 'planned' as const, windowStart: '2026-03-01', windowEnd: '2026-03-29' };
    expect(visitStatus(v, '2026-02-28')).toBe('planned');
    expect(visitStatus(v, '2026-03-01')).toBe('due');
    expect(visitStatus(v, '2026-03-29')).toBe('due');
    expect(visitStatus(v, '2026-03-30')).toBe('overdue');
    expect(visitStatus({ ...v, state: 'done' }, '2030-01-01')).toBe('done');
    expect(visitStatus({ ...v, state: 'cancelled' }, '2020-01-01')).toBe('cancelled');
  });

  it('only moves forward in time for an open visit (planned → due → overdue); done and cancelled do not change', () => {
    fc.assert(fc.property(day, fc.integer({ min: 0, max: 180 }), day, day, fc.constantFrom('planned', 'done', 'cancelled' as const), (due, w, a, b, state) => {
      const [d1, d2] = a <= b ? [a, b] : [b, a];
      const [v] = datedVisits([{ month: 0, date: due, items: [] }], undefined, w);
      const visit = { ...v!, state: state as 'planned' | 'done' | 'cancelled' };
      const s1 = visitStatus(visit, d1);
      const s2 = visitStatus(visit, d2);
      if (state !== 'planned') return s1 === state && s2 === state;
      return RANK[s1]! <= RANK[s2]!;
    }), { numRuns: 500 });
  });
});

describe('dated visits', () => {
  it('puts the due date in the middle of its window and counts months from the start date', () => {
    fc.assert(fc.property(day, fc.array(fc.integer({ min: 1, max: 120 }), { minLength: 1, maxLength: 12 }), fc.integer({ min: 0, max: 60 }), (start, months, w) => {
      const vs = datedVisits(months.map((m) => ({ month: m, items: ['clinical'] })), start, w);
      return vs.every((v) => v.windowStart === addDays(v.dueDate, -w) && v.windowEnd === addDays(v.dueDate, w) && v.dueDate > start);
    }));
    expect(datedVisits([{ month: 1, items: [] }], '2026-01-31', 14)[0]!.dueDate).toBe('2026-02-28');
    expect(() => datedVisits([{ month: 1, items: [] }], undefined, 14)).toThrow(/without a date/);
  });

  it('reads the followUp of an assessment output, and nothing else', () => {
    expect(followUpOf({ followUp: { scheme: 's', visits: [{ month: 3, date: '2026-04-01', items: ['clinical', 1] }] } }))
      .toEqual({ scheme: 's', visits: [{ month: 3, date: '2026-04-01', items: ['clinical'] }] });
    expect(followUpOf({})).toBeNull();
    expect(followUpOf({ followUp: { scheme: 's', visits: [{ month: -1, items: [] }] } })).toBeNull();
  });
});
