/**
 * Builds the clinician and patient reports from an assessment.
 */
import type { Assessment, TextItem } from '../core/engine/assess.js';
import type { KnowledgeBase } from '../core/knowledge/compile.js';
import type { Src } from '../core/knowledge/schema.js';
import { t, type Lang } from '../i18n/index.js';
import type { Block, Inline, ReportDocument } from './document.js';
import { collectSources, entityName, evidenceText, findingValueLabel, groupName, pct, questionText, warningText } from './describe.js';
import { LEADING_EVIDENCE_ENTITIES } from './json.js';
import { VERSION } from './version.js';

export type Audience = 'clinician' | 'patient';

const itemsToList = (items: TextItem[], lang: Lang): Block => ({ kind: 'list', items: items.map((i) => [i.text[lang]]) });

function visitsTimeline(a: Assessment, lang: Lang): Block {
  return {
    kind: 'timeline',
    items: a.followUp.visits.map((v) => ({
      when: v.date ?? t(lang, 'report.month', { m: v.month }),
      what: v.items.map((i) => t(lang, `followItem.${i}`)).join(lang === 'zh' ? '、' : ', '),
    })),
  };
}

/** What each kind of visit item involves, said once below the timeline. */
function visitItemsBlock(kb: KnowledgeBase, a: Assessment, lang: Lang): Block {
  const used = [...new Set(a.followUp.visits.flatMap((v) => v.items))];
  return { kind: 'list', items: used.map((i): Inline[] => [{ strong: `${t(lang, `followItem.${i}`)}: ` }, kb.plans.followUpItems[i]?.[lang] ?? '']) };
}

function allSrc(kb: KnowledgeBase, a: Assessment): Src[] {
  const s: Src[] = [];
  s.push(...a.workup.map((w) => w.src), ...a.treatment.entity.map((w) => w.src), ...a.treatment.group.map((w) => w.src), ...a.treatment.ifMalignant.map((w) => w.src));
  s.push(a.prognosis.src);
  for (const r of a.redFlags) { const def = kb.rules.redFlags.find((f) => f.id === r.id); if (def) s.push(def.src); }
  for (const r of a.safety) { const def = kb.rules.safetyRules.find((f) => f.id === r.id); if (def) s.push(def.src); }
  s.push(kb.rules.thresholds.urgentReferral.src);
  return s;
}

function entitySourceLookup(kb: KnowledgeBase) {
  return (id: string) => {
    for (const e of kb.entities) { const s = e.sources.find((x) => x.id === id); if (s) return s; }
    return undefined;
  };
}

function sourcesBlock(kb: KnowledgeBase, a: Assessment, lang: Lang): Block[] {
  const list = collectSources(kb, allSrc(kb, a), entitySourceLookup(kb));
  if (!list.length) return [];
  return [
    { kind: 'heading', text: t(lang, 'report.sources') },
    { kind: 'list', ordered: true, items: list.map((s): Inline[] => [{ link: s.url, text: s.title }]) },
  ];
}

export function buildClinicianReport(kb: KnowledgeBase, a: Assessment, lang: Lang): ReportDocument {
  const name = (id: string) => entityName(kb, id, lang);
  const blocks: Block[] = [];
  const title = t(lang, 'report.title');
  blocks.push({ kind: 'title', text: title, ...(a.caseId ? { subtitle: `${t(lang, 'report.case')}: ${a.caseId}` } : {}) });
  blocks.push({ kind: 'alert', level: 'info', text: kb.plans.disclaimer[lang] });

  // safety first
  blocks.push({ kind: 'alert', level: a.malignancy.urgentReferral ? 'critical' : 'info', text: t(lang, a.malignancy.urgentReferral ? 'report.urgentYes' : 'report.urgentNo') });
  for (const s of a.safety) blocks.push({ kind: 'alert', level: s.severity, text: s.text[lang] });
  // what the reader must know before trusting the figures below: input inconsistencies, too little information
  for (const w of a.warnings) {
    blocks.push({ kind: 'alert', level: 'warning', text: `${t(lang, 'report.warnings')}: ${warningText(kb, w, lang)}` });
  }
  blocks.push({ kind: 'heading', text: t(lang, 'report.redFlags') });
  blocks.push(a.redFlags.length ? { kind: 'list', items: a.redFlags.map((r) => [r.text[lang]]) } : { kind: 'paragraph', text: [t(lang, 'report.noRedFlags')] });

  blocks.push({ kind: 'heading', text: t(lang, 'report.malignancy') });
  blocks.push({ kind: 'paragraph', text: [t(lang, 'report.malignancyLine', { p: pct(a.malignancy.probability), t: pct(a.malignancy.threshold) })] });
  if (a.malignancy.intermediateProbability >= 0.005) blocks.push({ kind: 'paragraph', text: [t(lang, 'report.intermediateLine', { p: pct(a.malignancy.intermediateProbability) })] });

  // differential
  blocks.push({ kind: 'heading', text: t(lang, 'report.differential') });
  const top = a.differential.slice(0, 10);
  blocks.push({
    kind: 'bars',
    items: top.map((d) => ({
      label: name(d.id), value: d.probability, note: groupName(d.group, lang),
      tone: d.group === 'malignant' ? 'malignant' : d.group === 'intermediate' ? 'intermediate' : 'benign',
    })),
  });
  const evRows: string[][] = [];
  for (const d of a.differential.slice(0, LEADING_EVIDENCE_ENTITIES)) {
    const terms = d.evidence.filter((e) => e.role !== 'prior').slice(0, 6);
    const priorTerms = d.evidence.filter((e) => e.role === 'prior');
    evRows.push([
      `${d.rank}. ${name(d.id)} (${pct(d.probability)})`,
      terms.filter((e) => e.direction === 'for').map((e) => `${evidenceText(kb, e, lang)} ×${e.lr.toFixed(1)}`).join('; ') || '—',
      terms.filter((e) => e.direction === 'against').map((e) => `${evidenceText(kb, e, lang)} ×${e.lr.toFixed(2)}`).join('; ') || '—',
      `${pct(d.prior)}${priorTerms.length ? ` (${priorTerms.map((e) => `${evidenceText(kb, e, lang)} ×${e.lr.toFixed(1)}`).join('; ')})` : ''}`,
    ]);
  }
  blocks.push({ kind: 'table', head: [t(lang, 'report.diagnosis'), t(lang, 'report.for'), t(lang, 'report.against'), t(lang, 'report.prior')], rows: evRows });

  blocks.push({ kind: 'heading', text: t(lang, 'report.mechanism') });
  blocks.push({
    kind: 'list',
    items: a.mechanism.map((m) => [
      `${kb.plans.mechanisms[m.id]?.name[lang] ?? m.id}: ${pct(m.probability)}${m.reasons.length ? ` — ${m.reasons.map((r) => r.text[lang]).join(lang === 'zh' ? ';' : '; ')}` : ''}`,
    ]),
  });

  if (a.nextQuestions.length) {
    blocks.push({ kind: 'heading', text: t(lang, 'report.nextQuestions') });
    blocks.push({
      kind: 'list',
      ordered: true,
      items: a.nextQuestions.map((q) => [
        { strong: questionText(kb, q.finding, lang) },
        ` (${t(lang, `test.${q.test}`)}; ${t(lang, 'report.gain', { g: q.expectedGain.toFixed(2) })}) — `,
        q.outcomes.filter((o) => o.probability >= 0.05).map((o) => t(lang, 'report.ifAnswer', {
          value: findingValueLabel(kb, q.finding, o.value, lang),
          p: pct(o.probability), leader: name(o.leader), lp: pct(o.leaderProbability),
        })).join(lang === 'zh' ? ';' : '; '),
      ]),
    });
  }

  blocks.push({ kind: 'heading', text: t(lang, 'report.workup') });
  blocks.push(itemsToList(a.workup, lang));

  blocks.push({ kind: 'heading', text: t(lang, 'report.treatment') });
  blocks.push({ kind: 'paragraph', text: [{ strong: t(lang, 'report.treatmentFor', { entity: name(a.treatment.basis.entity), status: t(lang, a.treatment.basis.confirmed ? 'report.confirmed' : 'report.provisional') }) }] });
  blocks.push(itemsToList(a.treatment.entity, lang));
  if (a.treatment.group.length) {
    const g = a.differential.find((d) => d.id === a.treatment.basis.entity)?.group ?? 'benign';
    blocks.push({ kind: 'paragraph', text: [{ strong: t(lang, 'report.groupOptions', { group: groupName(g, lang) }) }] });
    blocks.push(itemsToList(a.treatment.group, lang));
  }
  if (a.treatment.ifMalignant.length) {
    blocks.push({ kind: 'paragraph', text: [{ strong: t(lang, 'report.ifMalignant') }] });
    blocks.push(itemsToList(a.treatment.ifMalignant, lang));
  }

  blocks.push({ kind: 'heading', text: t(lang, 'report.staging') });
  if (a.staging.applicable) {
    const s = a.staging.staging;
    blocks.push({ kind: 'paragraph', text: [t(lang, 'report.stageLine', { T: s.T, N: s.N, M: s.M, G: s.G, stage: s.stage ?? '?' })] });
    if (s.fnclcc) blocks.push({ kind: 'paragraph', text: [t(lang, 'report.fnclccLine', { score: s.fnclcc.score, d: s.fnclcc.components.differentiation, m: s.fnclcc.components.mitoses, n: s.fnclcc.components.necrosis, grade: s.fnclcc.grade })] });
    if (s.missing.length) blocks.push({ kind: 'paragraph', text: [[...s.missing.map((m) => t(lang, `staging.${m}`)), ...(s.stage ? [] : [t(lang, 'staging.undetermined')])].join(lang === 'zh' ? ';' : '; ')] });
  } else {
    blocks.push({ kind: 'paragraph', text: [t(lang, `staging.${a.staging.reason}`)] });
  }

  blocks.push({ kind: 'heading', text: t(lang, 'report.prognosis') });
  blocks.push({ kind: 'paragraph', text: [`${name(a.prognosis.entity)}: ${a.prognosis.text[lang]}`] });
  if (a.prognosis.fiveYearSurvival) blocks.push({ kind: 'paragraph', text: [t(lang, 'report.fiveYear', { low: pct(a.prognosis.fiveYearSurvival.low), high: pct(a.prognosis.fiveYearSurvival.high) })] });
  blocks.push({ kind: 'list', items: a.prognosis.byGrade.map((g) => [g.text[lang]]) });

  blocks.push({ kind: 'heading', text: t(lang, 'report.followUp') });
  blocks.push({ kind: 'paragraph', text: [`${a.followUp.label[lang]}${a.followUp.surgeryDate ? ` — ${t(lang, 'report.fromSurgery', { date: a.followUp.surgeryDate })}` : ''}`] });
  if (!a.followUp.surgeryDate) blocks.push({ kind: 'paragraph', text: [t(lang, 'report.noDate')] });
  blocks.push({ kind: 'paragraph', text: [a.followUp.note[lang]] });
  blocks.push(visitsTimeline(a, lang));
  blocks.push(visitItemsBlock(kb, a, lang));
  blocks.push({ kind: 'paragraph', text: [{ strong: `${t(lang, 'report.watchFor')}: ` }, a.followUp.watchFor[lang]] });

  blocks.push(...sourcesBlock(kb, a, lang));
  blocks.push({ kind: 'heading', text: t(lang, 'report.disclaimer') });
  blocks.push({ kind: 'paragraph', text: [kb.plans.disclaimer[lang]] });
  blocks.push({ kind: 'paragraph', text: [t(lang, 'report.generated', { version: VERSION })] });
  return { lang, title, blocks };
}

export function buildPatientReport(kb: KnowledgeBase, a: Assessment, lang: Lang): ReportDocument {
  const blocks: Block[] = [];
  const title = t(lang, 'report.patientTitle');
  blocks.push({ kind: 'title', text: title });
  const lead = a.differential[0]!;
  const leadEntity = kb.entities[kb.entityIndex.get(lead.id)!]!;
  blocks.push({ kind: 'heading', text: t(lang, 'report.whatItMayBe') });
  const advice = kb.plans.patientAdvice;
  // the seed's reassurance and its caution ("not necessarily malignant, but do not ignore it"),
  // then the leading possibilities in plain words
  blocks.push({ kind: 'paragraph', text: [advice.slice(0, 2).map((x) => x[lang]).join(lang === 'zh' ? '' : ' ')] });
  if (lead.probability >= 0.5) {
    blocks.push({ kind: 'paragraph', text: [{ strong: `${leadEntity.names[lang]} (${t(lang, 'report.likely')})` }] });
    blocks.push({ kind: 'paragraph', text: [leadEntity.patient[lang]] });
    const others = a.differential.slice(1, 3).filter((d) => d.probability >= 0.1);
    if (others.length) {
      blocks.push({ kind: 'list', items: others.map((d) => [`${entityName(kb, d.id, lang)} (${t(lang, 'report.possible')})`]) });
    }
  } else {
    // no diagnosis is more likely than not: say so, rather than describe one of several as if it were the answer
    blocks.push({ kind: 'paragraph', text: [t(lang, 'patient.notYetClear')] });
    blocks.push({ kind: 'list', items: a.differential.slice(0, 3).map((d) => [`${entityName(kb, d.id, lang)} (${t(lang, 'report.possible')})`]) });
  }

  blocks.push({ kind: 'heading', text: t(lang, 'report.whatNext') });
  blocks.push({ kind: 'alert', level: a.malignancy.urgentReferral ? 'warning' : 'info', text: t(lang, a.malignancy.urgentReferral ? 'patient.urgent' : 'patient.notUrgent') });
  blocks.push({ kind: 'list', ordered: true, items: kb.plans.recommendedSteps.map((s) => [s[lang]]) });

  if (a.followUp.visits.length) {
    blocks.push({ kind: 'heading', text: t(lang, 'report.followUp') });
    if (!a.followUp.surgeryDate) blocks.push({ kind: 'paragraph', text: [t(lang, 'report.noDate')] });
    blocks.push(visitsTimeline(a, lang));
  }
  blocks.push({ kind: 'heading', text: t(lang, 'report.whenToSeek') });
  blocks.push({ kind: 'paragraph', text: [t(lang, 'patient.watch')] });
  blocks.push({ kind: 'heading', text: t(lang, 'report.advice') });
  blocks.push({ kind: 'list', items: advice.slice(2).map((x) => [x[lang]]) });
  blocks.push({ kind: 'heading', text: t(lang, 'report.disclaimer') });
  blocks.push({ kind: 'paragraph', text: [kb.plans.disclaimer[lang]] });
  return { lang, title, blocks };
}

export function buildReport(kb: KnowledgeBase, a: Assessment, lang: Lang, audience: Audience): ReportDocument {
  return audience === 'patient' ? buildPatientReport(kb, a, lang) : buildClinicianReport(kb, a, lang);
}
