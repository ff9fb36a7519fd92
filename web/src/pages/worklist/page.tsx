/**
 * The worklist (/worklist, clinician and viewer): follow-up visits due this week and those
 * overdue (GET /api/worklist), or the overdue only; sortable by due date, status, patient or
 * site (the column headings, ascending or descending, sorted by the server); printable (print
 * CSS keeps the table and its heading, drops the header, filters and buttons).
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

const PAGE = 100;
const COLUMNS: Array<{ sort: api.WorklistSort; label: string }> = [
  { sort: 'dueDate', label: 'web.reg.dueDate' },
  { sort: 'status', label: 'web.reg.status' },
  { sort: 'patient', label: 'web.reg.patient' },
  { sort: 'site', label: 'web.reg.site' },
];

function Worklist() {
  const { lang } = useLang();
  const [overdue, setOverdue] = useState(false);
  const [sort, setSort] = useState<api.WorklistSort>('dueDate');
  const [desc, setDesc] = useState(false);
  const [offset, setOffset] = useState(0);
  // with the choices the rows shown were loaded for (data-loaded: the tests wait for it)
  const { data, error } = useLoad(
    () => api.worklist({ overdue, sort, desc, limit: PAGE, offset }).then((page) => ({ page, loadedFor: `${overdue ? 'overdue' : 'week'}:${sort}:${desc ? 'desc' : 'asc'}:${offset}` })),
    [overdue, sort, desc, offset],
  );
  const result = data?.page;
  const loadedFor = data?.loadedFor ?? '';

  const sortBy = (s: api.WorklistSort): void => {
    if (s === sort) setDesc(!desc);
    else { setSort(s); setDesc(false); }
    setOffset(0);
  };
  const sortState = (s: api.WorklistSort): 'ascending' | 'descending' | undefined => (s === sort ? (desc ? 'descending' : 'ascending') : undefined);

  return (
    <Shell actions={<button type="button" id="print-worklist" onClick={() => window.print()}>{t(lang, 'web.reg.print')}</button>}>
      <main class="reg-page worklist-page" data-loaded={loadedFor}>
        <h2 id="worklist-heading">{t(lang, overdue ? 'web.reg.worklistOverdue' : 'web.reg.worklistTitle')}</h2>
        <p class="print-only">{t(lang, 'web.reg.printedOn', { date: new Date().toISOString().slice(0, 10) })}</p>
        <p class="no-print">
          <label class="check"><input type="checkbox" id="overdue-only" checked={overdue} onChange={(e) => { setOverdue(e.currentTarget.checked); setOffset(0); }} />{t(lang, 'web.reg.overdueOnly')}</label>
        </p>
        <ProblemView error={error} />
        {result && result.items.length === 0 && <p class="hint" id="worklist-empty">{t(lang, 'web.reg.worklistEmpty')}</p>}
        {result && result.items.length > 0 && (
          <table class="reg-table" id="worklist">
            <thead>
              <tr>
                {COLUMNS.map((c) => (
                  <th aria-sort={sortState(c.sort)}>
                    <button type="button" class="sort" data-sort={c.sort} onClick={() => sortBy(c.sort)}>
                      {t(lang, c.label)}{c.sort === sort ? (desc ? ' ▼' : ' ▲') : ''}
                    </button>
                  </th>
                ))}
                <th>{t(lang, 'web.reg.mrn')}</th><th>{t(lang, 'web.reg.window')}</th><th>{t(lang, 'web.reg.items')}</th>
              </tr>
            </thead>
            <tbody>
              {result.items.map((r) => (
                <tr data-visit={r.visit.id} data-status={r.visit.status}>
                  <td>{r.visit.dueDate}</td>
                  <td><span class={`status status-${r.visit.status}`}>{t(lang, `web.reg.visitStatus.${r.visit.status}`)}</span></td>
                  <td><a href={`/patients/${encodeURIComponent(r.patient.id)}`}>{r.patient.name ?? r.patient.mrn ?? r.patient.id}</a></td>
                  <td>{r.lesion.site}{r.lesion.side ? `${t(lang, 'web.reg.listSep')}${t(lang, `web.reg.sides.${r.lesion.side}`)}` : ''}</td>
                  <td>{r.patient.mrn ?? '—'}</td>
                  <td>{r.visit.windowStart} – {r.visit.windowEnd}</td>
                  <td>{r.visit.items.map((i) => t(lang, `followItem.${i}`)).join(t(lang, 'web.reg.listSep'))}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {result && <div class="no-print"><Pager total={result.total} capped={result.totalCapped} offset={offset} size={PAGE} onPage={setOffset} /></div>}
      </main>
    </Shell>
  );
}

export function WorklistPage() {
  return <RequireRole roles={['clinician', 'viewer']}><Worklist /></RequireRole>;
}
