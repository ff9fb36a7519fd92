/**
 * The print view: the clinician's or the patient's report (the server's, or built in the page when
 * the server cannot be reached) in a frame of a modal dialog, with "print" and "close".
 * The report is self-contained HTML with one inline <style>. The page's CSP (style-src 'self')
 * applies to a srcdoc frame too, so the style is taken out of the text (even an inert DOMParser
 * document would report the inline style) and adopted by the frame as a constructed sheet.
 */
import { useEffect, useRef } from 'preact/hooks';
import { t, type Lang } from '../../../../src/i18n/index.js';
import type { Audience } from '../../../../src/report/build.js';

export interface ReportView {
  audience: Audience;
  /** the report's HTML without its <style> */
  body: string;
  css: string;
  /** built in the page (the server could not be reached) */
  local: boolean;
  /** counts the openings: each one opens the dialog with a fresh frame */
  n: number;
}

/** Splits a report's HTML into its body and its stylesheet. */
export function reportView(html: string, audience: Audience, local: boolean, n: number): ReportView {
  const styles: string[] = [];
  const body = html.replace(/<style[^>]*>([\s\S]*?)<\/style>/gi, (_m, css: string) => { styles.push(css); return ''; });
  return { audience, body, css: styles.join('\n'), local, n };
}

export function ReportDialog({ lang, report }: { lang: Lang; report: ReportView | undefined }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const frame = useRef<HTMLIFrameElement>(null);
  const print = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (!report) return;
    dialog.current?.showModal();
    print.current?.focus();
  }, [report?.n]);

  const adopt = (): void => {
    const f = frame.current;
    const w = f?.contentWindow as (Window & typeof globalThis) | null | undefined;
    const d = f?.contentDocument;
    if (!w || !d || !report) return;
    const sheet = new w.CSSStyleSheet();
    sheet.replaceSync(report.css);
    d.adoptedStyleSheets = [sheet];
    d.documentElement.dataset.ready = '1';
  };

  return (
    <dialog id="report-dialog" class="report-dialog" ref={dialog} aria-labelledby={report ? 'report-title' : undefined} data-audience={report?.audience}>
      {report && (
        <>
          <div class="dialog-bar">
            <h2 id="report-title">{t(lang, report.audience === 'patient' ? 'web.printPatient' : 'web.printClinician')}</h2>
            <button type="button" id="report-print" ref={print} onClick={() => frame.current?.contentWindow?.print()}>{t(lang, 'web.print')}</button>
            <button type="button" id="report-close" class="secondary" onClick={() => dialog.current?.close()}>{t(lang, 'web.close')}</button>
          </div>
          {report.local ? <p class="muted">{t(lang, 'web.reportLocal')}</p> : ''}
          <iframe key={report.n} id="report-frame" ref={frame} title={t(lang, 'web.printDialog')} srcdoc={report.body} onLoad={adopt} />
        </>
      )}
    </dialog>
  );
}
