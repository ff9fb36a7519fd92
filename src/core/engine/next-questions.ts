/**
 * Next best question: among the findings the case leaves unknown, the ones whose answer is
 * expected to change the differential most (expected reduction of its entropy, in bits).
 */
import type { KnowledgeBase } from '../knowledge/compile.js';
import type { Observation } from './findings.js';

export interface NextQuestion {
  finding: string;
  /** expected information gain, bits */
  expectedGain: number;
  test: string;
  /** what each answer would do: its predicted probability and the entity that would then lead */
  outcomes: Array<{ value: string; probability: number; leader: string; leaderProbability: number }>;
}

/**
 * Expected information gain of each unknown finding: the mutual information between the
 * finding and the diagnosis, I = H(V) - sum_e P(e) H(V | e), with H(V | e) precomputed in
 * the knowledge base; then, for the best few, what each answer would do.
 */
/** Below this expected gain (bits) no answer would change the differential meaningfully. */
export const MIN_GAIN_BITS = 0.01;

export function nextQuestions(kb: KnowledgeBase, posterior: Float64Array, obs: readonly Observation[], traumaPresent: boolean, count = 3): NextQuestion[] {
  const nE = posterior.length;
  // entities whose posterior is negligible cannot move the expected entropy measurably
  const active = new Int32Array(nE);
  let nA = 0;
  for (let e = 0; e < nE; e++) if (posterior[e]! > 1e-7) active[nA++] = e;
  const known = new Uint8Array(kb.findings.length);
  const knownValue = new Int32Array(kb.findings.length);
  for (const o of obs) { known[o.finding] = 1; knownValue[o.finding] = o.value; }
  /**
   * A finding's likelihood table as the differential would use it (`tlik[e * stride + offset + value]`),
   * the entropy of each row, and the belief over entities to weigh the rows with. A finding whose parent
   * is known (findings.yaml dependsOn) counts given the parent's value. A parent whose dependent findings
   * are known counts together with them: row e is P(v | e) x prod P(child value | v, e), normalised, and
   * the belief is the posterior times each row's normaliser over the children's own likelihoods (what
   * the differential does when the parent's answer switches the children to their conditional tables).
   */
  interface Table { tlik: Float64Array; stride: number; offset: number; entropy: Float64Array; hStride: number; hOffset: number; belief: Float64Array }
  const tableOf = (fi: number): Table => {
    const f = kb.findings[fi]!;
    const k = f.values.length;
    if (f.parent !== undefined && known[f.parent]) {
      const kp = kb.findings[f.parent]!.values.length;
      const pv = knownValue[f.parent]!;
      return { tlik: f.condTlik!, stride: kp * k, offset: pv * k, entropy: f.condEntropyGiven!, hStride: kp, hOffset: pv, belief: posterior };
    }
    const kids = f.children?.filter((c) => known[c]) ?? [];
    if (kids.length === 0) return { tlik: f.tlik, stride: k, offset: 0, entropy: f.condEntropy, hStride: 1, hOffset: 0, belief: posterior };
    const t = new Float64Array(nE * k), h = new Float64Array(nE), belief = new Float64Array(nE);
    let bSum = 0;
    for (let e = 0; e < nE; e++) {
      let z = 0, own = 1;
      for (let v = 0; v < k; v++) {
        let x = f.tlik[e * k + v]!;
        for (const c of kids) {
          const child = kb.findings[c]!, kc = child.values.length;
          x *= child.condTlik![e * k * kc + v * kc + knownValue[c]!]!;
        }
        t[e * k + v] = x;
        z += x;
      }
      for (const c of kids) own *= kb.findings[c]!.tlik[e * kb.findings[c]!.values.length + knownValue[c]!]!;
      let he = 0;
      for (let v = 0; v < k; v++) { const x = t[e * k + v]! / z; t[e * k + v] = x; if (x > 0) he -= x * Math.log2(x); }
      h[e] = he;
      belief[e] = posterior[e]! * z / own;
      bSum += belief[e]!;
    }
    for (let e = 0; e < nE; e++) belief[e] = belief[e]! / bSum;
    return { tlik: t, stride: k, offset: 0, entropy: h, hStride: 1, hOffset: 0, belief };
  };
  // the best `count` findings so far, best first (a small insertion list, not a full sort)
  const topF = new Int32Array(count).fill(-1);
  const topG = new Float64Array(count).fill(-Infinity);
  const pv = new Float64Array(32);
  const findings = kb.findings;
  for (let fi = 0; fi < findings.length; fi++) {
    if (known[fi]) continue;
    const f = findings[fi]!;
    if (!traumaPresent && f.def.id === 'history.trauma.weeksAgo') continue;
    const k = f.values.length;
    const { tlik, stride, offset, entropy, hStride, hOffset, belief } = tableOf(fi);
    for (let v = 0; v < k; v++) pv[v] = 0;
    let condH = 0;
    for (let a = 0; a < nA; a++) {
      const e = active[a]!;
      const p = belief[e]!;
      condH += p * entropy[e * hStride + hOffset]!;
      const row = e * stride + offset;
      for (let v = 0; v < k; v++) pv[v] = pv[v]! + p * tlik[row + v]!;
    }
    let h = 0;
    for (let v = 0; v < k; v++) { const x = pv[v]!; if (x > 0) h -= x * Math.log2(x); }
    const gain = h - condH;
    if (gain < MIN_GAIN_BITS || gain <= topG[count - 1]!) continue;
    let i = count - 1;
    while (i > 0 && topG[i - 1]! < gain) { topG[i] = topG[i - 1]!; topF[i] = topF[i - 1]!; i--; }
    topG[i] = gain;
    topF[i] = fi;
  }
  const gains: Array<{ f: number; gain: number }> = [];
  for (let i = 0; i < count; i++) if (topF[i]! >= 0) gains.push({ f: topF[i]!, gain: topG[i]! });
  return gains.map(({ f: fi, gain }) => {
    const f = kb.findings[fi]!;
    const { tlik, stride, offset, belief } = tableOf(fi);
    const outcomes = f.values.map((value, v) => {
      let p = 0;
      let best = 0;
      let bestS = -1;
      for (let e = 0; e < nE; e++) {
        const s = belief[e]! * tlik[e * stride + offset + v]!;
        p += s;
        if (s > bestS) { bestS = s; best = e; }
      }
      return { value, probability: p, leader: kb.entities[best]!.id, leaderProbability: p > 0 ? bestS / p : 0 };
    });
    return { finding: f.def.id, expectedGain: gain, test: f.def.test, outcomes };
  });
}
