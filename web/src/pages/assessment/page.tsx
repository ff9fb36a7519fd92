/**
 * The assessment page (`/`): the case form with the CT panel on the left, the live assessment on
 * the right, the one-line summary kept in view at narrow widths, the report dialog. This component
 * draws the frame and the header's actions; what fills the form and the results, and what the
 * buttons do, is controller.ts (built from the form builder and src/report's document model).
 * The element ids are the page's contract with its tests (test/e2e/web*.test.ts).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { t } from '../../../../src/i18n/index.js';
import { assessLesion } from '../../api/registry.js';
import { Shell } from '../../app/shell.js';
import { useLang } from '../../app/lang.js';
import { useSession } from '../../app/session.js';
import { ProblemView } from '../../components/problem-view.js';
import { mountAssessment, type AssessmentController } from './controller.js';

export function AssessmentPage() {
  const { lang } = useLang();
  const ctrl = useRef<AssessmentController | undefined>(undefined);
  const mountedLang = useRef(lang);

  useEffect(() => {
    ctrl.current = mountAssessment(mountedLang.current);
    return () => { ctrl.current?.destroy(); ctrl.current = undefined; };
  }, []);
  useEffect(() => {
    if (!ctrl.current || mountedLang.current === lang) return;
    mountedLang.current = lang;
    ctrl.current.setLang(lang);
  }, [lang]);

  // ?lesion=<id>: opened from a patient's timeline; a clinician can keep this assessment in the registry
  const { query, route } = useLocation();
  const { user } = useSession();
  const lesionId = query.lesion;
  const [saveError, setSaveError] = useState<unknown>(undefined);
  const [saving, setSaving] = useState(false);
  const save = async (): Promise<void> => {
    if (!lesionId || !ctrl.current) return;
    setSaving(true);
    setSaveError(undefined);
    try {
      const r = await assessLesion(lesionId, ctrl.current.currentCase());
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
          onChange={() => { const f = file.current?.files?.[0]; if (f) void ctrl.current?.importFile(f); if (file.current) file.current.value = ''; }} />
        <label for="import-file">{t(lang, 'web.import')}</label>
      </span>
      <button type="button" id="export-yaml" class="secondary" onClick={() => ctrl.current?.exportCase('yaml')}>{t(lang, 'web.exportYaml')}</button>
      <button type="button" id="export-json" class="secondary" onClick={() => ctrl.current?.exportCase('json')}>{t(lang, 'web.exportJson')}</button>
      <button type="button" id="print-clinician" onClick={() => void ctrl.current?.openReport('clinician')}>{t(lang, 'web.printClinician')}</button>
      <button type="button" id="print-patient" onClick={() => void ctrl.current?.openReport('patient')}>{t(lang, 'web.printPatient')}</button>
      <button type="button" id="clear" class="secondary" onClick={() => ctrl.current?.newCase()}>{t(lang, 'web.clear')}</button>
    </>
  );
  // The elements below without children (#key-fields, #fields, #ct-panel, #results…) are filled by
  // controller.ts; Preact never re-renders into them (they have no children of its own) and their
  // attributes do not change between renders, so what the controller sets there stays.
  return (
    <>
      <a class="skip" href="#results-panel">{t(lang, 'web.skip')}</a>
      <Shell actions={actions}>
        {lesionId && saveError !== undefined && <div id="save-registry-error"><ProblemView error={saveError} /></div>}
        <div id="sticky-summary" class="sticky-summary" />
        <main class="layout">
          <section class="form-panel" aria-labelledby="case-heading">
            <h2 id="case-heading">{t(lang, 'web.caseHeading')}</h2>
            <div id="notice" aria-live="polite" />
            <form id="case-form" novalidate>
              <div id="key-fields" />
              <section id="ct-panel" class="ct-panel" />
              <div id="ct-merge" aria-live="polite" />
              <p class="group-tools">
                <button type="button" id="expand-all" class="secondary small" onClick={() => ctrl.current?.setGroupsOpen(true)}>{t(lang, 'web.expandAll')}</button>
                <button type="button" id="collapse-all" class="secondary small" onClick={() => ctrl.current?.setGroupsOpen(false)}>{t(lang, 'web.collapseAll')}</button>
              </p>
              <div id="fields" />
            </form>
          </section>
          <section class="results-panel" id="results-panel" aria-labelledby="results-heading" tabindex={-1}>
            <h2 id="results-heading">{t(lang, 'web.resultsHeading')}</h2>
            <div id="issues" aria-live="polite" />
            <div id="results" />
          </section>
        </main>
        <button type="button" id="back-to-results" class="back-to-results" hidden aria-keyshortcuts="Escape" onClick={() => ctrl.current?.backToResults()}>{t(lang, 'web.backToResults')}</button>
        <dialog id="report-dialog" class="report-dialog" />
      </Shell>
    </>
  );
}
