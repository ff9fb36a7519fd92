/**
 * Users and access (a global plugin): login, logout and "who am I", server-side sessions, the
 * role guard of every route that declares `config.access`, CSRF protection, and the audit
 * helper the registry routes write through.
 *
 * Sessions: a random 256-bit id in the cookie `calcdx_session` (HttpOnly, SameSite=Strict,
 * Path=/, Secure when the request came over TLS); the database keeps only its SHA-256, the
 * user, a CSRF token and the times. A session ends after `idleMs` without a request (30 min by
 * default) and `maxMs` after login whatever happens (12 h); logout, a disabled account and a
 * new password end it at once.
 *
 * CSRF: a synchroniser token. Each session has a random token, given by the login answer and
 * by GET /api/auth/me; every state-changing request (any method but GET, HEAD, OPTIONS to a
 * route of the registry, users or auth) must carry it in the `X-CSRF-Token` header. The
 * stateless POST routes (/api/assess, …) change nothing and need none, even behind
 * --require-login. Chosen over a double-submit
 * cookie because the token lives server-side with the session (nothing for a sibling
 * sub-domain to plant, no second cookie), and a custom header cannot be sent cross-site
 * without a CORS preflight, which this server never grants. Bodies must be application/json,
 * so a cross-site HTML form cannot post one (login CSRF included).
 *
 * Login: argon2id verification (src/registry/password.ts); an unknown username costs the same
 * verification (against a fixed hash), so timing does not tell which usernames exist. Limits:
 * `perIp` attempts (100: a clinic behind one NAT address logs many people in) per client address and `perUser` (10) per username per window of
 * 15 min → 429 with Retry-After; `lockAfter` (5) failed logins in a row lock the account for
 * `lockMs` (15 min) → 423, until it expires or an administrator sets a new password.
 */
import fastifyCookie from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { LANGS, t } from '../../i18n/index.js';
import { isRegistryError } from '../../registry/errors.js';
import { hashPassword, PASSWORD_MAX, verifyPassword } from '../../registry/password.js';
import type { AuditInput, Role, Session, User } from '../../registry/schema.js';
import type { RegistryStore } from '../../registry/store.js';
import { parseInput } from '../input.js';
import { HttpProblem } from '../problem.js';
import { SAFE_METHODS, type Access } from './access.js';
import { AttemptCounter } from './rate-limit.js';

export const SESSION_COOKIE = 'calcdx_session';
export const CSRF_HEADER = 'x-csrf-token';

export const AUTH_DEFAULTS = {
  /** a session ends after this long without a request */
  idleMs: 30 * 60_000,
  /** and this long after login, whatever happens */
  maxMs: 12 * 3600_000,
  /** failed logins in a row that lock an account */
  lockAfter: 5,
  /** how long it stays locked */
  lockMs: 15 * 60_000,
  /** login attempts per client address / per username per window */
  perIp: 100,
  perUser: 10,
  windowMs: 15 * 60_000,
} as const;

export interface AuthOptions extends Partial<Record<keyof typeof AUTH_DEFAULTS, number>> {
  store: RegistryStore;
  /** every /api and /fhir route but login, health and the OpenAPI document needs a session */
  requireLogin?: boolean;
  /** the clock (tests of timeouts and locks) */
  now?: () => Date;
}

export interface AuthContext { user: User; session: Session; idHash: string }

declare module 'fastify' {
  interface FastifyRequest { auth: AuthContext | null }
  interface FastifyInstance {
    /** appends an audit row: who (the request's user), what, which record (type and id only), from where */
    audit(req: FastifyRequest, action: string, recordType: AuditInput['recordType'], recordId: string | null): Promise<void>;
    /**
     * a write and its audit row in one transaction (both kept, or neither): `write` runs on the
     * transaction's store; the row names the record `recordId` picks from the result
     */
    audited<T>(req: FastifyRequest, action: string, recordType: AuditInput['recordType'], write: (s: RegistryStore) => Promise<T>, recordId: (r: T) => string | null): Promise<T>;
    /** the audit row of a request, to append inside a transaction of several writes */
    auditEntry(req: FastifyRequest, action: string, recordType: AuditInput['recordType'], recordId: string | null): AuditInput;
    /** the logged-in user of a route whose access is a role list or 'session' */
    userOf(req: FastifyRequest): User;
    /** every route registered after the auth plugin, with its declared access (the role × route test walks it) */
    routeTable: Array<{ method: string; url: string; access: Access | undefined }>;
  }
}

/** what a client may see of a user: never the hash */
export function publicUser(u: User): Omit<User, 'passwordHash'> {
  const { passwordHash, ...rest } = u;
  void passwordHash;
  return rest;
}

const loginBody = z.strictObject({
  username: z.string().min(1).max(64),
  password: z.string().min(1).max(PASSWORD_MAX),
});

export const langQuery = z.strictObject({ lang: z.enum(LANGS).optional() });

/** routes usable without a session even with --require-login */
const ALWAYS_PUBLIC = new Set(['/api/health', '/api/openapi.json', '/api/auth/login']);

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');
const token = (): string => randomBytes(32).toString('base64url');

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** registry bodies are JSON only: a cross-site form cannot send one */
export const jsonBody = {
  onRequest: async (req: FastifyRequest) => {
    if (SAFE_METHODS.has(req.method) || req.method === 'DELETE') return;
    const type = String(req.headers['content-type'] ?? '');
    if (!/^\s*application\/json\s*(;|$)/i.test(type)) throw new HttpProblem(415, 'unsupported_media_type', (l) => t(l, 'server.json_body'));
  },
};

async function auth(app: FastifyInstance, options: AuthOptions): Promise<void> {
  const o = { ...AUTH_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as typeof AUTH_DEFAULTS & AuthOptions;
  const { store } = o;
  const now = o.now ?? (() => new Date());
  const attempts = new AttemptCounter(o.windowMs, () => now().getTime());
  // an unknown username is verified against this, so it costs what a known one does
  const dummyHash = await hashPassword(token());
  const touchEvery = Math.min(60_000, Math.floor(o.idleMs / 10));
  const cookieOptions = (req: FastifyRequest) => ({ httpOnly: true, sameSite: 'strict' as const, secure: req.protocol === 'https', path: '/' });

  await app.register(fastifyCookie);
  const table: Array<{ method: string; url: string; access: Access | undefined }> = [];
  app.decorate('routeTable', table);
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) if (method !== 'HEAD') table.push({ method, url: r.url, access: r.config?.access });
  });
  app.decorateRequest('auth', null);
  const auditEntry = (req: FastifyRequest, action: string, recordType: AuditInput['recordType'], recordId: string | null): AuditInput =>
    ({ userId: req.auth?.user.id ?? null, action, recordType, recordId, origin: req.ip });
  app.decorate('auditEntry', auditEntry);
  app.decorate('audit', async (req: FastifyRequest, action: string, recordType: AuditInput['recordType'], recordId: string | null) => {
    await store.appendAudit(auditEntry(req, action, recordType, recordId));
  });
  app.decorate('audited', <T>(req: FastifyRequest, action: string, recordType: AuditInput['recordType'], write: (s: RegistryStore) => Promise<T>, recordId: (r: T) => string | null) =>
    store.transaction(async (s) => {
      const r = await write(s);
      await s.appendAudit(auditEntry(req, action, recordType, recordId(r)));
      return r;
    }));
  app.decorate('userOf', (req: FastifyRequest): User => {
    if (!req.auth) throw unauthorized('server.login_required');
    return req.auth.user;
  });

  const unauthorized = (key: string) => new HttpProblem(401, 'unauthorized', (l) => t(l, key, { idleMinutes: Math.round(o.idleMs / 60_000), maxHours: Math.round(o.maxMs / 3600_000) }), { reason: key.slice('server.'.length) });

  async function loadSession(req: FastifyRequest, reply: FastifyReply): Promise<AuthContext> {
    const id = req.cookies[SESSION_COOKIE];
    if (!id) throw unauthorized('server.login_required');
    const idHash = sha256(id);
    const session = await store.getSession(idHash);
    const end = async (key: string): Promise<never> => {
      reply.clearCookie(SESSION_COOKIE, cookieOptions(req));
      throw unauthorized(key);
    };
    if (!session) return end('server.login_required');
    const at = now().getTime();
    if (at >= Date.parse(session.expiresAt) || at - Date.parse(session.lastSeenAt) > o.idleMs) {
      await store.deleteSession(idHash);
      return end('server.session_expired');
    }
    let user: User;
    try {
      user = await store.getUser(session.userId);
    } catch (e) {
      if (isRegistryError(e, 'not_found')) return end('server.login_required');
      throw e;
    }
    if (user.disabled) {
      await store.deleteSession(idHash);
      return end('server.login_required');
    }
    if (at - Date.parse(session.lastSeenAt) >= touchEvery) await store.touchSession(idHash, now());
    return { user, session, idHash };
  }

  const needsLogin = (req: FastifyRequest): boolean => {
    const url = req.routeOptions.url;
    if (!o.requireLogin || !url || ALWAYS_PUBLIC.has(url)) return false;
    return url.startsWith('/api/') || url.startsWith('/fhir/');
  };

  // the guard: before the body is read, so a refused request costs nothing and writes nothing
  app.addHook('onRequest', async (req, reply) => {
    const access: Access | undefined = req.routeOptions.config?.access;
    const need: Access | null = access !== undefined && access !== 'public' ? access : needsLogin(req) ? 'session' : null;
    if (need === null) return;
    const a = await loadSession(req, reply);
    req.auth = a;
    if (need !== 'session' && !need.includes(a.user.role)) {
      throw new HttpProblem(403, 'forbidden', (l) => t(l, 'server.role_denied', { role: a.user.role, roles: need.join(', ') }), { reason: 'role' });
    }
    // the stateless routes (behind --require-login) change nothing: they need a session, not a token
    if (access !== undefined && !SAFE_METHODS.has(req.method)) {
      const sent = req.headers[CSRF_HEADER];
      if (typeof sent !== 'string' || !sameToken(sent, a.session.csrfToken)) {
        throw new HttpProblem(403, 'forbidden', (l) => t(l, 'server.csrf'), { reason: 'csrf' });
      }
    }
  });

  const me = (a: { user: User; session: Session }) => ({
    user: { id: a.user.id, username: a.user.username, role: a.user.role as Role },
    csrfToken: a.session.csrfToken,
    expiresAt: a.session.expiresAt,
    idleTimeoutSeconds: Math.round(o.idleMs / 1000),
  });

  app.post('/api/auth/login', { config: { access: 'public' }, ...jsonBody }, async (req, reply) => {
    const retryIp = attempts.hit(`ip:${req.ip}`, o.perIp);
    const body = parseInput(loginBody, req.body, 'body');
    const retryUser = attempts.hit(`user:${body.username.toLowerCase()}`, o.perUser);
    const retry = Math.max(retryIp, retryUser);
    if (retry) {
      await store.appendAudit({ userId: null, action: 'login_limited', recordType: 'session', recordId: null, origin: req.ip });
      throw new HttpProblem(429, 'too_many_requests', (l) => t(l, 'server.too_many_logins', { seconds: retry }), { reason: 'login_rate', headers: { 'retry-after': String(retry) } });
    }
    const user = await store.findUser(body.username.toLowerCase());
    const at = now();
    // the failure counted (when `count`) and its audit row: one transaction
    const failed = async (u: User | null, count = false): Promise<never> => {
      await store.transaction(async (s) => {
        if (u && count) await s.recordLoginFailure(u.id, o.lockAfter, o.lockMs, at);
        await s.appendAudit({ userId: u?.id ?? null, action: 'login_failed', recordType: 'user', recordId: u?.id ?? null, origin: req.ip });
      });
      throw unauthorized('server.login_failed');
    };
    if (!user) {
      await verifyPassword(dummyHash, body.password);
      return failed(null);
    }
    if (user.lockedUntil && Date.parse(user.lockedUntil) > at.getTime()) {
      await store.appendAudit({ userId: user.id, action: 'login_locked', recordType: 'user', recordId: user.id, origin: req.ip });
      const until = user.lockedUntil;
      const seconds = Math.max(1, Math.ceil((Date.parse(until) - at.getTime()) / 1000));
      throw new HttpProblem(423, 'account_locked', (l) => t(l, 'server.account_locked', { count: o.lockAfter, until }), { reason: 'locked', headers: { 'retry-after': String(seconds) } });
    }
    if (!(await verifyPassword(user.passwordHash, body.password))) return failed(user, true);
    if (user.disabled) return failed(user);
    if (user.failedLogins > 0 || user.lockedUntil) await store.recordLoginSuccess(user.id);
    attempts.clear(`user:${body.username.toLowerCase()}`);
    // a new id at every login (no fixation); the session the browser had, if any, ends
    const old = req.cookies[SESSION_COOKIE];
    if (old) await store.deleteSession(sha256(old));
    const id = token();
    const session = await store.transaction(async (s) => {
      const made = await s.createSession({
        idHash: sha256(id), userId: user.id, csrfToken: token(),
        createdAt: at.toISOString(), lastSeenAt: at.toISOString(), expiresAt: new Date(at.getTime() + o.maxMs).toISOString(),
      });
      await s.appendAudit({ userId: user.id, action: 'login', recordType: 'session', recordId: null, origin: req.ip });
      return made;
    });
    reply.setCookie(SESSION_COOKIE, id, { ...cookieOptions(req), maxAge: Math.floor(o.maxMs / 1000) });
    return me({ user, session });
  });

  app.post('/api/auth/logout', { config: { access: 'session' } }, async (req, reply) => {
    const a = req.auth!;
    await app.audited(req, 'logout', 'session', (s) => s.deleteSession(a.idHash), () => null);
    reply.clearCookie(SESSION_COOKIE, cookieOptions(req));
    return reply.code(204).send();
  });

  app.get('/api/auth/me', { config: { access: 'session' } }, async (req) => {
    parseInput(langQuery, req.query, 'query');
    return me(req.auth!);
  });

  // sessions past their absolute expiry are removed now and then (expired ones are refused anyway)
  const purge = setInterval(() => { void store.purgeSessions(now()).catch(() => undefined); }, 15 * 60_000);
  purge.unref();
  app.addHook('onClose', async () => clearInterval(purge));
}

export const authPlugin = fp(auth, { name: 'calcdx-auth', fastify: '5.x' });
