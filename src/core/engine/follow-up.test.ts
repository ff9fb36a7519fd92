import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { PlansFile } from '../knowledge/schema.js';
import { addMonths, schedule } from './follow-up.js';

describe('addMonths', () => {
  it('adds months and clamps the day', () => {
    expect(addMonths('2026-03-02', 3)).toBe('2026-06-02');
    expect(addMonths('2026-01-31', 1)).toBe('2026-02-28');
    expect(addMonths('2028-01-31', 1)).toBe('2028-02-29');
    expect(addMonths('2026-11-15', 2)).toBe('2027-01-15');
    expect(addMonths('2026-03-02', 120)).toBe('2036-03-02');
  });
  it('always gives a real date later than the start', () => {
    fc.assert(fc.property(fc.date({ min: new Date('1990-01-01'), max: new Date('2090-12-31'), noInvalidDate: true }), fc.integer({ min: 1, max: 240 }), (d, m) => {
      const iso = d.toISOString().slice(0, 10);
      const r = addMonths(iso, m);
      const back = new Date(`${r}T00:00:00Z`);
      expect(back.toISOString().slice(0, 10)).toBe(r);
      expect(r > iso).toBe(true);
    }));
  });
});

describe('schedule', () => {
  const plans = {
    followUpSchemes: {
      sarcoma_high_grade: {
        label: { en: 'x', zh: 'x' }, watchFor: { en: 'x', zh: 'x' }, src: 'expert',
        segments: [
          { fromMonth: 0, toMonth: 24, everyMonths: 3, items: ['clinical', 'local_imaging', 'chest_imaging'] },
          { fromMonth: 24, toMonth: 60, everyMonths: 6, items: ['clinical', 'chest_imaging'] },
        ],
      },
    },
  } as unknown as PlansFile;
  it('lists visits by month and dates them from surgery', () => {
    const v = schedule(plans, 'sarcoma_high_grade', '2026-03-02');
    expect(v.slice(0, 2)).toEqual([
      { month: 3, date: '2026-06-02', items: ['clinical', 'local_imaging', 'chest_imaging'] },
      { month: 6, date: '2026-09-02', items: ['clinical', 'local_imaging', 'chest_imaging'] },
    ]);
    expect(v.filter((x) => x.month <= 24)).toHaveLength(8);
    expect(v.at(-1)).toMatchObject({ month: 60, date: '2031-03-02' });
  });
  it('counts months only when no surgery date is known', () => {
    expect(schedule(plans, 'sarcoma_high_grade')[0]).toEqual({ month: 3, items: ['clinical', 'local_imaging', 'chest_imaging'] });
  });
});
