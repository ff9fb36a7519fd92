/**
 * Links into the assessment page (`/`) from the registry's pages: `?lesion=<id>` makes the page
 * offer "save to the registry" for that lesion episode, and `#case=<base64url JSON>` hands it a
 * case (the reader the CDS Hooks card link uses, src/fhir/cds-cards.ts), e.g. the last case
 * updated with what a follow-up visit found.
 */
export function base64UrlJson(x: unknown): string {
  const bytes = new TextEncoder().encode(JSON.stringify(x));
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function assessmentLink(lesionId: string, caseDoc?: unknown): string {
  return `/?lesion=${encodeURIComponent(lesionId)}${caseDoc === undefined ? '' : `#case=${base64UrlJson(caseDoc)}`}`;
}
