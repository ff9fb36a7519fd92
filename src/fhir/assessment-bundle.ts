/**
 * The assessment of a case as a FHIR R4 Bundle with the clinician report rendered as HTML in both
 * languages (what `calcdx assess --format fhir` and `POST /api/assess?format=fhir` answer).
 */
import { randomUUID } from 'node:crypto';
import type { CaseFile } from '../core/case-format/schema.js';
import { assess } from '../core/engine/assess.js';
import type { KnowledgeBase } from '../core/knowledge/compile.js';
import type { Lang } from '../i18n/index.js';
import { buildReport } from '../report/build.js';
import { renderHtml } from '../report/render-html.js';
import { VERSION } from '../report/version.js';
import type { CodeMap } from './code-map.js';
import { assessmentToBundle, type Resource } from './export.js';

export function fhirAssessment(kb: KnowledgeBase, map: CodeMap, c: CaseFile, lang: Lang, now = new Date()): Resource {
  const a = assess(kb, c);
  const html = { en: renderHtml(buildReport(kb, a, 'en', 'clinician')), zh: renderHtml(buildReport(kb, a, 'zh', 'clinician')) };
  return assessmentToBundle(kb, map, c, a, { lang, now: now.toISOString(), uuid: randomUUID, html, version: VERSION });
}
