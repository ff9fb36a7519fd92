/**
 * An assessment as the registry keeps it: the engine run on a case (case format v1), its full
 * JSON output (src/report/json.ts, all evidence), the knowledge-base and engine versions.
 * The route and the command that add assessments both build it here.
 */
import { assess } from '../core/engine/assess.js';
import type { CaseFile } from '../core/case-format/schema.js';
import type { KnowledgeBase } from '../core/knowledge/compile.js';
import type { Lang } from '../i18n/index.js';
import { assessmentToJson } from '../report/json.js';
import { kbVersion } from '../report/kb-version.js';
import { VERSION } from '../report/version.js';
import type { AssessmentInput } from './schema.js';

export function assessmentRecord(kb: KnowledgeBase, lesionId: string, c: CaseFile, assessedOn: string, lang: Lang = 'en'): AssessmentInput {
  const a = assess(kb, c, { date: assessedOn });
  return {
    lesionId,
    caseInput: JSON.parse(JSON.stringify(c)) as Record<string, unknown>,
    output: assessmentToJson(kb, a, lang, 'all'),
    kbVersion: kbVersion(kb),
    engineVersion: VERSION,
    assessedOn,
  };
}
