/**
 * Test support: what a record system does to call a CDS service — a signing key pair, a JWT per call,
 * prefetch built from a case — and the rendering of the cards it gets back.
 */
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { randomUUID } from 'node:crypto';
import type { CaseFile } from '../core/case-format/schema.js';
import type { Card } from '../fhir/cds-cards.js';
import { caseToFhir } from '../fhir/export.js';
import { loadFhirCodeMap } from '../io/fhir-map-file.js';

export interface TestIssuer { iss: string; kid: string; privateKey: CryptoKey; jwk: JWK }

export async function testIssuer(iss = 'https://ehr.example.org', alg = 'ES384'): Promise<TestIssuer> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = randomUUID();
  return { iss, kid, privateKey: privateKey as CryptoKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

export interface TokenOptions { aud: string; exp?: number; iat?: number; jti?: string; jku?: string; alg?: string; iss?: string }

/** A CDS Hooks client JWT (iss, sub, aud, exp, iat, jti), signed with the issuer's key. */
export async function signToken(i: TestIssuer, o: TokenOptions): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: o.alg ?? 'ES384', typ: 'JWT', kid: i.kid, ...(o.jku ? { jku: o.jku } : {}) })
    .setIssuer(o.iss ?? i.iss).setSubject('client-42').setAudience(o.aud)
    .setIssuedAt(o.iat ?? now).setExpirationTime(o.exp ?? now + 300).setJti(o.jti ?? randomUUID())
    .sign(i.privateKey);
}

/** An unsigned token (alg none), as an attacker would send it. */
export function unsignedToken(o: { iss: string; aud: string }): string {
  const b64 = (x: unknown) => Buffer.from(JSON.stringify(x)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iss: o.iss, aud: o.aud, exp: now + 300, iat: now, jti: randomUUID() })}.`;
}

/** The prefetch a record system would send for a patient whose chart holds this case. */
export function prefetchOf(c: CaseFile, patientId: string, birthDate?: string): Record<string, unknown> {
  const { patient, findings } = caseToFhir(loadFhirCodeMap(), { ...c, patient: c.patient?.sex ? { sex: c.patient.sex } : undefined }, `Patient/${patientId}`);
  const search = (rs: unknown[]) => ({ resourceType: 'Bundle', type: 'searchset', total: rs.length, entry: rs.map((resource) => ({ resource })) });
  const obs = findings.filter((f) => f.resource.resourceType === 'Observation').map((f, i) => ({ id: `o${i}`, ...f.resource }));
  const cond = findings.filter((f) => f.resource.resourceType === 'Condition').map((f, i) => ({ id: `c${i}`, ...f.resource }));
  return {
    patient: { ...patient, id: patientId, ...(birthDate ? { birthDate } : {}) },
    observations: search(obs), conditions: search(cond), procedures: search([]), reports: search([]),
  };
}

export interface RenderedCard { indicator: string; text: string }

/** How a record system shows cards: indicator, summary, detail, links and suggestions as text. */
export function renderCards(cards: Array<Omit<Card, 'uuid' | 'suggestions'> & { suggestions?: Array<{ label: string }> }>): RenderedCard[] {
  return cards.map((c) => ({
    indicator: c.indicator,
    text: [`[${String(c.indicator).toUpperCase()}] ${c.summary}`, c.detail ?? '', ...(c.suggestions ?? []).map((s) => `(button) ${s.label}`), ...(c.links ?? []).map((l) => `(link) ${l.label} → ${l.url}`), `source: ${c.source.label}`].join('\n'),
  }));
}
