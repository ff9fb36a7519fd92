/**
 * User administration (/admin/users, admin): the accounts with their role and state; add one
 * (username, role, initial password); change a role, disable or enable an account, and reset a
 * password (without one typed, the server makes a random one, shown here once). Each change carries
 * the account's row version: a change made meanwhile by someone else is a 409 problem, shown.
 */
import { useState } from 'preact/hooks';
import { t } from '../../../../src/i18n/index.js';
import * as api from '../../api/registry.js';
import { useLoad } from '../../api/use-load.js';
import { useLang } from '../../app/lang.js';
import { RequireRole, useSession } from '../../app/session.js';
import { Shell } from '../../app/shell.js';
import { fieldError, ProblemView } from '../../components/problem-view.js';

const ROLES = ['clinician', 'viewer', 'admin', 'auditor'] as const;

function Users() {
  const { lang } = useLang();
  const { user: me } = useSession();
  const list = useLoad(() => api.listUsers().then((r) => r.items), []);
  const users = list.data;
  /** what a change answered when it failed */
  const [error, setError] = useState<unknown>(undefined);
  const [createError, setCreateError] = useState<unknown>(undefined);
  const [shown, setShown] = useState<{ username: string; password: string } | undefined>(undefined);
  const reload = list.reload;

  const act = async (f: () => Promise<unknown>): Promise<void> => {
    setError(undefined);
    try { await f(); } catch (e) { setError(e); }
    reload();
  };

  const create = async (e: Event): Promise<void> => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const f = new FormData(form);
    setCreateError(undefined);
    try {
      await api.createUser({ username: String(f.get('username') ?? '').trim(), role: String(f.get('role') ?? '') as api.Role, password: String(f.get('password') ?? '') });
      form.reset();
      reload();
    } catch (err) { setCreateError(err); }
  };

  const reset = async (u: api.PublicUser): Promise<void> => {
    if (!confirm(t(lang, 'web.reg.resetConfirm', { user: u.username }))) return;
    await act(async () => {
      const r = await api.resetPassword(u.id, u.version);
      if (r.password) setShown({ username: u.username, password: r.password });
    });
  };

  return (
    <Shell>
      <main class="reg-page">
        <h2>{t(lang, 'web.nav.users')}</h2>
        <details class="reg-box" id="new-user" open>
          <summary>{t(lang, 'web.reg.newUser')}</summary>
          <form id="new-user-form" class="reg-form inline" onSubmit={(e) => void create(e)}>
            <label>{t(lang, 'web.reg.username')}<input name="username" id="nu-username" autocomplete="off" aria-invalid={!!fieldError(createError, 'username')} /></label>
            <label>{t(lang, 'web.reg.roleLabel')}
              <select name="role" id="nu-role">{ROLES.map((r) => <option value={r}>{t(lang, `web.reg.role.${r}`)}</option>)}</select>
            </label>
            <label>{t(lang, 'web.reg.password')}<input name="password" id="nu-password" type="password" autocomplete="new-password" aria-invalid={!!fieldError(createError, 'password')} /></label>
            <button type="submit" id="nu-submit">{t(lang, 'web.reg.create')}</button>
          </form>
          <ProblemView error={createError} />
        </details>
        {shown && (
          <div class="alert alert-info" role="status" id="new-password">
            <p>{t(lang, 'web.reg.newPasswordOnce', { user: shown.username })}</p>
            <p><code>{shown.password}</code></p>
            <button type="button" class="small secondary" onClick={() => setShown(undefined)}>{t(lang, 'web.reg.close')}</button>
          </div>
        )}
        <ProblemView error={error ?? list.error} />
        {users && (
          <table class="reg-table" id="user-list">
            <thead><tr><th>{t(lang, 'web.reg.username')}</th><th>{t(lang, 'web.reg.roleLabel')}</th><th>{t(lang, 'web.reg.state')}</th><th>{t(lang, 'web.reg.userId')}</th><th /></tr></thead>
            <tbody>
              {users.map((u) => (
                <tr data-user={u.username}>
                  <td>{u.username}</td>
                  <td>
                    <select class="user-role" aria-label={t(lang, 'web.reg.roleLabel')} value={u.role} disabled={u.id === me?.id}
                      onChange={(e) => { const role = e.currentTarget.value as api.Role; void act(() => api.updateUser(u.id, u.version, { role })); }}>
                      {ROLES.map((r) => <option value={r}>{t(lang, `web.reg.role.${r}`)}</option>)}
                    </select>
                  </td>
                  <td>{u.disabled ? t(lang, 'web.reg.disabled') : u.lockedUntil && Date.parse(u.lockedUntil) > Date.now() ? t(lang, 'web.reg.locked', { until: u.lockedUntil }) : t(lang, 'web.reg.active')}</td>
                  <td><code>{u.id}</code></td>
                  <td class="buttons">
                    {u.id !== me?.id && (
                      <button type="button" class="small secondary toggle-user" onClick={() => void act(() => api.updateUser(u.id, u.version, { disabled: !u.disabled }))}>
                        {t(lang, u.disabled ? 'web.reg.enable' : 'web.reg.disable')}
                      </button>
                    )}
                    <button type="button" class="small secondary reset-password" onClick={() => void reset(u)}>{t(lang, 'web.reg.resetPassword')}</button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </main>
    </Shell>
  );
}

export function UsersPage() {
  return <RequireRole roles={['admin']}><Users /></RequireRole>;
}
