/**
 * The results panel: safety first (urgent referral, safety rules, red flags), malignancy,
 * the differential with its evidence on click, the next best questions (each jumps to its form
 * field), then mechanism, work-up, plan, staging, prognosis and follow-up from the clinician
 * report's document model (src/report/build.ts), so the page and the printed report agree.
 */
import type { Assessment } from '../../src/core/engine/assess.js';
import type { KnowledgeBase } from '../../src/core/knowledge/compile.js';
import { t, type Lang } from '../../src/i18n/index.js';
import { buildClinicianReport } from '../../src/report/build.js';
import { entityName, evidenceText, findingValueLabel, groupName, pct, questionText, warningText } from '../../src/report/describe.js';
import type { Block, Inline } from '../../src/report/document.js';
import { h } from './dom.js';

export interface ResultsHandlers {
  onQuestion: (path: string, member?: string) => void;
  onIcs: () => void;
}

function inline(i: Inline): Node {
  if (typeof i === 'string') return document.createTextNode(i);
  if ('link' in i) return h('a', { href: i.link, target: '_blank', rel: 'noopener noreferrer', text: i.text });
  return h('strong', { text: i.strong });
}

function block(b: Block): HTMLElement | null {
  switch (b.kind) {
    case 'title': return null;
    case 'heading': return h('h3', { text: b.text });
    case 'paragraph': return h('p', {}, ...b.text.map(inline));
    case 'alert': return h('div', { class: `alert alert-${b.level}`, role: b.level === 'critical' ? 'alert' : undefined, text: b.text });
    case 'list': {
      const l = h(b.ordered ? 'ol' : 'ul');
      for (const it of b.items) l.append(h('li', {}, ...it.map(inline)));
      return l;
    }
    case 'table': {
      const tb = h('table', {}, h('thead', {}, h('tr', {}, ...b.head.map((x) => h('th', { scope: 'col', text: x })))));
      const body = h('tbody');
      for (const r of b.rows) body.append(h('tr', {}, ...r.map((x) => h('td', { text: x }))));
      tb.append(body);
      return tb;
    }
    case 'bars': {
      const l = h('ul', { class: 'bars' });
      for (const it of b.items) l.append(barRow(it.label, it.value, it.note, it.tone));
      return l;
    }
    case 'timeline': {
      const l = h('ol', { class: 'timeline' });
      for (const it of b.items) l.append(h('li', {}, h('span', { class: 'when', text: it.when }), h('span', { class: 'what', text: it.what })));
      return l;
    }
    case 'details':
      return h('details', {}, h('summary', { text: b.summary }), ...b.blocks.map(block));
    case 'section':
      return h('section', { class: `report-${b.role}` }, ...(b.title ? [h('h3', { text: b.title })] : []), ...b.blocks.map(block));
  }
}

function barRow(label: string, value: number, note: string, tone: string): HTMLElement {
  return h('li', { class: `bar-row tone-${tone}` },
    h('span', { class: 'bar-label', text: label }),
    h('span', { class: 'bar-track', 'aria-hidden': 'true' }, h('span', { class: 'bar-fill', style: `width:${Math.max(0.5, value * 100).toFixed(1)}%` })),
    h('span', { class: 'bar-value', text: pct(value) }),
    note ? h('span', { class: 'bar-note', text: note }) : null);
}

const toneOf = (g: string): string => (g === 'malignant' ? 'malignant' : g === 'intermediate' ? 'intermediate' : 'benign');

export function renderResults(root: HTMLElement, kb: KnowledgeBase, a: Assessment, lang: Lang, handlers: ResultsHandlers): void {
  const out: Node[] = [];
  const name = (id: string): string => entityName(kb, id, lang);

  // summary line: leading diagnosis and referral
  const lead = a.differential[0]!;
  out.push(h('div', { class: `summary ${a.malignancy.urgentReferral ? 'urgent' : ''}`, id: 'summary' },
    h('p', { class: 'lead' }, h('span', { class: 'lead-label', text: `${t(lang, 'web.top')}: ` }),
      h('strong', { id: 'top-diagnosis', 'data-entity': lead.id, text: name(lead.id) }), ` ${pct(lead.probability)}`),
    h('p', {}, t(lang, 'web.malignancy', { p: pct(a.malignancy.probability) }), ' · ',
      h('strong', { class: a.malignancy.urgentReferral ? 'urgent-text' : '', text: t(lang, a.malignancy.urgentReferral ? 'web.urgent' : 'web.notUrgent') }))));

  // safety and red flags first
  for (const s of a.safety) out.push(h('div', { class: `alert alert-${s.severity}`, text: s.text[lang] }));
  // input notes (inconsistencies, too few findings, radiology-pathology discordance)
  for (const w of a.warnings) {
    out.push(h('div', { class: 'alert alert-warning case-warning', 'data-warning': w.code, text: `${t(lang, 'report.warnings')}: ${warningText(kb, w, lang)}` }));
  }
  out.push(h('h3', { text: t(lang, 'report.redFlags') }));
  if (a.redFlags.length) out.push(h('ul', { class: 'redflags' }, ...a.redFlags.map((r) => h('li', { text: r.text[lang] }))));
  else out.push(h('p', { class: 'muted', text: t(lang, 'report.noRedFlags') }));
  out.push(h('p', { text: t(lang, 'report.malignancyLine', { p: pct(a.malignancy.probability), t: pct(a.malignancy.threshold) }) }));

  // differential: bar per entity, evidence on click
  out.push(h('h3', { text: t(lang, 'report.differential') }));
  const diff = h('ol', { class: 'differential' });
  a.differential.forEach((d, i) => {
    if (i >= 12 && d.probability < 0.001) return;
    const forE = d.evidence.filter((e) => e.role !== 'prior' && e.direction === 'for');
    const againstE = d.evidence.filter((e) => e.role !== 'prior' && e.direction === 'against');
    const prior = d.evidence.filter((e) => e.role === 'prior');
    const ev = (e: typeof d.evidence[number]): HTMLElement => h('li', {}, evidenceText(kb, e, lang), h('span', { class: 'lr', text: ` ×${e.lr < 1 ? e.lr.toFixed(2) : e.lr.toFixed(1)}` }));
    const det = h('details', { class: `dx tone-${toneOf(d.group)}`, 'data-entity': d.id },
      h('summary', {},
        h('span', { class: 'bar-label', title: name(d.id), text: `${d.rank}. ${name(d.id)}` }),
        h('span', { class: 'bar-track', 'aria-hidden': 'true' }, h('span', { class: 'bar-fill', style: `width:${Math.max(0.5, d.probability * 100).toFixed(1)}%` })),
        h('span', { class: 'bar-value', text: pct(d.probability) }),
        h('span', { class: 'bar-note', text: groupName(d.group, lang) })),
      h('div', { class: 'evidence' },
        h('div', { class: 'ev-for' }, h('h4', { text: t(lang, 'web.evidenceFor') }), forE.length ? h('ul', {}, ...forE.map(ev)) : h('p', { class: 'muted', text: '—' })),
        h('div', { class: 'ev-against' }, h('h4', { text: t(lang, 'web.evidenceAgainst') }), againstE.length ? h('ul', {}, ...againstE.map(ev)) : h('p', { class: 'muted', text: '—' })),
        h('p', { class: 'prior muted' }, t(lang, 'web.priorLine', { p: pct(d.prior) }), prior.length ? ` (${prior.map((e) => `${evidenceText(kb, e, lang)} ×${e.lr.toFixed(1)}`).join('; ')})` : ''),
        !forE.length && !againstE.length ? h('p', { class: 'muted', text: t(lang, 'web.noEvidence') }) : null));
    diff.append(h('li', {}, det));
  });
  out.push(diff);

  // next best questions
  out.push(h('h3', { text: t(lang, 'report.nextQuestions') }));
  if (a.nextQuestions.length) {
    const ol = h('ol', { class: 'questions' });
    for (const q of a.nextQuestions) {
      const fi = kb.findingIndex.get(q.finding);
      const f = fi === undefined ? undefined : kb.findings[fi];
      const path = f ? f.path.join('.') : q.finding;
      const btn = h('button', { type: 'button', class: 'question', 'data-finding': q.finding },
        h('strong', { text: questionText(kb, q.finding, lang) }),
        h('span', { class: 'muted', text: ` (${t(lang, `test.${q.test}`)}; ${t(lang, 'report.gain', { g: q.expectedGain.toFixed(2) })})` }));
      btn.addEventListener('click', () => handlers.onQuestion(path, f?.member));
      const outcomes = q.outcomes.filter((o) => o.probability >= 0.05).map((o) => t(lang, 'report.ifAnswer', {
        value: findingValueLabel(kb, q.finding, o.value, lang),
        p: pct(o.probability), leader: name(o.leader), lp: pct(o.leaderProbability),
      })).join(lang === 'zh' ? ';' : '; ');
      ol.append(h('li', {}, btn, h('p', { class: 'outcomes muted', text: outcomes })));
    }
    out.push(ol);
  } else out.push(h('p', { class: 'muted', text: t(lang, 'web.noQuestions') }));

  // the rest, from the clinician report
  const doc = buildClinicianReport(kb, a, lang);
  // the report's detail (its appendix; page 1 is a summary of what this page shows above)
  const detail = doc.blocks.flatMap((b) => (b.kind === 'section' ? (b.role === 'appendix' ? b.blocks : []) : [b]));
  const start = detail.findIndex((b) => b.kind === 'heading' && b.text === t(lang, 'report.mechanism'));
  const skip = new Set([t(lang, 'report.nextQuestions'), t(lang, 'report.disclaimer')]);
  let skipping = false;
  for (const b of detail.slice(start)) {
    if (b.kind === 'heading') skipping = skip.has(b.text);
    if (skipping) continue;
    const el = block(b);
    if (el) out.push(el);
    if (b.kind === 'heading' && b.text === t(lang, 'report.followUp')) {
      const btn = h('button', { type: 'button', id: 'ics', class: 'secondary', disabled: !a.followUp.surgeryDate, 'aria-describedby': a.followUp.surgeryDate ? undefined : 'ics-hint', text: t(lang, 'web.ics') });
      btn.addEventListener('click', handlers.onIcs);
      out.push(h('p', {}, btn, a.followUp.surgeryDate ? null : h('span', { id: 'ics-hint', class: 'muted', text: ` ${t(lang, 'web.icsNeedsDate')}` })));
    }
  }
  out.push(h('p', { class: 'disclaimer', text: kb.plans.disclaimer[lang] }));
  // keep the open evidence panels open across updates
  const open = new Set([...root.querySelectorAll<HTMLDetailsElement>('details.dx[open]')].map((d) => d.dataset.entity));
  root.replaceChildren(...out);
  for (const d of root.querySelectorAll<HTMLDetailsElement>('details.dx')) if (open.has(d.dataset.entity)) d.open = true;
}

