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
