/**
 * The case form: every field of case format v1 (src/core/case-format/schema.ts), grouped as a
 * clinician takes a history and reads the images. Pure data and pure functions (no DOM), so
 * the mapping between form values and a case is testable in Node.
 */
import {
  BONE_INVOLVEMENT, CALC_DISTRIBUTIONS, COMPARTMENTS, CONNECTIVE_TISSUE_DISEASES, EDEMA, ENHANCEMENT, ENTITY_IDS, EVOLUTION,
  EXTENTS, GROWTH, LESION_DISTRIBUTION, MARGINS, MORPHOLOGIES, PRIMARY_CANCERS, REGIONS, SETTINGS, T1_SIGNALS, T2_SIGNALS, VASCULARITY,
} from '../../../../src/core/case-format/schema.js';
import { getField } from '../../../../src/core/engine/findings.js';

export type FieldKind = 'bool' | 'enum' | 'int-enum' | 'number' | 'pattern' | 'pattern-absent' | 'date' | 'text';

export interface FieldDef {
  /** case path, dot separated (e.g. imaging.ct.maxHU) */
  path: string;
  kind: FieldKind;
  values?: readonly (string | number)[];
  min?: number;
  max?: number;
  step?: number;
  unit?: string;
}

/** A group of the form; `key` is the key-findings block (always open), the others collapse. */
export interface GroupDef { id: string; key?: boolean; fields: FieldDef[] }

const b = (path: string): FieldDef => ({ path, kind: 'bool' });
const e = (path: string, values: readonly string[]): FieldDef => ({ path, kind: 'enum', values });
const n = (path: string, min: number, max: number, unit?: string, step = 0.01): FieldDef => ({ path, kind: 'number', min, max, step, ...(unit ? { unit } : {}) });
const ie = (path: string, values: readonly number[]): FieldDef => ({ path, kind: 'int-enum', values });

/** The seen / excluded pair of the calcification patterns: one control per pattern writes both lists. */
export const MORPHOLOGY = 'imaging.calcification.morphology';
export const MORPHOLOGY_ABSENT = 'imaging.calcification.morphologyAbsent';

/**
 * The key findings first (enough for a usable answer: site, depth, size, pattern, growth, pain,
 * age, and the trauma history that decides myositis ossificans), then the rest in the
 * radiologist's order (lesion, calcification, imaging), then history, patient, labs, pathology.
 */
export const GROUPS: GroupDef[] = [
  {
    id: 'key', key: true, fields: [
      e('lesion.region', REGIONS), e('lesion.depth', ['superficial', 'deep']), n('lesion.sizeCm', 0, 100, 'cm', 0.1),
      e('symptoms.growth', GROWTH), b('symptoms.pain'), n('patient.age', 0, 120, 'y', 1),
      b('history.trauma.present'), n('history.trauma.weeksAgo', 0, 6000, 'wk', 1),
      { path: MORPHOLOGY, kind: 'pattern', values: MORPHOLOGIES },
      { path: MORPHOLOGY_ABSENT, kind: 'pattern-absent', values: MORPHOLOGIES },
    ],
  },
  {
    id: 'lesion', fields: [
      e('lesion.compartment', COMPARTMENTS), e('lesion.count', ['single', 'multiple']), e('lesion.distribution', LESION_DISTRIBUTION),
    ],
  },
  {
    id: 'calcification', fields: [
      e('imaging.calcification.distribution', CALC_DISTRIBUTIONS), b('imaging.calcification.zonal'),
      e('imaging.calcification.extent', EXTENTS), e('imaging.calcification.margin', MARGINS),
    ],
  },
  {
    id: 'ct', fields: [
      n('imaging.ct.maxHU', -1024, 30000, 'HU', 1), n('imaging.ct.meanHU', -1024, 30000, 'HU', 1),
      b('imaging.ct.fluidCalciumLevels'), b('imaging.ct.fatInLesion'), b('imaging.ct.softTissueMass'),
    ],
  },
  {
    id: 'xray', fields: [
      e('imaging.xray.boneInvolvement', BONE_INVOLVEMENT), b('imaging.xray.periostealReaction'),
      b('imaging.xray.cleftFromBone'), b('imaging.xray.attachedToBone'),
    ],
  },
  {
    id: 'mri', fields: [
      e('imaging.mri.t1', T1_SIGNALS), e('imaging.mri.t2', T2_SIGNALS), e('imaging.mri.enhancement', ENHANCEMENT),
      e('imaging.mri.edema', EDEMA), b('imaging.mri.fluidFluidLevels'), b('imaging.mri.neurovascularEncasement'), b('imaging.mri.fatInLesion'),
    ],
  },
  { id: 'ultrasound', fields: [b('imaging.ultrasound.shadowing'), e('imaging.ultrasound.vascularity', VASCULARITY)] },
  { id: 'evolution', fields: [e('imaging.evolution', EVOLUTION)] },
  {
    id: 'history', fields: [
      e('history.knownPrimaryCancer', PRIMARY_CANCERS),
      b('history.chronicKidneyDisease'), b('history.dialysis'), b('history.hyperparathyroidism'), b('history.vitaminDExcess'),
      e('history.connectiveTissueDisease', CONNECTIVE_TISSUE_DISEASES), b('history.gout'), b('history.neurologicInjuryOrBurns'),
      b('history.surgeryAtSite'), b('history.recurrenceAfterExcision'), b('history.parasiteExposure'),
    ],
  },
  {
    id: 'symptoms', fields: [
      b('symptoms.restrictedMotion'), b('symptoms.palpableMass'),
      n('symptoms.durationWeeks', 0, 6000, 'wk', 1), b('symptoms.weightLoss'), b('symptoms.fever'),
    ],
  },
  { id: 'patient', fields: [e('patient.sex', ['male', 'female']), e('setting', SETTINGS), { path: 'id', kind: 'text' }] },
  {
    id: 'labs', fields: [
      n('labs.calciumMmolL', 0, 10, 'mmol/L'), n('labs.phosphateMmolL', 0, 15, 'mmol/L'), n('labs.pthPgMl', 0, 10000, 'pg/mL'),
      n('labs.vitaminD25NmolL', 0, 2000, 'nmol/L'), n('labs.uricAcidUmolL', 0, 3000, 'µmol/L'), n('labs.creatinineUmolL', 0, 5000, 'µmol/L'),
    ],
  },
  {
    id: 'pathology', fields: [
      e('pathology.diagnosis', ENTITY_IDS), ie('pathology.fnclcc.differentiation', [1, 2, 3]), ie('pathology.fnclcc.mitoses', [1, 2, 3]),
      ie('pathology.fnclcc.necrosis', [0, 1, 2]), ie('pathology.grade', [1, 2, 3]),
    ],
  },
  { id: 'staging', fields: [e('staging.nodes', ['N0', 'N1']), e('staging.metastasis', ['M0', 'M1'])] },
  { id: 'treatment', fields: [{ path: 'treatment.surgeryDate', kind: 'date' }] },
];

export const FIELDS: FieldDef[] = GROUPS.flatMap((g) => g.fields);
export const FIELD_BY_PATH: ReadonlyMap<string, FieldDef> = new Map(FIELDS.map((f) => [f.path, f]));

/** A form value: undefined = unknown. */
export type FieldValue = boolean | string | number | string[] | undefined;

/** The value at a dotted path of a case (the engine's getField). */
export function getPath(o: unknown, path: string): unknown {
  return getField(o, path.split('.'));
}

function setPath(o: Record<string, unknown>, path: string, v: unknown): void {
  const ks = path.split('.');
  let cur = o;
  for (const k of ks.slice(0, -1)) cur = (cur[k] ??= {}) as Record<string, unknown>;
  cur[ks.at(-1)!] = v;
}

/** Builds a case document (format v1) from the form values; unknown values are left out. */
export function caseFromValues(values: ReadonlyMap<string, FieldValue>): Record<string, unknown> {
  const c: Record<string, unknown> = { formatVersion: 1 };
  for (const f of FIELDS) {
    const v = values.get(f.path);
    if (v === undefined || v === '' || (Array.isArray(v) && v.length === 0)) continue;
    setPath(c, f.path, v);
  }
  return c;
}

/** The form values of a case document (fields it does not give are unknown). */
export function valuesFromCase(c: unknown): Map<string, FieldValue> {
  const m = new Map<string, FieldValue>();
  for (const f of FIELDS) {
    const v = getPath(c, f.path);
    if (v === undefined || v === null) continue;
    if (f.kind === 'pattern' || f.kind === 'pattern-absent') { if (Array.isArray(v)) m.set(f.path, v.map(String)); continue; }
    if (f.kind === 'text') { m.set(f.path, String(v)); continue; }
    if (typeof v === 'boolean' || typeof v === 'string' || typeof v === 'number') m.set(f.path, v);
  }
  return m;
}

/** Case paths the form does not cover (an imported case keeps nothing silently). */
export function uncoveredPaths(c: unknown, prefix = ''): string[] {
  if (c === null || typeof c !== 'object' || Array.isArray(c)) return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(c as Record<string, unknown>)) {
    const p = prefix ? `${prefix}.${k}` : k;
    if (p === 'formatVersion') continue;
    if (FIELD_BY_PATH.has(p)) continue;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) out.push(...uncoveredPaths(v, p));
    else out.push(p);
  }
  return out;
}
