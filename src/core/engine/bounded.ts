/**
 * Probabilities as people should read them: bounded, never "0.0%" or "100%". A posterior of a
 * Bayesian model is never exactly 0 or 1, and a printed "100%" reads as certainty. Shared by the
 * engine's decision sentences and every report (re-exported by src/report/format.ts).
 */

/** "< 1%", "> 99%", or the whole percentage ("42%"). */
export function boundedPercent(p: number): string {
  const v = p * 100;
  if (!(v >= 1)) return '< 1%';
  if (v > 99) return '> 99%';
  return `${Math.round(v)}%`;
}

/**
 * A probability shown next to a threshold it is compared with: when the whole percentages would
 * read the same ("3%" against "3%") but the value is below, one decimal rounded down says so ("2.9%").
 */
export function percentAgainst(p: number, threshold: number): string {
  const s = boundedPercent(p);
  if (p < threshold && s === boundedPercent(threshold)) return `${(Math.floor(p * 1000) / 10).toFixed(1)}%`;
  return s;
}
