/**
 * A line chart of values over dates (e.g. a lesion's size and calcified volume at each visit),
 * drawn with uPlot on a canvas: one line per series, one axis per unit (the first on the left,
 * the second on the right), dates on the x axis in UTC (a calendar date is the same day
 * everywhere; at least a week wide, so that points all on one day sit on a readable axis of
 * days). The same numbers are in a table for screen readers (and in print, where a
 * canvas may not be). uPlot sets its sizes through the CSSOM, so the page's CSP (style-src 'self')
 * holds; its stylesheet is bundled into app.css.
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { alignSeries, unitsOf, xRange, type ChartSeries } from './line-chart-data.js';

export type { ChartSeries, DatedValue } from './line-chart-data.js';

export interface LineChartProps {
  /** what the chart shows, as its accessible name and caption */
  title: string;
  series: readonly ChartSeries[];
  /** shown instead of the chart when no series has a valid point */
  emptyText: string;
  /** the table's date column heading */
  dateLabel: string;
  height?: number;
}

/** Line colours (distinguishable in grey print and for the common colour-vision deficiencies). */
const COLOURS = ['#1f5fa8', '#c2541b', '#2e7d32', '#6a3d9a'];

const utc = (ts: number): Date => uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC');

export function LineChart({ title, series, emptyText, dateLabel, height = 240 }: LineChartProps) {
  const host = useRef<HTMLDivElement>(null);
  const { data } = alignSeries(series);
  const units = unitsOf(series);
  const empty = data[0].length === 0;

  useEffect(() => {
    const el = host.current;
    if (!el || empty) return undefined;
    const opts: uPlot.Options = {
      title,
      width: Math.max(200, el.clientWidth),
      height,
      tzDate: utc,
      scales: { x: { time: true, range: (_u, min, max) => xRange(min, max) }, ...Object.fromEntries(units.map((u) => [u, { auto: true }])) },
      series: [
        { label: dateLabel, value: (_u, ts) => (ts == null ? '—' : new Date(ts * 1e3).toISOString().slice(0, 10)) },
        ...series.map((s, i) => ({
          label: `${s.label} (${s.unit})`, scale: s.unit, stroke: COLOURS[i % COLOURS.length]!, width: 2,
          spanGaps: true, points: { show: true, size: 7 },
        })),
      ],
      axes: [
        {},
        ...units.slice(0, 2).map((u, i) => ({ scale: u, label: u, side: i === 0 ? 3 : 1, grid: { show: i === 0 } })),
      ],
    };
    const chart = new uPlot(opts, data as uPlot.AlignedData, el);
    const ro = new ResizeObserver(() => chart.setSize({ width: Math.max(200, el.clientWidth), height }));
    ro.observe(el);
    return () => { ro.disconnect(); chart.destroy(); };
  // redrawn when what it shows changes (the series by value)
  }, [title, height, dateLabel, JSON.stringify(series)]);

  if (empty) return <p class="line-chart-empty muted">{emptyText}</p>;
  return (
    <figure class="line-chart">
      <div ref={host} class="line-chart-canvas" role="img" aria-label={title} />
      <table class="sr-only line-chart-data">
        <caption>{title}</caption>
        <thead><tr><th scope="col">{dateLabel}</th>{series.map((s) => <th scope="col">{`${s.label} (${s.unit})`}</th>)}</tr></thead>
        <tbody>
          {data[0].map((x, r) => (
            <tr><th scope="row">{new Date(x * 1e3).toISOString().slice(0, 10)}</th>{data.slice(1).map((y) => <td>{y[r] ?? '—'}</td>)}</tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
