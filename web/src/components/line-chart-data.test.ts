import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { alignSeries, daySeconds, unitsOf, type ChartSeries } from './line-chart-data.js';

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
});
