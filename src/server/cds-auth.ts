/**
 * Authentication of CDS Hooks calls (CDS Hooks 2.0, "Trusting CDS Clients"): the record system signs
 * a JWT per call with an asymmetric key. We verify, with jose:
 *   - the signature, with the issuer's keys: a JWKS fetched from the token's `jku` header when that URL
 *     is on the issuer's allow-list, else the issuer's configured JWKS (inline keys or a URL);
 *   - `iss` on the allow-list, `sub` (the client id) present, `aud` = the URL of the endpoint called, `exp` (and `iat`) with 30 s of
 *     clock tolerance, at most 5 minutes between `iat` and `exp`;
 *   - `jti` (at most 256 characters) never seen before from that issuer (replay), remembered until the
 *     token expires: in this process, or with --workers by the cluster primary for all workers
 *     (src/server/cds-state.ts); when that cannot be checked the token is refused (`replay_check`).
 * `alg: none` and symmetric algorithms are refused. Any failure is one 401 with the reason code.
 */
import { MemoryJtiRegistry, type JtiRegistry } from './cds-state.js';
import { createLocalJWKSet, createRemoteJWKSet, decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';

export const CDS_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'EdDSA'];

export interface CdsIssuer {
  iss: string;
  /** JWKS URLs a token may name in its `jku` header */
  jku?: string[];
  /** the issuer's public keys */
  jwks?: JSONWebKeySet;
  /** where the issuer publishes its JWKS (used when the token has no jku) */
  jwksUrl?: string;
  /** FHIR servers calcdx may fetch from for this issuer (prefixes); omitted = any https server named in the call */
  fhirServers?: string[];
}

export type AuthFailure = 'missing_token' | 'malformed_token' | 'algorithm' | 'unknown_issuer' | 'jku_not_allowed' | 'no_key' | 'signature' | 'audience' | 'expired' | 'claims' | 'lifetime' | 'replay' | 'replay_check' | 'key_fetch';

export class CdsAuthError extends Error {
  constructor(readonly reason: AuthFailure) {
    super(reason);
    this.name = 'CdsAuthError';
  }
}

export interface Verified { iss: string; issuer: CdsIssuer; jti: string }

const MAX_LIFETIME_S = 300;
const CLOCK_TOLERANCE_S = 30;
/** longer token ids are refused (they are kept in memory until the token expires) */
const MAX_JTI_LENGTH = 256;

export class CdsTokenVerifier {
  private readonly issuers: Map<string, CdsIssuer>;
  private readonly local = new Map<string, JWTVerifyGetKey>();
  private readonly remote = new Map<string, JWTVerifyGetKey>();

  /** replay: the jti already accepted, per process or (with --workers) held by the cluster primary (src/server/cds-state.ts) */
  constructor(issuers: CdsIssuer[], private readonly replay: JtiRegistry = new MemoryJtiRegistry()) {
    this.issuers = new Map(issuers.map((i) => [i.iss, i]));
  }

  private remoteSet(url: string): JWTVerifyGetKey {
    let s = this.remote.get(url);
    if (!s) { s = createRemoteJWKSet(new URL(url), { timeoutDuration: 3000, cooldownDuration: 30_000, cacheMaxAge: 600_000 }); this.remote.set(url, s); }
    return s;
  }

  async verify(authorization: string | undefined, audience: string, now = Date.now()): Promise<Verified> {
    const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    if (!m) throw new CdsAuthError('missing_token');
    const token = m[1]!;
    let alg: string | undefined, jku: string | undefined, iss: string | undefined;
    try {
      const h = decodeProtectedHeader(token);
      alg = h.alg; jku = h.jku;
      iss = decodeJwt(token).iss;
    } catch { throw new CdsAuthError('malformed_token'); }
    if (!alg || !CDS_ALGORITHMS.includes(alg)) throw new CdsAuthError('algorithm');
    const issuer = iss !== undefined ? this.issuers.get(iss) : undefined;
    if (!issuer || iss === undefined) throw new CdsAuthError('unknown_issuer');
    let keys: JWTVerifyGetKey;
    if (jku !== undefined) {
      if (!issuer.jku?.includes(jku)) throw new CdsAuthError('jku_not_allowed');
      keys = this.remoteSet(jku);
    } else if (issuer.jwks) {
      keys = this.local.get(iss) ?? createLocalJWKSet(issuer.jwks);
      this.local.set(iss, keys);
    } else if (issuer.jwksUrl) {
      keys = this.remoteSet(issuer.jwksUrl);
    } else throw new CdsAuthError('no_key');
    let payload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: iss, audience, algorithms: CDS_ALGORITHMS, clockTolerance: CLOCK_TOLERANCE_S,
        requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'jti'], currentDate: new Date(now),
      }));
    } catch (e) {
      if (e instanceof errors.JWTExpired) throw new CdsAuthError('expired');
      if (e instanceof errors.JWTClaimValidationFailed) throw new CdsAuthError(e.claim === 'aud' ? 'audience' : 'claims');
      if (e instanceof errors.JWKSTimeout || e instanceof errors.JOSEError && e.code === 'ERR_JOSE_GENERIC') throw new CdsAuthError('key_fetch');
      if (e instanceof errors.JOSEAlgNotAllowed) throw new CdsAuthError('algorithm');
      if (e instanceof errors.JWKSNoMatchingKey || e instanceof errors.JWSSignatureVerificationFailed || e instanceof errors.JWSInvalid || e instanceof errors.JWTInvalid) throw new CdsAuthError('signature');
      throw new CdsAuthError('key_fetch');
    }
    if (typeof payload.jti !== 'string' || payload.jti === '' || payload.jti.length > MAX_JTI_LENGTH) throw new CdsAuthError('claims');
    if (payload.exp! - payload.iat! > MAX_LIFETIME_S) throw new CdsAuthError('lifetime');
    // replay: each jti once per issuer while the token is valid (with the clock tolerance); last, so that only verified tokens are remembered
    let fresh: boolean;
    try { fresh = await this.replay.claim(`${iss} ${payload.jti}`, (payload.exp! + CLOCK_TOLERANCE_S) * 1000, now); } catch { throw new CdsAuthError('replay_check'); }
    if (!fresh) throw new CdsAuthError('replay');
    return { iss, issuer, jti: payload.jti };
  }
}
