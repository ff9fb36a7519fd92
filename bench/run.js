// npm run bench: assessments per second and latency percentiles over 10,000 random valid
// cases (one core, after warm-up). Goal (issue 2): > 20,000 assessments/s, p99 < 1 ms.
import fc from 'fast-check';
import { loadKnowledgeBase } from '../dist/io/kb-files.js';
import { assess } from '../dist/core/engine/assess.js';
import { arbitraryCase } from '../dist/test-support/arbitrary-case.js';

const N = 10_000;
const kb = loadKnowledgeBase();
const cases = fc.sample(arbitraryCase, { numRuns: N, seed: 20261124 });

for (let i = 0; i < 2000; i++) assess(kb, cases[i % N]);

const lat = new Float64Array(N);
const t0 = performance.now();
for (let i = 0; i < N; i++) {
  const s = performance.now();
  assess(kb, cases[i]);
  lat[i] = performance.now() - s;
}
const total = performance.now() - t0;
// throughput without the per-call timer
const t1 = performance.now();
for (let r = 0; r < 3; r++) for (let i = 0; i < N; i++) assess(kb, cases[i]);
const bulk = (performance.now() - t1) / 3;

lat.sort();
const q = (p) => lat[Math.min(N - 1, Math.floor(p * N))];
const perSec = N / (bulk / 1000);
console.log(`calcdx engine benchmark (${N} random valid cases, node ${process.version})`);
console.log(`  throughput:      ${Math.round(perSec).toLocaleString('en')} assessments/s (goal > 20,000)`);
console.log(`  latency p50:     ${(q(0.5) * 1000).toFixed(1)} µs`);
console.log(`  latency p99:     ${(q(0.99) * 1000).toFixed(1)} µs (goal < 1000 µs)`);
console.log(`  latency max:     ${(lat[N - 1] * 1000).toFixed(1)} µs`);
console.log(`  timed loop:      ${total.toFixed(0)} ms`);
const ok = perSec > 20_000 && q(0.99) < 1;
console.log(ok ? 'goals met' : 'GOALS NOT MET');
