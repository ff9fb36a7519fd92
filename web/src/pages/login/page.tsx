/**
 * Login (/login): username and password, POST /api/auth/login. The answer's CSRF token goes to the
 * API client; the user goes on to the page asked for (?next=, a path of this app only) or to the
 * first page of the role. A refusal (wrong password, locked account, too many attempts) shows the
 * server's problem in the page language.
 */
import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { t } from '../../../../src/i18n/index.js';
import { login } from '../../api/registry.js';
import { useLang } from '../../app/lang.js';
import { homeOf, useSession } from '../../app/session.js';
import { Shell } from '../../app/shell.js';
import { ProblemView } from '../../components/problem-view.js';
import { safeNext } from './next.js';

export function LoginPage() {
  const { lang } = useLang();
  const { setMe } = useSession();
  const { query, route } = useLocation();
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    setBusy(true);
    setError(undefined);
    try {
      const m = await login(String(f.get('username') ?? '').trim(), String(f.get('password') ?? ''));
      setMe(m);
      route(safeNext(query.next) ?? homeOf(m.user.role));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Shell>
      <main class="reg-page narrow">
        <h2>{t(lang, 'web.reg.login')}</h2>
        <form id="login-form" class="reg-form" onSubmit={(e) => void submit(e)}>
          <label>{t(lang, 'web.reg.username')}<input id="login-username" name="username" autocomplete="username" required /></label>
          <label>{t(lang, 'web.reg.password')}<input id="login-password" name="password" type="password" autocomplete="current-password" required /></label>
          <button type="submit" id="login-submit" disabled={busy}>{t(lang, 'web.reg.login')}</button>
        </form>
        <ProblemView error={error} />
      </main>
    </Shell>
  );
}
