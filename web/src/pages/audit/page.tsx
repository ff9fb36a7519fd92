/**
 * The audit view (/audit, admin and auditor): the append-only audit log (GET /api/audit), newest
 * first as the store returns it (each row's username and user id), filtered by user id, record type, record id and time range, a page
 * at a time. Rows hold who, what, which record (type and id) and from where — never clinical content.
 */
import { useState } from 'preact/hooks';
import { t } from '../../../../src/i18n/index.js';
import * as api from '../../api/registry.js';
import { useLoad } from '../../api/use-load.js';
import { useLang } from '../../app/lang.js';
import { RequireRole } from '../../app/session.js';
import { Shell } from '../../app/shell.js';
import { Pager } from '../../components/pager.js';
import { ProblemView } from '../../components/problem-view.js';

const PAGE = 50;
const RECORD_TYPES = ['patient', 'lesion', 'assessment', 'plan', 'visit', 'outcome', 'user', 'session', 'registry', 'audit', 'worklist', 'performance'] as const;

/** a datetime-local value (the browser's local time) as the API's UTC instant */
function instant(v: string): string | undefined {
  if (!v) return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? v : d.toISOString();
}

function Audit() {
  const { lang } = useLang();
  const [filter, setFilter] = useState<api.AuditFilter>({});
  const [offset, setOffset] = useState(0);
  const { data: result, error } = useLoad(() => api.auditLog({ ...filter, limit: PAGE, offset }), [filter, offset, lang]);

  const submit = (e: Event): void => {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    const v = (k: string): string => String(f.get(k) ?? '').trim();
    const q: api.AuditFilter = {};
    if (v('userId')) q.userId = v('userId');
    if (v('recordType')) q.recordType = v('recordType');
    if (v('recordId')) q.recordId = v('recordId');
    const from = instant(v('from'));
    const to = instant(v('to'));
    if (from) q.from = from;
    if (to) q.to = to;
    setOffset(0);
    setFilter(q);
  };

  return (
    <Shell>
      <main class="reg-page">
        <h2 id="audit-heading">{t(lang, 'web.nav.audit')}</h2>
        <p class="hint">{t(lang, 'web.reg.auditHint')}</p>
        <form id="audit-filter" class="reg-form inline" onSubmit={submit}>
          <label>{t(lang, 'web.reg.userId')}<input name="userId" id="af-userId" /></label>
          <label>{t(lang, 'web.reg.recordType')}
            <select name="recordType" id="af-recordType"><option value="">—</option>{RECORD_TYPES.map((r) => <option value={r}>{t(lang, `web.reg.recordTypes.${r}`)}</option>)}</select>
          </label>
          <label>{t(lang, 'web.reg.recordId')}<input name="recordId" id="af-recordId" /></label>
          <label>{t(lang, 'web.reg.from')}<input name="from" id="af-from" type="datetime-local" /></label>
          <label>{t(lang, 'web.reg.to')}<input name="to" id="af-to" type="datetime-local" /></label>
          <button type="submit" id="af-submit">{t(lang, 'web.reg.filter')}</button>
        </form>
        <ProblemView error={error} />
        {result && (
          <>
            <p class="hint" id="audit-count">{t(lang, 'web.reg.found', { count: result.total })}</p>
            <table class="reg-table" id="audit-log">
              <thead><tr><th>#</th><th>{t(lang, 'web.reg.when')}</th><th>{t(lang, 'web.reg.username')}</th><th>{t(lang, 'web.reg.action')}</th><th>{t(lang, 'web.reg.recordType')}</th><th>{t(lang, 'web.reg.recordId')}</th><th>{t(lang, 'web.reg.origin')}</th></tr></thead>
              <tbody>
                {result.items.map((a) => (
                  <tr data-action={a.action} data-record-type={a.recordType}>
                    <td>{a.seq}</td><td>{a.at.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</td><td class="audit-user">{a.username ?? (a.userId ? '' : '—')}{a.userId && <> <code>{a.userId}</code></>}</td>
                    <td>{a.action}</td><td>{t(lang, `web.reg.recordTypes.${a.recordType}`)}</td><td><code>{a.recordId ?? '—'}</code></td><td>{a.origin ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <Pager total={result.total} offset={offset} size={PAGE} onPage={setOffset} />
          </>
        )}
      </main>
    </Shell>
  );
}

export function AuditPage() {
  return <RequireRole roles={['admin', 'auditor']}><Audit /></RequireRole>;
}
