/**
 * Patient search (/patients, clinician and viewer): by record number, name, entity (the leading
 * entity of an assessment, or the outcome), assessment date range and status (due, overdue,
 * outcome recorded or not), a page at a time; each patient links to the timeline. A clinician
 * can also add a patient (every identifying field optional: pseudonymous patients are allowed).
 */
import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { t } from '../../../../src/i18n/index.js';
import * as api from '../../api/registry.js';
import { useLoad } from '../../api/use-load.js';
import { useLang } from '../../app/lang.js';
import { RequireRole, useSession } from '../../app/session.js';
import { Shell } from '../../app/shell.js';
import { Pager } from '../../components/pager.js';
import { fieldError, ProblemView } from '../../components/problem-view.js';

const PAGE = 25;
const STATUSES = ['due', 'overdue', 'outcome_recorded', 'no_outcome'] as const;
const SEXES = ['female', 'male', 'other', 'unknown'] as const;

const text = (f: FormData, k: string): string | undefined => {
  const v = String(f.get(k) ?? '').trim();
  return v === '' ? undefined : v;
};

export function patientLabel(p: Pick<api.Patient, 'id' | 'name' | 'mrn'>): string {
  return p.name ?? p.mrn ?? p.id;
}

function NewPatient() {
  const { lang } = useLang();
  const { route } = useLocation();
  const [error, setError] = useState<unknown>(undefined);
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    setError(undefined);
    try {
      const sex = text(f, 'sex') as api.Patient['sex'] | undefined;
      const p = await api.createPatient({ mrn: text(f, 'mrn') ?? null, name: text(f, 'name') ?? null, birthDate: text(f, 'birthDate') ?? null, sex: sex ?? null });
      route(`/patients/${encodeURIComponent(p.id)}`);
    } catch (err) { setError(err); }
  };
  const err = (k: string) => fieldError(error, k);
  return (
    <details class="reg-box" id="new-patient">
      <summary>{t(lang, 'web.reg.newPatient')}</summary>
      <p class="hint">{t(lang, 'web.reg.pseudonymousHint')}</p>
      <form id="new-patient-form" class="reg-form inline" onSubmit={(e) => void submit(e)}>
        <label>{t(lang, 'web.reg.mrn')}<input name="mrn" id="np-mrn" aria-invalid={!!err('mrn')} /></label>
        <label>{t(lang, 'web.reg.name')}<input name="name" id="np-name" aria-invalid={!!err('name')} /></label>
        <label>{t(lang, 'web.reg.birthDate')}<input name="birthDate" id="np-birthDate" type="date" aria-invalid={!!err('birthDate')} /></label>
        <label>{t(lang, 'web.reg.sex')}
          <select name="sex" id="np-sex"><option value="">—</option>{SEXES.map((s) => <option value={s}>{t(lang, `web.reg.sexes.${s}`)}</option>)}</select>
        </label>
        <button type="submit" id="np-submit">{t(lang, 'web.reg.create')}</button>
      </form>
      <ProblemView error={error} />
    </details>
  );
}

function Patients() {
  const { lang } = useLang();
  const { user } = useSession();
  const [query, setQuery] = useState<api.PatientQuery>({});
  const [offset, setOffset] = useState(0);
  const { data: result, error } = useLoad(() => api.searchPatients({ ...query, limit: PAGE, offset }), [query, offset, lang]);

  const search = (e: Event): void => {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    const q: api.PatientQuery = {};
    for (const k of ['mrn', 'name', 'entity', 'from', 'to', 'status'] as const) { const v = text(f, k); if (v) q[k] = v; }
    setOffset(0);
    setQuery(q);
  };

  return (
    <Shell>
      <main class="reg-page">
        <h2>{t(lang, 'web.nav.patients')}</h2>
        {user?.role === 'clinician' && <NewPatient />}
        <form id="patient-search" class="reg-form inline" role="search" onSubmit={search}>
          <label>{t(lang, 'web.reg.name')}<input name="name" id="ps-name" /></label>
          <label>{t(lang, 'web.reg.mrn')}<input name="mrn" id="ps-mrn" /></label>
          <label>{t(lang, 'web.reg.entity')}<input name="entity" id="ps-entity" placeholder="synovial_sarcoma" /></label>
          <label>{t(lang, 'web.reg.assessedFrom')}<input name="from" id="ps-from" type="date" /></label>
          <label>{t(lang, 'web.reg.assessedTo')}<input name="to" id="ps-to" type="date" /></label>
          <label>{t(lang, 'web.reg.status')}
            <select name="status" id="ps-status"><option value="">—</option>{STATUSES.map((s) => <option value={s}>{t(lang, `web.reg.patientStatus.${s}`)}</option>)}</select>
          </label>
          <button type="submit" id="ps-submit">{t(lang, 'web.reg.search')}</button>
        </form>
        <ProblemView error={error} />
        {result && (
          <>
            <p class="hint" id="patient-count">{t(lang, 'web.reg.found', { count: result.total })}</p>
            {result.items.length > 0 && (
              <table class="reg-table" id="patient-list">
                <thead><tr><th>{t(lang, 'web.reg.patient')}</th><th>{t(lang, 'web.reg.mrn')}</th><th>{t(lang, 'web.reg.birthDate')}</th><th>{t(lang, 'web.reg.sex')}</th><th>{t(lang, 'web.reg.registryId')}</th></tr></thead>
                <tbody>
                  {result.items.map((p) => (
                    <tr>
                      <td><a href={`/patients/${encodeURIComponent(p.id)}`}>{patientLabel(p)}</a></td>
                      <td>{p.mrn ?? '—'}</td><td>{p.birthDate ?? '—'}</td><td>{p.sex ? t(lang, `web.reg.sexes.${p.sex}`) : '—'}</td><td><code>{p.id}</code></td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            <Pager total={result.total} offset={offset} size={PAGE} onPage={setOffset} />
          </>
        )}
      </main>
    </Shell>
  );
}

export function PatientsPage() {
  return <RequireRole roles={['clinician', 'viewer']}><Patients /></RequireRole>;
}
