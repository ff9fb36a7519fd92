/**
 * The results panel: the headline (summary-panel.tsx), the further safety information and the
 * case's warnings (inconsistencies, too few findings, radiology-pathology discordance), the
 * differential, the next best questions, then the clinician report's detail (report-blocks.tsx)
 * and the disclaimer. An empty form shows an empty state that asks for the key findings instead,
 * without alarm colours before there is a finding.
 */
import type { Assessment } from '../../../../src/core/engine/assess.js';
import type { KnowledgeBase } from '../../../../src/core/knowledge/compile.js';
import { t, type Lang } from '../../../../src/i18n/index.js';
import { warningText } from '../../../../src/report/describe.js';
import { Differential } from './differential.js';
import { NextQuestions, type OnQuestion } from './next-questions.js';
import { ReportDetail } from './report-blocks.js';
import { SummaryPanel } from './summary-panel.js';

export interface ResultsHandlers {
  onQuestion: OnQuestion;
  onIcs: () => void;
  onCopy: () => void;
}

/** The key findings the empty state asks for, with the field each jumps to. */
const EMPTY_ASKS: Array<{ key: string; path: string }> = [
  { key: 'region', path: 'lesion.region' }, { key: 'depth', path: 'lesion.depth' },
  { key: 'size', path: 'lesion.sizeCm' }, { key: 'pattern', path: 'imaging.calcification.morphology' },
];

export function EmptyState({ kb, lang, onQuestion }: { kb: KnowledgeBase; lang: Lang; onQuestion: OnQuestion }) {
  return (
    <>
      <div class="empty-state" id="empty-state">
        <p class="empty-title">{t(lang, 'web.empty.title')}</p>
        <p>{t(lang, 'web.empty.body')}</p>
        <ul class="empty-asks">
          {EMPTY_ASKS.map((ask) => (
            <li><button type="button" class="question" data-path={ask.path} onClick={(e) => onQuestion(ask.path, undefined, e.currentTarget)}>{t(lang, `web.empty.${ask.key}`)}</button></li>
          ))}
        </ul>
        <p class="muted">{t(lang, 'web.empty.note')}</p>
      </div>
      <p class="disclaimer">{kb.plans.disclaimer[lang]}</p>
    </>
  );
}

export function Results({ kb, a, lang, copyStatus, handlers }: { kb: KnowledgeBase; a: Assessment; lang: Lang; copyStatus: string; handlers: ResultsHandlers }) {
  return (
    <>
      <SummaryPanel kb={kb} a={a} lang={lang} copyStatus={copyStatus} onCopy={handlers.onCopy} />
      {a.safety.filter((y) => y.severity === 'info').map((x) => <div class="alert alert-info" data-safety={x.id}>{x.text[lang]}</div>)}
      {a.warnings.map((w) => <div class="alert alert-warning case-warning" data-warning={w.code}>{`${t(lang, 'report.warnings')}: ${warningText(kb, w, lang)}`}</div>)}
      <Differential kb={kb} a={a} lang={lang} />
      <NextQuestions kb={kb} a={a} lang={lang} onQuestion={handlers.onQuestion} />
      <ReportDetail kb={kb} a={a} lang={lang} onIcs={handlers.onIcs} />
      <p class="disclaimer">{kb.plans.disclaimer[lang]}</p>
    </>
  );
}
