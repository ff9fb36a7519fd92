/**
 * A patient's timeline (/patients/:id, clinician and viewer): who the patient is, the calendar of
 * open follow-up visits (.ics), and for each lesion episode its assessments, a chart of size and
 * calcified volume over time, its follow-up visits and its outcome. A clinician also adds a lesion,
 * starts an assessment (on the assessment page, `/?lesion=…`), plans the follow-up from a treatment
 * date entered later, corrects the patient's details, records or cancels a visit (a done
 * visit with new findings offers a new assessment pre-filled from the last case) and records or
 * corrects the outcome. A viewer sees the same without the buttons.
 */
import { useEffect, useState } from 'preact/hooks';
import { t, type Lang } from '../../../../src/i18n/index.js';
import * as api from '../../api/registry.js';
import { useLoad } from '../../api/use-load.js';
import { assessmentLink, base64UrlJson } from '../../api/case-link.js';
import { useLang } from '../../app/lang.js';
import { RequireRole, useSession } from '../../app/session.js';
import { Shell } from '../../app/shell.js';
import { LineChart } from '../../components/line-chart.js';
import { fieldError, ProblemView } from '../../components/problem-view.js';
import { chartSeries, findingParts, summarise } from './timeline-view.js';

type LesionTimeline = api.PatientTimeline['lesions'][number];
type Names = Map<string, Record<Lang, string>>;

const SIDES = ['left', 'right', 'midline', 'bilateral', 'not_applicable'] as const;
const SEXES = ['female', 'male', 'other', 'unknown'] as const;
const GROWTH = ['none', 'grown', 'shrunk', 'unknown'] as const;
const LUNG = ['none', 'nodules_indeterminate', 'metastases', 'not_imaged'] as const;
const CONFIRMED_BY = ['histology', 'clinical', 'follow_up'] as const;
const OPEN = new Set(['planned', 'due', 'overdue']);
/** a lesion's first assessment starts from an empty form, never from the draft of another case kept in this browser */
const EMPTY_CASE = { formatVersion: 1 };

const today = (): string => new Date().toISOString().slice(0, 10);
const pct = (p: number | null): string => (p === null ? '—' : `${(p * 100).toFixed(p < 0.1 ? 1 : 0)}%`);
const text = (f: FormData, k: string): string | undefined => {
  const v = String(f.get(k) ?? '').trim();
  return v === '' ? undefined : v;
};
const numberOf = (f: FormData, k: string): number | undefined => {
  const v = text(f, k);
  return v === undefined ? undefined : Number(v);
};

function entityName(names: Names, id: string | null, lang: Lang): string {
  if (!id) return '—';
  return names.get(id)?.[lang] ?? id;
}

function NewLesion({ patientId, onDone }: { patientId: string; onDone(): void }) {
  const { lang } = useLang();
  const [error, setError] = useState<unknown>(undefined);
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const f = new FormData(form);
    setError(undefined);
    try {
      await api.createLesion(patientId, { site: text(f, 'site') ?? '', side: (text(f, 'side') ?? null) as api.Lesion['side'], firstSeen: text(f, 'firstSeen') ?? null });
      form.reset();
      onDone();
    } catch (err) { setError(err); }
  };
  return (
    <details class="reg-box" id="new-lesion">
      <summary>{t(lang, 'web.reg.newLesion')}</summary>
      <form id="new-lesion-form" class="reg-form inline" onSubmit={(e) => void submit(e)}>
        <label>{t(lang, 'web.reg.site')}<input name="site" id="nl-site" aria-invalid={!!fieldError(error, 'site')} /></label>
        <label>{t(lang, 'web.reg.side')}
          <select name="side" id="nl-side"><option value="">—</option>{SIDES.map((s) => <option value={s}>{t(lang, `web.reg.sides.${s}`)}</option>)}</select>
        </label>
        <label>{t(lang, 'web.reg.firstSeen')}<input name="firstSeen" id="nl-firstSeen" type="date" /></label>
        <button type="submit" id="nl-submit">{t(lang, 'web.reg.create')}</button>
      </form>
      <ProblemView error={error} />
    </details>
  );
}

function VisitForm({ visit, onDone, onCancel }: { visit: api.VisitView; onDone(r: api.VisitRecorded): void; onCancel(): void }) {
  const { lang } = useLang();
  const [error, setError] = useState<unknown>(undefined);
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    setError(undefined);
    const rec = text(f, 'localRecurrence');
    const findings: api.VisitFindings = {
      sizeMm: numberOf(f, 'sizeMm') ?? null,
      calcifiedVolumeMl: numberOf(f, 'calcifiedVolumeMl') ?? null,
      growth: (text(f, 'growth') ?? null) as api.VisitFindings['growth'],
      localRecurrence: rec === undefined ? null : rec === 'true',
      lungFindings: (text(f, 'lungFindings') ?? null) as api.VisitFindings['lungFindings'],
      note: text(f, 'note') ?? null,
    };
    try {
      onDone(await api.recordVisit(visit.id, visit.version, text(f, 'doneOn') ?? '', findings));
    } catch (err) { setError(err); }
  };
  const err = (k: string) => !!fieldError(error, k);
  return (
    <form class="reg-form visit-form" id={`visit-form-${visit.id}`} onSubmit={(e) => void submit(e)}>
      <label>{t(lang, 'web.reg.doneOn')}<input name="doneOn" type="date" defaultValue={today()} aria-invalid={err('doneOn')} /></label>
      <label>{t(lang, 'web.reg.findings.sizeMm')}<input name="sizeMm" type="number" step="any" min="0" inputmode="decimal" aria-invalid={err('findings.sizeMm')} /></label>
      <label>{t(lang, 'web.reg.findings.calcifiedVolumeMl')}<input name="calcifiedVolumeMl" type="number" step="any" min="0" inputmode="decimal" aria-invalid={err('findings.calcifiedVolumeMl')} /></label>
      <label>{t(lang, 'web.reg.findings.growth')}
        <select name="growth"><option value="">—</option>{GROWTH.map((g) => <option value={g}>{t(lang, `web.reg.growth.${g}`)}</option>)}</select>
      </label>
      <label>{t(lang, 'web.reg.findings.localRecurrence')}
        <select name="localRecurrence"><option value="">—</option><option value="false">{t(lang, 'web.reg.no')}</option><option value="true">{t(lang, 'web.reg.yes')}</option></select>
      </label>
      <label>{t(lang, 'web.reg.findings.lungFindings')}
        <select name="lungFindings"><option value="">—</option>{LUNG.map((g) => <option value={g}>{t(lang, `web.reg.lung.${g}`)}</option>)}</select>
      </label>
      <label class="wide">{t(lang, 'web.reg.findings.note')}<textarea name="note" rows={2} /></label>
      <p class="buttons">
        <button type="submit" class="visit-save">{t(lang, 'web.reg.saveVisit')}</button>
        <button type="button" class="secondary" onClick={onCancel}>{t(lang, 'web.reg.close')}</button>
      </p>
      <ProblemView error={error} />
    </form>
  );
}

function OutcomeForm({ lesionId, outcome, names, onDone }: { lesionId: string; outcome: api.Outcome | null; names: Names; onDone(): void }) {
  const { lang } = useLang();
  const [error, setError] = useState<unknown>(undefined);
  const entities = [...names].sort((a, b) => a[1][lang].localeCompare(b[1][lang], lang));
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    setError(undefined);
    const o: api.OutcomeFields = {
      entity: text(f, 'entity') ?? '', confirmedBy: (text(f, 'confirmedBy') ?? '') as api.OutcomeFields['confirmedBy'], date: text(f, 'date') ?? '',
      grade: numberOf(f, 'grade') ?? null, stage: text(f, 'stage') ?? null,
    };
    try {
      if (outcome) await api.updateOutcome(outcome.id, outcome.version, o);
      else await api.recordOutcome(lesionId, o);
      onDone();
    } catch (err) { setError(err); }
  };
  const err = (k: string) => !!fieldError(error, k);
  return (
    <form class="reg-form inline outcome-form" onSubmit={(e) => void submit(e)}>
      <label>{t(lang, 'web.reg.outcome.entity')}
        <select name="entity" aria-invalid={err('entity')}>
          <option value="">—</option>{entities.map(([id, n]) => <option value={id} selected={id === outcome?.entity}>{n[lang]}</option>)}
        </select>
      </label>
      <label>{t(lang, 'web.reg.outcome.confirmedBy')}
        <select name="confirmedBy" aria-invalid={err('confirmedBy')}>
          <option value="">—</option>{CONFIRMED_BY.map((c) => <option value={c} selected={c === outcome?.confirmedBy}>{t(lang, `web.reg.confirmedBy.${c}`)}</option>)}
        </select>
      </label>
      <label>{t(lang, 'web.reg.outcome.date')}<input name="date" type="date" defaultValue={outcome?.date ?? today()} aria-invalid={err('date')} /></label>
      <label>{t(lang, 'web.reg.outcome.grade')}
        <select name="grade"><option value="">—</option>{[1, 2, 3].map((g) => <option value={String(g)} selected={g === outcome?.grade}>{g}</option>)}</select>
      </label>
      <label>{t(lang, 'web.reg.outcome.stage')}<input name="stage" defaultValue={outcome?.stage ?? ''} aria-invalid={err('stage')} /></label>
      <button type="submit" class="outcome-save">{t(lang, outcome ? 'web.reg.saveChanges' : 'web.reg.recordOutcome')}</button>
      <ProblemView error={error} />
    </form>
  );
}

function PlanFromDate({ l, onDone }: { l: LesionTimeline; onDone(): void }) {
  const { lang } = useLang();
  const [error, setError] = useState<unknown>(undefined);
  const last = l.assessments[l.assessments.length - 1];
  if (!last) return null;
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    setError(undefined);
    try {
      await api.planFrom(l.lesion.id, last.id, text(f, 'startDate') ?? '');
      onDone();
    } catch (err) { setError(err); }
  };
  return (
    <details class="plan-from-date">
      <summary>{t(lang, 'web.reg.planFromDate')}</summary>
      <p class="hint">{t(lang, 'web.reg.planFromDateHint')}</p>
      <form class="reg-form inline" onSubmit={(e) => void submit(e)}>
        <label>{t(lang, 'web.reg.treatmentDate')}<input name="startDate" type="date" aria-invalid={!!fieldError(error, 'startDate')} /></label>
        <button type="submit" class="plan-save">{t(lang, 'web.reg.planVisits')}</button>
      </form>
      <ProblemView error={error} />
    </details>
  );
}

function EditPatient({ p, onDone }: { p: api.Patient; onDone(): void }) {
  const { lang } = useLang();
  const [error, setError] = useState<unknown>(undefined);
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    setError(undefined);
    try {
      await api.updatePatient(p.id, p.version, {
        mrn: text(f, 'mrn') ?? null, name: text(f, 'name') ?? null, birthDate: text(f, 'birthDate') ?? null, sex: (text(f, 'sex') ?? null) as api.Patient['sex'],
      });
      onDone();
    } catch (err) { setError(err); }
  };
  const err = (k: string) => !!fieldError(error, k);
  return (
    <details class="reg-box" id="edit-patient">
      <summary>{t(lang, 'web.reg.editPatient')}</summary>
      <form id="edit-patient-form" class="reg-form inline" onSubmit={(e) => void submit(e)}>
        <label>{t(lang, 'web.reg.mrn')}<input name="mrn" defaultValue={p.mrn ?? ''} aria-invalid={err('mrn')} /></label>
        <label>{t(lang, 'web.reg.name')}<input name="name" id="ep-name" defaultValue={p.name ?? ''} aria-invalid={err('name')} /></label>
        <label>{t(lang, 'web.reg.birthDate')}<input name="birthDate" type="date" defaultValue={p.birthDate ?? ''} aria-invalid={err('birthDate')} /></label>
        <label>{t(lang, 'web.reg.sex')}
          <select name="sex"><option value="">—</option>{SEXES.map((s) => <option value={s} selected={s === p.sex}>{t(lang, `web.reg.sexes.${s}`)}</option>)}</select>
        </label>
        <button type="submit" id="ep-submit">{t(lang, 'web.reg.saveChanges')}</button>
      </form>
      <ProblemView error={error} />
    </details>
  );
}

function LesionSection({ l, names, canEdit, reload }: { l: LesionTimeline; names: Names; canEdit: boolean; reload(): void }) {
  const { lang } = useLang();
  const [recording, setRecording] = useState<string | undefined>(undefined);
  const [reassess, setReassess] = useState<api.VisitRecorded['reassess']>(null);
  const [editOutcome, setEditOutcome] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const last = l.assessments[l.assessments.length - 1];
  const finding = (key: string, value: string): string =>
    `${t(lang, `web.reg.findings.${key}`)}${t(lang, 'web.reg.colon')}${key === 'growth' ? t(lang, `web.reg.growth.${value}`) : key === 'lungFindings' ? t(lang, `web.reg.lung.${value}`) : key === 'localRecurrence' ? t(lang, value === 'true' ? 'web.reg.yes' : 'web.reg.no') : value}`;
  const cancel = async (v: api.VisitView): Promise<void> => {
    if (!confirm(t(lang, 'web.reg.cancelVisitConfirm', { date: v.dueDate }))) return;
    setError(undefined);
    try { await api.cancelVisit(v.id, v.version); reload(); } catch (e) { setError(e); }
  };

  return (
    <section class="lesion reg-box" id={`lesion-${l.lesion.id}`} data-lesion={l.lesion.id} aria-labelledby={`lesion-h-${l.lesion.id}`}>
      <h3 id={`lesion-h-${l.lesion.id}`}>
        {l.lesion.site}{l.lesion.side ? `${t(lang, 'web.reg.listSep')}${t(lang, `web.reg.sides.${l.lesion.side}`)}` : ''}
        {l.lesion.firstSeen && <span class="hint">{` ${t(lang, 'web.reg.firstSeenOn', { date: l.lesion.firstSeen })}`}</span>}
      </h3>
      {canEdit && (
        <p class="buttons">
          <a class="button new-assessment" href={assessmentLink(l.lesion.id, last ? last.caseInput : EMPTY_CASE)}>{t(lang, last ? 'web.reg.reassess' : 'web.reg.assess')}</a>
        </p>
      )}
      {reassess && (
        <div class="alert alert-info reassess" role="status">
          <p>{t(lang, 'web.reg.newFindings')}</p>
          <p><a class="button reassess-link" href={assessmentLink(reassess.lesionId, reassess.case)}>{t(lang, 'web.reg.startReassessment')}</a></p>
        </div>
      )}
      <ProblemView error={error} />

      <h4>{t(lang, 'web.reg.assessments')}</h4>
      {l.assessments.length === 0 ? <p class="hint">{t(lang, 'web.reg.noAssessments')}</p> : (
        <table class="reg-table assessments">
          <thead><tr><th>{t(lang, 'web.reg.date')}</th><th>{t(lang, 'web.reg.leading')}</th><th>{t(lang, 'web.reg.malignancy')}</th><th>{t(lang, 'web.reg.kbVersion')}</th><th /></tr></thead>
          <tbody>
            {l.assessments.map((a) => {
              const s = summarise(a);
              return (
                <tr data-assessment={a.id}>
                  <td>{a.assessedOn}</td>
                  <td>{entityName(names, s.leadId, lang)} {s.leadProbability !== null && <span class="hint">{pct(s.leadProbability)}</span>}</td>
                  <td>{pct(s.malignancy)}{s.urgentReferral && <strong class="urgent">{` ${t(lang, 'web.reg.urgentReferral')}`}</strong>}</td>
                  <td><code>{a.kbVersion}</code></td>
                  <td><a href={`/#case=${base64UrlJson(a.caseInput)}`}>{t(lang, 'web.reg.openCase')}</a></td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}

      <LineChart title={t(lang, 'web.reg.chartTitle')} dateLabel={t(lang, 'web.reg.date')} emptyText={t(lang, 'web.reg.chartEmpty')}
        series={chartSeries(l, { size: t(lang, 'web.reg.sizeSeries'), volume: t(lang, 'web.reg.volumeSeries') })} />

      <h4>{t(lang, 'web.reg.visits')}</h4>
      {canEdit && <PlanFromDate l={l} onDone={reload} />}
      {l.visits.length === 0 ? <p class="hint">{t(lang, 'web.reg.noVisits')}</p> : (
        <table class="reg-table visits">
          <thead><tr><th>{t(lang, 'web.reg.month')}</th><th>{t(lang, 'web.reg.dueDate')}</th><th>{t(lang, 'web.reg.window')}</th><th>{t(lang, 'web.reg.status')}</th><th>{t(lang, 'web.reg.items')}</th><th>{t(lang, 'web.reg.result')}</th>{canEdit && <th />}</tr></thead>
          <tbody>
            {l.visits.map((v) => (
              <>
                <tr data-visit={v.id} data-status={v.status}>
                  <td>{v.month}</td><td>{v.dueDate}</td><td>{v.windowStart} – {v.windowEnd}</td>
                  <td><span class={`status status-${v.status}`}>{t(lang, `web.reg.visitStatus.${v.status}`)}</span></td>
                  <td>{v.items.map((i) => t(lang, `followItem.${i}`)).join(t(lang, 'web.reg.listSep'))}</td>
                  <td>{v.doneOn && <>{v.doneOn}{t(lang, 'web.reg.colon')}</>}{findingParts(v.findings, finding).join(t(lang, 'web.reg.listSep'))}</td>
                  {canEdit && (
                    <td class="buttons">
                      {OPEN.has(v.status) && <button type="button" class="small record-visit" onClick={() => setRecording(v.id)}>{t(lang, 'web.reg.recordVisit')}</button>}
                      {OPEN.has(v.status) && <button type="button" class="small secondary cancel-visit" onClick={() => void cancel(v)}>{t(lang, 'web.reg.cancelVisit')}</button>}
                    </td>
                  )}
                </tr>
                {recording === v.id && (
                  <tr class="visit-form-row"><td colSpan={7}>
                    <VisitForm visit={v} onCancel={() => setRecording(undefined)} onDone={(r) => { setRecording(undefined); setReassess(r.reassess); reload(); }} />
                  </td></tr>
                )}
              </>
            ))}
          </tbody>
        </table>
      )}

      <h4>{t(lang, 'web.reg.outcomeHeading')}</h4>
      {l.outcome ? (
        <p class="outcome" data-entity={l.outcome.entity}>
          <strong>{entityName(names, l.outcome.entity, lang)}</strong>
          {`${t(lang, 'web.reg.listSep')}${t(lang, `web.reg.confirmedBy.${l.outcome.confirmedBy}`)}${t(lang, 'web.reg.listSep')}${l.outcome.date}`}
          {l.outcome.grade !== null && `${t(lang, 'web.reg.listSep')}${t(lang, 'web.reg.outcome.grade')} ${l.outcome.grade}`}
          {l.outcome.stage && `${t(lang, 'web.reg.listSep')}${t(lang, 'web.reg.outcome.stage')} ${l.outcome.stage}`}
          {canEdit && !editOutcome && <button type="button" class="small secondary edit-outcome" onClick={() => setEditOutcome(true)}>{t(lang, 'web.reg.edit')}</button>}
        </p>
      ) : <p class="hint">{t(lang, 'web.reg.noOutcome')}</p>}
      {canEdit && (!l.outcome || editOutcome) && (
        <OutcomeForm lesionId={l.lesion.id} outcome={l.outcome} names={names} onDone={() => { setEditOutcome(false); reload(); }} />
      )}
    </section>
  );
}

function Patient({ id }: { id: string }) {
  const { lang } = useLang();
  const { user } = useSession();
  const canEdit = user?.role === 'clinician';
  const [names, setNames] = useState<Names>(new Map());
  const { data: timeline, error, loads, reload } = useLoad(() => api.patientTimeline(id), [id]);

  useEffect(() => {
    api.kbEntities().then((es) => setNames(new Map(es.map((e) => [e.id, e.names]))), () => undefined);
  }, []);

  const p = timeline?.patient;
  const openVisits = timeline?.lesions.some((l) => l.visits.some((v) => v.state === 'planned')) ?? false;
  return (
    <Shell>
      <main class="reg-page" id="patient-page" data-loads={loads}>
        <p><a href="/patients">{t(lang, 'web.reg.backToPatients')}</a></p>
        <ProblemView error={error} />
        {p && (
          <>
            <h2 id="patient-heading">{p.name ?? p.mrn ?? p.id}</h2>
            <dl class="patient-facts">
              <dt>{t(lang, 'web.reg.registryId')}</dt><dd><code>{p.id}</code></dd>
              <dt>{t(lang, 'web.reg.mrn')}</dt><dd>{p.mrn ?? '—'}</dd>
              <dt>{t(lang, 'web.reg.birthDate')}</dt><dd>{p.birthDate ?? '—'}</dd>
              <dt>{t(lang, 'web.reg.sex')}</dt><dd>{p.sex ? t(lang, `web.reg.sexes.${p.sex}`) : '—'}</dd>
            </dl>
            {openVisits && <p><a id="patient-ics" href={api.patientIcsUrl(p.id, lang)} download="calcdx-followup.ics">{t(lang, 'web.reg.ics')}</a></p>}
            {canEdit && <EditPatient key={`${p.id}-${p.version}`} p={p} onDone={reload} />}
            {canEdit && <NewLesion patientId={p.id} onDone={reload} />}
            {timeline!.lesions.length === 0 && <p class="hint">{t(lang, 'web.reg.noLesions')}</p>}
            {timeline!.lesions.map((l) => <LesionSection key={l.lesion.id} l={l} names={names} canEdit={canEdit} reload={reload} />)}
          </>
        )}
      </main>
    </Shell>
  );
}

export function PatientPage({ id }: { id: string }) {
  return <RequireRole roles={['clinician', 'viewer']}><Patient id={id} /></RequireRole>;
}
