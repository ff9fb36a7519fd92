/**
 * An error of a command as the sentence calcdx prints and its exit code. Imported only when a
 * command fails (src/cli/main.ts), so a command that succeeds does not load the error catalogue.
 */
import { ImagingError } from '../imaging/errors.js';
import { RoiError } from '../imaging/roi.js';
import { formatIssue, t, type Lang } from '../i18n/index.js';
import { CalcdxError } from '../io/errors.js';
import { KnowledgeBaseError, loadKnowledgeBase } from '../io/kb-files.js';
import { fieldLabel } from '../report/describe.js';
import { FhirInputError } from '../fhir/messages.js';

export function errorText(e: unknown, lang: Lang): { text: string; exitCode: number } {
  if (e instanceof CalcdxError) {
    const head = t(lang, `error.${e.code}`, e.params);
    let kb: ReturnType<typeof loadKnowledgeBase> | undefined;
    if (e.issues.length) { try { kb = loadKnowledgeBase(); } catch { kb = undefined; } }
    const lines = e.issues.map((i) => `  - ${formatIssue(lang, i, fieldLabel(kb, i.path, lang), true)}`);
    // a case_invalid error lists its first issues and counts them all
    const more = typeof e.params.count === 'number' ? e.params.count - e.issues.length : 0;
    if (e.code === 'case_invalid' && more > 0) lines.push(`  ${t(lang, 'error.more_issues', { count: more })}`);
    return { text: [head, ...lines].join('\n'), exitCode: e.code === 'usage' ? 2 : 1 };
  }
  if (e instanceof ImagingError) {
    const series = e.series.map((x) => `  - ${x.seriesInstanceUid}${x.description ? ` "${x.description}"` : ''}${x.modality ? ` ${x.modality}` : ''}, ${x.files} file(s)`);
    return { text: [t(lang, 'error.imaging', { file: e.file, what: t(lang, `imaging.${e.code}`), detail: e.detail }), ...series].join('\n'), exitCode: 1 };
  }
  // a DICOMweb error (src/pacs/errors.ts; matched by name so that other commands do not load the client)
  if (e instanceof Error && e.name === 'PacsError') {
    const p = e as Error & { code: string; archive: string; context: string; detail: string };
    return { text: t(lang, 'error.pacs', { archive: p.archive, context: p.context, what: t(lang, `pacs.${p.code}`), detail: p.detail }), exitCode: 1 };
  }
  // a registry error (src/registry/errors.ts; matched by name so that other commands do not load the registry)
  if (e instanceof Error && e.name === 'RegistryError') {
    const r = e as Error & { code: string };
    return { text: t(lang, 'error.registry', { what: t(lang, `registry.${r.code}`), detail: r.message }), exitCode: 1 };
  }
  if (e instanceof RoiError) return { text: t(lang, 'error.roi', { what: t(lang, `roi.${e.code}`), detail: e.message }), exitCode: e.code === 'roi_required' || e.code === 'roi_syntax' ? 2 : 1 };
  if (e instanceof FhirInputError) return { text: e.render(lang), exitCode: 1 };
  if (e instanceof KnowledgeBaseError) return { text: t(lang, 'error.kb_invalid', { detail: e.problems.join('\n') }), exitCode: 3 };
  const err = e as Error;
  return { text: t(lang, 'error.internal', { detail: err?.message ?? String(e) }), exitCode: 70 };
}
