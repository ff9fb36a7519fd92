/**
 * The work of `calcdx fhir import` and of `calcdx assess --format fhir` (loaded on demand).
 */
import { stringify } from 'yaml';
import type { CaseFile } from '../core/case-format/schema.js';
import { fhirAssessment } from '../fhir/assessment-bundle.js';
import { fhirToCase } from '../fhir/import.js';
import { parseFhirText } from '../fhir/parse.js';
import type { Lang } from '../i18n/index.js';
import { readCaseBytes } from '../io/case-file.js';
import { loadFhirCodeMap } from '../io/fhir-map-file.js';
import { loadKnowledgeBase } from '../io/kb-files.js';
import { writeFileAtomic } from '../io/write-file.js';
import type { FhirImportOptions } from './fhir.js';

/** a FHIR input file: JSON, at most this many bytes */
export const MAX_FHIR_BYTES = 8 * 1024 * 1024;

export function parseFhirJson(bytes: Buffer): unknown {
  return parseFhirText(bytes.toString('utf8'));
}

export function fhirImportCommand(file: string, o: FhirImportOptions, lang: Lang): void {
  const input = parseFhirJson(readCaseBytes(file, MAX_FHIR_BYTES));
  const referenceDate = o.referenceDate ?? new Date().toISOString().slice(0, 10);
  const r = fhirToCase(loadFhirCodeMap(), input, { referenceDate, lang, strict: o.strict });
  const text = o.json ? `${JSON.stringify({ case: r.case, mapped: r.mapped, unmapped: r.unmapped }, null, 2)}\n` : stringify(r.case);
  if (o.out) writeFileAtomic(o.out, text);
  else process.stdout.write(text);
  const head = lang === 'zh' ? `读取 ${r.resources} 个资源，映射 ${r.mapped.length} 个字段，${r.unmapped.length} 项未映射` : `${r.resources} resources read, ${r.mapped.length} case fields mapped, ${r.unmapped.length} item(s) not mapped`;
  process.stderr.write(`calcdx: ${head}${r.unmapped.length ? (lang === 'zh' ? '：' : ':') : ''}\n`);
  for (const u of r.unmapped) process.stderr.write(`  - ${u.resource} ${u.element}${u.code ? ` ${u.code}` : ''}${u.caseField ? ` (→ ${u.caseField})` : ''}: ${u.why}\n`);
}

export function renderFhirAssessment(c: CaseFile, lang: Lang): string {
  return `${JSON.stringify(fhirAssessment(loadKnowledgeBase(), loadFhirCodeMap(), c, lang), null, 2)}\n`;
}
