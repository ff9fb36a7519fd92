/**
 * Plain-text and Markdown renderings of a report document.
 */
import { boundedPercent } from '../core/engine/bounded.js';
import type { Block, Inline, ReportDocument } from './document.js';

const plain = (xs: Inline[]): string => xs.map((x) => (typeof x === 'string' ? x : 'link' in x ? (x.quiet ? x.text : `${x.text} <${x.link}>`) : x.strong)).join('');
const md = (xs: Inline[]): string => xs.map((x) => (typeof x === 'string' ? escMd(x) : 'link' in x ? `[${escMd(x.text)}](${x.link})` : `**${escMd(x.strong)}**`)).join('');
function escMd(s: string): string {
  return s.replace(/([\\`*_[\]<>|])/g, '\\$1');
}

function bar(value: number, width = 24): string {
  const n = Math.round(value * width);
  return `${'█'.repeat(n)}${'·'.repeat(width - n)}`;
}

const pctText = (v: number): string => boundedPercent(v);

export function renderText(doc: ReportDocument): string {
  const out: string[] = [];
  const walk = (blocks: Block[]): void => {
    for (const b of blocks) {
      switch (b.kind) {
        case 'title':
          out.push(b.text, '='.repeat(Math.max(8, b.text.length * (doc.lang === 'zh' ? 2 : 1))));
          if (b.subtitle) out.push(b.subtitle);
          out.push('');
          break;
        case 'heading':
          out.push('', b.text, '-'.repeat(Math.max(8, b.text.length * (doc.lang === 'zh' ? 2 : 1))));
          break;
        case 'paragraph': out.push(plain(b.text)); break;
        case 'alert': out.push(`${b.level === 'critical' ? '!!' : b.level === 'warning' ? ' !' : ' i'} ${b.text}`); break;
        case 'list': b.items.forEach((it, i) => out.push(`${b.ordered ? `${i + 1}.` : '-'} ${plain(it)}`)); break;
        case 'table':
          for (const r of b.rows) {
            out.push(`* ${r[0]}`);
            r.slice(1).forEach((c, i) => out.push(`    ${b.head[i + 1]}: ${c}`));
          }
          break;
        case 'bars': {
          const w = Math.max(...b.items.map((x) => x.label.length));
          for (const x of b.items) out.push(`${x.label.padEnd(w)}  ${bar(x.value)} ${pctText(x.value).padStart(5)}  ${x.note}`);
          break;
        }
        case 'timeline': for (const x of b.items) out.push(`  ${x.when.padEnd(10)}  ${x.what}`); break;
        case 'details': out.push(b.summary); walk(b.blocks); break;
        case 'section':
          if (b.title) out.push('', '', b.title.toUpperCase(), '='.repeat(Math.max(8, b.title.length * (doc.lang === 'zh' ? 2 : 1))));
          walk(b.blocks);
          break;
      }
    }
  };
  walk(doc.blocks);
  return `${out.join('\n')}\n`;
}

export function renderMarkdown(doc: ReportDocument): string {
  const out: string[] = [];
  const cell = (s: string): string => escMd(s).replace(/\n/g, ' ');
  const walk = (blocks: Block[]): void => {
    for (const b of blocks) {
      switch (b.kind) {
        case 'title': out.push(`# ${escMd(b.text)}`, ''); if (b.subtitle) out.push(escMd(b.subtitle), ''); break;
        case 'heading': out.push(`## ${escMd(b.text)}`, ''); break;
        case 'paragraph': out.push(md(b.text), ''); break;
        case 'alert': out.push(`> ${b.level === 'critical' ? '**⚠** ' : b.level === 'warning' ? '⚠ ' : ''}${escMd(b.text)}`, ''); break;
        case 'list': b.items.forEach((it, i) => out.push(`${b.ordered ? `${i + 1}.` : '-'} ${md(it)}`)); out.push(''); break;
        case 'table':
          out.push(`| ${b.head.map(cell).join(' | ')} |`, `|${b.head.map(() => ' --- ').join('|')}|`);
          for (const r of b.rows) out.push(`| ${r.map(cell).join(' | ')} |`);
          out.push('');
          break;
        case 'bars':
          out.push(`| # | ${doc.lang === 'zh' ? '诊断' : 'Diagnosis'} | ${doc.lang === 'zh' ? '概率' : 'Probability'} | |`, '| --- | --- | --- | --- |');
          b.items.forEach((x, i) => out.push(`| ${i + 1} | ${cell(x.label)} | ${pctText(x.value)} \`${bar(x.value, 20)}\` | ${cell(x.note)} |`));
          out.push('');
          break;
        case 'timeline': for (const x of b.items) out.push(`- **${escMd(x.when)}**: ${escMd(x.what)}`); out.push(''); break;
        case 'details': out.push(`**${escMd(b.summary)}**`, ''); walk(b.blocks); break;
        case 'section':
          if (b.title) out.push('---', '', `# ${escMd(b.title)}`, '');
          walk(b.blocks);
          break;
      }
    }
  };
  walk(doc.blocks);
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}
