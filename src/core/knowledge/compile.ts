/**
 * Turns the raw knowledge-base documents (already parsed from YAML) into a validated,
 * compiled knowledge base: dense likelihood tables the engine can use without lookups.
 * Pure: no I/O. Every problem is collected, none is thrown on its own.
 */
import { z } from 'zod';
import { ENTITY_IDS, SETTINGS, caseSchema, type Setting } from '../case-format/schema.js';
import {
  GROUPS, MECHANISMS, entity as entitySchema, findingsFile, plansFile, rulesFile, seedMapFile, sourceEntry,
  type Condition, type Entity, type FindingDef, type Group, type PlansFile, type RulesFile, type SourceEntry, type Src,
  type WorkupPurpose,
} from './schema.js';

export interface RawKnowledgeBase {
  findings: unknown;
  entities: Array<{ file: string; data: unknown }>;
  rules: unknown;
  plans: unknown;
  sources: unknown;
  seedMap?: unknown;
}

export interface KbProblem {
  file: string;
  path: string;
  message: string;
}

export interface CompiledFinding {
  def: FindingDef;
  index: number;
  /** value names; boolean and member findings are ['true', 'false'] */
  values: string[];
  /** case path of the field read (for a member finding: the list field) */
  path: string[];
  member?: string;
  /** member finding: key (in the same parent object) of the list of members known absent */
  absentKey?: string;
  /** P(value | entity): lik[entityIndex * values.length + valueIndex] */
  lik: Float64Array;
  /** reference distribution over values */
  reference: Float64Array;
  /**
   * The likelihood the engine uses: lik tempered by the evidence weight w and renormalised
   * per entity (P(v|e)^w / sum over v), a proper distribution, so expected information gain
   * stays exact. Same layout as lik.
   */
  tlik: Float64Array;
  /** log(tlik / tempered reference): the log likelihood ratio the engine adds and explains (1 for an entity that follows the reference) */
  logLr: Float64Array;
  /** entropy (bits) of the finding given each entity, under tlik: for expected information gain */
  condEntropy: Float64Array;
  /** the finding this one depends on within each entity (findings.yaml `dependsOn`) */
  parent?: number;
  /**
   * with a parent: log(tempered P(value | parent value, entity) / reference P(value | parent value)),
   * condLogLr[entity * (parentValues * values) + parentValue * values + value]
   */
  condLogLr?: Float64Array;
  /** the findings that depend on this one (findings.yaml dependsOn) */
  children?: number[];
  /** with a parent: the tempered P(value | parent value, entity) itself, same layout as condLogLr */
  condTlik?: Float64Array;
  /** with a parent: entropy (bits) of the finding given each entity and parent value, condEntropyGiven[entity * parentValues + parentValue] */
  condEntropyGiven?: Float64Array;
}

/**
 * The reference distribution tempered like an entity's likelihoods (P(v)^w, renormalised): the neutral point of
 * the likelihood ratios the engine adds and explains, so that an entity that gives no likelihood for the finding
 * (and so follows the reference) gets likelihood ratio 1 for every value, as findings.yaml promises. Tempering the
 * entity but not the reference gave such an entity a ratio above 1 for every rare value (1.7 for phleboliths) —
 * the same factor for every entity, so the posterior did not change, but the explanations showed it as evidence.
 */
function temperedReference(f: CompiledFinding, w: number): Float64Array {
  const t = Float64Array.from(f.reference, (r) => Math.pow(r, w));
  const sum = t.reduce((a, b) => a + b, 0);
  return t.map((x) => x / sum);
}

/**
 * The joint distribution of two findings with the given margins and a linear-by-linear association
 * (log odds ratio `association` between adjacent values), by iterative proportional fitting:
 * joint[a * pb.length + b]. With association 0 it is the product of the margins. Fits until both
 * margins hold to `tolerance` (after a column step the columns are exact; the rows are checked),
 * at most `maxIterations` rounds: strong association with extreme margins needs more rounds than
 * mild ones, and a fixed count left the rows off by more than 1e-9 in such cases.
 */
export function associatedJoint(pa: ArrayLike<number>, pb: ArrayLike<number>, association: number, tolerance = 1e-13, maxIterations = 100_000): Float64Array {
  const na = pa.length, nb = pb.length;
  const j = new Float64Array(na * nb);
  for (let a = 0; a < na; a++) for (let b = 0; b < nb; b++) j[a * nb + b] = Math.exp(association * a * b);
  for (let it = 0; it < maxIterations; it++) {
    for (let a = 0; a < na; a++) {
      let s = 0;
      for (let b = 0; b < nb; b++) s += j[a * nb + b]!;
      for (let b = 0; b < nb; b++) j[a * nb + b] = j[a * nb + b]! * pa[a]! / s;
    }
    for (let b = 0; b < nb; b++) {
      let s = 0;
      for (let a = 0; a < na; a++) s += j[a * nb + b]!;
      for (let a = 0; a < na; a++) j[a * nb + b] = j[a * nb + b]! * pb[b]! / s;
    }
    let off = 0;
    for (let a = 0; a < na; a++) {
      let s = 0;
      for (let b = 0; b < nb; b++) s += j[a * nb + b]!;
      off = Math.max(off, Math.abs(s - pa[a]!));
    }
    if (off < tolerance) break;
  }
  return j;
}

/** A knowledge-base text ready for an assessment: a stable id, the text in both languages, its sources. */
export interface TextItem {
  id: string;
  text: { en: string; zh: string };
  src: Src;
  /** work-up: what the step is for */
  purpose?: WorkupPurpose;
  /** work-up: plans.yaml step ids this step stands for or includes (listed once) */
  covers?: string[];
  /** treatment: the entities an option is for; 'drug' level */
  for?: string[];
  level?: 'drug';
}

/** Text lists of the knowledge base, prepared once at compile time. */
export interface TextViews {
  planWorkup: Array<{ item: TextItem; when?: Condition }>;
  entityWorkup: TextItem[][];
  entityTreatment: TextItem[][];
  groupTreatment: Record<Group, TextItem[]>;
}

export interface CompiledSetting {
  logPrior: Float64Array;
  /** malignancy probability at or above which the case goes to a sarcoma team now */
  urgentReferral: number;
  /** red flags that send the case on their own in this setting (the global ones and the setting's) */
  urgentRedFlags: readonly string[];
}

/**
 * The prior of a care setting: the entities' weights times the setting's multipliers, then the
 * malignant entities scaled together so that their share is the setting's malignancy base rate.
 */
export function settingLogPrior(entities: readonly Entity[], multipliers: Readonly<Record<string, number>>, malignantShare?: number): Float64Array {
  const w = entities.map((e) => e.prior.weight * (multipliers[e.id] ?? 1));
  if (malignantShare !== undefined) {
    let mal = 0, rest = 0;
    entities.forEach((e, i) => { if (e.group === 'malignant') mal += w[i]!; else rest += w[i]!; });
    if (mal > 0 && rest > 0) {
      entities.forEach((e, i) => { w[i] = e.group === 'malignant' ? w[i]! * malignantShare / mal : w[i]! * (1 - malignantShare) / rest; });
    }
  }
  const sum = w.reduce((a, b) => a + b, 0);
  return Float64Array.from(w, (x) => Math.log(x / sum));
}

export interface KnowledgeBase {
  entities: Entity[];
  entityIndex: ReadonlyMap<string, number>;
  groups: Group[];
  findings: CompiledFinding[];
  findingIndex: ReadonlyMap<string, number>;
  /** log of normalised base prior weights (a case without `setting`) */
  logPrior: Float64Array;
  /** per care setting given in rules.yaml: log of its normalised prior and its referral threshold */
  settings: Partial<Record<Setting, CompiledSetting>>;
  /** mechanism weights, mechanismWeights[entity * MECHANISMS.length + m] */
  mechanismWeights: Float64Array;
  /** findings grouped by the case object that holds them (one lookup of the parent per group) */
  readPlan: Array<{ parent: string[]; members: Array<{ finding: number; key: string; absentKey?: string }> }>;
  rules: RulesFile;
  plans: PlansFile;
  sources: ReadonlyMap<string, SourceEntry>;
  seedMap?: z.infer<typeof seedMapFile>;
  views: TextViews;
}

function textViews(entities: Entity[], plans: PlansFile): TextViews {
  const items = (prefix: string, list: ReadonlyArray<{ en: string; zh: string; src: Src; id?: string }>): TextItem[] =>
    list.map((t, i) => ({ id: `${prefix}.${t.id ?? i}`, text: { en: t.en, zh: t.zh }, src: t.src }));
  return {
    planWorkup: plans.workup.map((s) => ({
      item: { id: `plans.workup.${s.id}`, text: { en: s.en, zh: s.zh }, src: s.src, purpose: s.purpose, ...(s.covers ? { covers: s.covers.map((c) => `plans.workup.${c}`) } : {}) },
      ...(s.when ? { when: s.when } : {}),
    })),
    entityWorkup: entities.map((e) => e.workup.map((w, i) => ({
      id: `${e.id}.workup.${i}`, text: { en: w.en, zh: w.zh }, src: w.src,
      // a step that says a plans.yaml step more specifically has that step's purpose
      purpose: w.purpose ?? plans.workup.find((x) => x.id === w.sameAs)?.purpose ?? 'diagnosis',
      ...(w.sameAs ? { covers: [`plans.workup.${w.sameAs}`] } : {}),
    }))),
    entityTreatment: entities.map((e) => items(`${e.id}.treatment`, e.treatment)),
    groupTreatment: Object.fromEntries(GROUPS.map((g) => [g, (plans.groupTreatment[g] ?? []).map((t) => ({
      id: `plans.groupTreatment.${g}.${t.id}`, text: { en: t.en, zh: t.zh }, src: t.src,
      ...(t.for ? { for: t.for } : {}), ...(t.level ? { level: t.level } : {}),
    }))])) as Record<Group, TextItem[]>,
  };
}

export type CompileResult = { ok: true; kb: KnowledgeBase; problems: KbProblem[] } | { ok: false; problems: KbProblem[] };

const pathOf = (p: readonly PropertyKey[]): string => p.map(String).join('.');

function zodProblems(file: string, error: z.ZodError): KbProblem[] {
  return error.issues.map((i) => ({ file, path: pathOf(i.path), message: i.message }));
}

/** Every case-format field path (dotted) that holds a value, for checking finding references. */
export function caseFieldPaths(): Set<string> {
  const out = new Set<string>();
  const walk = (schema: z.ZodType, prefix: string): void => {
    let s: z.ZodType = schema;
    // unwrap optional / default / pipe wrappers
    for (;;) {
      const def = (s as unknown as { def: { type: string; innerType?: z.ZodType; in?: z.ZodType } }).def;
      if ((def.type === 'optional' || def.type === 'default' || def.type === 'nullable') && def.innerType) s = def.innerType;
      else if (def.type === 'pipe' && def.in) s = def.in;
      else break;
    }
    const def = (s as unknown as { def: { type: string; shape?: Record<string, z.ZodType> } }).def;
    if (def.type === 'object' && def.shape) {
      for (const [k, v] of Object.entries(def.shape)) walk(v, prefix ? `${prefix}.${k}` : k);
    } else if (prefix) out.add(prefix);
  };
  walk(caseSchema, '');
  return out;
}

/** The enum values a case field accepts, when it is an enum (or list of enum). */
function caseFieldValues(path: string): string[] | undefined {
  let s: z.ZodType = caseSchema;
  for (const seg of path.split('.')) {
    s = unwrap(s);
    const def = (s as unknown as { def: { type: string; shape?: Record<string, z.ZodType> } }).def;
    if (def.type !== 'object' || !def.shape?.[seg]) return undefined;
    s = def.shape[seg];
  }
  s = unwrap(s);
  let def = (s as unknown as { def: { type: string; element?: z.ZodType; entries?: Record<string, string> } }).def;
  if (def.type === 'array' && def.element) {
    def = (unwrap(def.element) as unknown as { def: { type: string; entries?: Record<string, string> } }).def;
  }
  if (def.type === 'enum' && def.entries) return Object.values(def.entries);
  if (def.type === 'boolean') return ['true', 'false'];
  return undefined;
}

function unwrap(s: z.ZodType): z.ZodType {
  for (;;) {
    const def = (s as unknown as { def: { type: string; innerType?: z.ZodType; in?: z.ZodType } }).def;
    if ((def.type === 'optional' || def.type === 'default' || def.type === 'nullable') && def.innerType) s = def.innerType;
    else if (def.type === 'pipe' && def.in) s = def.in;
    else return s;
  }
}

function valuesOf(def: FindingDef): string[] {
  switch (def.kind) {
    case 'boolean':
    case 'member':
      return ['true', 'false'];
    case 'enum':
      return Object.keys(def.values);
    case 'binned':
      return def.bins.map((b) => b.value);
  }
}

function referenceOf(def: FindingDef, values: string[]): Float64Array {
  const out = new Float64Array(values.length);
  if (def.kind === 'boolean' || def.kind === 'member') {
    out[0] = def.reference;
    out[1] = 1 - def.reference;
  } else {
    values.forEach((v, i) => { out[i] = (def.reference as Record<string, number>)[v] ?? 0; });
  }
  return out;
}

export function compileKnowledgeBase(raw: RawKnowledgeBase): CompileResult {
  const problems: KbProblem[] = [];

  // ---- shared sources
  const sources = new Map<string, SourceEntry>();
  const sharedParsed = z.strictObject({ sources: z.array(sourceEntry) }).safeParse(raw.sources);
  if (!sharedParsed.success) problems.push(...zodProblems('sources.yaml', sharedParsed.error));
  else for (const s of sharedParsed.data.sources) {
    if (sources.has(s.id)) problems.push({ file: 'sources.yaml', path: `sources.${s.id}`, message: 'duplicate source id' });
    sources.set(s.id, s);
  }

  // ---- findings
  const fParsed = findingsFile.safeParse(raw.findings);
  if (!fParsed.success) return { ok: false, problems: [...problems, ...zodProblems('findings.yaml', fParsed.error)] };
  const fieldPaths = caseFieldPaths();
  const findings: CompiledFinding[] = [];
  const findingIndex = new Map<string, number>();
  for (const def of fParsed.data.findings) {
    const where = `findings.${def.id}`;
    if (findingIndex.has(def.id)) problems.push({ file: 'findings.yaml', path: where, message: 'duplicate finding id' });
    const fieldPath = def.kind === 'member' ? def.field : def.id;
    if (!fieldPaths.has(fieldPath)) {
      problems.push({ file: 'findings.yaml', path: where, message: `no case-format field "${fieldPath}"` });
      continue;
    }
    const values = valuesOf(def);
    const accepted = caseFieldValues(fieldPath);
    if (def.kind === 'enum' && accepted) {
      const missing = accepted.filter((v) => !values.includes(v));
      const extra = values.filter((v) => !accepted.includes(v));
      if (missing.length || extra.length) {
        problems.push({ file: 'findings.yaml', path: where, message: `values must equal the case format's: missing [${missing.join(', ')}], extra [${extra.join(', ')}]` });
      }
    }
    if (def.kind === 'member' && accepted && !accepted.includes(def.member)) {
      problems.push({ file: 'findings.yaml', path: where, message: `"${def.member}" is not a value of ${def.field}` });
    }
    let absentKey: string | undefined;
    if (def.kind === 'member' && def.absentField !== undefined) {
      const parentOf = (p: string) => p.split('.').slice(0, -1).join('.');
      const absentValues = caseFieldValues(def.absentField);
      if (!fieldPaths.has(def.absentField) || parentOf(def.absentField) !== parentOf(def.field) || !absentValues?.includes(def.member)) {
        problems.push({ file: 'findings.yaml', path: `${where}.absentField`, message: `"${def.absentField}" must be a case-format list beside ${def.field} that accepts "${def.member}"` });
      } else absentKey = def.absentField.split('.').at(-1)!;
    }
    if (def.kind === 'binned') {
      def.bins.forEach((b, i) => {
        const last = i === def.bins.length - 1;
        if (last !== (b.below === undefined && b.atMost === undefined)) {
          problems.push({ file: 'findings.yaml', path: `${where}.bins.${i}`, message: 'every bin but the last needs `below` or `atMost`; the last has neither' });
        }
      });
    }
    const reference = referenceOf(def, values);
    if (def.kind === 'enum' || def.kind === 'binned') {
      const keys = Object.keys(def.reference);
      const bad = keys.filter((k) => !values.includes(k));
      if (bad.length) problems.push({ file: 'findings.yaml', path: `${where}.reference`, message: `unknown values ${bad.join(', ')}` });
      const sum = reference.reduce((a, b) => a + b, 0);
      if (Math.abs(sum - 1) > 0.011 || reference.some((x) => x <= 0)) {
        problems.push({ file: 'findings.yaml', path: `${where}.reference`, message: `reference must give every value a probability > 0, summing to 1 (sum ${sum.toFixed(3)})` });
      }
      for (let i = 0; i < reference.length; i++) reference[i] = reference[i]! / sum;
    }
    findingIndex.set(def.id, findings.length);
    findings.push({
      def, index: findings.length, values, path: fieldPath.split('.'),
      ...(def.kind === 'member' ? { member: def.member } : {}),
      ...(absentKey !== undefined ? { absentKey } : {}),
      lik: new Float64Array(0), tlik: new Float64Array(0), reference, logLr: new Float64Array(0), condEntropy: new Float64Array(0),
    });
  }

  // ---- rules and plans
  const rParsed = rulesFile.safeParse(raw.rules);
  if (!rParsed.success) problems.push(...zodProblems('rules.yaml', rParsed.error));
  const pParsed = plansFile.safeParse(raw.plans);
  if (!pParsed.success) problems.push(...zodProblems('plans.yaml', pParsed.error));
  for (const s of rParsed.success ? rParsed.data.sources : []) sources.set(s.id, s);
  for (const s of pParsed.success ? pParsed.data.sources : []) sources.set(s.id, s);

  // ---- entities
  const entities: Entity[] = [];
  for (const { file, data } of raw.entities) {
    const parsed = entitySchema.safeParse(data);
    if (!parsed.success) { problems.push(...zodProblems(file, parsed.error)); continue; }
    const e = parsed.data;
    if (`${e.id}.yaml` !== file.replace(/^.*\//, '')) problems.push({ file, path: 'id', message: `id "${e.id}" must match the file name` });
    if (entities.some((x) => x.id === e.id)) { problems.push({ file, path: 'id', message: 'duplicate entity id' }); continue; }
    entities.push(e);
  }
  entities.sort((a, b) => a.id.localeCompare(b.id));
  for (const id of ENTITY_IDS) {
    if (!entities.some((e) => e.id === id)) problems.push({ file: `entities/${id}.yaml`, path: '', message: `entity "${id}" of the case format is missing` });
  }
  const entityIndex = new Map(entities.map((e, i) => [e.id, i]));

  const floor = rParsed.success ? rParsed.data.thresholds.likelihoodFloor.value : 0.005;
  const weight = rParsed.success ? rParsed.data.thresholds.evidenceWeight.value : 1;
  const nE = entities.length;
  for (const f of findings) {
    const k = f.values.length;
    f.lik = new Float64Array(nE * k);
    f.tlik = new Float64Array(nE * k);
    f.logLr = new Float64Array(nE * k);
    f.condEntropy = new Float64Array(nE);
  }

  const checkSrc = (file: string, path: string, s: Src, local: Set<string>): void => {
    if (s === 'expert') return;
    for (const id of s) if (!local.has(id) && !sources.has(id)) problems.push({ file, path, message: `unknown source id "${id}"` });
  };

  const temperedRefs = findings.map((f) => temperedReference(f, f.def.evidenceWeight?.value ?? weight));
  for (const f of findings) if (f.def.evidenceWeight) checkSrc('findings.yaml', `findings.${f.def.id}.evidenceWeight.src`, f.def.evidenceWeight.src, new Set());
  for (const f of findings) if (f.def.likelihoodFloor) checkSrc('findings.yaml', `findings.${f.def.id}.likelihoodFloor.src`, f.def.likelihoodFloor.src, new Set());
  for (const f of findings) if (f.def.referenceBasis) checkSrc('findings.yaml', `findings.${f.def.id}.referenceBasis.src`, f.def.referenceBasis.src, new Set());

  entities.forEach((e, ei) => {
    const file = `entities/${e.id}.yaml`;
    const local = new Set(e.sources.map((s) => s.id));
    for (const s of e.sources) if (sources.has(s.id) && sources.get(s.id)!.url !== s.url) {
      problems.push({ file, path: `sources.${s.id}`, message: 'source id already used by data/kb/sources.yaml for another URL' });
    }
    checkSrc(file, 'prior.src', e.prior.src, local);
    checkSrc(file, 'mechanisms.src', e.mechanisms.src, local);
    const mSum = Object.values(e.mechanisms.weights).reduce((a, b) => a + (b ?? 0), 0);
    if (Math.abs(mSum - 1) > 0.011) problems.push({ file, path: 'mechanisms.weights', message: `mechanism weights must sum to 1 (sum ${mSum.toFixed(3)})` });
    for (const m of ['xray', 'ct', 'mri', 'ultrasound'] as const) checkSrc(file, `imaging.${m}.src`, e.imaging[m].src, local);
    e.workup.forEach((t, i) => checkSrc(file, `workup.${i}.src`, t.src, local));
    e.treatment.forEach((t, i) => checkSrc(file, `treatment.${i}.src`, t.src, local));
    checkSrc(file, 'prognosis.src', e.prognosis.src, local);
    checkSrc(file, 'followUp.note.src', e.followUp.note.src, local);
    if (e.fiveYearSurvival) checkSrc(file, 'fiveYearSurvival.src', e.fiveYearSurvival.src, local);

    for (const [fid, l] of Object.entries(e.likelihoods)) {
      const where = `likelihoods.${fid}`;
      checkSrc(file, `${where}.src`, l.src, local);
      if (!findingIndex.has(fid)) { problems.push({ file, path: where, message: `unknown finding "${fid}" (see data/kb/findings.yaml)` }); continue; }
    }
    for (const f of findings) {
      const k = f.values.length;
      const l = e.likelihoods[f.def.id];
      const temperedRef = temperedRefs[f.index]!;
      const p = new Float64Array(f.reference);
      if (l) {
        const where = `likelihoods.${f.def.id}`;
        if (typeof l.p === 'number') {
          if (k !== 2 || (f.def.kind !== 'boolean' && f.def.kind !== 'member')) {
            problems.push({ file, path: `${where}.p`, message: 'a single probability is only for boolean / member findings; give a map value -> probability' });
          } else { p[0] = l.p; p[1] = 1 - l.p; }
        } else {
          if (f.def.kind === 'boolean' || f.def.kind === 'member') {
            problems.push({ file, path: `${where}.p`, message: 'boolean / member findings take a single probability P(true)' });
          } else {
            const given = l.p;
            const bad = Object.keys(given).filter((v) => !f.values.includes(v));
            if (bad.length) problems.push({ file, path: `${where}.p`, message: `unknown values ${bad.join(', ')}; allowed: ${f.values.join(', ')}` });
            const listedSum = f.values.reduce((a, v) => a + (given[v] ?? 0), 0);
            const unlisted = f.values.map((v, i) => (v in given ? -1 : i)).filter((i) => i >= 0);
            if (listedSum > 1.011) problems.push({ file, path: `${where}.p`, message: `probabilities sum to ${listedSum.toFixed(3)} > 1` });
            if (unlisted.length === 0 && Math.abs(listedSum - 1) > 0.021) {
              problems.push({ file, path: `${where}.p`, message: `all values listed but they sum to ${listedSum.toFixed(3)}, not 1` });
            }
            const refUnlisted = unlisted.reduce((a, i) => a + f.reference[i]!, 0);
            const rest = Math.max(0, 1 - listedSum);
            f.values.forEach((v, i) => {
              p[i] = v in given ? given[v]! : (refUnlisted > 0 ? rest * f.reference[i]! / refUnlisted : 0);
            });
          }
        }
      }
      // floor, then renormalise: no finding value is impossible for any entity
      const fl = f.def.likelihoodFloor?.value ?? floor;
      let sum = 0;
      for (let i = 0; i < k; i++) { p[i] = Math.max(p[i]!, fl); sum += p[i]!; }
      let tsum = 0;
      for (let i = 0; i < k; i++) {
        const v = p[i]! / sum;
        f.lik[ei * k + i] = v;
        const tv = Math.pow(v, f.def.evidenceWeight?.value ?? weight);
        f.tlik[ei * k + i] = tv;
        tsum += tv;
      }
      let h = 0;
      for (let i = 0; i < k; i++) {
        const tv = f.tlik[ei * k + i]! / tsum;
        f.tlik[ei * k + i] = tv;
        f.logLr[ei * k + i] = Math.log(tv / temperedRef[i]!);
        h -= tv * Math.log2(tv);
      }
      f.condEntropy[ei] = h;
    }
  });

  // hallmarks: the marked entity must have the highest likelihood of that value
  entities.forEach((e, ei) => {
    for (const [fid, l] of Object.entries(e.likelihoods)) {
      if (l.hallmark === undefined) continue;
      const fi = findingIndex.get(fid);
      if (fi === undefined) continue;
      const f = findings[fi]!;
      const vi = f.values.indexOf(l.hallmark);
      if (vi < 0) { problems.push({ file: `entities/${e.id}.yaml`, path: `likelihoods.${fid}.hallmark`, message: `"${l.hallmark}" is not a value of ${fid}` }); continue; }
      const k = f.values.length;
      const mine = f.lik[ei * k + vi]!;
      for (let j = 0; j < nE; j++) {
        if (j !== ei && f.lik[j * k + vi]! >= mine) {
          problems.push({ file: `entities/${e.id}.yaml`, path: `likelihoods.${fid}.hallmark`, message: `hallmark ${fid}=${l.hallmark} (${mine.toFixed(3)}) is not higher than ${entities[j]!.id} (${f.lik[j * k + vi]!.toFixed(3)})` });
        }
      }
    }
  });

  // dependences (tree-augmented naive Bayes): P(child | parent, entity) from each entity's two margins
  for (const f of findings) {
    const dep = f.def.dependsOn;
    if (!dep) continue;
    const where = `findings.${f.def.id}.dependsOn`;
    checkSrc('findings.yaml', `${where}.association.src`, dep.association.src, new Set());
    const pi = findingIndex.get(dep.finding);
    const parent = pi === undefined ? undefined : findings[pi]!;
    if (!parent || parent === f || parent.def.kind === 'member' || f.def.kind === 'member' || parent.def.dependsOn) {
      problems.push({ file: 'findings.yaml', path: `${where}.finding`, message: `"${dep.finding}" must be another finding (not a morphology member, not itself dependent)` });
      continue;
    }
    const kp = parent.values.length, kc = f.values.length;
    const w = f.def.evidenceWeight?.value ?? weight;
    const refJoint = associatedJoint(parent.reference, f.reference, dep.association.value);
    const cond = new Float64Array(nE * kp * kc);
    const condT = new Float64Array(nE * kp * kc);
    const condH = new Float64Array(nE * kp);
    for (let e = 0; e < nE; e++) {
      const joint = associatedJoint(parent.lik.subarray(e * kp, (e + 1) * kp), f.lik.subarray(e * kc, (e + 1) * kc), dep.association.value);
      for (let v = 0; v < kp; v++) {
        let tsum = 0;
        for (let b = 0; b < kc; b++) tsum += Math.pow(joint[v * kc + b]! / parent.lik[e * kp + v]!, w);
        // the reference row, tempered like the entity's (a lesion that follows the reference gets likelihood ratio 1)
        let refRow = 0;
        for (let b = 0; b < kc; b++) refRow += Math.pow(refJoint[v * kc + b]!, w);
        let h = 0;
        for (let b = 0; b < kc; b++) {
          const t = Math.pow(joint[v * kc + b]! / parent.lik[e * kp + v]!, w) / tsum;
          cond[e * kp * kc + v * kc + b] = Math.log(t / (Math.pow(refJoint[v * kc + b]!, w) / refRow));
          condT[e * kp * kc + v * kc + b] = t;
          h -= t * Math.log2(t);
        }
        condH[e * kp + v] = h;
      }
    }
    f.parent = pi;
    (parent.children ??= []).push(f.index);
    f.condLogLr = cond;
    f.condTlik = condT;
    f.condEntropyGiven = condH;
  }

  const mechanismWeights = new Float64Array(nE * MECHANISMS.length);
  entities.forEach((e, i) => MECHANISMS.forEach((m, j) => { mechanismWeights[i * MECHANISMS.length + j] = e.mechanisms.weights[m] ?? 0; }));
  const planByParent = new Map<string, KnowledgeBase['readPlan'][number]>();
  for (const f of findings) {
    const parent = f.path.slice(0, -1);
    const key = parent.join('.');
    const g = planByParent.get(key) ?? { parent, members: [] };
    g.members.push({ finding: f.index, key: f.path.at(-1)!, ...(f.absentKey !== undefined ? { absentKey: f.absentKey } : {}) });
    planByParent.set(key, g);
  }
  const readPlan = [...planByParent.values()];

  // prior
  const logPrior = new Float64Array(nE);
  const wSum = entities.reduce((a, e) => a + e.prior.weight, 0);
  entities.forEach((e, i) => { logPrior[i] = Math.log(e.prior.weight / wSum); });

  // care settings: their priors and referral thresholds
  const settings: KnowledgeBase['settings'] = {};
  if (rParsed.success) {
    const local = new Set(rParsed.data.sources.map((s) => s.id));
    for (const id of SETTINGS) {
      const st = rParsed.data.settings[id];
      if (!st) continue;
      const where = `settings.${id}`;
      checkSrc('rules.yaml', `${where}.urgentReferral.src`, st.urgentReferral.src, local);
      if (st.malignantShare) checkSrc('rules.yaml', `${where}.malignantShare.src`, st.malignantShare.src, local);
      if (st.priorMultipliers) {
        checkSrc('rules.yaml', `${where}.priorMultipliers.src`, st.priorMultipliers.src, local);
        for (const e of Object.keys(st.priorMultipliers.value)) {
          if (!entityIndex.has(e)) problems.push({ file: 'rules.yaml', path: `${where}.priorMultipliers.value.${e}`, message: `unknown entity "${e}"` });
        }
      }
      if (st.urgentRedFlags) {
        checkSrc('rules.yaml', `${where}.urgentRedFlags.src`, st.urgentRedFlags.src, local);
        for (const f of st.urgentRedFlags.value) {
          if (!rParsed.data.redFlags.some((x) => x.id === f)) problems.push({ file: 'rules.yaml', path: `${where}.urgentRedFlags`, message: `unknown red flag "${f}"` });
        }
      }
      settings[id] = {
        logPrior: settingLogPrior(entities, st.priorMultipliers?.value ?? {}, st.malignantShare?.value),
        urgentReferral: st.urgentReferral.value,
        urgentRedFlags: [...new Set([...rParsed.data.urgentRedFlags, ...(st.urgentRedFlags?.value ?? [])])],
      };
    }
  }

  // rule and plan references
  if (rParsed.success) {
    const r = rParsed.data;
    const local = new Set(r.sources.map((s) => s.id));
    for (const [k, t] of Object.entries(r.thresholds)) checkSrc('rules.yaml', `thresholds.${k}.src`, t.src, local);
    r.redFlags.forEach((x, i) => { checkSrc('rules.yaml', `redFlags.${i}.src`, x.src, local); checkCondition('rules.yaml', `redFlags.${i}.when`, x.when); });
    r.safetyRules.forEach((x, i) => { checkSrc('rules.yaml', `safetyRules.${i}.src`, x.src, local); checkCondition('rules.yaml', `safetyRules.${i}.when`, x.when); });
    r.mechanismReasons.forEach((x, i) => { checkSrc('rules.yaml', `mechanismReasons.${i}.src`, x.src, local); checkCondition('rules.yaml', `mechanismReasons.${i}.when`, x.when); });
    for (const id of r.urgentRedFlags) if (!r.redFlags.some((f) => f.id === id)) problems.push({ file: 'rules.yaml', path: 'urgentRedFlags', message: `unknown red flag "${id}"` });
  }
  if (pParsed.success) {
    const pl = pParsed.data;
    const local = new Set(pl.sources.map((s) => s.id));
    // references between items: work-up steps, entities and the safety net
    const stepIds = new Set(pl.workup.map((w) => w.id));
    pl.workup.forEach((w, i) => { for (const c of w.covers ?? []) if (!stepIds.has(c)) problems.push({ file: 'plans.yaml', path: `workup.${i}.covers`, message: `unknown work-up step "${c}"` }); });
    entities.forEach((e) => e.workup.forEach((w, i) => {
      if (w.sameAs && !stepIds.has(w.sameAs)) problems.push({ file: `entities/${e.id}.yaml`, path: `workup.${i}.sameAs`, message: `unknown plans.yaml work-up step "${w.sameAs}"` });
    }));
    for (const [g, list] of Object.entries(pl.groupTreatment)) list.forEach((t, i) => {
      for (const id of t.for ?? []) if (entityIndex.get(id) === undefined || entities[entityIndex.get(id)!]!.group !== g) problems.push({ file: 'plans.yaml', path: `groupTreatment.${g}.${i}.for`, message: `"${id}" is not an entity of the ${g} group` });
    });
    for (const id of Object.keys(pl.safetyNet.entities)) if (!entityIndex.has(id)) problems.push({ file: 'plans.yaml', path: `safetyNet.entities.${id}`, message: `unknown entity "${id}"` });
    const referIds = new Set(Object.keys(pl.safetyNet.referIf));
    for (const [k, p] of [...Object.entries(pl.safetyNet.entities), ...Object.entries(pl.safetyNet.groups)]) {
      if (p && 'referIf' in p) for (const r of p.referIf) if (!referIds.has(r)) problems.push({ file: 'plans.yaml', path: `safetyNet.${k}.referIf`, message: `unknown referIf "${r}"` });
    }
    if (rParsed.success) for (const f of pl.safetyNet.notCharacterisedRedFlags) if (!rParsed.data.redFlags.some((x) => x.id === f)) problems.push({ file: 'plans.yaml', path: 'safetyNet.notCharacterisedRedFlags', message: `unknown red flag "${f}"` });
    const visit = (node: unknown, path: string): void => {
      if (Array.isArray(node)) node.forEach((x, i) => visit(x, `${path}.${i}`));
      else if (node && typeof node === 'object') {
        for (const [k, v] of Object.entries(node)) {
          if (k === 'src') checkSrc('plans.yaml', `${path}.src`, v as Src, local);
          else if (k === 'when') checkCondition('plans.yaml', `${path}.when`, v as Condition);
          else if (k !== 'sources') visit(v, path ? `${path}.${k}` : k);
        }
      }
    };
    visit(pl, '');
  }

  function checkCondition(file: string, path: string, c: Condition): void {
    if ('all' in c) c.all.forEach((x, i) => checkCondition(file, `${path}.all.${i}`, x));
    else if ('any' in c) c.any.forEach((x, i) => checkCondition(file, `${path}.any.${i}`, x));
    else if ('not' in c) checkCondition(file, `${path}.not`, c.not);
    else if ('field' in c) { if (!fieldPaths.has(c.field)) problems.push({ file, path, message: `no case-format field "${c.field}"` }); }
    else if ('posterior' in c) { if (!entityIndex.has(c.posterior)) problems.push({ file, path, message: `unknown entity "${c.posterior}"` }); }
  }

  // seed map
  let seedMap: z.infer<typeof seedMapFile> | undefined;
  if (raw.seedMap !== undefined) {
    const s = seedMapFile.safeParse(raw.seedMap);
    if (!s.success) problems.push(...zodProblems('seed-map.yaml', s.error));
    else seedMap = s.data;
  }

  if (problems.length || !rParsed.success || !pParsed.success) return { ok: false, problems };
  return {
    ok: true,
    problems,
    kb: {
      entities, entityIndex, groups: entities.map((e) => e.group), findings, findingIndex, logPrior, settings, mechanismWeights, readPlan,
      rules: rParsed.data, plans: pParsed.data, sources, ...(seedMap ? { seedMap } : {}),
      views: textViews(entities, pParsed.data),
    },
  };
}
