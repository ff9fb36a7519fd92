/**
 * The frame every page is drawn in: the header with the brand, the links to the other pages (the
 * routes that declare a `nav` label; none is shown while there is only one page), the page's
 * own actions, who is logged in (with logout) and the language selector. The links are those the
 * user's role may open (routes.ts `roles`). A page renders `<Shell actions={…}>…</Shell>`.
 */
import { createContext, type ComponentChildren } from 'preact';
import { useContext } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { isLang, t } from '../../../src/i18n/index.js';
import { logout } from '../api/registry.js';
import { useLang } from './lang.js';
import { allowed, forgetSession, useSession, type Audience } from './session.js';

/** A link of the header: a page's path, the i18n key of its label and who sees it (given by app.tsx from ROUTES). */
export interface NavLink { path: string; label: string; roles?: readonly Audience[] }
export const NavContext = createContext<NavLink[]>([]);

export function Shell({ actions, children }: { actions?: ComponentChildren; children: ComponentChildren }) {
  const { lang, setLang } = useLang();
  const { path } = useLocation();
  const { user } = useSession();
  // only the pages this user may open (a viewer's are read-only; an auditor sees the audit view only)
  const nav = useContext(NavContext).filter((r) => allowed(r.roles, user));
  const signOut = async (): Promise<void> => {
    try { await logout(); } catch { /* the session had ended already */ }
    forgetSession();
    // a fresh start of the app at the login page: nothing of the user's pages stays in memory
    location.assign('/login');
  };
  return (
    <>
      <header class="top">
        <div class="brand">
          <h1>{t(lang, 'web.title')}</h1>
          <p class="tagline">{t(lang, 'web.tagline')}</p>
        </div>
        {(nav.length > 1 || (user && nav.length > 0)) && (
          <nav class="pages" aria-label={t(lang, 'web.pages')}>
            {nav.map((r) => (
              <a href={r.path} aria-current={r.path === path ? 'page' : undefined}>{t(lang, r.label)}</a>
            ))}
          </nav>
        )}
        <nav class="actions" aria-label="calcdx">
          {actions}
          {user && (
            <span class="session" id="session-user">
              {t(lang, 'web.reg.signedInAs', { user: user.username, role: t(lang, `web.reg.role.${user.role}`) })}
              <button type="button" id="logout" class="secondary small" onClick={() => void signOut()}>{t(lang, 'web.reg.logout')}</button>
            </span>
          )}
          {user === null && path !== '/login' && <a id="login-link" href={`/login?next=${encodeURIComponent(path)}`}>{t(lang, 'web.reg.login')}</a>}
          <span class="lang">
            <label for="lang">{t(lang, 'web.language')}</label>
            <select id="lang" value={lang} onChange={(e) => { const v = e.currentTarget.value; if (isLang(v)) setLang(v); }}>
              <option value="zh">中文</option>
              <option value="en">English</option>
            </select>
          </span>
        </nav>
      </header>
      {children}
    </>
  );
}
