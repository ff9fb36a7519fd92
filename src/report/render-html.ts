/**
 * Self-contained HTML rendering of a report: inline CSS, SVG probability bars and
 * follow-up timeline, no script, no external resource; prints cleanly.
 */
import { boundedPercent } from '../core/engine/bounded.js';
import type { Block, Inline, ReportDocument } from './document.js';

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const safeUrl = (u: string): string => (/^https?:\/\//i.test(u) ? esc(u) : '#');

/** text for the page: a bounded probability ("< 1%") is not broken across lines */
const txt = (s: string): string => esc(s).replace(/(&lt;|&gt;) (\d)/g, '$1&nbsp;$2');

const inline = (xs: Inline[]): string => xs.map((x) => (typeof x === 'string' ? txt(x)
  : 'link' in x ? `<a href="${safeUrl(x.link)}">${esc(x.text)}</a>` : `<strong>${esc(x.strong)}</strong>`)).join('');

const TONE = { malignant: '#c0392b', intermediate: '#d68910', benign: '#2e86c1' } as const;

/** label width in half-width character units (a CJK character counts double) */
const labelUnits = (s: string): number => [...s].reduce((n, ch) => n + (ch.charCodeAt(0) > 0x2e80 ? 2 : 1), 0);
/** the longest label shown whole; beyond it a name is shortened with "…" (its full text in the tooltip) */
const MAX_LABEL_UNITS = 72;

function bars(items: Extract<Block, { kind: 'bars' }>['items']): string {
  const rowH = 26;
  // the label column is as wide as the longest name (full names: "Heterotopic ossification (neurogenic, …)")
  const labelW = Math.max(200, Math.min(MAX_LABEL_UNITS, Math.max(0, ...items.map((x) => labelUnits(x.label)))) * 7 + 12);
  const barW = 300;
  const h = items.length * rowH + 8;
  const rows = items.map((x, i) => {
    const y = i * rowH + 4;
    const w = Math.max(1, Math.round(x.value * barW));
    const p = boundedPercent(x.value);
    let label = x.label;
    if (labelUnits(x.label) > MAX_LABEL_UNITS) {
      let n = 0;
      label = `${[...x.label].filter((ch) => (n += ch.charCodeAt(0) > 0x2e80 ? 2 : 1) <= MAX_LABEL_UNITS - 2).join('')}…`;
    }
    return `<g><text x="0" y="${y + 17}" class="bl">${esc(label)}<title>${esc(x.label)}</title></text>`
      + `<rect x="${labelW}" y="${y + 4}" width="${barW}" height="16" fill="#eef2f5"/>`
      + `<rect x="${labelW}" y="${y + 4}" width="${w}" height="16" fill="${TONE[x.tone]}"><title>${esc(`${x.label}: ${p} (${x.note})`)}</title></rect>`
      + `<text x="${labelW + barW + 8}" y="${y + 17}" class="bv">${p} · ${esc(x.note)}</text></g>`;
  }).join('');
  return `<svg class="bars" role="img" viewBox="0 0 ${labelW + barW + 160} ${h}" width="100%" xmlns="http://www.w3.org/2000/svg">${rows}</svg>`;
}

function timeline(items: Extract<Block, { kind: 'timeline' }>['items']): string {
  if (!items.length) return '';
  const step = 64;
  const w = Math.max(600, items.length * step + 40);
  const marks = items.map((x, i) => {
    const cx = 20 + i * step;
    return `<g><circle cx="${cx}" cy="30" r="6" fill="#2e86c1"><title>${esc(`${x.when}: ${x.what}`)}</title></circle>`
      + `<text x="${cx}" y="16" class="tl" text-anchor="middle">${esc(x.when)}</text></g>`;
  }).join('');
  const svg = `<svg class="timeline" role="img" viewBox="0 0 ${w} 44" width="100%" xmlns="http://www.w3.org/2000/svg"><line x1="14" y1="30" x2="${w - 10}" y2="30" stroke="#99a3ad" stroke-width="2"/>${marks}</svg>`;
  const table = `<table class="visits"><tbody>${items.map((x) => `<tr><th>${esc(x.when)}</th><td>${esc(x.what)}</td></tr>`).join('')}</tbody></table>`;
  return svg + table;
}

function block(b: Block): string {
  switch (b.kind) {
    case 'title': return `<header><h1>${esc(b.text)}</h1>${b.subtitle ? `<p class="sub">${esc(b.subtitle)}</p>` : ''}</header>`;
    case 'heading': return `<h2>${esc(b.text)}</h2>`;
    case 'paragraph': return `<p${b.small ? ' class="small"' : ''}>${inline(b.text)}</p>`;
    case 'alert': return `<div class="alert ${b.level}" role="${b.level === 'critical' ? 'alert' : 'note'}">${txt(b.text)}</div>`;
    case 'list': {
      const tag = b.ordered ? 'ol' : 'ul';
      return `<${tag}>${b.items.map((i) => `<li>${inline(i)}</li>`).join('')}</${tag}>`;
    }
    case 'table':
      return `<table class="evidence"><thead><tr>${b.head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${b.rows.map((r) => `<tr>${r.map((c, i) => (i === 0 ? `<th scope="row">${esc(c)}</th>` : `<td>${esc(c)}</td>`)).join('')}</tr>`).join('')}</tbody></table>`;
    case 'bars': return bars(b.items);
    case 'timeline': return timeline(b.items);
    case 'details': return `<details open><summary>${esc(b.summary)}</summary>${b.blocks.map(block).join('')}</details>`;
    case 'section': return `<section class="${b.role}">${b.title ? `<h2 class="section-title">${esc(b.title)}</h2>` : ''}${b.blocks.map(block).join('\n')}</section>`;
  }
}

const CSS = `
:root{color-scheme:light}
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;max-width:60rem;margin:1.5rem auto;padding:0 1rem;color:#1b2631;line-height:1.5}
h1{font-size:1.6rem;margin:.2rem 0}h2{font-size:1.2rem;border-bottom:1px solid #d5dbdf;padding-bottom:.2rem;margin-top:1.6rem}
.sub{color:#566573;margin:0}
.alert{border-left:5px solid #2e86c1;background:#ebf5fb;padding:.5rem .8rem;margin:.5rem 0}
.alert.critical{border-color:#c0392b;background:#fdedec;font-weight:600}
.alert.warning{border-color:#d68910;background:#fef5e7}
table{border-collapse:collapse;width:100%;margin:.5rem 0;font-size:.92rem}
th,td{border:1px solid #d5dbdf;padding:.3rem .5rem;vertical-align:top;text-align:left}
thead th{background:#f4f6f7}
.bars text{font-size:13px;fill:#1b2631}.bars .bv{fill:#566573}
.timeline text{font-size:10px;fill:#566573}
.visits th{width:8rem;white-space:nowrap}
a{color:#1f618d;word-break:break-word}
p.small{font-size:.8rem;color:#566573}
.summary h2{margin-top:.8rem}.summary p,.summary ul,.summary ol{margin:.3rem 0}.summary li{margin:.1rem 0}
.appendix .section-title{font-size:1.4rem;border-bottom:2px solid #1b2631}
@page{size:A4;margin:14mm 14mm 14mm 14mm}
@media print{body{margin:0;max-width:none;font-size:10pt;line-height:1.35}h1{font-size:15pt}h2{font-size:12pt;break-after:avoid;margin-top:.9rem}.summary{break-after:page}.summary .alert{padding:.3rem .6rem;margin:.3rem 0}svg,.alert,tr{break-inside:avoid}a{color:inherit;text-decoration:none}}
`;

export function renderHtml(doc: ReportDocument): string {
  return `<!DOCTYPE html>
<html lang="${doc.lang === 'zh' ? 'zh-CN' : 'en'}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(doc.title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
${doc.blocks.map(block).join('\n')}
</main>
</body>
</html>
`;
}
