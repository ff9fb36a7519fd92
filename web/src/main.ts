/**
 * calcdx in the browser: the case form, the live assessment (the engine of src/core runs in the
 * page on the knowledge base embedded at build time), the CT panel, import/export and printing.
 */
import raw from 'virtual:calcdx-kb';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { assess, type Assessment } from '../../src/core/engine/assess.js';
import { validateCase } from '../../src/core/case-format/validate.js';
import { compileKnowledgeBase, type KnowledgeBase } from '../../src/core/knowledge/compile.js';
import { formatIssue, isLang, t, type Lang } from '../../src/i18n/index.js';
import { buildReport, type Audience } from '../../src/report/build.js';
import { followUpIcs } from '../../src/report/ics.js';
import { renderHtml } from '../../src/report/render-html.js';
import { createCtPanel, type CtFindings } from './ct.js';
import { byId, download, h } from './dom.js';
import { FIELD_BY_PATH, caseFromValues, uncoveredPaths, valuesFromCase, type FieldValue } from './fields.js';
import { buildForm, fieldLabel, focusField, readValues, setMeasured, writeValue, writeValues } from './form.js';
import { renderResults } from './results.js';

const LANG_KEY = 'calcdx.lang';

function initialLang(): Lang {
  try {
    const saved = localStorage.getItem(LANG_KEY);
    if (isLang(saved)) return saved;
  } catch { /* storage unavailable */ }
  return navigator.language.toLowerCase().startsWith('zh') ? 'zh' : 'en';
}

let lang: Lang = initialLang();
let kb: KnowledgeBase;
let last: { assessment: Assessment; caseDoc: Record<string, unknown> } | undefined;
const measured = new Set<string>();
let notice: { key: string; params: Record<string, unknown>; kind: 'info' | 'error' } | undefined;

const form = (): HTMLFormElement => byId<HTMLFormElement>('case-form');
const fieldsRoot = (): HTMLElement => byId('fields');

function applyStaticTexts(): void {
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  document.title = t(lang, 'web.title');
  for (const el of document.querySelectorAll<HTMLElement>('[data-i18n]')) el.textContent = t(lang, el.dataset.i18n!);
  const sel = byId<HTMLSelectElement>('lang');
  sel.value = lang;
}

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
  const caseDoc = currentCase();
  const v = validateCase(caseDoc);
  const issues = byId('issues');
  if (!v.ok) {
    issues.replaceChildren(h('div', { class: 'alert alert-warning', role: 'alert' }, h('p', { text: t(lang, 'web.invalid') }),
      h('ul', {}, ...v.issues.map((i) => h('li', { text: formatIssue(lang, i) })))));
    byId('results').classList.add('stale');
    return;
  }
  issues.replaceChildren();
  const assessment = assess(kb, v.value);
  last = { assessment, caseDoc };
  byId('results').classList.remove('stale');
  renderResults(byId('results'), kb, assessment, lang, {
    onQuestion: (path, member) => { focusField(fieldsRoot(), path, member); },
    onIcs: downloadIcs,
  });
  renderNotice();
  document.body.dataset.updates = String(Number(document.body.dataset.updates ?? 0) + 1);
}

function renderNotice(): void {
  const el = byId('notice');
  if (!notice) { el.replaceChildren(); return; }
  el.replaceChildren(h('p', { class: notice.kind === 'error' ? 'alert alert-warning' : 'alert alert-info', text: t(lang, notice.key, notice.params) }));
}

function loadCase(doc: unknown): void {
  measured.clear();
  for (const el of fieldsRoot().querySelectorAll('.field.measured')) el.classList.remove('measured');
  writeValues(fieldsRoot(), valuesFromCase(doc));
  update();
}

function applyCtFindings(f: CtFindings): void {
  for (const [section, values] of Object.entries(f.imaging ?? {})) {
    for (const [k, v] of Object.entries(values ?? {})) {
      const path = `imaging.${section}.${k}`;
      const def = FIELD_BY_PATH.get(path);
      if (!def || v === undefined || v === null) continue;
      writeValue(fieldsRoot(), def, v as FieldValue);
      measured.add(path);
      setMeasured(fieldsRoot(), path, true);
    }
  }
  update();
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
    if (!v.ok) notice = { key: 'web.importFailed', params: { file: file.name, detail: v.issues.map((i) => formatIssue(lang, i)).join('; ') }, kind: 'error' };
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
    const res = await fetch(`api/report?format=html&lang=${lang}&audience=${audience}`, {
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
  try { localStorage.setItem(LANG_KEY, l); } catch { /* storage unavailable */ }
  applyStaticTexts();
  buildForm(fieldsRoot(), kb, lang);
  writeValues(fieldsRoot(), values);
  for (const p of measured) setMeasured(fieldsRoot(), p, true);
  ct.render(lang);
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

function start(): void {
  const compiled = compileKnowledgeBase(raw);
  if (!compiled.ok) {
    byId('results').replaceChildren(h('div', { class: 'alert alert-critical', text: `knowledge base invalid: ${compiled.problems.map((p) => `${p.file}: ${p.path}: ${p.message}`).join('; ')}` }));
    return;
  }
  kb = compiled.kb;
  applyStaticTexts();
  buildForm(fieldsRoot(), kb, lang);
  ct = createCtPanel(byId('ct-panel'), () => lang, applyCtFindings, (path) => fieldLabel(kb, path, lang));
  ct.render(lang);

  form().addEventListener('submit', (e) => e.preventDefault());
  const onEdit = (e: Event): void => {
    const wrap = (e.target as HTMLElement).closest<HTMLElement>('.field');
    const path = wrap?.dataset.path;
    if (path && measured.delete(path)) setMeasured(fieldsRoot(), path, false);
    scheduleUpdate();
  };
  fieldsRoot().addEventListener('input', onEdit);
  fieldsRoot().addEventListener('change', onEdit);
  byId<HTMLSelectElement>('lang').addEventListener('change', (e) => {
    const v = (e.target as HTMLSelectElement).value;
    if (isLang(v)) setLang(v);
  });
  const fileInput = byId<HTMLInputElement>('import-file');
  fileInput.addEventListener('change', () => { const f = fileInput.files?.[0]; if (f) void importFile(f); fileInput.value = ''; });
  byId('export-yaml').addEventListener('click', () => exportCase('yaml'));
  byId('export-json').addEventListener('click', () => exportCase('json'));
  byId('clear').addEventListener('click', () => { if (confirm(t(lang, 'web.clearConfirm'))) { notice = undefined; loadCase({ formatVersion: 1 }); } });
  byId('print-clinician').addEventListener('click', () => void openReport('clinician'));
  byId('print-patient').addEventListener('click', () => void openReport('patient'));
  const linked = caseFromHash();
  if (linked !== undefined && validateCase(linked).ok) {
    loadCase(linked);
    history.replaceState(null, '', location.pathname + location.search);
  }
  update();
  document.body.dataset.ready = '1';
  performance.mark('calcdx-ready');
}

start();
