import { describe, expect, it } from 'vitest';
import { loadKnowledgeBase } from '../io/kb-files.js';
import { exampleCases } from '../test-support/cases.js';
import type { AnchorRule } from './anchors.js';
import { evaluate, type LabelledCase } from './evaluate.js';
import { renderEvalHtml, renderEvalText, rocSvg } from './render.js';

const kb = loadKnowledgeBase();
const labelled: LabelledCase[] = exampleCases().map((c) => ({
  file: c.file, case: c.case, finalDiagnosis: c.expected, confirmedBy: 'clinical', source: { url: 'https://example.org', title: 'example' },
}));
const rule: AnchorRule = {
  id: 'deep', label: 'deep <lesion>', name: 'deep lesions', guideline: 'g', operationalised: 'o', unknown: 'u',
  sources: [{ url: 'https://example.org', title: 't' }], refer: { field: 'lesion.depth', eq: 'deep' },
};
const split = new Map(labelled.map((c, i) => [c.file, i % 2 ? 'holdout' as const : 'development' as const]));
const r = evaluate(kb, labelled, { anchors: [rule], split });

describe('referral rendering', () => {
  it('text: one referral table per set, each row with its counts', () => {
    const t = renderEvalText(r);
    for (const h of ['all cases: n=', 'development half: n=', 'holdout half: n=']) expect(t).toContain(h);
    const deep = r.sets[0]!.referral[2]!;
    expect(t).toContain(`${deep.malignant.k}/${deep.malignant.n}`);
    expect(t).toMatch(/deep <lesion>: deep lesions\. o Unknown: u\./);
  });
  it('ROC svg: the curve, calcdx as a square and every other row as a circle at (benign rate, malignant rate), labels escaped', () => {
    const set = r.sets[0]!;
    const svg = rocSvg(set);
    // calcdx: a square on the plot and in the legend; every other row: a circle on the plot and in the legend
    expect(svg.match(/<rect x="[\d.]+" y="[\d.]+" width="10"/g)).toHaveLength(2);
    expect((svg.match(/<circle cx/g) ?? []).length).toBe(2 * (set.referral.length - 1));
    const deep = set.referral[2]!;
    expect(svg).toContain(`<circle cx="${(40 + deep.benign.rate * 300).toFixed(1)}" cy="${(340 - deep.malignant.rate * 300).toFixed(1)}"`);
    expect(svg).toContain('deep &lt;lesion&gt;');
    expect(svg).not.toContain('<lesion>');
    expect(svg.match(/<path d="M40\.0,340\.0/)).not.toBeNull();
  });
  it('HTML: a ROC plot per set and the rule definitions with their sources', () => {
    const html = renderEvalHtml(kb, r, 'note');
    expect(html.match(/aria-label="ROC curve/g)).toHaveLength(3);
    expect(html).toContain('<a href="https://example.org">t</a>');
  });
});
