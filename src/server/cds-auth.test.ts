import fc from 'fast-check';
import { generateKeyPairSync, sign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, jwtVerify, createLocalJWKSet, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CDS_ALGORITHMS, CdsAuthError, CdsTokenVerifier, type AuthFailure } from './cds-auth.js';

const ISS = 'https://ehr.example.org';
const AUD = 'https://calcdx.example.org/cds-services/calcdx-patient-view';

interface Signer { alg: string; kid: string; privateKey: CryptoKey; jwk: JWK }
async function signer(alg: string, options: Record<string, unknown> = {}): Promise<Signer> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, ...options });
  const kid = `${alg}-${Math.random().toString(36).slice(2)}`;
  return { alg, kid, privateKey: privateKey as CryptoKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}
let jtiCount = 0;
async function token(s: Signer, claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iss: ISS, sub: 'client-42', aud: AUD, iat: now, exp: now + 120, jti: `j${jtiCount++}`, ...claims })
    .setProtectedHeader({ alg: s.alg, kid: s.kid, ...header }).sign(s.privateKey);
}
const b64 = (x: unknown) => Buffer.from(JSON.stringify(x)).toString('base64url');
async function reason(v: CdsTokenVerifier, t: string | undefined, aud = AUD): Promise<AuthFailure | 'ok'> {
  try { await v.verify(t === undefined ? undefined : `Bearer ${t}`, aud); return 'ok'; } catch (e) {
    if (e instanceof CdsAuthError) return e.reason;
    throw e;
  }
}

let signers: Signer[];
let es256: Signer;
let stranger: Signer;
let server: Server;
let jwksUrl: string;
let served: JWK[];

beforeAll(async () => {
  signers = [
    await signer('ES256'), await signer('ES384'), await signer('ES512'),
    await signer('RS256'), await signer('RS384'), await signer('RS512'),
    await signer('PS256'), await signer('PS384'), await signer('PS512'),
    await signer('EdDSA'),
  ];
  es256 = signers[0]!;
  stranger = await signer('ES256');
  stranger.kid = es256.kid; // same kid, other key
  served = [];
  server = createServer((_req, res) => { res.setHeader('content-type', 'application/json'); res.end(JSON.stringify({ keys: served })); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
});
afterAll(async () => { await new Promise((r) => server.close(r)); });

const verifierFor = (keys: JWK[]) => new CdsTokenVerifier([{ iss: ISS, jwks: { keys } }]);

describe('CDS Hooks JWT verification (node:crypto signature check, jose key selection and claim rules)', () => {
  it('accepts a fresh token of every allowed algorithm, signed with the issuer\'s key', async () => {
    expect(signers.map((s) => s.alg)).toEqual(CDS_ALGORITHMS);
    const v = verifierFor(signers.map((s) => s.jwk));
    for (const s of signers) expect(await reason(v, await token(s)), s.alg).toBe('ok');
  });

  it('refuses what jose refuses, with the same reasons as before (one verifier, each case once)', async () => {
    const v = verifierFor([es256.jwk]);
    const now = Math.floor(Date.now() / 1000);
    const good = await token(es256);
    const [h, p, sig] = good.split('.') as [string, string, string];
    const hs256 = `${b64({ alg: 'HS256', kid: es256.kid })}.${p}.${sig}`;
    const cases: Array<[string, string | undefined, AuthFailure]> = [
      ['no token', undefined, 'missing_token'],
      ['two parts', `${h}.${p}`, 'malformed_token'],
      ['payload not JSON', `${h}.${Buffer.from('not json').toString('base64url')}.${sig}`, 'malformed_token'],
      ['payload a list', `${h}.${b64([1])}.${sig}`, 'malformed_token'],
      ['alg none', `${b64({ alg: 'none' })}.${p}.`, 'algorithm'],
      ['HS256 (a symmetric key)', hs256, 'algorithm'],
      ['unknown issuer', await token(es256, { iss: 'https://evil.example' }), 'unknown_issuer'],
      ['signed by another key with the same kid', await token(stranger), 'signature'],
      ['payload changed after signing', `${h}.${b64({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), sub: 'someone-else' })}.${sig}`, 'signature'],
      ['signature cut short', `${h}.${p}.${sig.slice(0, -4)}`, 'signature'],
      ['no signature', `${h}.${p}.`, 'signature'],
      ['critical header', await token(es256, {}, { crit: ['b64'], b64: true }), 'signature'],
      ['wrong audience', await token(es256, { aud: 'https://other.example/x' }), 'audience'],
      ['no audience', await token(es256, { aud: undefined }), 'audience'],
      ['expired', await token(es256, { iat: now - 900, exp: now - 600 }), 'expired'],
      ['not before in the future', await token(es256, { nbf: now + 600 }), 'claims'],
      ['iat not a number', await token(es256, { iat: 'yesterday' }), 'claims'],
      ['no sub', await token(es256, { sub: undefined }), 'claims'],
      ['no jti', await token(es256, { jti: undefined }), 'claims'],
      ['no exp', await token(es256, { exp: undefined }), 'claims'],
      ['an hour of validity', await token(es256, { exp: now + 3600 }), 'lifetime'],
      ['jku not allowed', await token(es256, {}, { jku: 'https://evil.example/jwks.json' }), 'jku_not_allowed'],
    ];
    for (const [what, t, want] of cases) expect(await reason(v, t), what).toBe(want);
    // the audience may be a list holding this endpoint
    expect(await reason(v, await token(es256, { aud: ['https://other.example/x', AUD] }))).toBe('ok');
    // a token within the 30 s clock tolerance is still accepted; beyond it, expired
    expect(await reason(v, await token(es256, { iat: now - 100, exp: now - 20 }))).toBe('ok');
    expect(await reason(v, await token(es256, { iat: now - 100, exp: now - 31 }))).toBe('expired');
  });

  it('each jti once per issuer', async () => {
    const v = verifierFor([es256.jwk]);
    const t = await token(es256);
    expect(await reason(v, t)).toBe('ok');
    expect(await reason(v, t)).toBe('replay');
  });

  it('agrees with jose\'s jwtVerify on valid and tampered tokens (property)', async () => {
    const keys = signers.map((s) => s.jwk);
    const jose = createLocalJWKSet({ keys });
    const tokens = await Promise.all(signers.map((s) => token(s)));
    await fc.assert(fc.asyncProperty(
      fc.nat({ max: tokens.length - 1 }), fc.nat(), fc.constantFrom(...'ABCDEFabcdef0123456789-_.'.split('')),
      async (which, at, ch) => {
        const t = tokens[which]!;
        const i = at % t.length;
        const tampered = `${t.slice(0, i)}${ch}${t.slice(i + 1)}`;
        let joseOk = true;
        try {
          await jwtVerify(tampered, jose, { issuer: ISS, audience: AUD, algorithms: CDS_ALGORITHMS, clockTolerance: 30, requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'jti'] });
        } catch { joseOk = false; }
        // a fresh verifier each time: the replay check is not what is compared
        const ours = await reason(verifierFor(keys), tampered);
        // never accepted when jose refuses it (ours may be stricter: e.g. non-canonical base64url)
        if (!joseOk) expect(ours).not.toBe('ok');
        if (tampered === t) expect(ours).toBe('ok');
      },
    ), { numRuns: 300 });
  });

  it('jku: keys fetched from an allowed JWKS URL, or from the issuer\'s jwksUrl; another key under the same kid refused', async () => {
    const later = await signer('ES256');
    served = [es256.jwk];
    const v = new CdsTokenVerifier([{ iss: ISS, jku: [jwksUrl] }]);
    expect(await reason(v, await token(es256, {}, { jku: jwksUrl }))).toBe('ok');
    expect(await reason(v, await token(es256, {}, { jku: jwksUrl }))).toBe('ok');
    served = [es256.jwk, later.jwk];
    // an unknown kid makes jose refetch the JWKS (after its 30 s cool-down the first time: here the set is new to it)
    const v2 = new CdsTokenVerifier([{ iss: ISS, jku: [jwksUrl] }]);
    expect(await reason(v2, await token(later, {}, { jku: jwksUrl }))).toBe('ok');
    // the issuer's JWKS URL when the token names no jku
    const v3 = new CdsTokenVerifier([{ iss: ISS, jwksUrl }]);
    expect(await reason(v3, await token(later))).toBe('ok');
    expect(await reason(v3, await token(stranger))).toBe('signature');
  });

  it('an RSA key under 2048 bits is refused, though its signature is good', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'weak', alg: 'RS256', use: 'sig' } as JWK;
    const now = Math.floor(Date.now() / 1000);
    const input = `${b64({ alg: 'RS256', kid: 'weak' })}.${b64({ iss: ISS, sub: 'c', aud: AUD, iat: now, exp: now + 60, jti: 'weak-1' })}`;
    const t = `${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
    expect(await reason(verifierFor([jwk]), t)).toBe('signature');
  });
});
