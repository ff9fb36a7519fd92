/**
 * Who is logged in: the registry session (GET /api/auth/me at start when this browser logged in,
 * the login answer, logout).
 * `user` is undefined while it is being asked, null when nobody is logged in (or the server has no
 * registry). The CSRF token of the session is handed to the API client (web/src/api/registry.ts).
 * Pages that need a role render through <RequireRole>, which sends a visitor to /login first.
 */
import { createContext, type ComponentChildren } from 'preact';
import { useContext, useEffect, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { t } from '../../../src/i18n/index.js';
import * as api from '../api/registry.js';
import { useLang } from './lang.js';
import { Shell } from './shell.js';

export type SessionUser = api.Me['user'];
/** a route's audience: a role, or 'anonymous' (nobody logged in) */
export type Audience = api.Role | 'anonymous';

interface SessionState {
  user: SessionUser | null | undefined;
  /** a login answer (or null after logout) */
  setMe(m: api.Me | null): void;
}
const SessionContext = createContext<SessionState>({ user: null, setMe: () => undefined });

export const useSession = (): SessionState => useContext(SessionContext);

/**
 * Set in this browser at login, removed at logout or when the server no longer knows the session:
 * without it nobody is logged in here, and the page does not ask the server (the stateless
 * assessment page, a server without a registry). The session itself is the HttpOnly cookie.
 */
const SIGNED_IN_KEY = 'calcdx.signedIn';

function signedInHere(): boolean {
  try { return localStorage.getItem(SIGNED_IN_KEY) === '1'; } catch { return true; }
}

/** after logout: this browser is no longer logged in (the page is then reloaded) */
export function forgetSession(): void {
  api.setCsrfToken(undefined);
  try { localStorage.removeItem(SIGNED_IN_KEY); } catch { /* storage unavailable */ }
}

export function SessionProvider({ children }: { children: ComponentChildren }) {
  const [user, setUser] = useState<SessionUser | null | undefined>(() => (signedInHere() ? undefined : null));
  const setMe = (m: api.Me | null): void => {
    api.setCsrfToken(m?.csrfToken);
    try {
      if (m) localStorage.setItem(SIGNED_IN_KEY, '1');
      else localStorage.removeItem(SIGNED_IN_KEY);
    } catch { /* storage unavailable: the session is asked for at every start */ }
    setUser(m ? m.user : null);
  };
  useEffect(() => {
    if (user === undefined) api.me().then(setMe, () => setMe(null));
    // a session that ended meanwhile (idle or absolute timeout, logout elsewhere): back to the login page
    api.onUnauthorized(() => setMe(null));
  }, []);
  return <SessionContext.Provider value={{ user, setMe }}>{children}</SessionContext.Provider>;
}

/** the page a user starts on after login */
export function homeOf(role: api.Role): string {
  return role === 'auditor' ? '/audit' : role === 'admin' ? '/admin/users' : '/patients';
}

/** may this audience see a route meant for `roles` (none: everyone)? */
export function allowed(roles: readonly Audience[] | undefined, user: SessionUser | null | undefined): boolean {
  return !roles || roles.includes(user ? user.role : 'anonymous');
}

/** Draws the page for the given roles; a visitor goes to /login (and comes back), another role sees why not. */
export function RequireRole({ roles, children }: { roles: readonly api.Role[]; children: ComponentChildren }) {
  const { user } = useSession();
  const { lang } = useLang();
  const { url, route } = useLocation();
  useEffect(() => {
    if (user === null) route(`/login?next=${encodeURIComponent(url)}`, true);
  }, [user, url]);
  if (!user) return <Shell><main class="page-message" aria-busy="true" /></Shell>;
  if (!roles.includes(user.role)) {
    return (
      <Shell>
        <main class="page-message">
          <h2>{t(lang, 'web.reg.forbidden.heading')}</h2>
          <p>{t(lang, 'web.reg.forbidden.text', { role: t(lang, `web.reg.role.${user.role}`) })}</p>
        </main>
      </Shell>
    );
  }
  return <>{children}</>;
}
