/**
 * The browser app: the language, the router (preact-iso: path routes, links handled in the page,
 * pages loaded lazily), the registry session (session.tsx) and the pages of routes.ts. An address no page answers shows "not found".
 */
import { ErrorBoundary, LocationProvider, Route, Router } from 'preact-iso';
import { setApiLang } from '../api/registry.js';
import { LangProvider, useLang } from './lang.js';
import { SessionProvider } from './session.js';
import { ROUTES } from './routes.js';
import { NavContext, Shell } from './shell.js';
import { t } from '../../../src/i18n/index.js';

function NotFound() {
  const { lang } = useLang();
  return (
    <Shell>
      <main class="page-message">
        <h2>{t(lang, 'web.notFound.heading')}</h2>
        <p>{t(lang, 'web.notFound.text')}</p>
        <p><a href="/">{t(lang, 'web.notFound.home')}</a></p>
      </main>
    </Shell>
  );
}

const NAV = ROUTES.filter((r) => r.nav).map((r) => ({ path: r.path, label: r.nav!, ...(r.roles ? { roles: r.roles } : {}) }));

/** the API client asks for problems in the page's language */
function ApiLang() {
  const { lang } = useLang();
  setApiLang(lang);
  return null;
}

export function App() {
  return (
    <LangProvider>
      <ApiLang />
      <SessionProvider>
        <NavContext.Provider value={NAV}>
          <LocationProvider>
            <ErrorBoundary>
              <Router>
                {ROUTES.map((r) => <Route path={r.path} component={r.component} />)}
                <Route default component={NotFound} />
              </Router>
            </ErrorBoundary>
          </LocationProvider>
        </NavContext.Provider>
      </SessionProvider>
    </LangProvider>
  );
}
