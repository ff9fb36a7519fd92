/**
 * Knowledge-base schemas: the data files under data/kb are validated against these at load.
 * Types come from the same schemas.
 */
import { z } from 'zod';
import { SETTINGS } from '../case-format/schema.js';
import { FOLLOW_UP_SCHEMES, GROUPS, MECHANISMS, STAGING_SYSTEMS, TESTS, WORKUP_PURPOSES, type Group, type Mechanism } from './vocabulary.js';

export { FOLLOW_UP_SCHEMES, GROUPS, MECHANISMS, STAGING_SYSTEMS, TESTS, WORKUP_PURPOSES } from './vocabulary.js';
export type { Group, Mechanism, WorkupPurpose } from './vocabulary.js';

export const text = z.strictObject({ en: z.string().min(1), zh: z.string().min(1) });
export type Text = z.infer<typeof text>;


/** A source list: ids of entries in a `sources` table, or the literal mark "expert" (expert estimate). */
export const src = z.union([z.literal('expert'), z.array(z.string().min(1)).min(1)]);
export type Src = z.infer<typeof src>;

export const sourceEntry = z.strictObject({
  id: z.string().min(1),
  url: z.string().url(),
  title: z.string().min(1),
  quality: z.enum(['guideline', 'study', 'review', 'low']),
});
export type SourceEntry = z.infer<typeof sourceEntry>;

const probability = z.number().min(0).max(1);
const openProbability = z.number().gt(0).lt(1);

/** A number with its source and the reasoning behind it. */
const sourcedValue = <T extends z.ZodTypeAny>(value: T) => z.strictObject({ value, src, note: text });

// ---------------------------------------------------------------- findings
const bin = z.strictObject({
  value: z.string().min(1),
  /** value < below */
  below: z.number().optional(),
  /** value <= atMost */
  atMost: z.number().optional(),
  label: text,
});

const findingBase = {
  id: z.string().min(1),
  role: z.enum(['demographic', 'evidence']).default('evidence'),
  test: z.enum(TESTS),
  label: text,
  question: text,
  /**
   * the exponent of this finding's likelihoods when it differs from thresholds.evidenceWeight: a fact that
   * is not a feature of the lesion (e.g. the patient's cancer history) is not correlated with the lesion's
   * other findings given the entity, so the tempering for their dependence need not apply
   */
  evidenceWeight: sourcedValue(z.number().gt(0).max(1)).optional(),
  /**
   * this finding's likelihood floor when it differs from thresholds.likelihoodFloor: the global floor stands
   * for "case reports exist for nearly every combination"; a finding whose distribution per entity is
   * measured in registries (age) can keep a rarer value rare, so a finer bin does not make it likelier
   */
  likelihoodFloor: sourcedValue(z.number().gt(0).lt(0.1)).optional(),
  /**
   * a dependence on another finding within each entity (tree-augmented naive Bayes, structure fixed here):
   * when both are known, this finding counts as P(value | parent value, entity), built from the two
   * marginals of each entity with a linear-by-linear association: `association` is the log odds ratio
   * between adjacent values of the two findings (value order as listed; 0 = independent)
   */
  dependsOn: z.strictObject({ finding: z.string().min(1), association: sourcedValue(z.number()) }).optional(),
  /**
   * the source and reasoning of this finding's `reference` when it is not the file-wide expert estimate
   * (e.g. a fact of the patient's history whose neutral point is its prevalence in the population)
   */
  referenceBasis: z.strictObject({ src, note: text }).optional(),
};

export const findingDef = z.discriminatedUnion('kind', [
  z.strictObject({ ...findingBase, kind: z.literal('boolean'), reference: openProbability }),
  z.strictObject({
    ...findingBase, kind: z.literal('member'), field: z.string().min(1), member: z.string().min(1), reference: openProbability,
    /**
     * the case list of members explicitly excluded (known absent). A member in `field` is present;
     * in `absentField`, absent; in neither, unknown (not evidence). Same parent object as `field`.
     */
    absentField: z.string().min(1).optional(),
  }),
  z.strictObject({
    ...findingBase, kind: z.literal('enum'), values: z.record(z.string(), text), reference: z.record(z.string(), openProbability),
  }),
  z.strictObject({
    ...findingBase, kind: z.literal('binned'), bins: z.array(bin).min(2), reference: z.record(z.string(), openProbability),
  }),
]);
export type FindingDef = z.infer<typeof findingDef>;

export const findingsFile = z.strictObject({
  referenceSource: src,
  findings: z.array(findingDef).min(1),
});

// ---------------------------------------------------------------- conditions (rules as data)
/** A condition over the case and the assessment so far. */
export type Condition =
  | { field: string; eq?: unknown; in?: unknown[]; gt?: number; gte?: number; lt?: number; lte?: number; present?: boolean }
  | { posterior: string; gte?: number; lt?: number; rank?: number }
  | { groupProbability: Group | Group[]; gte?: number; lt?: number }
  | { leadingProbability: { gte?: number; lt?: number } }
  | { mechanism: Mechanism; gte: number }
  | { redFlagCount: { gte: number } }
  | { urgentReferral: boolean }
  | { decision: Array<'urgent_referral' | 'sarcoma_centre_review' | 'safety_net_reimaging' | 'routine'> }
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition };

export const condition: z.ZodType<Condition> = z.lazy(() => z.union([
  z.strictObject({
    field: z.string().min(1),
    eq: z.unknown().optional(),
    in: z.array(z.unknown()).optional(),
    gt: z.number().optional(),
    gte: z.number().optional(),
    lt: z.number().optional(),
    lte: z.number().optional(),
    present: z.boolean().optional(),
  }),
  z.strictObject({ posterior: z.string().min(1), gte: z.number().optional(), lt: z.number().optional(), rank: z.number().int().min(1).optional() }),
  /** the probability of a group, or of several groups together (their sum) */
  z.strictObject({ groupProbability: z.union([z.enum(GROUPS), z.array(z.enum(GROUPS)).min(1)]), gte: z.number().optional(), lt: z.number().optional() }),
  /** the probability of the leading (first-ranked) entity, whichever it is */
  z.strictObject({ leadingProbability: z.strictObject({ gte: z.number().optional(), lt: z.number().optional() }) }),
  z.strictObject({ mechanism: z.enum(MECHANISMS), gte: z.number() }),
  z.strictObject({ redFlagCount: z.strictObject({ gte: z.number().int() }) }),
  z.strictObject({ urgentReferral: z.boolean() }),
  /** the kind of the plan that closes the assessment (malignancy.decision.kind) */
  z.strictObject({ decision: z.array(z.enum(['urgent_referral', 'sarcoma_centre_review', 'safety_net_reimaging', 'routine'])).min(1) }),
  z.strictObject({ all: z.array(condition).min(1) }),
  z.strictObject({ any: z.array(condition).min(1) }),
  z.strictObject({ not: condition }),
]));

// ---------------------------------------------------------------- entities
export const likelihood = z.strictObject({
  /** boolean / member finding: P(true | entity); enum / binned: P(value | entity), partial allowed */
  p: z.union([probability, z.record(z.string(), probability)]),
  src,
  /** the KB marks this value as strongly specific for the entity (checked: highest likelihood of all entities) */
  hallmark: z.string().optional(),
  note: z.string().optional(),
});
export type Likelihood = z.infer<typeof likelihood>;

const sourcedText = text.extend({ src });
export type SourcedText = z.infer<typeof sourcedText>;


export const entity = z.strictObject({
  id: z.string().regex(/^[a-z][a-z0-9_]*$/),
  names: text,
  group: z.enum(GROUPS),
  /** one of the six entities the seed article names */
  seed: z.boolean().default(false),
  summary: text,
  mechanisms: z.strictObject({
    weights: z.partialRecord(z.enum(MECHANISMS), probability),
    src,
  }),
  prior: z.strictObject({
    /** relative frequency among calcified / ossified soft-tissue lesions referred for imaging work-up */
    weight: z.number().positive(),
    src,
    note: text,
  }),
  likelihoods: z.record(z.string(), likelihood),
  imaging: z.strictObject({ xray: sourcedText, ct: sourcedText, mri: sourcedText, ultrasound: sourcedText }),
  workup: z.array(sourcedText.extend({
    purpose: z.enum(WORKUP_PURPOSES).optional(),
    /** the same step as this plans.yaml work-up step (said more specifically here): listed once */
    sameAs: z.string().min(1).optional(),
  })).min(1),
  treatment: z.array(sourcedText).min(1),
  prognosis: sourcedText,
  /** 5-year overall survival range when a figure is published */
  fiveYearSurvival: z.strictObject({ low: probability, high: probability, src }).optional(),
  followUp: z.strictObject({ scheme: z.enum(FOLLOW_UP_SCHEMES), note: sourcedText }),
  /** plain-language text for the patient report */
  patient: text,
  /** FNCLCC differentiation score of the histotype, where it is a sarcoma */
  fnclccDifferentiation: z.union([z.literal(1), z.literal(2), z.literal(3)]).optional(),
  /** which staging system applies once the diagnosis is confirmed (none when not given) */
  stagingSystem: z.enum(STAGING_SYSTEMS).optional(),
  sources: z.array(sourceEntry).default([]),
});
export type Entity = z.infer<typeof entity>;

// ---------------------------------------------------------------- rules, plans, follow-up
export const rule = z.strictObject({
  id: z.string().min(1),
  when: condition,
  text: text,
  src,
  /** safety rules: action category */
  severity: z.enum(['critical', 'warning', 'info']).default('warning'),
});
export type Rule = z.infer<typeof rule>;

export const redFlag = z.strictObject({
  id: z.string().min(1),
  when: condition,
  text: text,
  /** a few words for a sentence that lists red flags ("deep", "> 5 cm") */
  short: text.optional(),
  src,
});

export const mechanismReason = z.strictObject({
  id: z.string().min(1),
  mechanism: z.enum(MECHANISMS),
  when: condition,
  /** likelihood ratio this case fact gives the mechanism against the others */
  lr: z.number().positive(),
  text: text,
  src,
});

/**
 * A care setting (the case's `setting`): where the patient is seen changes how common each entity is
 * (the prior) and the action a positive answer triggers (the referral threshold).
 */
export const careSetting = z.strictObject({
  label: text,
  /**
   * prior weight multipliers by entity id (unlisted: 1), applied to the entities' own prior weights
   * before the malignant share is set: the mix of the non-malignant entities in this setting
   */
  priorMultipliers: sourcedValue(z.record(z.string(), z.number().positive())).optional(),
  /**
   * malignancy base rate of the setting: the share of the malignant entities in its prior (before age,
   * sex and site); the malignant entities keep their proportions among themselves, the others theirs
   */
  malignantShare: sourcedValue(openProbability).optional(),
  /** malignancy probability at or above which the case goes to a sarcoma team now, in this setting */
  urgentReferral: sourcedValue(probability),
  /** red flags that in this setting also send the case on their own (added to the global urgentRedFlags) */
  urgentRedFlags: sourcedValue(z.array(z.string().min(1)).min(1)).optional(),
});
export type CareSetting = z.infer<typeof careSetting>;

export const rulesFile = z.strictObject({
  thresholds: z.strictObject({
    /** malignancy probability at or above which the case goes to a sarcoma team now */
    urgentReferral: z.strictObject({ value: probability, src, note: text }),
    /** exponent applied to every evidence log likelihood ratio (1 = plain naive Bayes) */
    evidenceWeight: z.strictObject({ value: z.number().gt(0).max(1), src, note: text }),
    /** likelihood floor and ceiling keep any single finding from being decisive on its own */
    likelihoodFloor: z.strictObject({ value: z.number().gt(0).lt(0.1), src, note: text }),
    /** pathology: probability that a biopsy / resection report names the true entity */
    pathologyAccuracy: z.strictObject({ value: openProbability, src, note: text }),
    /** below this many findings beyond age, sex and site (a list counts once), the assessment warns that it rests on the prior */
    fewFindings: z.strictObject({ value: z.number().int().min(0).max(20), src, note: text }),
  }),
  redFlags: z.array(redFlag).min(1),
  /** per care setting: prior and referral threshold; a case without `setting` uses the entity priors and thresholds.urgentReferral */
  settings: z.partialRecord(z.enum(SETTINGS), careSetting).default({}),
  /** red flags that on their own send the case to the sarcoma team */
  urgentRedFlags: z.array(z.string()),
  safetyRules: z.array(rule).min(1),
  mechanismReasons: z.array(mechanismReason).min(1),
  sources: z.array(sourceEntry).default([]),
});
export type RulesFile = z.infer<typeof rulesFile>;

const scheduleSegment = z.strictObject({
  fromMonth: z.number().int().min(0),
  toMonth: z.number().int().positive(),
  everyMonths: z.number().int().positive(),
  items: z.array(z.enum(['clinical', 'local_imaging', 'chest_imaging', 'labs'])).min(1),
});

/** weeks from the assessment: [earliest, latest] */
const weeksRange = z.tuple([z.number().int().positive(), z.number().int().positive()]).refine((w) => w[0] <= w[1], { message: 'weeks: [earliest, latest] with earliest <= latest' });

/** A safety net: re-imaging on a stated date, with the findings that then send the case to a sarcoma team. */
export const reimagePlan = z.strictObject({
  reimageWeeks: weeksRange,
  /** the test to repeat and what to look for */
  test: text,
  /** ids of safetyNet.referIf: what ends observation and sends the case to a sarcoma team */
  referIf: z.array(z.string().min(1)).min(1),
  src,
  note: text.optional(),
});
export type ReimagePlan = z.infer<typeof reimagePlan>;

/** The plan when a characterised diagnosis belongs with a sarcoma team (intermediate / malignant groups). */
export const reviewPlan = z.strictObject({ review: z.literal(true), src, note: text.optional() });

const template = text;

export const safetyNetFile = z.strictObject({
  /** red flags that mean the lesion is not characterised: the plan is then a sarcoma-centre review */
  notCharacterisedRedFlags: z.array(z.string().min(1)).min(1),
  /** weeks within which a non-urgent sarcoma-centre review should happen */
  reviewWeeks: z.strictObject({ value: z.number().int().positive(), src, note: text }),
  /** what sends a case under observation to a sarcoma team; `ifRedFlag`: the words when that red flag is already present ("keeps growing") */
  referIf: z.record(z.string(), text.extend({ ifRedFlag: z.record(z.string(), text).optional() })),
  /** a safety net per entity (the entity's own re-imaging rule) */
  entities: z.record(z.string(), reimagePlan),
  /** a safety net per group, when the entity has none */
  groups: z.partialRecord(z.enum(GROUPS), z.union([reimagePlan, reviewPlan])),
  /** sentence templates; {placeholders} are filled by the engine */
  texts: z.strictObject({
    urgent: template,
    urgentProbability: template,
    netWithFlags: z.strictObject({ one: template, other: template }),
    netNoFlags: template,
    notCharacterised: template,
    reviewGroup: template,
    confirmedReview: template,
    routine: template,
    whenDated: template,
    whenUndated: template,
    byDated: template,
    byUndated: template,
    and: text,
    or: text,
  }),
});
export type SafetyNetFile = z.infer<typeof safetyNetFile>;

export const plansFile = z.strictObject({
  followUpSchemes: z.record(z.enum(FOLLOW_UP_SCHEMES), z.strictObject({
    label: text,
    /** the scheme follows a treatment (surgery): before one, it is shown as what will follow */
    afterTreatment: z.boolean().default(false),
    segments: z.array(scheduleSegment).min(1),
    watchFor: text,
    src,
  })),
  followUpItems: z.record(z.enum(['clinical', 'local_imaging', 'chest_imaging', 'labs']), text),
  /** the same items before any operation (no scar to examine) */
  followUpItemsUnoperated: z.partialRecord(z.enum(['clinical', 'local_imaging', 'chest_imaging', 'labs']), text).optional(),
  /** the plan that closes every assessment: urgent referral, sarcoma-centre review, or dated re-imaging with a safety net */
  safetyNet: safetyNetFile,
  /** group-level treatment options (the seed's surgery by category, radiotherapy, chemotherapy, targeted and immune therapy) */
  groupTreatment: z.record(z.enum(GROUPS), z.array(sourcedText.extend({
    id: z.string().min(1),
    /** the entities the option is for (omitted: every entity of the group) */
    for: z.array(z.string().min(1)).min(1).optional(),
    /** 'drug': drug-level treatment, shown once pathology confirms the diagnosis */
    level: z.literal('drug').optional(),
  })).min(1)),
  /** work-up steps by situation */
  workup: z.array(sourcedText.extend({
    id: z.string().min(1),
    when: condition.optional(),
    purpose: z.enum(WORKUP_PURPOSES),
    /** steps this one includes (e.g. CT of chest, abdomen and pelvis includes the chest CT): those are then not listed */
    covers: z.array(z.string().min(1)).optional(),
  })).min(1),
  prognosisByGrade: z.strictObject({
    benign: sourcedText,
    lowGrade: sourcedText.extend({ fiveYearSurvival: z.strictObject({ low: probability, high: probability }) }),
    highGrade: sourcedText.extend({ fiveYearSurvival: z.strictObject({ low: probability, high: probability }) }),
  }),
  /** the seed's five recommended steps and its advice to patients */
  recommendedSteps: z.array(sourcedText.extend({ id: z.string().min(1) })).length(5),
  patientAdvice: z.array(sourcedText.extend({ id: z.string().min(1) })).min(1),
  mechanisms: z.record(z.enum(MECHANISMS), sourcedText.extend({ name: text })),
  modalities: z.record(z.enum(['xray', 'ct', 'mri', 'ultrasound']), z.array(sourcedText.extend({ id: z.string().min(1) })).min(1)),
  disclaimer: text,
  sources: z.array(sourceEntry).default([]),
});
export type PlansFile = z.infer<typeof plansFile>;

export const seedMapFile = z.strictObject({
  statements: z.array(z.strictObject({
    id: z.string().min(1),
    /** the statement as written in the seed article */
    zh: z.string().min(1),
    /** KB items that carry it: `entity:<id>#<path>`, `plans#<path>`, `rules#<path>`, `findings#<id>` */
    carriedBy: z.array(z.string().min(1)).min(1),
  })).min(1),
});
