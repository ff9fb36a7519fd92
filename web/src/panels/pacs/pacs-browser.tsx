/**
 * "Open from PACS" (a panel of the CT viewer): choose one of the server's archives, search its
 * studies (patient ID, accession number, date range), list a study's series (CT series marked,
 * the others not openable) and open one; the CT panel then loads it into the viewer and measures
 * it through the server (which holds the archive's credentials: the browser only ever talks to
 * /api/pacs/…). Hidden when the server has no archive configured; the routes need login (a
 * clinician or a viewer): before it, a line says to sign in.
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { t, type Lang } from '../../../../src/i18n/index.js';

export interface PacsSelection { archive: string; archiveLabel: string; study: string; series: string; title: string }

interface Archive { id: string; label: string }
interface Study { studyInstanceUid: string; date?: string; accession?: string; patientId?: string; patientName?: string; description?: string; modalities: string[]; series?: number }
interface Series { seriesInstanceUid: string; modality?: string; number?: number; description?: string; instances?: number; ct: boolean }

/** A problem answer's detail, else the HTTP status (`status` kept: 401 means not logged in). */
async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { headers: { accept: 'application/json' } });
  const body = await res.json().catch(() => ({})) as Record<string, unknown>;
  if (!res.ok) throw Object.assign(new Error(typeof body.detail === 'string' ? body.detail : `HTTP ${res.status}`), { status: res.status });
  return body as T;
}

const isoToDicom = (d: string): string => d.replace(/-/g, '');
const showDate = (d?: string): string => (d && /^\d{8}$/.test(d) ? `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}` : d ?? '—');

export function PacsBrowser({ lang, onOpen }: { lang: Lang; onOpen: (s: PacsSelection) => void }) {
  const [archives, setArchives] = useState<Archive[] | undefined>(undefined);
  const [archive, setArchive] = useState('');
  const [patientId, setPatientId] = useState('');
  const [accession, setAccession] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [studies, setStudies] = useState<Study[] | undefined>(undefined);
  const [study, setStudy] = useState<Study | undefined>(undefined);
  const [series, setSeries] = useState<Series[] | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [signIn, setSignIn] = useState(false);

  useEffect(() => {
    getJson<{ archives: Archive[] }>('api/pacs/archives')
      .then((r) => { setArchives(r.archives); setArchive(r.archives[0]?.id ?? ''); })
      .catch((e: { status?: number }) => { setSignIn(e.status === 401); setArchives([]); });
  }, []);
  // the archive's patient data is for logged-in clinicians and viewers only (the server answers 401)
  if (signIn) return <p id="pacs-signin" class="muted">{t(lang, 'web.pacs.signIn')}</p>;
  if (!archives?.length) return null;

  const run = async (f: () => Promise<void>) => {
    setBusy(true); setError('');
    try { await f(); } catch (e) { setError((e as Error).message); } finally { setBusy(false); }
  };
  const search = () => run(async () => {
    const q = new URLSearchParams({ lang });
    if (patientId.trim()) q.set('PatientID', patientId.trim());
    if (accession.trim()) q.set('AccessionNumber', accession.trim());
    if (from || to) q.set('StudyDate', from && to && from === to ? isoToDicom(from) : `${isoToDicom(from)}-${isoToDicom(to)}`);
    setStudy(undefined); setSeries(undefined);
    const r = await getJson<{ studies: Study[] }>(`api/pacs/${encodeURIComponent(archive)}/studies?${q.toString()}`);
    setStudies(r.studies);
  });
  const listSeries = (s: Study) => run(async () => {
    setStudy(s); setSeries(undefined);
    const r = await getJson<{ series: Series[] }>(`api/pacs/${encodeURIComponent(archive)}/studies/${s.studyInstanceUid}/series?lang=${lang}`);
    setSeries(r.series);
  });
  const label = archives.find((a) => a.id === archive)?.label ?? archive;

  return (
    <details class="pacs" id="pacs-browser" open>
      <summary>{t(lang, 'web.pacs.heading')}</summary>
      <form class="pacs-search" onSubmit={(e) => { e.preventDefault(); void search(); }}>
        <span class="ct-num"><label for="pacs-archive">{t(lang, 'web.pacs.archive')}</label>
          <select id="pacs-archive" value={archive} onChange={(e) => { setArchive((e.target as HTMLSelectElement).value); setStudies(undefined); setSeries(undefined); }}>
            {archives.map((a) => <option value={a.id}>{a.label}</option>)}
          </select></span>
        <span class="ct-num"><label for="pacs-patient">{t(lang, 'web.pacs.patientId')}</label>
          <input id="pacs-patient" type="text" value={patientId} maxLength={64} onInput={(e) => setPatientId((e.target as HTMLInputElement).value)} /></span>
        <span class="ct-num"><label for="pacs-accession">{t(lang, 'web.pacs.accession')}</label>
          <input id="pacs-accession" type="text" value={accession} maxLength={16} onInput={(e) => setAccession((e.target as HTMLInputElement).value)} /></span>
        <span class="ct-num"><label for="pacs-from">{t(lang, 'web.pacs.from')}</label>
          <input id="pacs-from" type="date" value={from} onInput={(e) => setFrom((e.target as HTMLInputElement).value)} /></span>
        <span class="ct-num"><label for="pacs-to">{t(lang, 'web.pacs.to')}</label>
          <input id="pacs-to" type="date" value={to} onInput={(e) => setTo((e.target as HTMLInputElement).value)} /></span>
        <button type="submit" id="pacs-search" disabled={busy}>{t(lang, 'web.pacs.search')}</button>
      </form>
      {error && <p id="pacs-error" class="alert alert-warning" role="alert">{error}</p>}
      {studies && (studies.length === 0
        ? <p id="pacs-none" class="muted">{t(lang, 'web.pacs.none')}</p>
        : (
          <table id="pacs-studies" class="pacs-table">
            <thead><tr><th>{t(lang, 'web.pacs.date')}</th><th>{t(lang, 'web.pacs.patientId')}</th><th>{t(lang, 'web.pacs.accession')}</th><th>{t(lang, 'web.pacs.modalities')}</th><th>{t(lang, 'web.pacs.description')}</th><th /></tr></thead>
            <tbody>{studies.map((s) => (
              <tr data-study={s.studyInstanceUid} class={study?.studyInstanceUid === s.studyInstanceUid ? 'selected' : ''}>
                <td>{showDate(s.date)}</td><td>{s.patientId ?? '—'}</td><td>{s.accession ?? '—'}</td><td>{s.modalities.join(', ') || '—'}</td><td>{s.description ?? '—'}</td>
                <td><button type="button" class="secondary pacs-series-button" disabled={busy} onClick={() => void listSeries(s)}>{t(lang, 'web.pacs.showSeries')}</button></td>
              </tr>))}
            </tbody>
          </table>
        ))}
      {study && series && (
        <table id="pacs-series" class="pacs-table">
          <thead><tr><th>{t(lang, 'web.pacs.number')}</th><th>{t(lang, 'web.pacs.modality')}</th><th>{t(lang, 'web.pacs.instances')}</th><th>{t(lang, 'web.pacs.description')}</th><th /></tr></thead>
          <tbody>{series.map((s) => (
            <tr data-series={s.seriesInstanceUid} data-ct={s.ct ? '1' : '0'}>
              <td>{s.number ?? '—'}</td><td>{s.ct ? <strong>CT</strong> : s.modality ?? '—'}</td><td>{s.instances ?? '—'}</td><td>{s.description ?? '—'}</td>
              <td>{s.ct
                ? <button type="button" class="pacs-open" onClick={() => onOpen({ archive, archiveLabel: label, study: study.studyInstanceUid, series: s.seriesInstanceUid, title: [showDate(study.date), study.accession, s.description].filter(Boolean).join(' · ') })}>{t(lang, 'web.pacs.open')}</button>
                : <span class="muted">{t(lang, 'web.pacs.notCt')}</span>}</td>
            </tr>))}
          </tbody>
        </table>
      )}
    </details>
  );
}

/** Draws (or redraws, in another language) the browser into `el`. */
export function mountPacsBrowser(el: HTMLElement, lang: Lang, onOpen: (s: PacsSelection) => void): void {
  render(<PacsBrowser lang={lang} onOpen={onOpen} />, el);
}
