/**
 * An assessment as the registry keeps it: the engine run on a case (case format v1), its full
 * JSON output as the API and `calcdx assess --format json` return it (src/report/json.ts; the
 * evidence of the leading entities, ~30 kB — with every entity's evidence it is ~90 kB, three
 * times the storage for what no report shows), the knowledge-base and engine versions.
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
    output: assessmentToJson(kb, a, lang, 'leading'),
    kbVersion: kbVersion(kb),
    engineVersion: VERSION,
    assessedOn,
  };
}
