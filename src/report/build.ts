/**
 * Builds the clinician and patient reports from an assessment.
 *
 * The clinician report is made for the chart: page 1 is a summary (the findings entered, the
 * conclusion, the referral decision with its reason, safety advice, the top differential with its
 * key evidence, the can't-miss malignant diagnoses and the next step with a date, dated and with
 * the calcdx and knowledge-base versions); the detail follows as an appendix. Only what applies to
 * this case is shown; the evidence is the JSON's selection (what the screen shows).
 */
import type { Assessment, TextItem } from '../core/engine/assess.js';
import { percentAgainst } from '../core/engine/bounded.js';
import { midSentence } from '../core/engine/decision.js';
import type { KnowledgeBase } from '../core/knowledge/compile.js';
import type { Src } from '../core/knowledge/schema.js';
import { WORKUP_PURPOSES } from '../core/knowledge/vocabulary.js';
import { t, type Lang } from '../i18n/index.js';
import type { Block, Inline, ReportDocument } from './document.js';
import { collectSources, entityName, evidenceText, findingLabel, findingValueLabel, groupName, pct, warningText } from './describe.js';
import { entitySource, malignancyNotExcluded, mergedQuestionText, mergeNextQuestions, shownEvidence } from './format.js';
import { LEADING_EVIDENCE_ENTITIES } from './json.js';
import { kbVersion } from './kb-version.js';
import { VERSION } from './version.js';

export type Audience = 'clinician' | 'patient';

const itemsToList = (items: TextItem[], lang: Lang): Block => ({ kind: 'list', items: items.map((i) => [i.text[lang]]) });
const sep = (lang: Lang): string => (lang === 'zh' ? '；' : '; ');
const comma = (lang: Lang): string => (lang === 'zh' ? '、' : ', ');

function visitsTimeline(a: Assessment, lang: Lang): Block {
  return {
    kind: 'timeline',
    items: a.followUp.visits.map((v) => ({
      when: v.date ?? t(lang, 'report.month', { m: v.month }),
      what: v.items.map((i) => t(lang, `followItem.${i}`)).join(comma(lang)),
    })),
  };
}

/** What each kind of visit item involves, said once below the timeline (before an operation: no scar to examine). */
function visitItemsBlock(kb: KnowledgeBase, a: Assessment, lang: Lang): Block {
  const used = [...new Set(a.followUp.visits.flatMap((v) => v.items))];
  const text = (i: (typeof used)[number]): string => ((!a.followUp.surgeryDate ? kb.plans.followUpItemsUnoperated?.[i] : undefined) ?? kb.plans.followUpItems[i])?.[lang] ?? '';
  return { kind: 'list', items: used.map((i): Inline[] => [{ strong: `${t(lang, `followItem.${i}`)}${lang === 'zh' ? '：' : ': '}` }, text(i)]) };
}

function allSrc(kb: KnowledgeBase, a: Assessment): Src[] {
  const s: Src[] = [a.malignancy.decision.src];
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

/** An entity's name, linked to its reference source where it has one. */
function entityInline(kb: KnowledgeBase, id: string, lang: Lang): Inline {
  const name = entityName(kb, id, lang);
  const s = entitySource(kb, id);
  return s ? { link: s.url, text: name, quiet: true } : name;
}

const SECTIONS = ['patient', 'history', 'symptoms', 'lesion', 'imaging', 'labs', 'pathology', 'staging'] as const;

/** The findings the case gives, grouped as a clinician reads them ("Lesion: thigh; deep; 6 cm"). */
export function findingsEntered(kb: KnowledgeBase, a: Assessment, lang: Lang): Array<{ section: string; items: string[] }> {
  const bySection = new Map<string, string[]>();
  const seenMorph: string[] = [];
  const absentMorph: string[] = [];
  for (const f of a.findings) {
    const top = f.finding.split('.')[0]!;
    const section = (SECTIONS as readonly string[]).includes(top) ? top : 'other';
    let text: string;
    const member = /^imaging\.calcification\.morphology\.(\w+)$/.exec(f.finding);
    if (member) {
      (f.value === 'true' ? seenMorph : absentMorph).push(findingLabel(kb, f.finding, lang));
      continue;
    } else if (f.raw !== undefined) {
      text = `${findingLabel(kb, f.finding, lang)}${lang === 'zh' ? '：' : ': '}${f.raw}${unitOf(f.finding, lang)}`;
    } else if (f.finding === 'pathology.diagnosis') {
      text = `${t(lang, 'report.pathologyTerm')}${lang === 'zh' ? '：' : ': '}${entityName(kb, f.value, lang)}`;
    } else {
      text = `${findingLabel(kb, f.finding, lang)}${lang === 'zh' ? '：' : ': '}${findingValueLabel(kb, f.finding, f.value, lang)}`;
    }
    bySection.set(section, [...(bySection.get(section) ?? []), text]);
  }
  if (seenMorph.length || absentMorph.length) {
    const morph: string[] = [];
    if (seenMorph.length) morph.push(t(lang, 'report.patternSeen', { list: seenMorph.join(comma(lang)) }));
    if (absentMorph.length) morph.push(t(lang, 'report.patternExcluded', { list: absentMorph.join(comma(lang)) }));
    bySection.set('imaging', [...morph, ...(bySection.get('imaging') ?? [])]);
  }
  return [...SECTIONS, 'other'].filter((s) => bySection.has(s)).map((s) => ({ section: t(lang, `report.section.${s}`), items: bySection.get(s)! }));
}

function unitOf(finding: string, lang: Lang): string {
  if (finding === 'patient.age') return lang === 'zh' ? '岁' : ' years';
  if (finding.endsWith('Cm')) return ' cm';
  if (finding.endsWith('weeksAgo') || finding.endsWith('Weeks')) return lang === 'zh' ? '周' : ' weeks';
  if (finding.endsWith('MmolL')) return ' mmol/L';
  if (finding.endsWith('NmolL')) return ' nmol/L';
  if (finding.endsWith('UmolL')) return ' µmol/L';
  if (finding.endsWith('PgMl')) return ' pg/mL';
  if (finding.endsWith('HU')) return ' HU';
  return '';
}

/** The next step, with its date, in one line. */
export function nextStepText(kb: KnowledgeBase, a: Assessment, lang: Lang): string {
  const d = a.malignancy.decision;
  const or = kb.plans.safetyNet.texts.or[lang];
  const referIf = (d.referIf ?? []).map((r) => r.text[lang]);
  const joined = referIf.length > 1 ? `${referIf.slice(0, -1).join(comma(lang))}${lang === 'zh' ? or : ` ${or} `}${referIf[referIf.length - 1]!}` : referIf[0] ?? '';
  const weeks = (w: readonly [number, number]) => (w[0] === w[1] ? String(w[0]) : `${w[0]}-${w[1]}`);
  switch (d.kind) {
    case 'urgent_referral':
      return t(lang, a.assessedOn ? 'report.next.urgentDated' : 'report.next.urgent', { date: a.assessedOn ?? '' });
    case 'sarcoma_centre_review':
      return d.reviewBy ? t(lang, 'report.next.reviewDated', { date: d.reviewBy }) : t(lang, 'report.next.review', { weeks: d.reviewWeeks ?? '' });
    case 'safety_net_reimaging':
      if (d.reimageFrom && d.reimageFrom === d.reimageBy) return t(lang, 'report.next.reimageBy', { by: d.reimageBy, test: d.test?.[lang] ?? '', referIf: joined });
      return d.reimageFrom
        ? t(lang, 'report.next.reimageDated', { from: d.reimageFrom, to: d.reimageBy, test: d.test?.[lang] ?? '', referIf: joined })
        : t(lang, 'report.next.reimage', { weeks: weeks(d.reimageWeeks ?? [0, 0]), test: d.test?.[lang] ?? '', referIf: joined });
    case 'routine': {
      const v = a.followUp.applies === 'now' ? a.followUp.visits[0] : undefined;
      if (!v) return t(lang, 'report.next.routine');
      return t(lang, 'report.next.visit', { when: v.date ?? t(lang, 'report.month', { m: v.month }), what: v.items.map((i) => t(lang, `followItem.${i}`)).join(comma(lang)) });
    }
  }
}

const DECISION_LEVEL = { urgent_referral: 'critical', sarcoma_centre_review: 'warning', safety_net_reimaging: 'warning', routine: 'info' } as const;

function summaryBlocks(kb: KnowledgeBase, a: Assessment, lang: Lang): Block[] {
  const out: Block[] = [];
  const d = a.malignancy.decision;
  const colon = lang === 'zh' ? '：' : ': ';
  out.push({ kind: 'heading', text: t(lang, 'report.summary') });
  // the findings entered
  const entered = findingsEntered(kb, a, lang);
  out.push({ kind: 'paragraph', text: [{ strong: t(lang, 'report.findingsEntered') }] });
  out.push(entered.length
    ? { kind: 'list', items: entered.map((s): Inline[] => [{ strong: `${s.section}${colon}` }, s.items.join(sep(lang))]) }
    : { kind: 'paragraph', text: [t(lang, 'report.noFindings')] });
  // conclusion
  const lead = a.differential[0]!;
  out.push({ kind: 'paragraph', text: [
    { strong: `${t(lang, 'report.conclusion')}${colon}` },
    t(lang, 'report.conclusionLine', { entity: lang === 'en' ? midSentence(entityName(kb, lead.id, lang)) : entityName(kb, lead.id, lang), p: pct(lead.probability), group: groupName(lead.group, lang), m: percentAgainst(a.malignancy.probability, a.malignancy.threshold), t: pct(a.malignancy.threshold) }),
  ] });
  out.push({ kind: 'paragraph', text: [
    { strong: `${t(lang, 'report.redFlags')}${colon}` },
    a.redFlags.length ? a.redFlags.map((r) => r.text[lang]).join(sep(lang)) : t(lang, 'report.none'),
  ] });
  // the referral decision with its reason
  out.push({ kind: 'alert', level: DECISION_LEVEL[d.kind], text: d.kind === 'urgent_referral' ? d.reason[lang] : `${t(lang, `report.decision.${d.kind}`)}${colon}${d.reason[lang]}` });
  // safety advice and input notes
  for (const s of a.safety) if (s.severity !== 'info') out.push({ kind: 'alert', level: s.severity, text: s.text[lang] });
  for (const w of a.warnings) out.push({ kind: 'alert', level: 'warning', text: `${t(lang, 'report.warnings')}${colon}${warningText(kb, w, lang)}` });
  // the top differential with its key evidence
  out.push({ kind: 'paragraph', text: [{ strong: t(lang, 'report.topDifferential') }] });
  out.push({
    kind: 'list', ordered: true,
    items: a.differential.slice(0, 3).map((x): Inline[] => {
      const ev = shownEvidence(x);
      const key = [...ev.for.slice(0, 3).map((e) => `+ ${evidenceText(kb, e, lang)}`), ...ev.against.slice(0, 2).map((e) => `− ${evidenceText(kb, e, lang)}`)];
      return [entityInline(kb, x.id, lang), ` ${pct(x.probability)}`, key.length ? ` — ${key.join(sep(lang))}` : ''];
    }),
  });
  // can't-miss: the malignant group stays visible whatever its rank
  if (a.cantMiss.length) {
    out.push({ kind: 'paragraph', text: [
      { strong: `${t(lang, 'report.cantMiss')}${colon}` },
      a.cantMiss.map((m) => `${entityName(kb, m.id, lang)} ${pct(m.probability)}`).join(sep(lang)),
    ] });
  }
  // the next step, dated
  out.push({ kind: 'paragraph', text: [{ strong: `${t(lang, 'report.nextStep')}${colon}` }, nextStepText(kb, a, lang)] });
  return out;
}

function workupBlocks(a: Assessment, lang: Lang): Block[] {
  const out: Block[] = [];
  const preBiopsy = a.treatment.basis.confirmed === false && malignancyNotExcluded(a);
  out.push({ kind: 'heading', text: t(lang, preBiopsy ? 'report.preBiopsy' : 'report.workup') });
  for (const p of WORKUP_PURPOSES) {
    const items = a.workup.filter((w) => (w.purpose ?? 'diagnosis') === p);
    if (!items.length) continue;
    out.push({ kind: 'paragraph', text: [{ strong: t(lang, `report.purpose.${p}`) }] });
    out.push(itemsToList(items, lang));
  }
  return out;
}

function treatmentBlocks(kb: KnowledgeBase, a: Assessment, lang: Lang): Block[] {
  const out: Block[] = [];
  const name = (id: string) => entityName(kb, id, lang);
  const confirmed = a.treatment.basis.confirmed;
  out.push({ kind: 'heading', text: t(lang, 'report.treatment') });
  const forLine: Block = { kind: 'paragraph', text: [{ strong: t(lang, 'report.treatmentFor', { entity: name(a.treatment.basis.entity), status: t(lang, confirmed ? 'report.confirmed' : 'report.provisional') }) }] };
  const basisGroup = a.differential.find((d) => d.id === a.treatment.basis.entity)?.group ?? 'benign';
  if (!confirmed && (basisGroup === 'malignant' || basisGroup === 'intermediate')) {
    // before histology: treatment is the sarcoma team's decision once the biopsy has confirmed the diagnosis
    out.push({ kind: 'paragraph', text: [t(lang, 'report.treatmentAfterBiopsy')] });
    out.push({ kind: 'details', summary: t(lang, 'report.ifConfirmedAs', { entity: name(a.treatment.basis.entity) }), blocks: [
      forLine, itemsToList(a.treatment.entity, lang),
      { kind: 'paragraph', text: [{ strong: t(lang, 'report.groupOptions', { group: groupName(basisGroup, lang) }) }] }, itemsToList(a.treatment.group, lang),
    ] });
    return out;
  }
  out.push(forLine);
  out.push(itemsToList(a.treatment.entity, lang));
  const general = a.treatment.group.filter((x) => confirmed || x.level !== 'drug');
  const drug = a.treatment.group.filter((x) => !confirmed && x.level === 'drug');
  if (general.length) {
    const g = a.differential.find((d) => d.id === a.treatment.basis.entity)?.group ?? 'benign';
    out.push({ kind: 'paragraph', text: [{ strong: t(lang, 'report.groupOptions', { group: groupName(g, lang) }) }] });
    out.push(itemsToList(general, lang));
  }
  if (drug.length) out.push({ kind: 'details', summary: t(lang, 'report.ifConfirmed'), blocks: [itemsToList(drug, lang)] });
  if (a.treatment.ifMalignant.length) out.push({ kind: 'details', summary: t(lang, 'report.ifMalignant'), blocks: [itemsToList(a.treatment.ifMalignant, lang)] });
  return out;
}

function followUpBlocks(kb: KnowledgeBase, a: Assessment, lang: Lang): Block[] {
  const out: Block[] = [];
  const f = a.followUp;
  const d = a.malignancy.decision;
  if (f.applies === 'after_treatment') {
    out.push({ kind: 'heading', text: t(lang, 'report.followUpAfter') });
    out.push({ kind: 'paragraph', text: [t(lang, 'report.afterTreatmentNote'), ' ', f.label[lang]] });
    return out;
  }
  out.push({ kind: 'heading', text: t(lang, 'report.followUp') });
  // the safety net comes first: the dated re-imaging with what ends observation
  if (d.kind === 'safety_net_reimaging') out.push({ kind: 'paragraph', text: [{ strong: `1. ${nextStepText(kb, a, lang)}` }] });
  out.push({ kind: 'paragraph', text: [`${f.label[lang]}${f.surgeryDate ? ` — ${t(lang, 'report.fromSurgery', { date: f.surgeryDate })}` : f.datedFrom === 'assessment' ? ` — ${t(lang, 'report.fromAssessment', { date: a.assessedOn ?? '' })}` : ''}`] });
  if (!f.visits.some((v) => v.date)) out.push({ kind: 'paragraph', text: [t(lang, 'report.noDate')] });
  if (f.note[lang] && d.kind !== 'safety_net_reimaging') out.push({ kind: 'paragraph', text: [f.note[lang]] });
  out.push(visitsTimeline(a, lang));
  out.push(visitItemsBlock(kb, a, lang));
  out.push({ kind: 'paragraph', text: [{ strong: `${t(lang, 'report.watchFor')}${lang === 'zh' ? '：' : ': '}` }, f.watchFor[lang]] });
  return out;
}

function versionLine(kb: KnowledgeBase, a: Assessment, lang: Lang): string {
  return t(lang, 'report.versions', { date: a.assessedOn ?? t(lang, 'report.undated'), version: VERSION, kb: kbVersion(kb) });
}

export function buildClinicianReport(kb: KnowledgeBase, a: Assessment, lang: Lang): ReportDocument {
  const name = (id: string) => entityName(kb, id, lang);
  const title = t(lang, 'report.title');
  const colon = lang === 'zh' ? '：' : ': ';
  const summary: Block[] = [
    { kind: 'title', text: title, subtitle: [a.caseId ? `${t(lang, 'report.case')}${colon}${a.caseId}` : '', versionLine(kb, a, lang)].filter(Boolean).join(' · ') },
    ...summaryBlocks(kb, a, lang),
    { kind: 'paragraph', text: [kb.plans.disclaimer[lang]], small: true },
  ];

  const blocks: Block[] = [];
  // differential in full, with the evidence the screen shows
  blocks.push({ kind: 'heading', text: t(lang, 'report.differential') });
  blocks.push({
    kind: 'bars',
    items: a.differential.slice(0, 10).map((d) => ({
      label: name(d.id), value: d.probability, note: groupName(d.group, lang),
      tone: d.group === 'malignant' ? 'malignant' : d.group === 'intermediate' ? 'intermediate' : 'benign',
    })),
  });
  const evRows: string[][] = [];
  for (const d of a.differential.slice(0, LEADING_EVIDENCE_ENTITIES)) {
    const ev = shownEvidence(d);
    evRows.push([
      `${d.rank}. ${name(d.id)} (${pct(d.probability)})`,
      ev.for.map((e) => `${evidenceText(kb, e, lang)} ×${e.lr.toFixed(1)}`).join(sep(lang)) || '—',
      ev.against.map((e) => `${evidenceText(kb, e, lang)} ×${e.lr.toFixed(2)}`).join(sep(lang)) || '—',
      `${pct(d.prior)}${ev.prior.length ? ` (${ev.prior.map((e) => `${evidenceText(kb, e, lang)} ×${e.lr.toFixed(1)}`).join(sep(lang))})` : ''}`,
    ]);
  }
  blocks.push({ kind: 'table', head: [t(lang, 'report.diagnosis'), t(lang, 'report.for'), t(lang, 'report.against'), t(lang, 'report.prior')], rows: evRows });
  blocks.push({ kind: 'paragraph', text: [{ strong: `${t(lang, 'report.references')}${colon}` }] });
  blocks.push({ kind: 'list', items: a.differential.slice(0, LEADING_EVIDENCE_ENTITIES).map((d): Inline[] => {
    const s = entitySource(kb, d.id);
    return s ? [{ strong: `${name(d.id)}${colon}` }, { link: s.url, text: s.title }] : [name(d.id)];
  }) });

  blocks.push({ kind: 'heading', text: t(lang, 'report.malignancy') });
  blocks.push({ kind: 'paragraph', text: [t(lang, 'report.malignancyLine', { p: percentAgainst(a.malignancy.probability, a.malignancy.threshold), t: pct(a.malignancy.threshold) })] });
  if (a.malignancy.intermediateProbability >= 0.005) blocks.push({ kind: 'paragraph', text: [t(lang, 'report.intermediateLine', { p: pct(a.malignancy.intermediateProbability) })] });
  const info = a.safety.filter((s) => s.severity === 'info');
  if (info.length) blocks.push({ kind: 'list', items: info.map((s) => [s.text[lang]]) });

  blocks.push({ kind: 'heading', text: t(lang, 'report.mechanism') });
  blocks.push({
    kind: 'list',
    items: a.mechanism.map((m) => [
      `${kb.plans.mechanisms[m.id]?.name[lang] ?? m.id}${colon}${pct(m.probability)}${m.reasons.length ? ` — ${m.reasons.map((r) => r.text[lang]).join(sep(lang))}` : ''}`,
    ]),
  });

  const questions = mergeNextQuestions(a.nextQuestions);
  if (questions.length) {
    blocks.push({ kind: 'heading', text: t(lang, 'report.nextQuestions') });
    blocks.push({
      kind: 'list',
      ordered: true,
      items: questions.map((q) => [
        { strong: mergedQuestionText(kb, q, lang) },
        ` (${q.tests.map((x) => t(lang, `test.${x}`)).join(lang === 'zh' ? '或' : ' or ')}) — `,
        q.outcomes.filter((o) => o.probability >= 0.05).map((o) => t(lang, 'report.ifAnswer', {
          value: findingValueLabel(kb, q.finding, o.value, lang),
          p: pct(o.probability), leader: name(o.leader), lp: pct(o.leaderProbability),
        })).join(sep(lang)),
      ]),
    });
  }

  blocks.push(...workupBlocks(a, lang));
  blocks.push(...treatmentBlocks(kb, a, lang));

  if (a.staging.applicable) {
    blocks.push({ kind: 'heading', text: t(lang, 'report.staging') });
    const s = a.staging.staging;
    blocks.push({ kind: 'paragraph', text: [t(lang, 'report.stageLine', { T: s.T, N: s.N, M: s.M, G: s.G, stage: s.stage ?? '?' })] });
    if (s.fnclcc) blocks.push({ kind: 'paragraph', text: [t(lang, 'report.fnclccLine', { score: s.fnclcc.score, d: s.fnclcc.components.differentiation, m: s.fnclcc.components.mitoses, n: s.fnclcc.components.necrosis, grade: s.fnclcc.grade })] });
    if (s.missing.length) blocks.push({ kind: 'paragraph', text: [[...s.missing.map((m) => t(lang, `staging.${m}`)), ...(s.stage ? [] : [t(lang, 'staging.undetermined')])].join(sep(lang))] });
  }

  blocks.push({ kind: 'heading', text: t(lang, 'report.prognosis') });
  blocks.push({ kind: 'paragraph', text: [`${name(a.prognosis.entity)}${colon}${a.prognosis.text[lang]}`] });
  if (a.prognosis.fiveYearSurvival) blocks.push({ kind: 'paragraph', text: [t(lang, 'report.fiveYear', { low: pct(a.prognosis.fiveYearSurvival.low), high: pct(a.prognosis.fiveYearSurvival.high) })] });
  blocks.push({ kind: 'list', items: a.prognosis.byGrade.map((g) => [g.text[lang]]) });

  blocks.push(...followUpBlocks(kb, a, lang));
  blocks.push(...sourcesBlock(kb, a, lang));
  blocks.push({ kind: 'heading', text: t(lang, 'report.disclaimer') });
  blocks.push({ kind: 'paragraph', text: [kb.plans.disclaimer[lang]] });
  blocks.push({ kind: 'paragraph', text: [versionLine(kb, a, lang)] });
  return {
    lang, title,
    blocks: [
      { kind: 'section', role: 'summary', blocks: summary },
      { kind: 'section', role: 'appendix', title: t(lang, 'report.appendix'), blocks },
    ],
  };
}

/** Splits a text into sentences (for the no-repetition rule of the patient report). */
export function sentences(text: string): string[] {
  // a sentence ends at . ! ? before a capital (not "e.g. contrast"), or at 。！？
  return text.split(/(?<=[.!?])\s+(?=[A-Z"“(])|(?<=[。！？])/u).map((s) => s.trim()).filter((s) => s.length > 0);
}

export function buildPatientReport(kb: KnowledgeBase, a: Assessment, lang: Lang): ReportDocument {
  const blocks: Block[] = [];
  const title = t(lang, 'report.patientTitle');
  blocks.push({ kind: 'title', text: title, ...(a.assessedOn ? { subtitle: t(lang, 'patient.dated', { date: a.assessedOn }) } : {}) });
  const d = a.malignancy.decision;
  const notExcluded = malignancyNotExcluded(a);
  const treated = a.treatment.basis.confirmed || a.followUp.surgeryDate !== undefined;
  const advice = new Map(kb.plans.patientAdvice.map((x) => [x.id, x[lang]]));
  const lead = a.differential[0]!;
  const leadEntity = kb.entities[kb.entityIndex.get(lead.id)!]!;

  blocks.push({ kind: 'heading', text: t(lang, 'report.whatItMayBe') });
  if (notExcluded && !a.treatment.basis.confirmed) {
    // the tone matches the risk: no reassurance, no diagnosis names before a biopsy
    blocks.push({ kind: 'paragraph', text: [t(lang, d.kind === 'urgent_referral' ? 'patient.specialistSoon' : 'patient.specialistReview')] });
    blocks.push({ kind: 'paragraph', text: [t(lang, 'patient.whyTeam')] });
  } else if (lead.probability >= 0.5 || a.treatment.basis.confirmed) {
    const basis = kb.entities[kb.entityIndex.get(a.treatment.basis.entity)!] ?? leadEntity;
    // the seed's reassurance ("most calcified lumps are benign") only where malignancy is excluded enough
    blocks.push({ kind: 'paragraph', text: notExcluded ? [advice.get('do_not_neglect') ?? ''] : [advice.get('avoid_anxiety') ?? '', lang === 'zh' ? '' : ' ', advice.get('do_not_neglect') ?? ''] });
    blocks.push({ kind: 'paragraph', text: [{ strong: `${basis.names[lang]}${lang === 'zh' ? '（' : ' ('}${t(lang, a.treatment.basis.confirmed ? 'report.confirmedShort' : 'report.likely')}${lang === 'zh' ? '）' : ')'}` }] });
    blocks.push({ kind: 'paragraph', text: [basis.patient[lang]] });
  } else {
    blocks.push({ kind: 'paragraph', text: [t(lang, 'patient.notYetClear')] });
  }

  blocks.push({ kind: 'heading', text: t(lang, 'report.whatNext') });
  if (d.kind === 'urgent_referral') blocks.push({ kind: 'alert', level: 'warning', text: t(lang, 'patient.urgent') });
  else if (d.kind === 'sarcoma_centre_review') blocks.push({ kind: 'alert', level: 'warning', text: t(lang, d.reviewBy ? 'patient.reviewDated' : 'patient.review', { date: d.reviewBy ?? '', weeks: d.reviewWeeks ?? '' }) });
  else if (d.kind === 'safety_net_reimaging') {
    blocks.push({ kind: 'alert', level: 'info', text: t(lang, d.reimageFrom ? 'patient.reimageDated' : 'patient.reimage', { from: d.reimageFrom ?? '', to: d.reimageBy ?? '', weeks: d.reimageWeeks ? (d.reimageWeeks[0] === d.reimageWeeks[1] ? d.reimageWeeks[0] : `${d.reimageWeeks[0]}-${d.reimageWeeks[1]}`) : '' }) });
  } else blocks.push({ kind: 'alert', level: 'info', text: t(lang, 'patient.notUrgent') });
  // the seed's steps that apply now: before a diagnosis, the first two (see a doctor, complete the tests)
  const steps = kb.plans.recommendedSteps.filter((s) => treated || s.id === 'step1' || s.id === 'step2' || (a.treatment.basis.confirmed && s.id === 'step3'));
  blocks.push({ kind: 'list', ordered: true, items: steps.map((s) => [s[lang]]) });

  // follow-up visits once treated, or an observation plan that applies now (no post-treatment follow-up before treatment)
  if (a.followUp.visits.length && (a.followUp.surgeryDate !== undefined || (a.followUp.applies === 'now' && !notExcluded))) {
    blocks.push({ kind: 'heading', text: t(lang, 'report.followUp') });
    if (!a.followUp.visits.some((v) => v.date)) blocks.push({ kind: 'paragraph', text: [t(lang, 'report.noDate')] });
    blocks.push(visitsTimeline(a, lang));
  }
  blocks.push({ kind: 'heading', text: t(lang, 'report.whenToSeek') });
  blocks.push({ kind: 'paragraph', text: [t(lang, 'patient.watch')] });
  // the seed's advice for after treatment (recurrence, follow-up) only once there is a treatment
  const tips = (treated ? [advice.get('healthy_lifestyle'), advice.get('mood_nutrition'), advice.get('follow_up')] : []).filter((x): x is string => !!x);
  if (tips.length) {
    blocks.push({ kind: 'heading', text: t(lang, 'report.advice') });
    blocks.push({ kind: 'list', items: tips.map((x) => [x]) });
  }
  blocks.push({ kind: 'heading', text: t(lang, 'report.aboutThis') });
  blocks.push({ kind: 'paragraph', text: [t(lang, 'patient.disclaimer')] });
  return { lang, title, blocks: dropRepeatedSentences(blocks, lang) };
}

/** Leaves out any sentence a patient has already read higher up (the seed's advice repeats its steps). */
function dropRepeatedSentences(blocks: Block[], lang: Lang): Block[] {
  const seen = new Set<string>();
  const norm = (s: string) => s.replace(/\s+/g, ' ').trim().toLowerCase();
  const keep = (text: string): string => {
    if (!text.trim()) return text;
    const all = sentences(text);
    const kept = all.filter((s) => { const k = norm(s); if (seen.has(k)) return false; seen.add(k); return true; });
    return kept.length === all.length ? text : kept.join(lang === 'zh' ? '' : ' ');
  };
  const out: Block[] = [];
  for (const b of blocks) {
    if (b.kind === 'paragraph') {
      const text = b.text.map((x) => (typeof x === 'string' ? keep(x) : x));
      if (text.some((x) => (typeof x === 'string' ? x.trim() : true))) out.push({ ...b, text });
    } else if (b.kind === 'list') {
      const items = b.items.map((it) => it.map((x) => (typeof x === 'string' ? keep(x) : x))).filter((it) => it.some((x) => (typeof x === 'string' ? x.trim() : true)));
      if (items.length) out.push({ ...b, items });
    } else if (b.kind === 'alert') {
      const text = keep(b.text);
      if (text) out.push({ ...b, text });
    } else out.push(b);
  }
  return out;
}

export function buildReport(kb: KnowledgeBase, a: Assessment, lang: Lang, audience: Audience): ReportDocument {
  return audience === 'patient' ? buildPatientReport(kb, a, lang) : buildClinicianReport(kb, a, lang);
}
