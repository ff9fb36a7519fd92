/**
 * Small-sample statistics for the evaluation: Wilson score intervals for proportions and the
 * area under the ROC curve (Mann-Whitney) for a score separating two groups.
 */

/** z of a two-sided 95 % interval */
export const Z95 = 1.959963984540054;

/**
 * Wilson score interval of k successes in n trials (Wilson 1927; recommended over the Wald interval
 * for small n and proportions near 0 or 1: Brown, Cai & DasGupta, Stat Sci 2001). n = 0 → [0, 1].
 */
export function wilson(k: number, n: number, z = Z95): [number, number] {
  if (!(n > 0)) return [0, 1];
  if (!(k >= 0 && k <= n)) throw new RangeError(`wilson: k must be between 0 and n (found k=${k}, n=${n})`);
  const p = k / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // exact at the ends (the formula gives them up to rounding)
  return [k === 0 ? 0 : Math.max(0, centre - half), k === n ? 1 : Math.min(1, centre + half)];
}

/**
 * Probability that a random positive scores higher than a random negative (ties count half): the
 * area under the ROC curve. undefined when either group is empty.
 */
export function rocAuc(positives: readonly number[], negatives: readonly number[]): number | undefined {
  if (positives.length === 0 || negatives.length === 0) return undefined;
  let s = 0;
  for (const p of positives) for (const q of negatives) s += p > q ? 1 : p === q ? 0.5 : 0;
  return s / (positives.length * negatives.length);
}

export interface RocPoint { threshold: number; fpr: number; tpr: number }

/**
 * The empirical ROC curve of a score: one point per distinct score (refer when score >= threshold),
 * from the highest threshold down, starting at (0, 0) (threshold +Infinity) and ending at (1, 1).
 * Its trapezoidal area equals `rocAuc` (ties count half). Empty when either group is empty.
 */
export function rocCurve(positives: readonly number[], negatives: readonly number[]): RocPoint[] {
  if (positives.length === 0 || negatives.length === 0) return [];
  const thresholds = [...new Set([...positives, ...negatives])].sort((a, b) => b - a);
  const out: RocPoint[] = [{ threshold: Infinity, fpr: 0, tpr: 0 }];
  for (const t of thresholds) {
    out.push({ threshold: t, tpr: positives.filter((p) => p >= t).length / positives.length, fpr: negatives.filter((q) => q >= t).length / negatives.length });
  }
  return out;
}

/** trapezoidal area under a curve of points sorted by fpr */
export function rocArea(curve: readonly RocPoint[]): number {
  let a = 0;
  for (let i = 1; i < curve.length; i++) a += (curve[i]!.fpr - curve[i - 1]!.fpr) * (curve[i]!.tpr + curve[i - 1]!.tpr) / 2;
  return a;
}
