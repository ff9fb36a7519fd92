/**
 * The browser's side of the server's login (src/server/auth/plugin.ts): the session is an HttpOnly
 * cookie the page cannot read; what the page needs is the session's CSRF token, sent as
 * X-CSRF-Token on every state-changing request to a guarded route (registry, users, the PACS
 * routes). It is asked of GET /api/auth/me each time (one small request), so a new login in another
 * tab or an ended session is never answered with a stale token.
 */

export const CSRF_HEADER = 'X-CSRF-Token';

export interface SessionInfo {
  user: { id: string; username: string; role: string };
  csrfToken: string;
  expiresAt: string;
  idleTimeoutSeconds: number;
}

/** The login problem (401 wrong password, 423 locked, 429 too many attempts): its detail, else the HTTP status. */
export class LoginError extends Error {
  constructor(readonly status: number, message: string) { super(message); }
}

/** Logs in (the server sets the session cookie); the session's user and CSRF token. */
export async function login(username: string, password: string): Promise<SessionInfo> {
  const res = await fetch('api/auth/login', { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify({ username, password }) });
  const body = await res.json().catch(() => ({})) as Record<string, unknown>;
  if (!res.ok) throw new LoginError(res.status, typeof body.detail === 'string' ? body.detail : `HTTP ${res.status}`);
  return body as unknown as SessionInfo;
}

/** The current session, or null when not logged in (401) or when the server has no registry and so no login (404). */
export async function currentSession(): Promise<SessionInfo | null> {
  const res = await fetch('api/auth/me', { headers: { accept: 'application/json' } });
  if (res.status === 401 || res.status === 404) return null;
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return await res.json() as SessionInfo;
}

/** The header that a state-changing request of this session carries (none when not logged in: the server answers 401). */
export async function csrfHeaders(): Promise<Record<string, string>> {
  const s = await currentSession();
  return s ? { [CSRF_HEADER]: s.csrfToken } : {};
}
