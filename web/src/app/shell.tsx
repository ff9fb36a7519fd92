/**
 * The frame every page is drawn in: the header with the brand, the links to the other pages (the
 * routes that declare a `nav` label; none is shown while there is only one page), the page's
 * own actions and the language selector. A page renders `<Shell actions={…}>…</Shell>`.
 */
import { createContext, type ComponentChildren } from 'preact';
import { useContext } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { isLang, t } from '../../../src/i18n/index.js';
import { useLang } from './lang.js';

/** A link of the header: a page's path and the i18n key of its label (given by app.tsx from ROUTES). */
export interface NavLink { path: string; label: string }
export const NavContext = createContext<NavLink[]>([]);

export function Shell({ actions, children }: { actions?: ComponentChildren; children: ComponentChildren }) {
  const { lang, setLang } = useLang();
  const { path } = useLocation();
  const nav = useContext(NavContext);
  return (
    <>
      <header class="top">
        <div class="brand">
          <h1>{t(lang, 'web.title')}</h1>
          <p class="tagline">{t(lang, 'web.tagline')}</p>
        </div>
        {nav.length > 1 && (
          <nav class="pages" aria-label={t(lang, 'web.pages')}>
            {nav.map((r) => (
              <a href={r.path} aria-current={r.path === path ? 'page' : undefined}>{t(lang, r.label)}</a>
            ))}
          </nav>
        )}
        <nav class="actions" aria-label="calcdx">
          {actions}
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
