/**
 * The assessment page's behaviour: the case form, the live assessment (the engine of src/core runs
 * in the page on the knowledge base embedded at build time), the CT panel and how its measurement
 * meets the reader's entries, the draft kept in this browser, import/export and printing.
 * `mountAssessment` runs once the page component (page.tsx) has rendered its frame; the form,
 * results and CT panel inside that frame are built here (src/report's document model and the
 * form builder), the header buttons call the returned controller.
 */
import raw from 'virtual:calcdx-kb';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { assess, type Assessment } from '../../../../src/core/engine/assess.js';
import { validateCase, type CaseIssue } from '../../../../src/core/case-format/validate.js';
import { compileKnowledgeBase, type KnowledgeBase } from '../../../../src/core/knowledge/compile.js';
import { formatIssue, t, type Lang } from '../../../../src/i18n/index.js';
import { buildReport, type Audience } from '../../../../src/report/build.js';
import { followUpIcs } from '../../../../src/report/ics.js';
import { entityName } from '../../../../src/report/describe.js';
import { renderHtml } from '../../../../src/report/render-html.js';
import { boundedPct, decisionOf, isEmptyCase, summaryParagraph } from './assessment-view.js';
import { createCtPanel, type MeasureOutcome } from '../../panels/ct-viewer/ct.js';
import { planMerge, type CtFindings, type MergeDifference } from './ct-merge.js';
import { byId, download, h } from '../../dom.js';
import { FIELD_BY_PATH, MORPHOLOGY, caseFromValues, uncoveredPaths, valuesFromCase, type FieldValue } from './fields.js';
import {
  buildForm, fieldLabel, focusField, readValues, setGroupsOpen, setMeasured, setPatternState, updateGroupCounts, valueLabel, writeValue, writeValues,
} from './form.js';
import { renderEmpty, renderResults } from './results.js';

/** the form as a case document, kept across reloads until "New case" */
const DRAFT_KEY = 'calcdx.draft';

/** What the page component asks of its behaviour. */
export interface AssessmentController {
  setLang(l: Lang): void;
  importFile(file: File): Promise<void>;
  exportCase(format: 'yaml' | 'json'): void;
  newCase(): void;
  openReport(audience: Audience): Promise<void>;
  setGroupsOpen(open: boolean): void;
  backToResults(): void;
  /** the case as the form holds it now (case format v1) */
  currentCase(): Record<string, unknown>;
  /** removes the document-level listeners (the page is left) */
  destroy(): void;
}

/** Starts the page inside its rendered frame (the ids of page.tsx), in language `initial`. */
export function mountAssessment(initial: Lang): AssessmentController {
  let lang: Lang = initial;
  let kb: KnowledgeBase;
  let last: { assessment: Assessment; caseDoc: Record<string, unknown> } | undefined;
  const measured = new Set<string>();
  let notice: { key: string; params: Record<string, unknown>; kind: 'info' | 'error' } | undefined;

  /** what a measurement changed, to undo it, and the differences still to decide */
  let ctUndo: { values: Map<string, FieldValue>; measured: Set<string> } | undefined;
  let ctDiffs: MergeDifference[] = [];
  let ctFilled: string[] = [];
  /** the control that jumped to a form field (the "back to results" link returns to it) */
  let jumpedFrom: HTMLElement | undefined;

  const form = (): HTMLFormElement => byId<HTMLFormElement>('case-form');
  /** the whole form: the key findings and the collapsed groups */
  const fieldsRoot = (): HTMLElement => form();

  function currentCase(): Record<string, unknown> {
    return caseFromValues(readValues(fieldsRoot()));
  }

  let scheduled = false;
  function scheduleUpdate(): void {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(() => { scheduled = false; update(); });
  }

  function update(): void {
    const values = readValues(fieldsRoot());
    const caseDoc = caseFromValues(values);
    saveDraft(caseDoc);
    updateGroupCounts(fieldsRoot(), values, lang);
    const v = validateCase(caseDoc);
    const issues = byId('issues');
    if (!v.ok) {
      // field labels, not case paths, in the page's messages
      issues.replaceChildren(h('div', { class: 'alert alert-warning', role: 'alert' }, h('p', { text: t(lang, 'web.invalid') }),
        h('ul', {}, ...v.issues.map((i) => h('li', { text: issueText(i) })))));
      byId('results').classList.add('stale');
      return;
    }
    issues.replaceChildren();
    // dated from today (the clinician's calendar day): the plan's re-imaging and review dates
    const now = new Date();
    const today = `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, '0')}-${String(now.getDate()).padStart(2, '0')}`;
    const assessment = assess(kb, v.value, { date: today });
    last = { assessment, caseDoc };
    byId('results').classList.remove('stale');
    const handlers = {
      onQuestion: (path: string, member?: string, from?: HTMLElement) => { if (focusField(fieldsRoot(), path, member)) showBackLink(from); },
      onIcs: downloadIcs,
      onCopy: () => void copyResult(),
    };
    const empty = isEmptyCase(caseDoc, assessment);
    document.body.dataset.empty = String(empty);
    if (empty) renderEmpty(byId('results'), kb, lang, handlers);
    else renderResults(byId('results'), kb, assessment, lang, handlers);
    renderSticky(empty);
    renderNotice();
    document.body.dataset.updates = String(Number(document.body.dataset.updates ?? 0) + 1);
  }

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

  /** The one-line result kept in view at narrow widths. */
  function renderSticky(empty: boolean): void {
    const el = byId('sticky-summary');
    if (empty || !last) {
      el.replaceChildren(h('a', { href: '#results-panel', text: t(lang, 'web.empty.short') }));
      el.dataset.urgent = 'false';
      return;
    }
    const a = last.assessment;
    const lead = a.differential[0]!;
    const d = decisionOf(kb, a, lang);
    el.dataset.urgent = String(d.urgent);
    el.replaceChildren(h('a', { href: '#results-panel' },
      h('strong', { text: `${entityName(kb, lead.id, lang)} ${boundedPct(lead.probability)}` }), ' · ',
      t(lang, 'web.malignancy', { p: boundedPct(a.malignancy.probability) }), ' · ',
      h('span', { class: d.urgent ? 'urgent-text' : '', text: d.headline })));
  }

  function showBackLink(from?: HTMLElement): void {
    jumpedFrom = from;
    const el = byId<HTMLButtonElement>('back-to-results');
    el.hidden = false;
  }

  function backToResults(): void {
    byId('back-to-results').hidden = true;
    const target = jumpedFrom && jumpedFrom.isConnected ? jumpedFrom : byId('results-panel');
    target.scrollIntoView({ block: 'center' });
    target.focus({ preventScroll: true });
    jumpedFrom = undefined;
  }

  async function copyResult(): Promise<void> {
    if (!last) return;
    const text = summaryParagraph(kb, last.assessment, lang);
    let ok = false;
    try { await navigator.clipboard.writeText(text); ok = true; } catch {
      // no clipboard permission: copy through a selected text area
      const ta = h('textarea', { class: 'sr-only', 'aria-hidden': 'true' });
      ta.value = text;
      document.body.append(ta);
      ta.select();
      try { ok = document.execCommand('copy'); } catch { ok = false; }
      ta.remove();
    }
    const st = document.getElementById('copy-status');
    if (st) st.textContent = ` ${t(lang, ok ? 'web.copy.done' : 'web.copy.failed')}`;
  }

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

  function renderNotice(): void {
    const el = byId('notice');
    if (!notice) { el.replaceChildren(); return; }
    el.replaceChildren(h('p', { class: notice.kind === 'error' ? 'alert alert-warning' : 'alert alert-info', text: t(lang, notice.key, notice.params) }));
  }

  function loadCase(doc: unknown): void {
    measured.clear();
    for (const el of fieldsRoot().querySelectorAll('.field.measured')) el.classList.remove('measured');
    clearCtMerge();
    writeValues(fieldsRoot(), valuesFromCase(doc));
    update();
  }

  function newCase(): void {
    const hasValues = readValues(fieldsRoot()).size > 0;
    if (hasValues && !confirm(t(lang, 'web.clearConfirm'))) return;
    notice = undefined;
    loadCase({ formatVersion: 1 });
    try { localStorage.removeItem(DRAFT_KEY); } catch { /* storage unavailable */ }
    byId('results-panel').scrollTop = 0;
  }

  const fieldDef = (path: string) => FIELD_BY_PATH.get(path)!;

  /**
   * A measurement meets the form: unknown fields are filled, the reader's entries are kept and
   * each difference is listed with "use measured" / "keep mine"; "undo" restores the form.
   */
  function applyCtFindings(f: CtFindings): MeasureOutcome {
    const before = readValues(fieldsRoot());
    ctUndo = { values: before, measured: new Set(measured) };
    const plan = planMerge(before, f);
    for (const [path, v] of plan.fill) {
      writeValue(fieldsRoot(), fieldDef(path), v);
      measured.add(path);
      setMeasured(fieldsRoot(), path, true);
    }
    for (const m of plan.patternsSeen) setPatternState(fieldsRoot(), m, 'seen');
    for (const path of plan.confirmed) { measured.add(path); setMeasured(fieldsRoot(), path, true); }
    ctFilled = [...plan.fill.keys(), ...(plan.patternsSeen.length ? [MORPHOLOGY] : [])];
    ctDiffs = plan.differences;
    // the groups the measurement changed or questions are opened, so that it is seen
    for (const path of [...ctFilled, ...plan.confirmed, ...ctDiffs.map((d) => d.path)]) {
      const details = fieldsRoot().querySelector(`.field[data-path="${path}"]`)?.closest('details');
      if (details) details.open = true;
    }
    renderCtMerge();
    update();
    return { filled: ctFilled.map(filledLabel), differences: ctDiffs.length };
  }

  /** A filled field by its label; the patterns by the pattern control's name. */
  function filledLabel(path: string): string {
    return path === MORPHOLOGY ? t(lang, 'web.patterns') : fieldLabel(kb, path, lang);
  }

  function shown(path: string, v: FieldValue): string {
    if (v === undefined) return t(lang, 'web.unknown');
    if (typeof v === 'boolean') return t(lang, v ? 'web.present' : 'web.absent');
    if (Array.isArray(v)) return v.map((x) => valueLabel(kb, path, x, lang)).join(', ');
    const def = FIELD_BY_PATH.get(path);
    if (def?.kind === 'number') return `${v}${def.unit ? ` ${def.unit}` : ''}`;
    return valueLabel(kb, path, v, lang);
  }

  function diffLabel(d: MergeDifference): string {
    if (d.member) return `${t(lang, 'web.patterns')}: ${valueLabel(kb, MORPHOLOGY, d.member, lang)}`;
    return fieldLabel(kb, d.path, lang);
  }

  function diffValue(d: MergeDifference, v: FieldValue): string {
    if (d.member) return t(lang, `web.pattern.${String(v)}`);
    return shown(d.path, v);
  }

  function resolveDiff(d: MergeDifference, useMeasured: boolean): void {
    ctDiffs = ctDiffs.filter((x) => x !== d);
    if (useMeasured) {
      if (d.member) setPatternState(fieldsRoot(), d.member, 'seen');
      else writeValue(fieldsRoot(), fieldDef(d.path), d.measured);
      measured.add(d.path);
      setMeasured(fieldsRoot(), d.path, true);
    }
    renderCtMerge();
    update();
    byId('ct-merge').querySelector<HTMLElement>('button')?.focus();
  }

  function undoMeasurement(): void {
    if (!ctUndo) return;
    const { values, measured: before } = ctUndo;
    for (const el of fieldsRoot().querySelectorAll('.field.measured')) el.classList.remove('measured');
    writeValues(fieldsRoot(), values);
    measured.clear();
    for (const p of before) { measured.add(p); setMeasured(fieldsRoot(), p, true); }
    clearCtMerge();
    const el = byId('ct-merge');
    el.replaceChildren(h('p', { class: 'alert alert-info', role: 'status', text: t(lang, 'web.merge.undone') }));
    update();
  }

  function clearCtMerge(): void {
    ctUndo = undefined;
    ctDiffs = [];
    ctFilled = [];
    byId('ct-merge').replaceChildren();
  }

  function renderCtMerge(): void {
    const el = byId('ct-merge');
    if (!ctUndo) { el.replaceChildren(); return; }
    const undo = h('button', { type: 'button', id: 'ct-undo', class: 'secondary', text: t(lang, 'web.merge.undo') });
    undo.addEventListener('click', undoMeasurement);
    const rows = ctDiffs.map((d) => {
      const use = h('button', { type: 'button', class: 'small use-measured', text: t(lang, 'web.merge.useMeasured') });
      use.addEventListener('click', () => resolveDiff(d, true));
      const keep = h('button', { type: 'button', class: 'small secondary keep-mine', text: t(lang, 'web.merge.keepMine') });
      keep.addEventListener('click', () => resolveDiff(d, false));
      return h('li', { class: 'merge-diff', 'data-path': d.path, 'data-member': d.member },
        h('span', { class: 'merge-what' }, h('strong', { text: diffLabel(d) }), ' ',
          t(lang, 'web.merge.values', { mine: diffValue(d, d.mine), measured: diffValue(d, d.measured) })),
        h('span', { class: 'merge-actions' }, use, ' ', keep));
    });
    const sepList = lang === 'zh' ? '、' : ', ';
    el.replaceChildren(h('div', { class: 'merge-panel', role: 'region', 'aria-label': t(lang, 'web.merge.heading') },
      h('p', {}, h('strong', { text: t(lang, 'web.merge.heading') }), ' ',
        ctFilled.length ? t(lang, 'web.merge.filled', { fields: ctFilled.map(filledLabel).join(sepList) }) : t(lang, 'web.merge.nothingFilled')),
      rows.length ? h('p', { text: t(lang, 'web.merge.differ', { count: rows.length }) }) : h('p', { class: 'muted', text: t(lang, 'web.merge.noDifferences') }),
      rows.length ? h('ul', { class: 'merge-list' }, ...rows) : null,
      h('p', {}, undo)));
  }

  function downloadIcs(): void {
    if (!last) return;
    const r = followUpIcs(kb, last.assessment, lang);
    if (r.ok) download('calcdx-followup.ics', r.ics, 'text/calendar;charset=utf-8');
  }

  async function importFile(file: File): Promise<void> {
    try {
      const text = await file.text();
      const doc: unknown = parseYaml(text);
      const extra = uncoveredPaths(doc);
      loadCase(doc);
      const v = validateCase(doc);
      if (!v.ok) notice = { key: 'web.importFailed', params: { file: file.name, detail: v.issues.map(issueText).join('; ') }, kind: 'error' };
      else if (extra.length) notice = { key: 'web.importFailed', params: { file: file.name, detail: extra.join(', ') }, kind: 'error' };
      else notice = { key: 'web.imported', params: { file: file.name }, kind: 'info' };
    } catch (e) {
      notice = { key: 'web.importFailed', params: { file: file.name, detail: (e as Error).message }, kind: 'error' };
    }
    renderNotice();
  }

  function exportCase(format: 'yaml' | 'json'): void {
    const doc = currentCase();
    const base = typeof doc.id === 'string' && doc.id ? doc.id.replace(/[^\w.-]+/g, '_') : 'case';
    if (format === 'json') download(`${base}.json`, `${JSON.stringify(doc, null, 2)}\n`, 'application/json');
    else download(`${base}.yaml`, stringifyYaml(doc), 'application/yaml');
  }

  async function openReport(audience: Audience): Promise<void> {
    const caseDoc = currentCase();
    let html: string;
    let local = false;
    try {
      const res = await fetch(`/api/report?format=html&lang=${lang}&audience=${audience}`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(caseDoc),
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      html = await res.text();
    } catch {
      if (!last) return;
      html = renderHtml(buildReport(kb, last.assessment, lang, audience));
      local = true;
    }
    const dialog = byId<HTMLDialogElement>('report-dialog');
    // The report is self-contained HTML with one inline <style>. The page's CSP (style-src 'self')
    // applies to a srcdoc frame too, so the style is taken out and adopted as a constructed sheet.
    // (taken out of the text: even an inert DOMParser document would report the inline style)
    const styles: string[] = [];
    const body = html.replace(/<style[^>]*>([\s\S]*?)<\/style>/gi, (_m, css: string) => { styles.push(css); return ''; });
    const css = styles.join('\n');
    const frame = h('iframe', { id: 'report-frame', title: t(lang, 'web.printDialog') });
    frame.addEventListener('load', () => {
      const w = frame.contentWindow as (Window & typeof globalThis) | null;
      const d = frame.contentDocument;
      if (!w || !d) return;
      const sheet = new w.CSSStyleSheet();
      sheet.replaceSync(css);
      d.adoptedStyleSheets = [sheet];
      d.documentElement.dataset.ready = '1';
    });
    frame.srcdoc = body;
    const printBtn = h('button', { type: 'button', id: 'report-print', text: t(lang, 'web.print') });
    printBtn.addEventListener('click', () => frame.contentWindow?.print());
    const closeBtn = h('button', { type: 'button', id: 'report-close', class: 'secondary', text: t(lang, 'web.close') });
    closeBtn.addEventListener('click', () => dialog.close());
    dialog.replaceChildren(
      h('div', { class: 'dialog-bar' }, h('h2', { id: 'report-title', text: t(lang, audience === 'patient' ? 'web.printPatient' : 'web.printClinician') }), printBtn, closeBtn),
      local ? h('p', { class: 'muted', text: t(lang, 'web.reportLocal') }) : '',
      frame);
    dialog.setAttribute('aria-labelledby', 'report-title');
    dialog.dataset.audience = audience;
    dialog.showModal();
    printBtn.focus();
  }

  function setLang(l: Lang): void {
    const values = readValues(fieldsRoot());
    lang = l;
    buildForm(byId('key-fields'), byId('fields'), kb, lang);
    writeValues(fieldsRoot(), values);
    for (const p of measured) setMeasured(fieldsRoot(), p, true);
    ct.render(lang);
    renderCtMerge();
    update();
  }

  let ct: ReturnType<typeof createCtPanel>;

  // ---- #case=<base64url of the case JSON>: a case handed over in a link (the "Open in calcdx" link of
  // the CDS Hooks card). Read once at start if it is a valid case, then removed from the address bar.
  function caseFromHash(): unknown {
    const m = /^#case=([A-Za-z0-9_-]+)$/.exec(location.hash);
    if (!m) return undefined;
    try {
      const bin = atob(m[1]!.replace(/-/g, '+').replace(/_/g, '/'));
      return JSON.parse(new TextDecoder().decode(Uint8Array.from(bin, (ch) => ch.charCodeAt(0))));
    } catch { return undefined; }
  }

  function start(): boolean {
    const compiled = compileKnowledgeBase(raw);
    if (!compiled.ok) {
      byId('results').replaceChildren(h('div', { class: 'alert alert-critical', text: `knowledge base invalid: ${compiled.problems.map((p) => `${p.file}: ${p.path}: ${p.message}`).join('; ')}` }));
      return false;
    }
    kb = compiled.kb;
    buildForm(byId('key-fields'), byId('fields'), kb, lang);
    ct = createCtPanel(byId('ct-panel'), () => lang, applyCtFindings);
    ct.render(lang);

    form().addEventListener('submit', (e) => e.preventDefault());
    const onEdit = (e: Event): void => {
      const target = e.target as HTMLElement;
      if (target.closest('#ct-panel, #ct-merge')) return;
      const wrap = target.closest<HTMLElement>('.field');
      const path = wrap?.dataset.path;
      if (path && measured.delete(path)) setMeasured(fieldsRoot(), path, false);
      scheduleUpdate();
    };
    form().addEventListener('input', onEdit);
    form().addEventListener('change', onEdit);
    // Escape returns from a field reached from the results (the button is far from it in the tab order)
    document.addEventListener('keydown', onKey);
    const linked = caseFromHash();
    if (linked !== undefined && validateCase(linked).ok) {
      // a case handed over in the link (e.g. from a CDS Hooks card) wins over a kept draft
      loadCase(linked);
      history.replaceState(null, '', location.pathname + location.search);
    } else {
      const draft = loadDraft();
      if (draft !== undefined && uncoveredPaths(draft).length === 0) {
        writeValues(fieldsRoot(), valuesFromCase(draft));
        notice = { key: 'web.draftRestored', params: {}, kind: 'info' };
      }
    }
    update();
    document.body.dataset.ready = '1';
    performance.mark('calcdx-ready');
    return true;
  }

  function onKey(e: KeyboardEvent): void {
    if (e.key === 'Escape' && !byId('back-to-results').hidden && !document.querySelector('dialog[open]')) backToResults();
  }

  const noop = (): void => undefined;
  if (!start()) {
    return { setLang: noop, importFile: async () => undefined, exportCase: noop, newCase: noop, openReport: async () => undefined, setGroupsOpen: noop, backToResults: noop, currentCase: () => ({ formatVersion: 1 }), destroy: noop };
  }
  return {
    setLang,
    importFile,
    exportCase,
    newCase,
    openReport,
    setGroupsOpen: (open) => setGroupsOpen(fieldsRoot(), open),
    backToResults,
    currentCase,
    destroy: () => {
      document.removeEventListener('keydown', onKey);
      delete document.body.dataset.ready;
    },
  };
}
