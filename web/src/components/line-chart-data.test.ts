import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { alignSeries, daySeconds, MIN_X_SPAN_DAYS, unitsOf, xRange, type ChartSeries } from './line-chart-data.js';

describe('line chart data', () => {
  it('aligns two series on their dates, null where a series has no value', () => {
    const size: ChartSeries = { label: 'Size', unit: 'cm', points: [{ date: '2025-03-01', value: 4.2 }, { date: '2025-09-02', value: 4.6 }] };
    const vol: ChartSeries = { label: 'Calcified volume', unit: 'mL', points: [{ date: '2025-09-02', value: 1.8 }, { date: '2025-01-15', value: 1.2 }] };
    const { data, dropped } = alignSeries([size, vol]);
    expect(dropped).toBe(0);
    expect(data[0]).toEqual([daySeconds('2025-01-15'), daySeconds('2025-03-01'), daySeconds('2025-09-02')]);
    expect(data[1]).toEqual([null, 4.2, 4.6]);
    expect(data[2]).toEqual([1.2, null, 1.8]);
    expect(unitsOf([size, vol, { ...size, label: 'Other' }])).toEqual(['cm', 'mL']);
  });

  it('leaves out dates that are not real and values that are not finite, and counts them', () => {
    const s: ChartSeries = { label: 'x', unit: 'cm', points: [
      { date: '2025-02-30', value: 1 }, { date: '2025-1-5', value: 1 }, { date: '2025-04-01', value: Number.NaN }, { date: '2025-04-02', value: 3 },
    ] };
    const { data, dropped } = alignSeries([s]);
    expect(dropped).toBe(3);
    expect(data).toEqual([[daySeconds('2025-04-02')], [3]]);
    expect(daySeconds('2024-02-29')).toBe(Date.UTC(2024, 1, 29) / 1000);
    expect(daySeconds('2023-02-29')).toBeUndefined();
  });

  it('x is strictly ascending and every series is as long as x (property)', () => {
    const day = fc.date({ min: new Date('2000-01-01'), max: new Date('2100-12-31'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10));
    const series = fc.array(fc.record({ label: fc.string(), unit: fc.constantFrom('cm', 'mL'), points: fc.array(fc.record({ date: day, value: fc.double({ noNaN: true, noDefaultInfinity: true }) })) }), { maxLength: 4 });
    fc.assert(fc.property(series, (ss) => {
      const { data, dropped } = alignSeries(ss);
      const [xs, ...ys] = data;
      expect(dropped).toBe(0);
      for (let i = 1; i < xs.length; i++) expect(xs[i]!).toBeGreaterThan(xs[i - 1]!);
      expect(ys.length).toBe(ss.length);
      for (const y of ys) expect(y.length).toBe(xs.length);
      // every value given is drawn on its day
      ss.forEach((s, k) => { for (const p of s.points) expect(ys[k]![xs.indexOf(daySeconds(p.date)!)]).not.toBeNull(); });
    }));
  });

  it('draws points all on one day on a week of days around it, not a range of zero', () => {
    const day = daySeconds('2026-06-15')!;
    const s: ChartSeries = { label: 'Size', unit: 'cm', points: [{ date: '2026-06-15', value: 4.2 }] };
    const xs = alignSeries([s, { ...s, label: 'Volume', unit: 'mL' }]).data[0];
    const [lo, hi] = xRange(Math.min(...xs), Math.max(...xs));
    expect([lo, hi]).toEqual([daySeconds('2026-06-12'), daySeconds('2026-06-19')]);
    expect(lo).toBeLessThan(day);
    expect(hi).toBeGreaterThan(day);
    // two days apart: widened to the week too; a wider range is kept as it is
    expect(xRange(day, day + 2 * 86_400)).toEqual([daySeconds('2026-06-13'), daySeconds('2026-06-20')]);
    expect(xRange(day, day + 30 * 86_400)).toEqual([day, day + 30 * 86_400]);
  });

  it('gives a range that holds every point, at least a week wide, starting at a UTC midnight when widened', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 20_000 }), fc.integer({ min: 0, max: 60 }), (d, span) => {
      const min = d * 86_400;
      const max = (d + span) * 86_400;
      const [lo, hi] = xRange(min, max);
      expect(lo).toBeLessThanOrEqual(min);
      expect(hi).toBeGreaterThanOrEqual(max);
      expect(hi - lo).toBeGreaterThanOrEqual(MIN_X_SPAN_DAYS * 86_400);
      if (span < MIN_X_SPAN_DAYS) expect(((lo % 86_400) + 86_400) % 86_400).toBe(0);
      else expect([lo, hi]).toEqual([min, max]);
    }));
  });
});
