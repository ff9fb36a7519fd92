/**
 * The data of a line chart over dates, as uPlot takes it: one x array of days (Unix seconds,
 * UTC midnight, ascending, each date once) and one y array per series, `null` where a series has
 * no value on that day (the line is drawn across it). Pure: testable in Node.
 */

/** One measurement: a calendar date (YYYY-MM-DD) and its value. */
export interface DatedValue { date: string; value: number }

export interface ChartSeries {
  /** the series' name in the legend and the data table (already in the page's language) */
  label: string;
  /** its unit, shown on its axis ('cm', 'mL'); series with the same unit share an axis */
  unit: string;
  points: readonly DatedValue[];
}

export type AlignedData = [number[], ...Array<Array<number | null>>];

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Unix seconds of a calendar date at UTC midnight; undefined for anything that is not a real date. */
export function daySeconds(date: string): number | undefined {
  const m = DATE.exec(date);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  // 2025-02-30 rolls over into March: not a real date
  return new Date(ms).toISOString().slice(0, 10) === date ? ms / 1000 : undefined;
}

/**
 * Aligns the series on their dates. A point whose date is not a real date or whose value is not
 * a finite number is left out (and counted in `dropped`); of two values of one series on the same
 * day the later one in its list is kept.
 */
export function alignSeries(series: readonly ChartSeries[]): { data: AlignedData; dropped: number } {
  let dropped = 0;
  const bySeries = series.map((s) => {
    const m = new Map<number, number>();
    for (const p of s.points) {
      const x = daySeconds(p.date);
      if (x === undefined || !Number.isFinite(p.value)) { dropped++; continue; }
      m.set(x, p.value);
    }
    return m;
  });
  const xs = [...new Set(bySeries.flatMap((m) => [...m.keys()]))].sort((a, b) => a - b);
  const ys = bySeries.map((m) => xs.map((x) => m.get(x) ?? null));
  return { data: [xs, ...ys], dropped };
}

/** The distinct units in the order the series bring them: one axis (and scale) each. */
export function unitsOf(series: readonly ChartSeries[]): string[] {
  return [...new Set(series.map((s) => s.unit))];
}

const DAY = 86_400;
/** the narrowest x range drawn, in days: a week */
export const MIN_X_SPAN_DAYS = 7;

/**
 * The x range to draw for points from `min` to `max` (Unix seconds of days): the points' own
 * range, widened about its middle to at least MIN_X_SPAN_DAYS. Points all on one day (or a
 * few days apart) would otherwise give the time axis a range of zero (or of hours), which it
 * fills with ticks of hours and minutes, or of the epoch; a week has ticks of days around them.
 */
export function xRange(min: number, max: number): [number, number] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0, MIN_X_SPAN_DAYS * DAY];
  const [lo, hi] = min <= max ? [min, max] : [max, min];
  const span = MIN_X_SPAN_DAYS * DAY;
  if (hi - lo >= span) return [lo, hi];
  const mid = Math.floor((lo + hi) / 2 / DAY) * DAY;
  const start = mid - Math.floor(MIN_X_SPAN_DAYS / 2) * DAY;
  return [Math.min(lo, start), Math.max(hi, start + span)];
}
