/**
 * The assessment page (`/`): the case form with the CT panel on the left, the live assessment on
 * the right (the engine of src/core runs in the page on the knowledge base embedded at build
 * time), the one-line summary kept in view at narrow widths, the report dialog; the draft kept in
 * this browser, import/export and printing. The panels are components of their own (form-fields,
 * ct-panel-host, ct-merge-panel, results-panel, summary-panel, differential, next-questions,
 * report-blocks, report-dialog); the form's state is use-case-form.ts.
 * The element ids are the page's contract with its tests (test/e2e/web*.test.ts).
 */
import raw from 'virtual:calcdx-kb';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { assess, type Assessment } from '../../../../src/core/engine/assess.js';
import { validateCase, type CaseIssue } from '../../../../src/core/case-format/validate.js';
import { compileKnowledgeBase, type KnowledgeBase } from '../../../../src/core/knowledge/compile.js';
import { formatIssue, t, type Lang } from '../../../../src/i18n/index.js';
import { buildReport, type Audience } from '../../../../src/report/build.js';
import { followUpIcs } from '../../../../src/report/ics.js';
import { renderHtml } from '../../../../src/report/render-html.js';
import { assessLesion } from '../../api/registry.js';
import { Shell } from '../../app/shell.js';
import { useLang } from '../../app/lang.js';
import { useSession } from '../../app/session.js';
import { ProblemView } from '../../components/problem-view.js';
import { download } from '../../dom.js';
import { isEmptyCase, summaryParagraph } from './assessment-view.js';
import { CtMergePanel } from './ct-merge-panel.js';
import { CtPanelHost } from './ct-panel-host.js';
import { FIELD_BY_PATH, caseFromValues, uncoveredPaths, valuesFromCase } from './fields.js';
import { FieldGroups, KeyFields, focusField } from './form-fields.js';
import { EMPTY_FORM, fieldLabel, formFromValues, readValues, type FormState } from './form.js';
import { ReportDialog, reportView, type ReportView } from './report-dialog.js';
import { EmptyState, Results } from './results-panel.js';
import { StickySummary } from './summary-panel.js';
import { useCaseForm } from './use-case-form.js';

/** the form as a case document, kept across reloads until "New case" */
const DRAFT_KEY = 'calcdx.draft';

type Notice = { key: string; params: Record<string, unknown>; kind: 'info' | 'error' };

let compiled: ReturnType<typeof compileKnowledgeBase> | undefined;
/** the embedded knowledge base, compiled once for the page's visits */
const knowledgeBase = (): ReturnType<typeof compileKnowledgeBase> => (compiled ??= compileKnowledgeBase(raw));

function saveDraft(caseDoc: Record<string, unknown>): void {
  try {
    if (Object.keys(caseDoc).length <= 1) localStorage.removeItem(DRAFT_KEY);
    else localStorage.setItem(DRAFT_KEY, JSON.stringify(caseDoc));
  } catch { /* storage unavailable or full: the draft is not kept */ }
}

function loadDraft(): unknown {
  try {
    const s = localStorage.getItem(DRAFT_KEY);
    return s ? JSON.parse(s) as unknown : undefined;
  } catch { return undefined; }
}

/** #case=<base64url of the case JSON>: a case handed over in a link (the "Open in calcdx" link of the CDS Hooks card). */
function caseFromHash(): unknown {
  const m = /^#case=([A-Za-z0-9_-]+)$/.exec(location.hash);
  if (!m) return undefined;
  try {
    const bin = atob(m[1]!.replace(/-/g, '+').replace(/_/g, '/'));
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(bin, (ch) => ch.charCodeAt(0))));
  } catch { return undefined; }
}

/**
 * The form at start: a valid case handed over in the link (it wins over a kept draft; the link is
 * then removed from the address bar), else the draft kept in this browser, else empty.
 */
function startingForm(): { form: FormState; notice?: Notice; linked: boolean } {
  const linked = caseFromHash();
  if (linked !== undefined && validateCase(linked).ok) return { form: formFromValues(valuesFromCase(linked)), linked: true };
  const draft = loadDraft();
  if (draft !== undefined && uncoveredPaths(draft).length === 0) {
    return { form: formFromValues(valuesFromCase(draft)), notice: { key: 'web.draftRestored', params: {}, kind: 'info' }, linked: false };
  }
  return { form: EMPTY_FORM, linked: false };
}

/** the clinician's calendar day: the plan's re-imaging and review dates are dated from it */
function today(): string {
  const now = new Date();
  return `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, '0')}-${String(now.getDate()).padStart(2, '0')}`;
}

export function AssessmentPage() {
  const c = knowledgeBase();
  const { lang } = useLang();
  if (!c.ok) {
    return (
      <Shell>
        <main class="layout">
          <div id="results"><div class="alert alert-critical">{`knowledge base invalid: ${c.problems.map((p) => `${p.file}: ${p.path}: ${p.message}`).join('; ')}`}</div></div>
        </main>
      </Shell>
    );
  }
  return <AssessmentView kb={c.kb} lang={lang} />;
}

function AssessmentView({ kb, lang }: { kb: KnowledgeBase; lang: Lang }) {
  const start = useMemo(startingForm, []);
  const cf = useCaseForm(() => start.form);
  const [notice, setNotice] = useState<Notice | undefined>(start.notice);
  const [copyStatus, setCopyStatus] = useState('');
  const [report, setReport] = useState<ReportView | undefined>(undefined);
  const [backShown, setBackShown] = useState(false);
  /** the control that jumped to a form field (the "back to results" button returns to it) */
  const jumpedFrom = useRef<HTMLElement | undefined>(undefined);

  // the assessment of the form; while the form is invalid, the last valid one is shown, dimmed
  const current = useMemo(() => {
    const values = readValues(cf.form);
    const caseDoc = caseFromValues(values);
    const v = validateCase(caseDoc);
    if (!v.ok) return { values, caseDoc, issues: v.issues, result: undefined };
    const assessment = assess(kb, v.value, { date: today() });
    return { values, caseDoc, issues: undefined, result: { assessment, empty: isEmptyCase(caseDoc, assessment) } };
  }, [cf.form, kb]);
  const last = useRef<{ assessment: Assessment; empty: boolean } | undefined>(undefined);
  if (current.result) last.current = current.result;
  const shown = last.current;

  useEffect(() => { setCopyStatus(''); }, [current]);
  useEffect(() => {
    saveDraft(current.caseDoc);
    if (current.result) document.body.dataset.empty = String(current.result.empty);
    // the tests wait for this counter: the page has reassessed
    document.body.dataset.updates = String(Number(document.body.dataset.updates ?? 0) + 1);
  }, [current, lang]);

  // ready once the first assessment is drawn; Escape returns from a field reached from the results
  // (the button is far from it in the tab order)
  const backShownRef = useRef(backShown);
  backShownRef.current = backShown;
  useEffect(() => {
    if (start.linked) history.replaceState(null, '', location.pathname + location.search);
    const onKey = (e: KeyboardEvent): void => {
      if (e.key === 'Escape' && backShownRef.current && !document.querySelector('dialog[open]')) backToResults();
    };
    document.addEventListener('keydown', onKey);
    document.body.dataset.ready = '1';
    performance.mark('calcdx-ready');
    return () => {
      document.removeEventListener('keydown', onKey);
      delete document.body.dataset.ready;
    };
  }, []);

  // after "use measured" / "keep mine", the focus goes to the next difference (or "undo")
  const focusMerge = useRef(false);
  useEffect(() => {
    if (!focusMerge.current) return;
    focusMerge.current = false;
    document.querySelector<HTMLElement>('#ct-merge button')?.focus();
  }, [cf.merge]);

  const currentCase = (): Record<string, unknown> => caseFromValues(readValues(cf.current()));

  /** A validation issue in the page's words: fields by their labels. */
  function issueText(i: CaseIssue): string {
    const conflictsWith = i.allowed.conflictsWith;
    return formatIssue(lang, { ...i, path: issuePathLabel(i.path), allowed: { ...i.allowed, ...(conflictsWith ? { conflictsWith: issuePathLabel(conflictsWith) } : {}) } });
  }

  /** "Age" for patient.age; a list member (imaging.calcification.morphology.0) by its list's label. */
  function issuePathLabel(path: string): string {
    const parts = path.split('.');
    for (let n = parts.length; n > 0; n--) {
      const p = parts.slice(0, n).join('.');
      if (FIELD_BY_PATH.has(p)) return fieldLabel(kb, p, lang);
    }
    return path;
  }

  function onQuestion(path: string, member: string | undefined, from: HTMLElement): void {
    if (!focusField(path, member)) return;
    jumpedFrom.current = from;
    setBackShown(true);
  }

  function backToResults(): void {
    setBackShown(false);
    const from = jumpedFrom.current;
    const target = from && from.isConnected ? from : document.getElementById('results-panel');
    target?.scrollIntoView({ block: 'center' });
    target?.focus({ preventScroll: true });
    jumpedFrom.current = undefined;
  }

  async function copyResult(): Promise<void> {
    if (!shown) return;
    const text = summaryParagraph(kb, shown.assessment, lang);
    let ok = false;
    try { await navigator.clipboard.writeText(text); ok = true; } catch {
      // no clipboard permission: copy through a selected text area
      const ta = document.createElement('textarea');
      ta.className = 'sr-only';
      ta.setAttribute('aria-hidden', 'true');
      ta.value = text;
      document.body.append(ta);
      ta.select();
      try { ok = document.execCommand('copy'); } catch { ok = false; }
      ta.remove();
    }
    setCopyStatus(` ${t(lang, ok ? 'web.copy.done' : 'web.copy.failed')}`);
  }

  function downloadIcs(): void {
    if (!shown) return;
    const r = followUpIcs(kb, shown.assessment, lang);
    if (r.ok) download('calcdx-followup.ics', r.ics, 'text/calendar;charset=utf-8');
  }

  function newCase(): void {
    if (readValues(cf.current()).size > 0 && !confirm(t(lang, 'web.clearConfirm'))) return;
    setNotice(undefined);
    cf.load({ formatVersion: 1 });
    try { localStorage.removeItem(DRAFT_KEY); } catch { /* storage unavailable */ }
    const panel = document.getElementById('results-panel');
    if (panel) panel.scrollTop = 0;
  }

  async function importFile(file: File): Promise<void> {
    try {
      const text = await file.text();
      const doc: unknown = parseYaml(text);
      const extra = uncoveredPaths(doc);
      cf.load(doc);
      const v = validateCase(doc);
      if (!v.ok) setNotice({ key: 'web.importFailed', params: { file: file.name, detail: v.issues.map(issueText).join('; ') }, kind: 'error' });
      else if (extra.length) setNotice({ key: 'web.importFailed', params: { file: file.name, detail: extra.join(', ') }, kind: 'error' });
      else setNotice({ key: 'web.imported', params: { file: file.name }, kind: 'info' });
    } catch (e) {
      setNotice({ key: 'web.importFailed', params: { file: file.name, detail: (e as Error).message }, kind: 'error' });
    }
  }

  function exportCase(format: 'yaml' | 'json'): void {
    const doc = currentCase();
    const base = typeof doc.id === 'string' && doc.id ? doc.id.replace(/[^\w.-]+/g, '_') : 'case';
    if (format === 'json') download(`${base}.json`, `${JSON.stringify(doc, null, 2)}\n`, 'application/json');
    else download(`${base}.yaml`, stringifyYaml(doc), 'application/yaml');
  }

  async function openReport(audience: Audience): Promise<void> {
    let html: string;
    let local = false;
    try {
      const res = await fetch(`/api/report?format=html&lang=${lang}&audience=${audience}`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(currentCase()),
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      html = await res.text();
    } catch {
      if (!shown) return;
      html = renderHtml(buildReport(kb, shown.assessment, lang, audience));
      local = true;
    }
    setReport((r) => reportView(html, audience, local, (r?.n ?? 0) + 1));
  }

  // ?lesion=<id>: opened from a patient's timeline; a clinician can keep this assessment in the registry
  const { query, route } = useLocation();
  const { user } = useSession();
  const lesionId = query.lesion;
  const [saveError, setSaveError] = useState<unknown>(undefined);
  const [saving, setSaving] = useState(false);
  const save = async (): Promise<void> => {
    if (!lesionId) return;
    setSaving(true);
    setSaveError(undefined);
    try {
      const r = await assessLesion(lesionId, currentCase());
      route(`/patients/${encodeURIComponent(r.assessment.patientId)}`);
    } catch (e) {
      setSaveError(e);
    } finally {
      setSaving(false);
    }
  };

  const file = useRef<HTMLInputElement>(null);
  const actions = (
    <>
      {lesionId && user?.role === 'clinician' && (
        <button type="button" id="save-registry" disabled={saving} onClick={() => void save()}>{t(lang, 'web.reg.saveAssessment')}</button>
      )}
      <span class="file-button">
        <input type="file" id="import-file" ref={file} accept=".yaml,.yml,.json,application/json,application/yaml,text/yaml"
          onChange={() => { const f = file.current?.files?.[0]; if (f) void importFile(f); if (file.current) file.current.value = ''; }} />
        <label for="import-file">{t(lang, 'web.import')}</label>
      </span>
      <button type="button" id="export-yaml" class="secondary" onClick={() => exportCase('yaml')}>{t(lang, 'web.exportYaml')}</button>
      <button type="button" id="export-json" class="secondary" onClick={() => exportCase('json')}>{t(lang, 'web.exportJson')}</button>
      <button type="button" id="print-clinician" onClick={() => void openReport('clinician')}>{t(lang, 'web.printClinician')}</button>
      <button type="button" id="print-patient" onClick={() => void openReport('patient')}>{t(lang, 'web.printPatient')}</button>
      <button type="button" id="clear" class="secondary" onClick={newCase}>{t(lang, 'web.clear')}</button>
    </>
  );
  const formProps = { kb, lang, form: cf.form, measured: cf.measured, onText: cf.editText, onPattern: cf.editPattern };
  return (
    <>
      <a class="skip" href="#results-panel">{t(lang, 'web.skip')}</a>
      <Shell actions={actions}>
        {lesionId && saveError !== undefined && <div id="save-registry-error"><ProblemView error={saveError} /></div>}
        <StickySummary kb={kb} a={shown?.assessment} lang={lang} empty={shown?.empty ?? true} />
        <main class="layout">
          <section class="form-panel" aria-labelledby="case-heading">
            <h2 id="case-heading">{t(lang, 'web.caseHeading')}</h2>
            <div id="notice" aria-live="polite">
              {notice && <p class={notice.kind === 'error' ? 'alert alert-warning' : 'alert alert-info'}>{t(lang, notice.key, notice.params)}</p>}
            </div>
            <form id="case-form" novalidate onSubmit={(e) => e.preventDefault()}>
              <KeyFields {...formProps} />
              <CtPanelHost lang={lang} onFindings={(f) => cf.applyCt(f, kb, lang)} />
              <CtMergePanel kb={kb} lang={lang} merge={cf.merge} undone={cf.undone}
                onResolve={(d, use) => { focusMerge.current = true; cf.resolveDiff(d, use); }} onUndo={cf.undoMeasurement} />
              <p class="group-tools">
                <button type="button" id="expand-all" class="secondary small" onClick={() => cf.setGroupsOpen(true)}>{t(lang, 'web.expandAll')}</button>
                <button type="button" id="collapse-all" class="secondary small" onClick={() => cf.setGroupsOpen(false)}>{t(lang, 'web.collapseAll')}</button>
              </p>
              <FieldGroups {...formProps} values={current.values} open={cf.openGroups} onToggle={cf.toggleGroup} />
            </form>
          </section>
          <section class="results-panel" id="results-panel" aria-labelledby="results-heading" tabindex={-1}>
            <h2 id="results-heading">{t(lang, 'web.resultsHeading')}</h2>
            <div id="issues" aria-live="polite">
              {current.issues && (
                <div class="alert alert-warning" role="alert">
                  <p>{t(lang, 'web.invalid')}</p>
                  <ul>{current.issues.map((i) => <li>{issueText(i)}</li>)}</ul>
                </div>
              )}
            </div>
            <div id="results" class={current.issues ? 'stale' : undefined}>
              {shown && (shown.empty
                ? <EmptyState kb={kb} lang={lang} onQuestion={onQuestion} />
                : <Results kb={kb} a={shown.assessment} lang={lang} copyStatus={copyStatus} handlers={{ onQuestion, onIcs: downloadIcs, onCopy: () => void copyResult() }} />)}
            </div>
          </section>
        </main>
        <button type="button" id="back-to-results" class="back-to-results" hidden={!backShown} aria-keyshortcuts="Escape" onClick={backToResults}>{t(lang, 'web.backToResults')}</button>
        <ReportDialog lang={lang} report={report} />
      </Shell>
    </>
  );
}
