/**
 * The report of one case in a command-line format: what `calcdx assess` and `calcdx demo` print.
 * Imported when those commands run (src/cli/main.ts), with the engine, the knowledge base and the
 * report code it needs.
 */
import type { CaseFile } from '../core/case-format/schema.js';
import { assess } from '../core/engine/assess.js';
import type { Lang } from '../i18n/index.js';
import { loadBundledKnowledgeBase } from '../io/kb-load.js';
import { buildReport, type Audience } from '../report/build.js';
import type { EvidenceScope } from '../report/evidence-scope.js';
import { assessmentToJson } from '../report/json.js';
import { renderHtml } from '../report/render-html.js';
import { renderMarkdown, renderText } from '../report/render-text.js';

export type ReportFormat = 'text' | 'md' | 'html' | 'json';

export async function renderCase(c: CaseFile, format: ReportFormat, lang: Lang, audience: Audience, evidence: EvidenceScope, date: string): Promise<string> {
  const kb = await loadBundledKnowledgeBase();
  const a = assess(kb, c, { date });
  if (format === 'json') return `${JSON.stringify(assessmentToJson(kb, a, lang, evidence), null, 2)}\n`;
  const doc = buildReport(kb, a, lang, audience);
  return format === 'html' ? renderHtml(doc) : format === 'md' ? renderMarkdown(doc) : renderText(doc);
}
