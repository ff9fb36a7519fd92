/**
 * What the results panel takes from an assessment, as pure functions (no DOM, tested in Node):
 * the next questions with the CT and MRI (or X-ray, ultrasound) versions of one finding as one
 * entry, and the blocks of the clinician report's document model (src/report/build.ts) shown
 * below the differential, so that the page and the printed report agree.
 */
import type { Assessment } from '../../../../src/core/engine/assess.js';
import type { NextQuestion } from '../../../../src/core/engine/next-questions.js';
import type { KnowledgeBase } from '../../../../src/core/knowledge/compile.js';
import { t, type Lang } from '../../../../src/i18n/index.js';
import { buildClinicianReport } from '../../../../src/report/build.js';
import type { Block } from '../../../../src/report/document.js';

/** Next questions with the CT and MRI (or X-ray, ultrasound) versions of one finding as one entry. */
export interface MergedQuestion { key: string; questions: NextQuestion[]; gain: number }
const MODALITY = /^imaging\.(ct|mri|xray|ultrasound)\.(.+)$/;
export function mergeQuestions(qs: readonly NextQuestion[]): MergedQuestion[] {
  const out: MergedQuestion[] = [];
  for (const q of qs) {
    const m = MODALITY.exec(q.finding);
    const key = m ? `imaging.*.${m[2]}` : q.finding;
    const same = out.find((x) => x.key === key);
    if (same) { same.questions.push(q); same.gain = Math.max(same.gain, q.expectedGain); } else out.push({ key, questions: [q], gain: q.expectedGain });
  }
  return out;
}

/**
 * The clinician report's detail from its mechanism on (its appendix; page 1 is a summary of what
 * the page shows above), without the next questions (the page has its own) and the disclaimer
 * (the page ends with it). `followUp` marks the follow-up heading (the calendar download goes after it).
 */
export function reportDetail(kb: KnowledgeBase, a: Assessment, lang: Lang): Array<{ block: Block; followUp: boolean }> {
  const doc = buildClinicianReport(kb, a, lang);
  const detail = doc.blocks.flatMap((b) => (b.kind === 'section' ? (b.role === 'appendix' ? b.blocks : []) : [b]));
  const start = detail.findIndex((b) => b.kind === 'heading' && b.text === t(lang, 'report.mechanism'));
  const skip = new Set([t(lang, 'report.nextQuestions'), t(lang, 'report.disclaimer')]);
  const out: Array<{ block: Block; followUp: boolean }> = [];
  let skipping = false;
  for (const b of detail.slice(start)) {
    if (b.kind === 'heading') skipping = skip.has(b.text);
    if (skipping || b.kind === 'title') continue;
    out.push({ block: b, followUp: b.kind === 'heading' && b.text === t(lang, 'report.followUp') });
  }
  return out;
}
