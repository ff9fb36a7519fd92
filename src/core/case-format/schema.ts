/**
 * calcdx case file, format version 1 (../shared/case-format.md).
 * One source of truth: validation, TypeScript types and the JSON Schema all come from here.
 * Omitted = unknown; false / "none" = known absent.
 */
import { z } from 'zod';

export const REGIONS = [
  'head_neck', 'shoulder', 'upper_arm', 'elbow', 'forearm', 'wrist', 'hand',
  'chest_wall', 'back', 'abdominal_wall', 'retroperitoneum', 'pelvis_buttock',
  'hip', 'thigh', 'knee', 'lower_leg', 'ankle', 'foot',
] as const;
export const COMPARTMENTS = [
  'intra_articular', 'periarticular', 'tendon_bursa', 'intramuscular',
  'intermuscular', 'subcutaneous', 'dermal', 'juxtacortical', 'retroperitoneal',
] as const;
export const PRIMARY_CANCERS = ['none', 'breast', 'lung', 'colorectal', 'kidney', 'thyroid', 'osteosarcoma', 'other'] as const;
export const CONNECTIVE_TISSUE_DISEASES = ['none', 'scleroderma', 'dermatomyositis', 'lupus', 'other'] as const;
export const GROWTH = ['rapid', 'slow', 'stable', 'shrinking'] as const;
export const MORPHOLOGIES = [
  'punctate', 'ring_arc', 'amorphous', 'linear', 'phlebolith', 'rice_grain',
  'trabecular', 'rim', 'sheet', 'dense_central',
] as const;
export const CALC_DISTRIBUTIONS = ['peripheral', 'central', 'diffuse', 'eccentric'] as const;
export const EXTENTS = ['minimal', 'moderate', 'extensive'] as const;
export const MARGINS = ['well_defined', 'ill_defined'] as const;
export const BONE_INVOLVEMENT = ['none', 'pressure_erosion', 'punched_out_erosion', 'destruction'] as const;
export const T1_SIGNALS = ['low', 'intermediate', 'high'] as const;
export const T2_SIGNALS = ['low', 'intermediate', 'high', 'heterogeneous'] as const;
export const ENHANCEMENT = ['none', 'peripheral', 'heterogeneous', 'diffuse'] as const;
export const EDEMA = ['none', 'mild', 'extensive'] as const;
export const VASCULARITY = ['none', 'low', 'high'] as const;
export const EVOLUTION = ['maturing', 'growing', 'stable', 'regressing'] as const;
export const LESION_DISTRIBUTION = ['localized', 'multifocal_periarticular', 'widespread'] as const;
/** Where the patient is seen (optional; omitted = not stated, the knowledge base's default priors). */
export const SETTINGS = ['primary_care', 'specialist', 'sarcoma_centre'] as const;
export type Setting = (typeof SETTINGS)[number];

/** Entity ids of the published format. The knowledge base covers at least these. */
export const ENTITY_IDS = [
  'calcific_tendinitis', 'soft_tissue_chondroma', 'myositis_ossificans', 'extraskeletal_chondrosarcoma',
  'synovial_sarcoma', 'soft_tissue_metastasis', 'metabolic_calcification', 'tumoral_calcinosis',
  'extraskeletal_osteosarcoma', 'hemangioma', 'synovial_chondromatosis', 'lipoma', 'liposarcoma',
  'gout_tophus', 'cppd_deposition', 'calcinosis_cutis', 'cysticercosis', 'heterotopic_ossification',
  'undifferentiated_pleomorphic_sarcoma', 'ossifying_fibromyxoid_tumor', 'pilomatricoma',
  'calcific_myonecrosis', 'parosteal_osteosarcoma',
] as const;
export type EntityId = (typeof ENTITY_IDS)[number];

/** ISO calendar date (YYYY-MM-DD) that exists. */
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, { message: 'format:date' }).refine((s) => {
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}, { params: { allowed: 'a real calendar date YYYY-MM-DD' } });

const nonNegative = (max: number) => z.number().finite().min(0).max(max);

/** A list of calcification patterns, each at most once. */
const morphologyList = () => z.array(z.enum(MORPHOLOGIES)).max(MORPHOLOGIES.length)
  .refine((a) => new Set(a).size === a.length, { params: { allowed: 'each morphology at most once' } });

export const caseSchema = z.strictObject({
  formatVersion: z.literal(1),
  /** free label; YAML may read `id: 42` as a number, which is accepted and kept as text */
  id: z.union([z.string().max(200), z.number().finite().transform(String)]).optional(),
  setting: z.enum(SETTINGS).optional(),
  patient: z.strictObject({
    age: z.number().finite().min(0).max(120).optional(),
    sex: z.enum(['male', 'female']).optional(),
  }).optional(),
  history: z.strictObject({
    trauma: z.strictObject({
      present: z.boolean(),
      weeksAgo: nonNegative(6000).optional(),
    }).optional(),
    knownPrimaryCancer: z.enum(PRIMARY_CANCERS).optional(),
    chronicKidneyDisease: z.boolean().optional(),
    dialysis: z.boolean().optional(),
    hyperparathyroidism: z.boolean().optional(),
    vitaminDExcess: z.boolean().optional(),
    connectiveTissueDisease: z.enum(CONNECTIVE_TISSUE_DISEASES).optional(),
    gout: z.boolean().optional(),
    neurologicInjuryOrBurns: z.boolean().optional(),
    surgeryAtSite: z.boolean().optional(),
    recurrenceAfterExcision: z.boolean().optional(),
    parasiteExposure: z.boolean().optional(),
  }).optional(),
  symptoms: z.strictObject({
    pain: z.boolean().optional(),
    restrictedMotion: z.boolean().optional(),
    palpableMass: z.boolean().optional(),
    growth: z.enum(GROWTH).optional(),
    durationWeeks: nonNegative(6000).optional(),
    weightLoss: z.boolean().optional(),
    fever: z.boolean().optional(),
  }).optional(),
  lesion: z.strictObject({
    region: z.enum(REGIONS).optional(),
    compartment: z.enum(COMPARTMENTS).optional(),
    depth: z.enum(['superficial', 'deep']).optional(),
    sizeCm: z.number().finite().gt(0).max(100).optional(),
    count: z.enum(['single', 'multiple']).optional(),
    distribution: z.enum(LESION_DISTRIBUTION).optional(),
  }).optional(),
  imaging: z.strictObject({
    calcification: z.strictObject({
      /** patterns seen; a pattern not listed is unknown, not absent */
      morphology: morphologyList().optional(),
      /** patterns the reader explicitly excluded (known absent); none may also be in `morphology` */
      morphologyAbsent: morphologyList().optional(),
      distribution: z.enum(CALC_DISTRIBUTIONS).optional(),
      zonal: z.boolean().optional(),
      extent: z.enum(EXTENTS).optional(),
      margin: z.enum(MARGINS).optional(),
    }).superRefine((c, ctx) => {
      // a pattern is either seen or excluded, never both
      c.morphologyAbsent?.forEach((m, i) => {
        if (c.morphology?.includes(m)) {
          ctx.addIssue({ code: 'custom', path: ['morphologyAbsent', i], input: m, params: { conflictsWith: 'imaging.calcification.morphology' } });
        }
      });
    }).optional(),
    xray: z.strictObject({
      boneInvolvement: z.enum(BONE_INVOLVEMENT).optional(),
      periostealReaction: z.boolean().optional(),
      cleftFromBone: z.boolean().optional(),
      attachedToBone: z.boolean().optional(),
    }).optional(),
    ct: z.strictObject({
      maxHU: z.number().finite().min(-1024).max(30000).optional(),
      meanHU: z.number().finite().min(-1024).max(30000).optional(),
      fluidCalciumLevels: z.boolean().optional(),
      fatInLesion: z.boolean().optional(),
      softTissueMass: z.boolean().optional(),
    }).optional(),
    mri: z.strictObject({
      t1: z.enum(T1_SIGNALS).optional(),
      t2: z.enum(T2_SIGNALS).optional(),
      enhancement: z.enum(ENHANCEMENT).optional(),
      edema: z.enum(EDEMA).optional(),
      fluidFluidLevels: z.boolean().optional(),
      neurovascularEncasement: z.boolean().optional(),
      fatInLesion: z.boolean().optional(),
    }).optional(),
    ultrasound: z.strictObject({
      shadowing: z.boolean().optional(),
      vascularity: z.enum(VASCULARITY).optional(),
    }).optional(),
    evolution: z.enum(EVOLUTION).optional(),
  }).optional(),
  labs: z.strictObject({
    calciumMmolL: nonNegative(10).optional(),
    phosphateMmolL: nonNegative(15).optional(),
    pthPgMl: nonNegative(10000).optional(),
    vitaminD25NmolL: nonNegative(2000).optional(),
    uricAcidUmolL: nonNegative(3000).optional(),
    creatinineUmolL: nonNegative(5000).optional(),
  }).optional(),
  pathology: z.strictObject({
    diagnosis: z.enum(ENTITY_IDS).optional(),
    fnclcc: z.strictObject({
      differentiation: z.union([z.literal(1), z.literal(2), z.literal(3)]),
      mitoses: z.union([z.literal(1), z.literal(2), z.literal(3)]),
      necrosis: z.union([z.literal(0), z.literal(1), z.literal(2)]),
    }).optional(),
    grade: z.union([z.literal(1), z.literal(2), z.literal(3)]).optional(),
  }).optional(),
  staging: z.strictObject({
    nodes: z.enum(['N0', 'N1']).optional(),
    metastasis: z.enum(['M0', 'M1']).optional(),
  }).optional(),
  treatment: z.strictObject({
    surgeryDate: isoDate.optional(),
  }).optional(),
});

export type CaseFile = z.infer<typeof caseSchema>;
