/**
 * Evaluation report as a terminal table and as one self-contained HTML page with a
 * calibration plot and a confusion matrix (SVG).
 */
import type { KnowledgeBase } from '../core/knowledge/compile.js';
import { esc } from '../report/render-html.js';
import type { EvalReport, Metrics, Proportion, SetReport } from './evaluate.js';

const pc = (x: number): string => `${(x * 100).toFixed(1)}%`;
const f3 = (x: number): string => x.toFixed(3);

/** "77.4% (67.4-85.0%)" */
const withInterval = (p: Proportion): string => `${pc(p.rate)} (${(p.low * 100).toFixed(1)}-${pc(p.high)})`;

function intervalLines(r: EvalReport): string[] {
  const i = r.intervals;
  return [
    `top-1 ${i.top1.k}/${i.top1.n} ${withInterval(i.top1)}`,
    `top-3 ${i.top3.k}/${i.top3.n} ${withInterval(i.top3)}`,
    `top-5 ${i.top5.k}/${i.top5.n} ${withInterval(i.top5)}`,
    `malignant flagged ${i.malignantFlagged.k}/${i.malignantFlagged.n} ${withInterval(i.malignantFlagged)}`,
    `benign urgent ${i.benignUrgent.k}/${i.benignUrgent.n} ${withInterval(i.benignUrgent)}`,
  ];
}

const SET_TITLE: Record<SetReport['set'], string> = { all: 'all cases', development: 'development half', holdout: 'holdout half' };

/** "12/30 40.0% (24.6-57.7%)" */
const countWithInterval = (p: Proportion): string => `${p.k}/${p.n} ${withInterval(p)}`;

const REFERRAL_HEAD = ['referral rule', 'malignant referred', 'benign referred', 'decided by an unknown (mal/ben)'];

function referralRows(s: SetReport): string[][] {
  return s.referral.map((r) => [r.label, countWithInterval(r.malignant), countWithInterval(r.benign), r.decidedByUnknown ? `${r.decidedByUnknown.malignant}/${r.decidedByUnknown.benign}` : '']);
}

function setHeadline(s: SetReport): string {
  return `${SET_TITLE[s.set]}: n=${s.n}, top-1 ${countWithInterval(s.top1)}, top-3 ${countWithInterval(s.top3)}${s.malignancyAuc !== undefined ? `, malignancy ROC area ${f3(s.malignancyAuc)}` : ''}`;
}

function metricRow(name: string, m: Metrics): string[] {
  return [name, String(m.n), pc(m.top1), pc(m.top3), pc(m.top5), f3(m.mrr), f3(m.brier), f3(m.logLoss)];
}

function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
  return [line(head), w.map((x) => '-'.repeat(x)).join('  '), ...rows.map(line)].join('\n');
}

export function renderEvalText(r: EvalReport): string {
  const out: string[] = [];
  const head = ['', 'n', 'top-1', 'top-3', 'top-5', 'MRR', 'Brier', 'log loss'];
  out.push('calcdx evaluation on published cases', '');
  out.push(table(head, [
    metricRow('calcdx', r.metrics),
    ['prior only (baseline)', String(r.metrics.n), pc(r.baseline.top1), pc(r.baseline.top3), '', '', f3(r.baseline.brier), f3(r.baseline.logLoss)],
  ]));
  out.push('', '95% intervals (Wilson)', ...intervalLines(r).map((l) => `  ${l}`));
  out.push('', 'Safety');
  const s = r.safety;
  out.push(`  malignant cases flagged (red flag or malignancy probability >= ${pc(s.threshold)}): ${s.flagged}/${s.malignantCases} (${pc(s.flaggedRate)})`);
  out.push(`  malignant cases sent to urgent referral: ${s.urgentReferred}/${s.malignantCases} (${pc(s.urgentRate)})`);
  out.push(`  benign / non-malignant cases sent to urgent referral: ${s.benignUrgent}/${s.benignCases} (${pc(s.benignUrgentRate)})`);
  out.push(`  benign and non-neoplastic cases only (intermediate tumours, whose place is with a sarcoma team, left out) sent to urgent referral: ${s.strictlyBenignUrgent}/${s.strictlyBenignCases} (${pc(s.strictlyBenignUrgentRate)})`);
  out.push(`  benign / non-malignant cases flagged as possibly malignant (red flag or probability): ${s.benignFlagged}/${s.benignCases} (${pc(s.benignFlaggedRate)})`);
  if (s.malignancyAuc !== undefined) out.push(`  malignancy probability, malignant vs other cases: ROC area ${f3(s.malignancyAuc)}`);
  if (s.missed.length) out.push(`  missed: ${s.missed.join(', ')}`);
  out.push('', 'Referral beside the guideline rules, on the same cases ("benign" = every non-malignant case; 95% Wilson intervals)');
  for (const set of r.sets) {
    out.push('', `  ${setHeadline(set)}`);
    out.push(table(REFERRAL_HEAD, referralRows(set)).split('\n').map((l) => `  ${l}`).join('\n'));
  }
  if (r.anchorRules.length) {
    out.push('', '  Rules as operationalised (unknown fields):');
    for (const a of r.anchorRules) out.push(`  - ${a.label}: ${a.name}. ${a.operationalised} Unknown: ${a.unknown}.`);
  }
  out.push('', 'Ablation (what is known)');
  out.push(table(head, r.ablation.map((a) => metricRow(a.id, a.metrics))));
  out.push('', 'Reliability (all case x entity probabilities)');
  out.push(table(['bin', 'count', 'mean predicted', 'observed'], r.reliability.filter((b) => b.count).map((b) => [`${b.from.toFixed(1)}-${b.to.toFixed(1)}`, String(b.count), f3(b.meanPredicted), f3(b.observed)])));
  out.push('', 'Per entity');
  out.push(table(['entity', 'n', 'top-1', 'top-3', 'mean rank'], r.perEntity.map((e) => [e.id, String(e.n), pc(e.top1), pc(e.top3), e.meanRank.toFixed(1)])));
  out.push('', 'By confirmation');
  out.push(table(['confirmed by', 'n', 'top-1', 'top-3'], r.byConfirmation.map((c) => [c.confirmedBy, String(c.n), pc(c.top1), pc(c.top3)])));
  out.push('', 'By findings known beyond age, sex and site');
  out.push(table(['findings', 'n', 'top-1', 'top-3'], r.byFindingsKnown.map((b) => [b.label, String(b.n), pc(b.top1), pc(b.top3)])));
  out.push('', 'Cases not ranked first');
  out.push(table(['case', 'rank', 'p(true)', 'leading'], r.cases.filter((c) => c.rank > 1).map((c) => [c.file, String(c.rank), pc(c.probability), `${c.top[0]!.id} ${pc(c.top[0]!.probability)}`])));
  return `${out.join('\n')}\n`;
}

function calibrationSvg(r: EvalReport): string {
  const S = 320, P = 40;
  const x = (v: number) => P + v * S;
  const y = (v: number) => P + S - v * S;
  const pts = r.reliability.filter((b) => b.count > 0);
  const maxCount = Math.max(1, ...pts.map((b) => b.count));
  const dots = pts.map((b) => `<circle cx="${x(b.meanPredicted).toFixed(1)}" cy="${y(b.observed).toFixed(1)}" r="${(3 + 7 * Math.sqrt(b.count / maxCount)).toFixed(1)}" fill="#2e86c1" fill-opacity="0.7"><title>${b.from.toFixed(1)}-${b.to.toFixed(1)}: n=${b.count}, predicted ${f3(b.meanPredicted)}, observed ${f3(b.observed)}</title></circle>`).join('');
  const line = pts.map((b, i) => `${i ? 'L' : 'M'}${x(b.meanPredicted).toFixed(1)},${y(b.observed).toFixed(1)}`).join('');
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((v) => `<text x="${x(v)}" y="${P + S + 16}" text-anchor="middle">${v}</text><text x="${P - 6}" y="${y(v) + 4}" text-anchor="end">${v}</text>`).join('');
  return `<svg role="img" aria-label="calibration plot" viewBox="0 0 ${S + 2 * P} ${S + 2 * P + 10}" width="420" xmlns="http://www.w3.org/2000/svg" font-size="11">
<rect x="${P}" y="${P}" width="${S}" height="${S}" fill="#fbfcfc" stroke="#aab7b8"/>
<line x1="${x(0)}" y1="${y(0)}" x2="${x(1)}" y2="${y(1)}" stroke="#aab7b8" stroke-dasharray="4 3"/>
<path d="${line}" fill="none" stroke="#2e86c1"/>${dots}${ticks}
<text x="${P + S / 2}" y="${P + S + 34}" text-anchor="middle">predicted probability</text>
<text x="12" y="${P + S / 2}" transform="rotate(-90 12 ${P + S / 2})" text-anchor="middle">observed frequency</text>
</svg>`;
}

const RULE_COLOURS = ['#c0392b', '#d68910', '#7d3c98', '#117a65', '#2c3e50', '#a04000'];

/** calcdx's ROC curve of the malignancy probability, with calcdx's referral, the prior-only baseline and each rule as points */
export function rocSvg(s: SetReport): string {
  const S = 300, P = 40, LEG = 16;
  const x = (v: number) => P + v * S;
  const y = (v: number) => P + S - v * S;
  const path = s.roc.map((p, i) => `${i ? 'L' : 'M'}${x(p.fpr).toFixed(1)},${y(p.tpr).toFixed(1)}`).join('');
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((v) => `<text x="${x(v)}" y="${P + S + 16}" text-anchor="middle">${v}</text><text x="${P - 6}" y="${y(v) + 4}" text-anchor="end">${v}</text>`).join('');
  const marks = s.referral.map((r, i) => {
    const colour = r.kind === 'calcdx' ? '#2e86c1' : RULE_COLOURS[i % RULE_COLOURS.length]!;
    const cx = x(r.benign.rate).toFixed(1), cy = y(r.malignant.rate).toFixed(1);
    const title = `<title>${esc(r.label)}: malignant referred ${r.malignant.k}/${r.malignant.n}, benign referred ${r.benign.k}/${r.benign.n}</title>`;
    const shape = r.kind === 'calcdx'
      ? `<rect x="${Number(cx) - 5}" y="${Number(cy) - 5}" width="10" height="10" fill="${colour}">${title}</rect>`
      : `<circle cx="${cx}" cy="${cy}" r="5" fill="${colour}" fill-opacity="0.85">${title}</circle>`;
    const ly = P + S + 44 + i * LEG;
    const key = r.kind === 'calcdx' ? `<rect x="${P + 1}" y="${ly - 5}" width="10" height="10" fill="${colour}"/>` : `<circle cx="${P + 6}" cy="${ly}" r="5" fill="${colour}"/>`;
    const legend = `${key}<text x="${P + 16}" y="${ly + 4}">${esc(r.label)} (benign ${pc(r.benign.rate)}, malignant ${pc(r.malignant.rate)})</text>`;
    return shape + legend;
  }).join('');
  const H = P + S + 44 + s.referral.length * LEG;
  return `<svg role="img" aria-label="ROC curve of the malignancy probability, ${esc(SET_TITLE[s.set])}" viewBox="0 0 ${S + 2 * P + 260} ${H}" width="${S + 2 * P + 260}" xmlns="http://www.w3.org/2000/svg" font-size="11">
<rect x="${P}" y="${P}" width="${S}" height="${S}" fill="#fbfcfc" stroke="#aab7b8"/>
<line x1="${x(0)}" y1="${y(0)}" x2="${x(1)}" y2="${y(1)}" stroke="#aab7b8" stroke-dasharray="4 3"/>
<path d="${path}" fill="none" stroke="#2e86c1" stroke-width="1.5"><title>calcdx malignancy probability${s.malignancyAuc !== undefined ? `, ROC area ${f3(s.malignancyAuc)}` : ''}</title></path>${marks}${ticks}
<text x="${P + S / 2}" y="${P + S + 32}" text-anchor="middle">benign (non-malignant) cases referred</text>
<text x="12" y="${P + S / 2}" transform="rotate(-90 12 ${P + S / 2})" text-anchor="middle">malignant cases referred</text>
<text x="${P}" y="${P - 10}">${esc(SET_TITLE[s.set])} (n=${s.n})${s.malignancyAuc !== undefined ? `: ROC area ${f3(s.malignancyAuc)}` : ''}</text>
</svg>`;
}

function confusionSvg(kb: KnowledgeBase, r: EvalReport): string {
  const used = r.confusion.labels.map((_, i) => i).filter((i) => r.confusion.matrix[i]!.some((v) => v > 0) || r.confusion.matrix.some((row) => row[i]! > 0));
  const C = 18, L = 200;
  const n = used.length;
  const max = Math.max(1, ...r.confusion.matrix.flat());
  const name = (i: number) => kb.entities[i]!.id;
  const cells = used.map((ti, a) => used.map((pi, b) => {
    const v = r.confusion.matrix[ti]![pi]!;
    const fill = v === 0 ? '#ffffff' : ti === pi ? `rgba(39,174,96,${0.25 + 0.75 * v / max})` : `rgba(192,57,43,${0.25 + 0.75 * v / max})`;
    return `<rect x="${L + b * C}" y="${L + a * C}" width="${C}" height="${C}" fill="${fill}" stroke="#e5e8e8"><title>true ${name(ti)}, predicted ${name(pi)}: ${v}</title></rect>${v ? `<text x="${L + b * C + C / 2}" y="${L + a * C + 13}" text-anchor="middle">${v}</text>` : ''}`;
  }).join('')).join('');
  const rows = used.map((ti, a) => `<text x="${L - 4}" y="${L + a * C + 13}" text-anchor="end">${esc(name(ti))}</text>`).join('');
  const cols = used.map((pi, b) => `<text transform="translate(${L + b * C + 13},${L - 4}) rotate(-60)">${esc(name(pi))}</text>`).join('');
  return `<svg role="img" aria-label="confusion matrix" viewBox="0 0 ${L + n * C + 10} ${L + n * C + 30}" width="100%" xmlns="http://www.w3.org/2000/svg" font-size="10">${rows}${cols}${cells}
<text x="${L}" y="${L + n * C + 22}">rows: true diagnosis; columns: top-ranked diagnosis</text></svg>`;
}

export function renderEvalHtml(kb: KnowledgeBase, r: EvalReport, note: string): string {
  const m = r.metrics;
  const tr = (cells: string[], th = false) => `<tr>${cells.map((c, i) => (th || i === 0 ? `<th>${esc(c)}</th>` : `<td>${esc(c)}</td>`)).join('')}</tr>`;
  const head = ['', 'n', 'top-1', 'top-3', 'top-5', 'MRR', 'Brier', 'log loss'];
  const s = r.safety;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>calcdx evaluation</title>
<style>body{font-family:system-ui,sans-serif;max-width:70rem;margin:1.5rem auto;padding:0 1rem;color:#1b2631}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}th,td{border:1px solid #d5dbdf;padding:.25rem .5rem;text-align:right}th:first-child{text-align:left}
h2{border-bottom:1px solid #d5dbdf;margin-top:1.5rem}.grid{display:flex;flex-wrap:wrap;gap:2rem;align-items:flex-start}.note{color:#566573}
@media print{body{margin:0;max-width:none}svg,table{break-inside:avoid}}</style></head><body>
<h1>calcdx evaluation on published cases</h1>
<p class="note">${esc(note)}</p>
<h2>Accuracy and calibration</h2>
<table>${tr(head, true)}${tr(metricRow('calcdx', m))}${tr(['prior only (baseline)', String(m.n), pc(r.baseline.top1), pc(r.baseline.top3), '', '', f3(r.baseline.brier), f3(r.baseline.logLoss)])}</table>
<p>95 % intervals (Wilson): ${esc(intervalLines(r).join('; '))}</p>
<h2>Safety</h2>
<table>
${tr(['malignant cases flagged (red flag or probability ≥ threshold)', `${s.flagged}/${s.malignantCases}`, pc(s.flaggedRate)])}
${tr(['malignant cases sent to urgent referral', `${s.urgentReferred}/${s.malignantCases}`, pc(s.urgentRate)])}
${tr(['benign / non-malignant cases sent to urgent referral', `${s.benignUrgent}/${s.benignCases}`, pc(s.benignUrgentRate)])}
${tr(['benign and non-neoplastic cases only (intermediate tumours left out) sent to urgent referral', `${s.strictlyBenignUrgent}/${s.strictlyBenignCases}`, pc(s.strictlyBenignUrgentRate)])}
${tr(['benign / non-malignant cases flagged as possibly malignant (red flag or probability)', `${s.benignFlagged}/${s.benignCases}`, pc(s.benignFlaggedRate)])}
${s.malignancyAuc !== undefined ? tr(['malignancy probability: ROC area, malignant vs other cases', '', f3(s.malignancyAuc)]) : ''}
</table>
${s.missed.length ? `<p>Missed malignant cases: ${esc(s.missed.join(', '))}</p>` : ''}
<h2>Referral beside the guideline rules</h2>
<p class="note">On the same cases: calcdx's urgent referral, the engine given no finding (prior only) and each guideline rule as operationalised below. "Benign" is every non-malignant case (benign, non-neoplastic and intermediate). 95 % Wilson intervals. The curve is calcdx's malignancy probability at every threshold; the square is calcdx's referral decision, the circles the rules.</p>
${r.sets.map((set) => `<h3>${esc(setHeadline(set))}</h3>
<div class="grid"><table>${tr(REFERRAL_HEAD, true)}${referralRows(set).map((row) => tr(row)).join('')}</table>${rocSvg(set)}</div>`).join('\n')}
${r.anchorRules.length ? `<h3>The rules</h3><dl>${r.anchorRules.map((a) => `<dt><b>${esc(a.name)}</b> (${esc(a.id)})</dt><dd><p>${esc(a.guideline)}</p><p>Operationalised: ${esc(a.operationalised)}</p><p>Unknown fields: ${esc(a.unknown)}.</p><p>Sources: ${a.sources.map((src) => `<a href="${esc(src.url)}">${esc(src.title)}</a>`).join('; ')}</p></dd>`).join('')}</dl>` : ''}
<h2>Ablation</h2>
<table>${tr(head, true)}${r.ablation.map((a) => tr(metricRow(a.id, a.metrics))).join('')}</table>
<div class="grid"><div><h2>Calibration</h2>${calibrationSvg(r)}</div>
<div><h2>Reliability table</h2><table>${tr(['bin', 'count', 'mean predicted', 'observed'], true)}${r.reliability.filter((b) => b.count).map((b) => tr([`${b.from.toFixed(1)}–${b.to.toFixed(1)}`, String(b.count), f3(b.meanPredicted), f3(b.observed)])).join('')}</table></div></div>
<h2>Confusion matrix</h2>${confusionSvg(kb, r)}
<h2>By findings known beyond age, sex and site</h2><table>${tr(['findings', 'n', 'top-1', 'top-3'], true)}${r.byFindingsKnown.map((b) => tr([b.label, String(b.n), pc(b.top1), pc(b.top3)])).join('')}</table>
<h2>Per entity</h2><table>${tr(['entity', 'n', 'top-1', 'top-3', 'mean rank'], true)}${r.perEntity.map((e) => tr([e.id, String(e.n), pc(e.top1), pc(e.top3), e.meanRank.toFixed(1)])).join('')}</table>
<h2>Cases</h2><table>${tr(['case', 'set', 'truth', 'rank', 'p(true)', 'leading', 'malignancy', 'urgent', ...r.anchorRules.map((a) => a.id)], true)}${r.cases.map((c) => tr([c.file, c.set ?? '', c.truth, String(c.rank), pc(c.probability), `${c.top[0]!.id} ${pc(c.top[0]!.probability)}`, pc(c.malignancyProbability), c.urgentReferral ? 'yes' : 'no', ...r.anchorRules.map((a) => (c.anchors[a.id]!.refer ? 'refer' : 'no') + (c.anchors[a.id]!.decidedByUnknown ? ' ?' : ''))])).join('')}</table>
</body></html>
`;
}
