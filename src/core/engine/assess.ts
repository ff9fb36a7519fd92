/**
 * findings → assessment: a pure, synchronous function over a loaded knowledge base.
 * Texts are returned bilingual ({ en, zh }); renderers pick the language.
 */
import type { CaseFile } from '../case-format/schema.js';
import type { KnowledgeBase, TextItem } from '../knowledge/compile.js';
import type { Entity, Src, Text } from '../knowledge/schema.js';
import { MECHANISMS, type Group, type Mechanism } from '../knowledge/vocabulary.js';
import { holds, type ConditionContext } from './conditions.js';
import { decide, type Decision } from './decision.js';
import { computeDifferential, evidenceFor, referralThreshold, urgentRedFlags, type EvidenceTerm } from './differential.js';
import { getField, knownFindingCount, observe, type Observation } from './findings.js';
import { schedule, type SchemeId, type Visit } from './follow-up.js';
import { nextQuestions, type NextQuestion } from './next-questions.js';
import { fnclccGrade, gradeOf, stage, type StagingOutcome } from './staging.js';

export interface DifferentialItem {
  id: string;
  rank: number;
  probability: number;
  group: Group;
  /** prior after age, sex and region (before the other evidence) */
  prior: number;
  evidence: EvidenceTerm[];
}

export type { TextItem } from '../knowledge/compile.js';

export interface AssessOptions {
  /** the assessment date (ISO YYYY-MM-DD): dates the plan (re-imaging, review) and the follow-up of an unoperated lesion */
  date?: string;
}

/** how many malignant entities `cantMiss` lists */
export const CANT_MISS_COUNT = 3;

export interface Assessment {
  caseId?: string;
  /** the assessment date, when given */
  assessedOn?: string;
  /** the findings the case gives, as the knowledge base reads them (value ids; `raw` the number entered for a binned finding) */
  findings: Array<{ finding: string; value: string; raw?: number }>;
  differential: DifferentialItem[];
  groups: Record<Group, number>;
  malignancy: {
    probability: number;
    /** probability of an intermediate (locally aggressive / rarely metastasising) tumour */
    intermediateProbability: number;
    urgentReferral: boolean;
    threshold: number;
    /** why urgentReferral is what it is: 'probability' and/or red-flag ids */
    reasons: string[];
    /** the plan that closes the assessment, with the sentence that explains it */
    decision: Decision;
  };
  /** the most probable malignant entities, whatever their rank: shown so that the malignant group stays visible */
  cantMiss: Array<{ id: string; probability: number; rank: number }>;
  redFlags: Array<{ id: string; text: Text }>;
  safety: Array<{ id: string; severity: 'critical' | 'warning' | 'info'; text: Text }>;
  mechanism: Array<{ id: Mechanism; probability: number; reasons: Array<{ id: string; text: Text; lr: number }> }>;
  nextQuestions: NextQuestion[];
  workup: TextItem[];
  treatment: {
    /** the entity the plan is for; confirmed when pathology names it */
    basis: { entity: string; confirmed: boolean };
    entity: TextItem[];
    group: TextItem[];
    /** shown while malignancy is not excluded and the basis is not malignant */
    ifMalignant: TextItem[];
  };
  staging: StagingOutcome;
  prognosis: {
    entity: string;
    text: Text;
    src: Src;
    fiveYearSurvival?: { low: number; high: number };
    /** the seed's figures by grade that apply */
    byGrade: Array<{ grade: 'benign' | 'low' | 'high'; text: Text; fiveYearSurvival?: { low: number; high: number } }>;
  };
  followUp: {
    entity: string;
    scheme: SchemeId;
    label: Text;
    note: Text;
    watchFor: Text;
    surgeryDate?: string;
    /** 'after_treatment': a post-operative scheme for a lesion not yet treated (shown as what follows treatment) */
    applies: 'now' | 'after_treatment';
    /** where the visit dates count from, when they are dated */
    datedFrom?: 'surgery' | 'assessment';
    visits: Visit[];
  };
  /** consistency notes about the input (codes with parameters) */
  warnings: Array<{ code: string; params: Record<string, string | number> }>;
}

/** One differential entry; its explanation is computed when first read (reports, JSON, UI) and kept. */
interface ExplainContext { kb: KnowledgeBase; c: CaseFile; obs: readonly Observation[] }

class Entry implements DifferentialItem {
  readonly id: string;
  readonly group: Group;
  #evidence: EvidenceTerm[] | undefined;
  readonly #ctx: ExplainContext;
  readonly #entity: number;
  constructor(ctx: ExplainContext, entity: number, readonly rank: number, readonly probability: number, readonly prior: number) {
    this.id = ctx.kb.entities[entity]!.id;
    this.group = ctx.kb.groups[entity]!;
    this.#ctx = ctx;
    this.#entity = entity;
  }
  get evidence(): EvidenceTerm[] {
    return (this.#evidence ??= evidenceFor(this.#ctx.kb, this.#ctx.c, this.#ctx.obs, this.#entity));
  }
  toJSON(): DifferentialItem {
    return { id: this.id, rank: this.rank, probability: this.probability, group: this.group, prior: this.prior, evidence: this.evidence };
  }
}

/**
 * The work-up, each step once: a plans.yaml step covered by another one (CT of chest, abdomen and
 * pelvis covers the chest CT) is left out; an entity's step that says a plans.yaml step more
 * specifically takes that step's place, and a second entity step for the same step is left out.
 */
function dedupeWorkup(plan: TextItem[], entity: TextItem[]): TextItem[] {
  const covered = new Set(plan.flatMap((s) => s.covers ?? []));
  const out = plan.filter((s) => !covered.has(s.id));
  const slot = new Map(out.map((s, i) => [s.id, i]));
  const replaced = new Set<string>();
  for (const s of entity) {
    const key = s.covers?.find((c) => slot.has(c) || replaced.has(c) || covered.has(c)) ?? s.covers?.[0];
    if (key === undefined) { out.push(s); continue; }
    if (replaced.has(key) || covered.has(key)) continue;
    const i = slot.get(key);
    if (i !== undefined) out[i] = { ...s, ...(out[i]!.purpose ? { purpose: out[i]!.purpose } : {}) };
    else out.push(s);
    replaced.add(key);
  }
  return out;
}

export function assess(kb: KnowledgeBase, c: CaseFile, options: AssessOptions = {}): Assessment {
  const obs = observe(kb, c);
  const diff = computeDifferential(kb, c, obs);
  const post = diff.posterior;
  const nE = kb.entities.length;
  // entity indices by descending posterior (insertion sort: n is small)
  const ord = new Int32Array(nE);
  for (let e = 0; e < nE; e++) {
    let i = e;
    while (i > 0 && post[ord[i - 1]!]! < post[e]!) { ord[i] = ord[i - 1]!; i--; }
    ord[i] = e;
  }
  const order = Array.from(ord);
  const rankOf = new Int32Array(nE);
  for (let r = 0; r < nE; r++) rankOf[order[r]!] = r + 1;

  const explain: ExplainContext = { kb, c, obs };
  const differential: DifferentialItem[] = order.map((e) => new Entry(explain, e, rankOf[e]!, post[e]!, diff.demographicPrior[e]!));

  const groups: Record<Group, number> = { benign: 0, intermediate: 0, malignant: 0, non_neoplastic: 0 };
  for (let e = 0; e < nE; e++) groups[kb.groups[e]!] += post[e]!;

  // mechanism: entity mechanism mix weighted by the posterior, then the case facts
  const rules = kb.rules;
  const baseCtx: ConditionContext = { case: c };
  const mechScore: Record<Mechanism, number> = { dystrophic: 0, metabolic: 0, tumoral: 0, idiopathic: 0 };
  const nM = MECHANISMS.length;
  for (let j = 0; j < nM; j++) {
    let sum = 0;
    for (let e = 0; e < nE; e++) sum += post[e]! * kb.mechanismWeights[e * nM + j]!;
    mechScore[MECHANISMS[j]!] = sum;
  }
  const mechReasons: Record<Mechanism, Array<{ id: string; text: Text; lr: number }>> = { dystrophic: [], metabolic: [], tumoral: [], idiopathic: [] };
  for (const r of rules.mechanismReasons) {
    if (holds(r.when, baseCtx)) {
      mechScore[r.mechanism] *= r.lr;
      mechReasons[r.mechanism].push({ id: r.id, text: r.text, lr: r.lr });
    }
  }
  const mSum = MECHANISMS.reduce((a, m) => a + mechScore[m], 0) || 1;
  const mechanism = MECHANISMS.map((m) => ({ id: m, probability: mechScore[m] / mSum, reasons: mechReasons[m] }))
    .sort((a, b) => b.probability - a.probability);
  const mechProb = (m: Mechanism): number => mechScore[m] / mSum;

  // red flags (the case, and how well the differential characterises it), malignancy, referral
  const posteriorOf = (id: string) => {
    const i = kb.entityIndex.get(id);
    return i === undefined ? undefined : { probability: post[i]!, rank: rankOf[i]! };
  };
  // one object (one shape) for every condition evaluated from here on; filled in as the assessment goes
  const ctx: ConditionContext = {
    case: c, posterior: posteriorOf, groupProbability: (g) => groups[g], leadingProbability: post[order[0]!]!,
    mechanism: mechProb, redFlagCount: undefined, urgentReferral: undefined, decision: undefined,
  };
  const redFlags = rules.redFlags.filter((f) => holds(f.when, ctx)).map((f) => ({ id: f.id, text: f.text }));
  const threshold = referralThreshold(kb, c);
  const malignantP = groups.malignant;
  const reasons: string[] = [];
  if (malignantP >= threshold) reasons.push('probability');
  const urgentFlags = urgentRedFlags(kb, c);
  for (const f of redFlags) if (urgentFlags.includes(f.id)) reasons.push(f.id);
  const urgentReferral = reasons.length > 0;

  const pathologyIdx = c.pathology?.diagnosis !== undefined ? kb.entityIndex.get(c.pathology.diagnosis) : undefined;
  const decision = decide(kb, {
    post, order, redFlags, urgentReferral, reasons, malignancy: malignantP, threshold,
    ...(options.date ? { date: options.date } : {}), ...(pathologyIdx !== undefined ? { confirmed: pathologyIdx } : {}),
  });
  const cantMiss: Assessment['cantMiss'] = [];
  for (let r = 0; r < nE && cantMiss.length < CANT_MISS_COUNT; r++) {
    const e = order[r]!;
    if (kb.groups[e] === 'malignant') cantMiss.push({ id: kb.entities[e]!.id, probability: post[e]!, rank: r + 1 });
  }

  ctx.redFlagCount = redFlags.length;
  ctx.urgentReferral = urgentReferral;
  ctx.decision = decision.kind;
  const safety = rules.safetyRules.filter((r) => holds(r.when, ctx)).map((r) => ({ id: r.id, severity: r.severity, text: r.text }));

  // the entity the plan is for
  const diagId = c.pathology?.diagnosis;
  const confirmedIdx = diagId !== undefined ? kb.entityIndex.get(diagId) : undefined;
  const basisIdx = confirmedIdx ?? order[0]!;
  const basis: Entity = kb.entities[basisIdx]!;
  const confirmed = confirmedIdx !== undefined ? basis : undefined;

  // work-up: situation steps, then the leading entities' own steps
  const steps: TextItem[] = [];
  for (const s of kb.views.planWorkup) if (!s.when || holds(s.when, ctx)) steps.push(s.item);
  const leaders = confirmed ? [basisIdx] : order.filter((e, r) => r === 0 || (r < 3 && post[e]! >= 0.15));
  // once a pathology report names the diagnosis, no step plans a biopsy
  const workup = dedupeWorkup(steps, leaders.flatMap((e) => kb.views.entityWorkup[e]!)).filter((w) => !confirmed || w.purpose !== 'biopsy');

  const treatment: Assessment['treatment'] = {
    basis: { entity: basis.id, confirmed: confirmed !== undefined },
    entity: kb.views.entityTreatment[basisIdx]!,
    // only the options that apply to this diagnosis (no crystal-disease treatment for myositis ossificans)
    group: kb.views.groupTreatment[basis.group].filter((t) => !t.for || t.for.includes(basis.id)),
    ifMalignant: basis.group !== 'malignant' && urgentReferral ? kb.views.groupTreatment.malignant.filter((t) => !t.for) : [],
  };

  const grade = gradeOf(c);
  const pg = kb.plans.prognosisByGrade;
  const byGrade: Assessment['prognosis']['byGrade'] = [];
  if (basis.group === 'malignant' || (!confirmed && urgentReferral)) {
    if (grade === undefined || grade === 1) byGrade.push({ grade: 'low', text: { en: pg.lowGrade.en, zh: pg.lowGrade.zh }, fiveYearSurvival: pg.lowGrade.fiveYearSurvival });
    if (grade === undefined || grade >= 2) byGrade.push({ grade: 'high', text: { en: pg.highGrade.en, zh: pg.highGrade.zh }, fiveYearSurvival: pg.highGrade.fiveYearSurvival });
  }
  // the seed's figures for benign tumours apply to benign tumours (not to myositis ossificans or gout)
  if (basis.group === 'benign' || basis.group === 'intermediate') byGrade.unshift({ grade: 'benign', text: { en: pg.benign.en, zh: pg.benign.zh } });
  const prognosis: Assessment['prognosis'] = {
    entity: basis.id,
    text: { en: basis.prognosis.en, zh: basis.prognosis.zh },
    src: basis.prognosis.src,
    ...(basis.fiveYearSurvival ? { fiveYearSurvival: { low: basis.fiveYearSurvival.low, high: basis.fiveYearSurvival.high } } : {}),
    byGrade,
  };

  let scheme: SchemeId = basis.followUp.scheme;
  if (scheme === 'sarcoma_high_grade' || scheme === 'sarcoma_low_grade') {
    if (grade === 1) scheme = 'sarcoma_low_grade';
    else if (grade !== undefined) scheme = 'sarcoma_high_grade';
  }
  const surgeryDate = c.treatment?.surgeryDate;
  const sch = kb.plans.followUpSchemes[scheme];
  const applies: Assessment['followUp']['applies'] = sch?.afterTreatment && !surgeryDate ? 'after_treatment' : 'now';
  const datedFrom = surgeryDate ? 'surgery' as const : applies === 'now' && options.date ? 'assessment' as const : undefined;
  const followUp: Assessment['followUp'] = {
    entity: basis.id,
    scheme,
    label: sch?.label ?? basis.names,
    note: { en: basis.followUp.note.en, zh: basis.followUp.note.zh },
    watchFor: sch?.watchFor ?? basis.names,
    ...(surgeryDate ? { surgeryDate } : {}),
    applies,
    ...(datedFrom ? { datedFrom } : {}),
    visits: schedule(kb.plans, scheme, surgeryDate ?? (datedFrom ? options.date : undefined)),
  };

  const warnings: Assessment['warnings'] = [];
  const p = c.pathology;
  if (p?.grade !== undefined && p.fnclcc) {
    const f = fnclccGrade(p.fnclcc);
    if (f.grade !== p.grade) warnings.push({ code: 'grade_mismatch', params: { grade: p.grade, fnclccGrade: f.grade, score: f.score } });
  }
  if (p?.fnclcc && confirmed?.fnclccDifferentiation !== undefined && p.fnclcc.differentiation !== confirmed.fnclccDifferentiation) {
    warnings.push({ code: 'differentiation_unusual', params: { given: p.fnclcc.differentiation, usual: confirmed.fnclccDifferentiation, entity: confirmed.id } });
  }
  if (c.history?.trauma && !c.history.trauma.present && c.history.trauma.weeksAgo !== undefined) {
    warnings.push({ code: 'trauma_weeks_without_trauma', params: {} });
  }
  if (confirmed && order[0] !== basisIdx) {
    // radiology-pathology discordance: e.g. an early myositis ossificans biopsy can look like a sarcoma
    const withoutPathology = computeDifferential(kb, { ...c, pathology: {} }, obs).posterior;
    let lead = 0;
    for (let e = 1; e < nE; e++) if (withoutPathology[e]! > withoutPathology[lead]!) lead = e;
    if (lead !== basisIdx) {
      warnings.push({ code: 'pathology_discordant', params: { entity: basis.id, leader: kb.entities[lead]!.id, probability: Math.round(withoutPathology[lead]! * 100) } });
    }
  }
  if (c.history?.dialysis === true && c.history.chronicKidneyDisease === false) {
    warnings.push({ code: 'dialysis_without_ckd', params: {} });
  }
  if (c.pathology?.diagnosis === undefined) {
    const needed = kb.rules.thresholds.fewFindings.value;
    const count = knownFindingCount(kb, obs, needed);
    if (count < needed) warnings.push({ code: 'few_findings', params: { count, needed } });
  }

  // The optional keys first, without a leading spread: an object literal that starts with
  // `...(x ? { caseId } : {})` is made by V8's object cloning, and in Node 20 each assessment made so
  // stayed reachable through the young-generation collections that followed (about 1.4 MB surviving
  // each scavenge of a loop of assessments, against a few KB this way; measured with
  // --trace-gc-nvp): a server assessing cases afresh spent most of its CPU copying them.
  const head: Pick<Assessment, 'caseId' | 'assessedOn'> = {};
  if (c.id !== undefined) head.caseId = c.id;
  if (options.date !== undefined) head.assessedOn = options.date;
  return Object.assign(head, {
    findings: obs.map((o) => {
      const f = kb.findings[o.finding]!;
      const raw = f.def.kind === 'binned' ? getField(c, f.def.id.split('.')) : undefined;
      return { finding: f.def.id, value: f.values[o.value]!, ...(typeof raw === 'number' ? { raw } : {}) };
    }),
    differential,
    groups,
    malignancy: { probability: malignantP, intermediateProbability: groups.intermediate, urgentReferral, threshold, reasons, decision },
    cantMiss,
    redFlags,
    safety,
    mechanism,
    nextQuestions: nextQuestions(kb, post, obs, c.history?.trauma?.present === true),
    workup,
    treatment,
    staging: stage(c, confirmed),
    prognosis,
    followUp,
    warnings,
  });
}
