/**
 * The next best questions: the most informative first, one entry per finding across modalities
 * (mergeQuestions), a meter for how much each would tell and what each answer would make of the
 * leader. Each question jumps to its form field (`onQuestion`, with the button it came from).
 */
import type { Assessment } from '../../../../src/core/engine/assess.js';
import type { KnowledgeBase } from '../../../../src/core/knowledge/compile.js';
import { t, type Lang } from '../../../../src/i18n/index.js';
import { entityName, findingValueLabel, questionText } from '../../../../src/report/describe.js';
import { boundedPct } from './assessment-view.js';
import { mergeQuestions } from './results.js';

export type OnQuestion = (path: string, member: string | undefined, from: HTMLElement) => void;

export function NextQuestions({ kb, a, lang, onQuestion }: { kb: KnowledgeBase; a: Assessment; lang: Lang; onQuestion: OnQuestion }) {
  const merged = mergeQuestions(a.nextQuestions);
  const target = (finding: string): { path: string; member?: string } => {
    const fi = kb.findingIndex.get(finding);
    const f = fi === undefined ? undefined : kb.findings[fi];
    return { path: f ? f.path.join('.') : finding, member: f?.member };
  };
  const go = (finding: string) => (e: Event): void => {
    const to = target(finding);
    onQuestion(to.path, to.member, e.currentTarget as HTMLElement);
  };
  const maxGain = Math.max(...merged.map((m) => m.gain));
  return (
    <>
      <h3>{t(lang, 'report.nextQuestions')}</h3>
      {merged.length ? (
        <ol class="questions">
          {merged.map((m, idx) => {
            const q = m.questions[0]!;
            const tests = m.questions.map((x) => t(lang, `test.${x.test}`)).join(lang === 'zh' ? '或' : ' or ');
            const rel = m.gain / maxGain;
            const outcomes = q.outcomes.filter((o) => o.probability >= 0.05).map((o) => t(lang, 'report.ifAnswer', {
              value: findingValueLabel(kb, q.finding, o.value, lang),
              p: boundedPct(o.probability), leader: entityName(kb, o.leader, lang), lp: boundedPct(o.leaderProbability),
            })).join(lang === 'zh' ? '；' : '; ');
            return (
              <li key={m.key} data-key={m.key}>
                <span class="q-head">
                  <button type="button" class="question" data-finding={q.finding} onClick={go(q.finding)}>
                    <strong>{questionText(kb, q.finding, lang)}</strong><span class="muted">{` (${tests})`}</span>
                  </button>
                  {m.questions.slice(1).map((x) => (
                    <>{' '}<button type="button" class="question alt" data-finding={x.finding} onClick={go(x.finding)}>{t(lang, 'web.orField', { test: t(lang, `test.${x.test}`) })}</button></>
                  ))}
                </span>
                <span class="info-meter" role="img" title={t(lang, 'web.informative')}
                  aria-label={t(lang, idx === 0 ? 'web.mostInformative' : 'web.informativeShare', { p: Math.round(rel * 100) })}>
                  <span class="info-track" aria-hidden="true"><span class="info-fill" style={{ width: `${Math.max(4, rel * 100).toFixed(0)}%` }} /></span>
                  {idx === 0 ? <span class="info-label" aria-hidden="true">{t(lang, 'web.mostInformative')}</span> : null}
                </span>
                <p class="outcomes muted">{outcomes}</p>
              </li>
            );
          })}
        </ol>
      ) : <p class="muted">{t(lang, 'web.noQuestions')}</p>}
    </>
  );
}
