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
 *
 * Cost: the token is split and decoded once; the key is chosen by jose's JWKS functions (kid, alg,
 * kty and curve; a remote JWKS is cached for 10 minutes and refetched after that, so a rotated key is
 * picked up) and the imported key is kept as a node KeyObject per jose key object (a refetched JWKS
 * gives new key objects, so the cache expires with it). The signature is checked synchronously with
 * node:crypto (WebCrypto's verify goes through the thread pool on every call); the claims are checked
 * as jose's jwtVerify checks them (the same failures give the same reasons).
 */
import { constants, KeyObject, verify as verifySignature, type VerifyKeyObjectInput } from 'node:crypto';
import { createLocalJWKSet, createRemoteJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { MemoryJtiRegistry, type JtiRegistry } from './cds-state.js';

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

/** How each accepted algorithm's signature is checked with node:crypto, and the key it needs. */
const SIGNATURE: Record<string, { hash: string | null; keyTypes: string[]; curve?: string; sigLength?: number; pss?: boolean; rsa?: boolean }> = {
  ES256: { hash: 'sha256', keyTypes: ['ec'], curve: 'prime256v1', sigLength: 64 },
  ES384: { hash: 'sha384', keyTypes: ['ec'], curve: 'secp384r1', sigLength: 96 },
  ES512: { hash: 'sha512', keyTypes: ['ec'], curve: 'secp521r1', sigLength: 132 },
  RS256: { hash: 'sha256', keyTypes: ['rsa'], rsa: true },
  RS384: { hash: 'sha384', keyTypes: ['rsa'], rsa: true },
  RS512: { hash: 'sha512', keyTypes: ['rsa'], rsa: true },
  PS256: { hash: 'sha256', keyTypes: ['rsa', 'rsa-pss'], rsa: true, pss: true },
  PS384: { hash: 'sha384', keyTypes: ['rsa', 'rsa-pss'], rsa: true, pss: true },
  PS512: { hash: 'sha512', keyTypes: ['rsa', 'rsa-pss'], rsa: true, pss: true },
  EdDSA: { hash: null, keyTypes: ['ed25519', 'ed448'] },
};
const B64URL = /^[A-Za-z0-9_-]+$/;
const isObject = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);

/** The three parts of a compact JWS, decoded once; undefined when it is not one. */
function splitToken(token: string): { header: Record<string, unknown>; claims: Record<string, unknown>; signingInput: Buffer; signature: Buffer } | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const [h, p, s] = parts as [string, string, string];
  if (!B64URL.test(h) || !B64URL.test(p) || (s !== '' && !B64URL.test(s))) return undefined;
  try {
    const header: unknown = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
    const claims: unknown = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
    if (!isObject(header) || !isObject(claims)) return undefined;
    return { header, claims, signingInput: Buffer.from(`${h}.${p}`, 'latin1'), signature: Buffer.from(s, 'base64url') };
  } catch { return undefined; }
}

/** jose's claim checks (jwtVerify with issuer, audience, requiredClaims and clockTolerance), in jose's order, failing with the same reasons. */
function checkClaims(c: Record<string, unknown>, iss: string, audience: string, nowS: number): void {
  for (const claim of ['iss', 'aud', 'jti', 'iat', 'exp', 'sub']) if (!Object.hasOwn(c, claim)) throw new CdsAuthError(claim === 'aud' ? 'audience' : 'claims');
  if (c.iss !== iss) throw new CdsAuthError('claims');
  const aud = c.aud;
  if (!(typeof aud === 'string' ? aud === audience : Array.isArray(aud) && aud.includes(audience))) throw new CdsAuthError('audience');
  if (typeof c.iat !== 'number') throw new CdsAuthError('claims');
  if (c.nbf !== undefined && (typeof c.nbf !== 'number' || c.nbf > nowS + CLOCK_TOLERANCE_S)) throw new CdsAuthError('claims');
  if (typeof c.exp !== 'number') throw new CdsAuthError('claims');
  if (c.exp <= nowS - CLOCK_TOLERANCE_S) throw new CdsAuthError('expired');
}

/** jose's key lookup failures, mapped as before (when jwtVerify looked the key up): no key → signature; a JWKS that cannot be had or read → key_fetch. */
function keyFailure(e: unknown): CdsAuthError {
  if (e instanceof CdsAuthError) return e;
  if (e instanceof errors.JOSEAlgNotAllowed) return new CdsAuthError('algorithm');
  if (e instanceof errors.JWKSNoMatchingKey || e instanceof errors.JWSInvalid || e instanceof errors.JWTInvalid) return new CdsAuthError('signature');
  return new CdsAuthError('key_fetch');
}

export class CdsTokenVerifier {
  private readonly issuers: Map<string, CdsIssuer>;
  private readonly local = new Map<string, JWTVerifyGetKey>();
  private readonly remote = new Map<string, JWTVerifyGetKey>();
  /** jose's imported key → the node KeyObject used to verify (dropped with the key when its JWKS is refetched) */
  private readonly keyObjects = new WeakMap<object, KeyObject>();

  /** replay: the jti already accepted, per process or (with --workers) held by the cluster primary (src/server/cds-state.ts) */
  constructor(issuers: CdsIssuer[], private readonly replay: JtiRegistry = new MemoryJtiRegistry()) {
    this.issuers = new Map(issuers.map((i) => [i.iss, i]));
  }

  private remoteSet(url: string): JWTVerifyGetKey {
    let s = this.remote.get(url);
    if (!s) { s = createRemoteJWKSet(new URL(url), { timeoutDuration: 3000, cooldownDuration: 30_000, cacheMaxAge: 600_000 }); this.remote.set(url, s); }
    return s;
  }

  /** the KeyObject of jose's key for this algorithm, checked to be a public verification key of the algorithm's type and size */
  private keyObject(key: unknown, alg: string): KeyObject {
    const spec = SIGNATURE[alg]!;
    let k = typeof key === 'object' && key !== null ? this.keyObjects.get(key) : undefined;
    if (!k) {
      const ck = key as CryptoKey;
      if (typeof ck !== 'object' || ck === null || ck.type !== 'public' || !ck.usages?.includes('verify')) throw new CdsAuthError('signature');
      try { k = KeyObject.from(ck); } catch { throw new CdsAuthError('signature'); }
      this.keyObjects.set(ck, k);
    }
    const d = k.asymmetricKeyDetails;
    if (k.type !== 'public' || !spec.keyTypes.includes(k.asymmetricKeyType ?? '')) throw new CdsAuthError('signature');
    if (spec.curve && d?.namedCurve !== spec.curve) throw new CdsAuthError('signature');
    if (spec.rsa && (d?.modulusLength ?? 0) < 2048) throw new CdsAuthError('signature');
    return k;
  }

  async verify(authorization: string | undefined, audience: string, now = Date.now()): Promise<Verified> {
    const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    if (!m) throw new CdsAuthError('missing_token');
    const t = splitToken(m[1]!);
    if (!t) throw new CdsAuthError('malformed_token');
    const { header, claims } = t;
    const alg = header.alg, jku = header.jku, iss = claims.iss;
    if (typeof alg !== 'string' || !CDS_ALGORITHMS.includes(alg)) throw new CdsAuthError('algorithm');
    // critical header parameters (jose accepts only b64, which a JWT must not use): refused
    if (header.crit !== undefined || header.b64 !== undefined) throw new CdsAuthError('signature');
    if (jku !== undefined && typeof jku !== 'string') throw new CdsAuthError('malformed_token');
    const issuer = typeof iss === 'string' ? this.issuers.get(iss) : undefined;
    if (!issuer || typeof iss !== 'string') throw new CdsAuthError('unknown_issuer');
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
    // the signature first: nothing of the claims is trusted before it
    let key: unknown;
    try { key = await keys(header as Parameters<JWTVerifyGetKey>[0], { payload: '', signature: '' } as Parameters<JWTVerifyGetKey>[1]); } catch (e) { throw keyFailure(e); }
    const spec = SIGNATURE[alg]!;
    const keyObject = this.keyObject(key, alg);
    if (spec.sigLength !== undefined && t.signature.length !== spec.sigLength) throw new CdsAuthError('signature');
    let ok = false;
    try {
      const input: VerifyKeyObjectInput = spec.pss
        ? { key: keyObject, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }
        : spec.sigLength !== undefined ? { key: keyObject, dsaEncoding: 'ieee-p1363' } : { key: keyObject };
      ok = verifySignature(spec.hash, t.signingInput, input, t.signature);
    } catch { ok = false; }
    if (!ok) throw new CdsAuthError('signature');
    checkClaims(claims, iss, audience, Math.floor(now / 1000));
    const jti = claims.jti, exp = claims.exp as number, iat = claims.iat as number;
    if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI_LENGTH) throw new CdsAuthError('claims');
    if (exp - iat > MAX_LIFETIME_S) throw new CdsAuthError('lifetime');
    // replay: each jti once per issuer while the token is valid (with the clock tolerance); last, so that only verified tokens are remembered
    let fresh: boolean;
    try { fresh = await this.replay.claim(`${iss} ${jti}`, (exp + CLOCK_TOLERANCE_S) * 1000, now); } catch { throw new CdsAuthError('replay_check'); }
    if (!fresh) throw new CdsAuthError('replay');
    return { iss, issuer, jti };
  }
}
