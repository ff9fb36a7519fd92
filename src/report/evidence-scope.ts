/**
 * Whose evidence an assessment's JSON lists. Its own module (no imports) so that the command
 * line can offer the choices without loading the report code.
 *
 * - 'likely': the entities still in contention — the first of the differential always, and the
 *   others of the first LEADING_EVIDENCE_ENTITIES whose probability is at least
 *   LIKELY_MIN_PROBABILITY. The HTTP API's default: an entity's evidence (~3.5 KiB) is the bulk of
 *   the answer, and a near-certain differential (one entity at 99 %) needs one entity's.
 * - 'leading': the first LEADING_EVIDENCE_ENTITIES, whatever their probability (the command line's
 *   and the registry's default, and the API's default before 'likely').
 * - 'all': every entity. 'none': no entity.
 * An entity whose evidence is not listed is a compact row (id, name, rank, probability, group, prior).
 */
export const EVIDENCE_SCOPES = ['likely', 'leading', 'all', 'none'] as const;
export type EvidenceScope = (typeof EVIDENCE_SCOPES)[number];
/** entities whose evidence the 'leading' scope lists: the length of the differential a report shows */
export const LEADING_EVIDENCE_ENTITIES = 5;
/**
 * The 'likely' scope's cut-off. 1 %: a third of the lowest referral threshold of the knowledge base
 * (NICE NG12's 3 %, rules.yaml thresholds.urgentReferral), so an entity below it cannot alone move
 * the malignancy decision; every entity keeps its probability and rank in its row.
 */
export const LIKELY_MIN_PROBABILITY = 0.01;

/**
 * Is the evidence of the differential's entity at `rank` (1-based) with `probability` listed in
 * `scope`? The cut-off is applied to the probability as the JSON writes it (6 decimals), so that a
 * row showing 0.01 has its evidence.
 */
export function evidenceListed(scope: EvidenceScope, rank: number, probability: number): boolean {
  switch (scope) {
    case 'all': return true;
    case 'none': return false;
    case 'leading': return rank <= LEADING_EVIDENCE_ENTITIES;
    case 'likely': return rank === 1 || (rank <= LEADING_EVIDENCE_ENTITIES && Math.round(probability * 1e6) / 1e6 >= LIKELY_MIN_PROBABILITY);
  }
}
