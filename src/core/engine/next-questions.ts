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

function entropyBits(p: Float64Array): number {
  let h = 0;
  for (let i = 0; i < p.length; i++) { const x = p[i]!; if (x > 0) h -= x * Math.log2(x); }
  return h;
}

export function nextQuestions(kb: KnowledgeBase, posterior: Float64Array, obs: readonly Observation[], traumaPresent: boolean, count = 3): NextQuestion[] {
  const nE = posterior.length;
  const w = kb.rules.thresholds.evidenceWeight.value;
  const known = new Uint8Array(kb.findings.length);
  for (const o of obs) known[o.finding] = 1;
  const h0 = entropyBits(posterior);
  const scratch = new Float64Array(nE);
  const results: NextQuestion[] = [];
  for (const f of kb.findings) {
    if (known[f.index]) continue;
    if (f.def.id === 'history.trauma.weeksAgo' && !traumaPresent) continue;
    const k = f.values.length;
    let expectedH = 0;
    const outcomes: NextQuestion['outcomes'] = [];
    for (let v = 0; v < k; v++) {
      let pv = 0;
      let z = 0;
      for (let e = 0; e < nE; e++) {
        pv += posterior[e]! * f.lik[e * k + v]!;
        const s = posterior[e]! * Math.exp(w * f.logLr[e * k + v]!);
        scratch[e] = s;
        z += s;
      }
      let best = 0;
      for (let e = 0; e < nE; e++) { scratch[e] = scratch[e]! / z; if (scratch[e]! > scratch[best]!) best = e; }
      expectedH += pv * entropyBits(scratch);
      outcomes.push({ value: f.values[v]!, probability: pv, leader: kb.entities[best]!.id, leaderProbability: scratch[best]! });
    }
    const gain = h0 - expectedH;
    if (gain > 1e-4) results.push({ finding: f.def.id, expectedGain: gain, test: f.def.test, outcomes });
  }
  results.sort((a, b) => b.expectedGain - a.expectedGain);
  return results.slice(0, count);
}
