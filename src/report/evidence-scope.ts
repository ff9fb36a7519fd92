/**
 * Whose evidence an assessment's JSON lists. Its own module (no imports) so that the command
 * line can offer the choices without loading the report code.
 */
export const EVIDENCE_SCOPES = ['leading', 'all', 'none'] as const;
export type EvidenceScope = (typeof EVIDENCE_SCOPES)[number];
/** entities whose evidence the 'leading' scope lists: the length of the differential a report shows */
export const LEADING_EVIDENCE_ENTITIES = 5;
