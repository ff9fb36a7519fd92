/**
 * The assessment as JSON: the engine's result with every bilingual text rendered in the
 * chosen language and names added. Public contract: differential[{id, probability, group,
 * evidence?}], evidenceScope, malignancy{probability, urgentReferral}, redFlags[{id, text}],
 * nextQuestions[{finding, expectedGain}], mechanism[{id, probability}]; added since:
 * malignancy.decision (the plan and its reason), cantMiss, assessedOn, calcdx.version and
 * calcdx.knowledgeBase, workup[].purpose, treatment.*[].level, followUp.applies / datedFrom.
 *
 * Evidence (the likelihood ratios behind each rank) is the bulk of the answer: about 3.5 KiB per
 * entity, 85 % of the whole with every entity listed. `evidence` chooses whose is listed
 * (evidence-scope.ts): 'leading' (this function's default) the first LEADING_EVIDENCE_ENTITIES of
 * the differential — what a report shows and a reader opens —, 'likely' (the HTTP API's default)
 * those of them still in contention (the first, and the others at ≥ 1 %), 'all' every entity,
 * 'none' no entity. An entity whose evidence is not listed has no `evidence` key (an empty list
 * would read as "no evidence"); everything else is the same in every scope.
 */
import type { Assessment, TextItem } from '../core/engine/assess.js';
import type { EvidenceTerm } from '../core/engine/differential.js';
import type { KnowledgeBase } from '../core/knowledge/compile.js';
import type { Lang } from '../i18n/index.js';
import type { Decision } from '../core/engine/decision.js';
import { boundedPercent } from '../core/engine/bounded.js';
import { cachedFindingValueText, entityName, findingLabel, questionText, warningText } from './describe.js';
import { kbVersion } from './kb-version.js';
import { VERSION } from './version.js';
import { evidenceListed, type EvidenceScope } from './evidence-scope.js';

/**
 * x rounded to d decimals (half away from zero, as toFixed): multiplying and Math.round cost a
 * fraction of Number(x.toFixed(d)), and the JSON answer has about 1,400 numbers.
 */
export const round = (x: number, d = 6): number => {
  const k = d === 6 ? 1e6 : 10 ** d;
  return x < 0 ? -Math.round(-x * k) / k : Math.round(x * k) / k;
};
export const round4 = (x: number): number => (x < 0 ? -Math.round(-x * 1e4) / 1e4 : Math.round(x * 1e4) / 1e4);

interface EvidenceJson { finding: string; value: string; role: EvidenceTerm['role']; direction: EvidenceTerm['direction']; lr: number; logLr: number; text: string }

/**
 * Evidence terms listed in the JSON output: those that change the odds by at least 10 %
 * (|logLr| ≥ ln 1.1, LR ≥ 1.1 or ≤ 1/1.1). The engine keeps terms from |logLr| ≥ 0.05 (5 %) for
 * the reports; the weaker ones among them (about a fifth of the ~650 terms of a typical case) made
 * the answer ~20 % larger; the probabilities are computed from all terms either way.
 */
export const JSON_MIN_ABS_LOG_LR = Math.log(1.1);

function evidenceJson(kb: KnowledgeBase, terms: readonly EvidenceTerm[], lang: Lang): EvidenceJson[] {
  const out: EvidenceJson[] = [];
  for (let i = 0; i < terms.length; i++) {
    const e = terms[i]!;
    if (Math.abs(e.logLr) < JSON_MIN_ABS_LOG_LR) continue;
    out.push({
      finding: e.finding, value: e.value, role: e.role, direction: e.direction,
      lr: round4(e.lr), logLr: round4(e.logLr), text: cachedFindingValueText(kb, e.finding, e.value, lang),
    });
  }
  return out;
}

export { EVIDENCE_SCOPES, evidenceListed, LEADING_EVIDENCE_ENTITIES, LIKELY_MIN_PROBABILITY, type EvidenceScope } from './evidence-scope.js';

const treatmentItems = (xs: TextItem[], lang: Lang) => xs.map((x) => ({ id: x.id, text: x.text[lang], ...(x.level ? { level: x.level } : {}) }));

/** The plan that closes the assessment, in one language. */
export function decisionJson(d: Decision, lang: Lang): Record<string, unknown> {
  return {
    kind: d.kind,
    reason: d.reason[lang],
    entity: d.entity,
    redFlags: d.redFlags,
    ...(d.reimageWeeks ? { reimageWeeks: d.reimageWeeks } : {}),
    ...(d.reimageFrom ? { reimageFrom: d.reimageFrom, reimageBy: d.reimageBy } : {}),
    ...(d.test ? { test: d.test[lang] } : {}),
    ...(d.reviewWeeks !== undefined ? { reviewWeeks: d.reviewWeeks } : {}),
    ...(d.reviewBy ? { reviewBy: d.reviewBy } : {}),
    ...(d.referIf ? { referIf: d.referIf.map((r) => ({ id: r.id, text: r.text[lang] })) } : {}),
  };
}

export function assessmentToJson(kb: KnowledgeBase, a: Assessment, lang: Lang, evidence: EvidenceScope = 'leading'): Record<string, unknown> {
  return {
    ...assessmentJsonHead(kb, a, lang, evidence),
    differential: a.differential.map((d) => ({
      id: d.id,
      name: entityName(kb, d.id, lang),
      rank: d.rank,
      probability: round(d.probability),
      group: d.group,
      prior: round(d.prior),
      ...(evidenceListed(evidence, d.rank, d.probability) ? { evidence: evidenceJson(kb, d.evidence, lang) } : {}),
    })),
    ...assessmentJsonTail(kb, a, lang),
  };
}

/** The keys before `differential` (json-text.ts serialises the differential itself, between these and the tail). */
export function assessmentJsonHead(kb: KnowledgeBase, a: Assessment, lang: Lang, evidence: EvidenceScope): Record<string, unknown> {
  return {
    calcdx: { assessmentVersion: 1, lang, evidence, version: VERSION, knowledgeBase: kbVersion(kb) },
    ...(a.caseId !== undefined ? { caseId: a.caseId } : {}),
    ...(a.assessedOn !== undefined ? { assessedOn: a.assessedOn } : {}),
  };
}

/** The keys after `differential`, in their order. */
export function assessmentJsonTail(kb: KnowledgeBase, a: Assessment, lang: Lang): Record<string, unknown> {
  const items = (xs: Array<{ id: string; text: { en: string; zh: string } }>) => xs.map((x) => ({ id: x.id, text: x.text[lang] }));
  return {
    groups: Object.fromEntries(Object.entries(a.groups).map(([k, v]) => [k, round(v)])),
    malignancy: {
      probability: round(a.malignancy.probability),
      intermediateProbability: round(a.malignancy.intermediateProbability),
      urgentReferral: a.malignancy.urgentReferral,
      threshold: a.malignancy.threshold,
      reasons: a.malignancy.reasons,
      decision: decisionJson(a.malignancy.decision, lang),
    },
    cantMiss: a.cantMiss.map((m) => ({ id: m.id, name: entityName(kb, m.id, lang), rank: m.rank, probability: round(m.probability), display: boundedPercent(m.probability) })),
    redFlags: items(a.redFlags),
    safety: a.safety.map((s) => ({ id: s.id, severity: s.severity, text: s.text[lang] })),
    mechanism: a.mechanism.map((m) => ({ id: m.id, name: kb.plans.mechanisms[m.id]?.name[lang] ?? m.id, probability: round(m.probability), reasons: items(m.reasons) })),
    nextQuestions: a.nextQuestions.map((q) => ({
      finding: q.finding, label: findingLabel(kb, q.finding, lang), question: questionText(kb, q.finding, lang),
      test: q.test, expectedGain: round(q.expectedGain, 4),
      outcomes: q.outcomes.map((o) => ({ value: o.value, probability: round(o.probability, 4), leader: o.leader, leaderProbability: round(o.leaderProbability, 4) })),
    })),
    workup: a.workup.map((w) => ({ id: w.id, text: w.text[lang], ...(w.purpose ? { purpose: w.purpose } : {}) })),
    treatment: {
      basis: a.treatment.basis,
      entity: items(a.treatment.entity),
      group: treatmentItems(a.treatment.group, lang),
      ifMalignant: treatmentItems(a.treatment.ifMalignant, lang),
    },
    staging: a.staging,
    prognosis: {
      entity: a.prognosis.entity,
      text: a.prognosis.text[lang],
      ...(a.prognosis.fiveYearSurvival ? { fiveYearSurvival: a.prognosis.fiveYearSurvival } : {}),
      byGrade: a.prognosis.byGrade.map((g) => ({ grade: g.grade, text: g.text[lang], ...(g.fiveYearSurvival ? { fiveYearSurvival: g.fiveYearSurvival } : {}) })),
    },
    followUp: {
      entity: a.followUp.entity,
      scheme: a.followUp.scheme,
      label: a.followUp.label[lang],
      note: a.followUp.note[lang],
      watchFor: a.followUp.watchFor[lang],
      ...(a.followUp.surgeryDate ? { surgeryDate: a.followUp.surgeryDate } : {}),
      applies: a.followUp.applies,
      ...(a.followUp.datedFrom ? { datedFrom: a.followUp.datedFrom } : {}),
      visits: a.followUp.visits,
    },
    warnings: a.warnings.map((w) => ({ code: w.code, text: warningText(kb, w, lang) })),
    disclaimer: kb.plans.disclaimer[lang],
  };
}
