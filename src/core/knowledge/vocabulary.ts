/**
 * The closed vocabularies of the knowledge base (groups, mechanisms, tests, work-up purposes,
 * follow-up schemes, staging systems), without zod: the engine and the report need these lists,
 * and importing them from ./schema.ts would build every knowledge-base schema at start-up even
 * when the knowledge base comes from the build's snapshot (issue 15). ./schema.ts validates with them.
 */
export const GROUPS = ['benign', 'intermediate', 'malignant', 'non_neoplastic'] as const;
export type Group = (typeof GROUPS)[number];
export const MECHANISMS = ['dystrophic', 'metabolic', 'tumoral', 'idiopathic'] as const;
export type Mechanism = (typeof MECHANISMS)[number];
export const TESTS = ['history', 'exam', 'imaging', 'xray', 'ct', 'mri', 'ultrasound', 'labs', 'follow_up_imaging'] as const;

/** what a work-up step is for: the reports group the work-up by purpose */
export const WORKUP_PURPOSES = ['referral', 'history', 'imaging', 'biopsy', 'staging', 'labs', 'observation', 'diagnosis'] as const;
export type WorkupPurpose = (typeof WORKUP_PURPOSES)[number];

export const FOLLOW_UP_SCHEMES = [
  'sarcoma_high_grade', 'sarcoma_low_grade', 'intermediate_local', 'benign_excised', 'benign_observed', 'non_neoplastic_clinical', 'metastasis_oncology',
] as const;

export const STAGING_SYSTEMS = ['ajcc8_sts_trunk_extremity', 'ajcc8_bone', 'primary_cancer'] as const;
