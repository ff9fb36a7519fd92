/**
 * The results panel: the headline (leading diagnosis, malignancy with the "can't miss" entities,
 * the referral decision with the red flags it reconciles and its safety net), the differential
 * with its evidence and reference on click, the next best questions (each jumps to its form
 * field), then mechanism, work-up, plan, staging, prognosis and follow-up from the clinician
 * report's document model (src/report/build.ts), so the page and the printed report agree.
 * An empty form shows an empty state that asks for the key findings instead.
 */
import type { Assessment } from '../../../../src/core/engine/assess.js';
import type { NextQuestion } from '../../../../src/core/engine/next-questions.js';
import type { KnowledgeBase } from '../../../../src/core/knowledge/compile.js';
import { t, type Lang } from '../../../../src/i18n/index.js';
import { buildClinicianReport } from '../../../../src/report/build.js';
import { entityName, evidenceText, findingValueLabel, groupName, questionText, warningText } from '../../../../src/report/describe.js';
import type { Block, Inline } from '../../../../src/report/document.js';
import { boundedPct, cantMiss, decisionOf } from './assessment-view.js';
import { h } from '../../dom.js';

export interface ResultsHandlers {
  onQuestion: (path: string, member?: string, from?: HTMLElement) => void;
  onIcs: () => void;
  onCopy: () => void;
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
    h('span', { class: 'bar-value', text: boundedPct(value) }),
    note ? h('span', { class: 'bar-note', text: note }) : null);
}

const toneOf = (g: string): string => (g === 'malignant' ? 'malignant' : g === 'intermediate' ? 'intermediate' : 'benign');

/** The key findings the empty state asks for, with the field each jumps to. */
const EMPTY_ASKS: Array<{ key: string; path: string }> = [
  { key: 'region', path: 'lesion.region' }, { key: 'depth', path: 'lesion.depth' },
  { key: 'size', path: 'lesion.sizeCm' }, { key: 'pattern', path: 'imaging.calcification.morphology' },
];

/** The empty state: what to enter first; no alarm colours before there is a finding. */
export function renderEmpty(root: HTMLElement, kb: KnowledgeBase, lang: Lang, handlers: ResultsHandlers): void {
  const list = h('ul', { class: 'empty-asks' });
  for (const ask of EMPTY_ASKS) {
    const btn = h('button', { type: 'button', class: 'question', 'data-path': ask.path, text: t(lang, `web.empty.${ask.key}`) });
    btn.addEventListener('click', () => handlers.onQuestion(ask.path, undefined, btn));
    list.append(h('li', {}, btn));
  }
  root.replaceChildren(h('div', { class: 'empty-state', id: 'empty-state' },
    h('p', { class: 'empty-title', text: t(lang, 'web.empty.title') }),
    h('p', { text: t(lang, 'web.empty.body') }), list,
    h('p', { class: 'muted', text: t(lang, 'web.empty.note') })),
  h('p', { class: 'disclaimer', text: kb.plans.disclaimer[lang] }));
}

/** Next questions with the CT and MRI (or X-ray, ultrasound) versions of one finding as one entry. */
export interface MergedQuestion { key: string; questions: NextQuestion[]; gain: number }
const MODALITY = /^imaging\.(ct|mri|xray|ultrasound)\.(.+)$/;
export function mergeQuestions(qs: readonly NextQuestion[]): MergedQuestion[] {
  const out: MergedQuestion[] = [];
  for (const q of qs) {
    const m = MODALITY.exec(q.finding);
    const key = m ? `imaging.*.${m[2]}` : q.finding;
    const same = out.find((x) => x.key === key);
    if (same) { same.questions.push(q); same.gain = Math.max(same.gain, q.expectedGain); } else out.push({ key, questions: [q], gain: q.expectedGain });
  }
  return out;
}

export function renderResults(root: HTMLElement, kb: KnowledgeBase, a: Assessment, lang: Lang, handlers: ResultsHandlers): void {
  const out: Node[] = [];
  const name = (id: string): string => entityName(kb, id, lang);
  const sep = lang === 'zh' ? '，' : ', ';

  // headline: leading diagnosis, malignancy and what cannot be missed, the referral decision
  const lead = a.differential[0]!;
  const d = decisionOf(kb, a, lang);
  // (the leading diagnosis is in the line above: not repeated when it is malignant itself)
  const cm = cantMiss(kb, a, 4).filter((x) => x.id !== lead.id).slice(0, 3);
  const copy = h('button', { type: 'button', id: 'copy-result', class: 'secondary small', text: t(lang, 'web.copy.button') });
  copy.addEventListener('click', handlers.onCopy);
  out.push(h('div', { class: `summary ${d.urgent ? 'urgent' : ''}`, id: 'summary' },
    h('p', { class: 'lead' }, h('span', { class: 'lead-label', text: `${t(lang, 'web.top')}: ` }),
      h('strong', { id: 'top-diagnosis', 'data-entity': lead.id, text: name(lead.id) }), ' ', h('span', { class: 'p', id: 'top-p', text: boundedPct(lead.probability) })),
    h('p', { id: 'malignancy-line' }, t(lang, 'web.malignancy', { p: boundedPct(a.malignancy.probability) })),
    cm.length ? h('p', { id: 'cant-miss', class: 'cant-miss' }, h('span', { class: 'lead-label', text: `${t(lang, 'web.cantMiss')}: ` }),
      ...cm.flatMap((x, i) => [i ? sep : '', h('span', { 'data-entity': x.id, text: `${name(x.id)} ${boundedPct(x.probability)}` })])) : null,
    h('div', { id: 'decision', class: 'decision', 'data-urgent': String(d.urgent) },
      h('p', {}, h('strong', { id: 'decision-headline', class: d.urgent ? 'urgent-text' : '', text: d.headline })),
      d.redFlags.length
        ? h('p', { id: 'decision-flags' }, h('span', { class: 'lead-label', text: `${t(lang, 'report.redFlags')} (${d.redFlags.length}): ` }), d.redFlags.join(lang === 'zh' ? '；' : '; '))
        : h('p', { id: 'decision-flags', class: 'muted', text: t(lang, 'report.noRedFlags') }),
      h('p', { id: 'decision-reason', text: d.reason }),
      ...a.safety.filter((x) => x.severity !== 'info').map((x) => h('div', { class: `alert alert-${x.severity} safety-net`, role: x.severity === 'critical' ? 'alert' : undefined, 'data-safety': x.id, text: x.text[lang] }))),
    h('p', { class: 'summary-actions' }, copy, h('span', { id: 'copy-status', class: 'muted', role: 'status' }))));

  // further safety information and input notes (inconsistencies, too few findings, radiology-pathology discordance)
  for (const x of a.safety.filter((y) => y.severity === 'info')) out.push(h('div', { class: 'alert alert-info', 'data-safety': x.id, text: x.text[lang] }));
  for (const w of a.warnings) {
    out.push(h('div', { class: 'alert alert-warning case-warning', 'data-warning': w.code, text: `${t(lang, 'report.warnings')}: ${warningText(kb, w, lang)}` }));
  }

  // differential: bar per entity, evidence and reference on click
  out.push(h('h3', { text: t(lang, 'report.differential') }));
  const diff = h('ol', { class: 'differential' });
  a.differential.forEach((dx, i) => {
    if (i >= 12 && dx.probability < 0.001) return;
    const forE = dx.evidence.filter((e) => e.role !== 'prior' && e.direction === 'for');
    const againstE = dx.evidence.filter((e) => e.role !== 'prior' && e.direction === 'against');
    const prior = dx.evidence.filter((e) => e.role === 'prior');
    const ev = (e: typeof dx.evidence[number]): HTMLElement => h('li', {}, evidenceText(kb, e, lang), h('span', { class: 'lr', text: ` ×${e.lr < 1 ? e.lr.toFixed(2) : e.lr.toFixed(1)}` }));
    const ent = kb.entities[kb.entityIndex.get(dx.id)!];
    const sources = (ent?.sources ?? []).slice(0, 3);
    const det = h('details', { class: `dx tone-${toneOf(dx.group)}`, 'data-entity': dx.id },
      h('summary', {},
        h('span', { class: 'bar-label', text: `${dx.rank}. ${name(dx.id)}` }),
        h('span', { class: 'bar-track', 'aria-hidden': 'true' }, h('span', { class: 'bar-fill', style: `width:${Math.max(0.5, dx.probability * 100).toFixed(1)}%` })),
        h('span', { class: 'bar-value', text: boundedPct(dx.probability) }),
        h('span', { class: 'bar-note', text: groupName(dx.group, lang) })),
      h('div', { class: 'evidence' },
        h('div', { class: 'ev-for' }, h('h4', { text: t(lang, 'web.evidenceFor') }), forE.length ? h('ul', {}, ...forE.map(ev)) : h('p', { class: 'muted', text: '—' })),
        h('div', { class: 'ev-against' }, h('h4', { text: t(lang, 'web.evidenceAgainst') }), againstE.length ? h('ul', {}, ...againstE.map(ev)) : h('p', { class: 'muted', text: '—' })),
        h('p', { class: 'prior muted' }, t(lang, 'web.priorLine', { p: boundedPct(dx.prior) }), prior.length ? ` (${prior.map((e) => `${evidenceText(kb, e, lang)} ×${e.lr.toFixed(1)}`).join('; ')})` : ''),
        !forE.length && !againstE.length ? h('p', { class: 'muted', text: t(lang, 'web.noEvidence') }) : null,
        sources.length ? h('p', { class: 'sources' }, `${t(lang, 'web.reference', { count: sources.length })}: `,
          ...sources.flatMap((src, k) => [k ? '; ' : '', h('a', { class: 'source', href: src.url, target: '_blank', rel: 'noopener noreferrer', text: src.title })])) : null));
    diff.append(h('li', {}, det));
  });
  out.push(diff);

  // next best questions: the most informative first, a bar for how much each would tell
  out.push(h('h3', { text: t(lang, 'report.nextQuestions') }));
  const merged = mergeQuestions(a.nextQuestions);
  if (merged.length) {
    const ol = h('ol', { class: 'questions' });
    const maxGain = Math.max(...merged.map((m) => m.gain));
    merged.forEach((m, idx) => {
      const q = m.questions[0]!;
      const target = (finding: string): { path: string; member?: string } => {
        const fi = kb.findingIndex.get(finding);
        const f = fi === undefined ? undefined : kb.findings[fi];
        return { path: f ? f.path.join('.') : finding, member: f?.member };
      };
      const tests = m.questions.map((x) => t(lang, `test.${x.test}`)).join(lang === 'zh' ? '或' : ' or ');
      const btn = h('button', { type: 'button', class: 'question', 'data-finding': q.finding },
        h('strong', { text: questionText(kb, q.finding, lang) }), h('span', { class: 'muted', text: ` (${tests})` }));
      const go = target(q.finding);
      btn.addEventListener('click', () => handlers.onQuestion(go.path, go.member, btn));
      const alt = m.questions.slice(1).map((x) => {
        const to = target(x.finding);
        const b = h('button', { type: 'button', class: 'question alt', 'data-finding': x.finding, text: t(lang, 'web.orField', { test: t(lang, `test.${x.test}`) }) });
        b.addEventListener('click', () => handlers.onQuestion(to.path, to.member, b));
        return b;
      });
      const rel = m.gain / maxGain;
      const outcomes = q.outcomes.filter((o) => o.probability >= 0.05).map((o) => t(lang, 'report.ifAnswer', {
        value: findingValueLabel(kb, q.finding, o.value, lang),
        p: boundedPct(o.probability), leader: name(o.leader), lp: boundedPct(o.leaderProbability),
      })).join(lang === 'zh' ? '；' : '; ');
      ol.append(h('li', { 'data-key': m.key },
        h('span', { class: 'q-head' }, btn, ...alt.flatMap((b) => [' ', b])),
        h('span', { class: 'info-meter', role: 'img', title: t(lang, 'web.informative'), 'aria-label': t(lang, idx === 0 ? 'web.mostInformative' : 'web.informativeShare', { p: Math.round(rel * 100) }) },
          h('span', { class: 'info-track', 'aria-hidden': 'true' }, h('span', { class: 'info-fill', style: `width:${Math.max(4, rel * 100).toFixed(0)}%` })),
          idx === 0 ? h('span', { class: 'info-label', 'aria-hidden': 'true', text: t(lang, 'web.mostInformative') }) : null),
        h('p', { class: 'outcomes muted', text: outcomes })));
    });
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

