import fc from 'fast-check';
import { loadKnowledgeBase } from '../../dist/io/kb-files.js';
import { assess } from '../../dist/core/engine/assess.js';
import { observe } from '../../dist/core/engine/findings.js';
import { computeDifferential } from '../../dist/core/engine/differential.js';
import { nextQuestions } from '../../dist/core/engine/next-questions.js';
import { schedule } from '../../dist/core/engine/follow-up.js';
import { arbitraryCase } from '../../dist/test-support/arbitrary-case.js';
const kb = loadKnowledgeBase();
const cases = fc.sample(arbitraryCase, { numRuns: 10000, seed: 1 });
function time(name, fn) { for (let i=0;i<2000;i++) fn(cases[i]); const t=performance.now(); for (const c of cases) fn(c); console.log(name.padEnd(12), ((performance.now()-t)/cases.length*1000).toFixed(1),'µs'); }
time('observe', (c) => observe(kb, c));
time('diff', (c) => computeDifferential(kb, c, observe(kb, c)));
time('nq', (c) => { const o = observe(kb, c); nextQuestions(kb, computeDifferential(kb, c, o).posterior, o, true); });
time('schedule', () => schedule(kb.plans, 'sarcoma_high_grade', '2026-03-02'));
time('assess', (c) => assess(kb, c));
