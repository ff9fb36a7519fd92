/**
 * The headline of the results: the leading diagnosis, the malignancy with the "can't miss"
 * entities (whatever their rank), and the referral decision with the red flags it reconciles,
 * its reason and its safety net (the engine's warning and critical advice); "copy result" puts
 * the one-paragraph summary for the record on the clipboard.
 */
import type { Assessment } from '../../../../src/core/engine/assess.js';
import type { KnowledgeBase } from '../../../../src/core/knowledge/compile.js';
import { t, type Lang } from '../../../../src/i18n/index.js';
import { entityName } from '../../../../src/report/describe.js';
import { boundedPct, cantMiss, decisionOf } from './assessment-view.js';

export function DecisionPanel({ kb, a, lang }: { kb: KnowledgeBase; a: Assessment; lang: Lang }) {
  const d = decisionOf(kb, a, lang);
  return (
    <div id="decision" class="decision" data-urgent={String(d.urgent)}>
      <p><strong id="decision-headline" class={d.urgent ? 'urgent-text' : ''}>{d.headline}</strong></p>
      {d.redFlags.length
        ? <p id="decision-flags"><span class="lead-label">{`${t(lang, 'report.redFlags')} (${d.redFlags.length}): `}</span>{d.redFlags.join(lang === 'zh' ? '；' : '; ')}</p>
        : <p id="decision-flags" class="muted">{t(lang, 'report.noRedFlags')}</p>}
      <p id="decision-reason">{d.reason}</p>
      {a.safety.filter((x) => x.severity !== 'info').map((x) => (
        <div class={`alert alert-${x.severity} safety-net`} role={x.severity === 'critical' ? 'alert' : undefined} data-safety={x.id}>{x.text[lang]}</div>
      ))}
    </div>
  );
}

export function SummaryPanel({ kb, a, lang, copyStatus, onCopy }: { kb: KnowledgeBase; a: Assessment; lang: Lang; copyStatus: string; onCopy: () => void }) {
  const name = (id: string): string => entityName(kb, id, lang);
  const sep = lang === 'zh' ? '，' : ', ';
  const lead = a.differential[0]!;
  const urgent = a.malignancy.urgentReferral;
  // (the leading diagnosis is in the line above: not repeated when it is malignant itself)
  const cm = cantMiss(kb, a, 4).filter((x) => x.id !== lead.id).slice(0, 3);
  return (
    <div class={`summary ${urgent ? 'urgent' : ''}`} id="summary">
      <p class="lead">
        <span class="lead-label">{`${t(lang, 'web.top')}: `}</span>
        <strong id="top-diagnosis" data-entity={lead.id}>{name(lead.id)}</strong>{' '}
        <span class="p" id="top-p">{boundedPct(lead.probability)}</span>
      </p>
      <p id="malignancy-line">{t(lang, 'web.malignancy', { p: boundedPct(a.malignancy.probability) })}</p>
      {cm.length > 0 && (
        <p id="cant-miss" class="cant-miss">
          <span class="lead-label">{`${t(lang, 'web.cantMiss')}: `}</span>
          {cm.map((x, i) => <>{i ? sep : ''}<span data-entity={x.id}>{`${name(x.id)} ${boundedPct(x.probability)}`}</span></>)}
        </p>
      )}
      <DecisionPanel kb={kb} a={a} lang={lang} />
      <p class="summary-actions">
        <button type="button" id="copy-result" class="secondary small" onClick={onCopy}>{t(lang, 'web.copy.button')}</button>
        <span id="copy-status" class="muted" role="status">{copyStatus}</span>
      </p>
    </div>
  );
}

/** The one-line result kept in view at narrow widths. */
export function StickySummary({ kb, a, lang, empty }: { kb: KnowledgeBase; a: Assessment | undefined; lang: Lang; empty: boolean }) {
  if (empty || !a) {
    return <div id="sticky-summary" class="sticky-summary" data-urgent="false"><a href="#results-panel">{t(lang, 'web.empty.short')}</a></div>;
  }
  const lead = a.differential[0]!;
  const d = decisionOf(kb, a, lang);
  return (
    <div id="sticky-summary" class="sticky-summary" data-urgent={String(d.urgent)}>
      <a href="#results-panel">
        <strong>{`${entityName(kb, lead.id, lang)} ${boundedPct(lead.probability)}`}</strong>{' · '}
        {t(lang, 'web.malignancy', { p: boundedPct(a.malignancy.probability) })}{' · '}
        <span class={d.urgent ? 'urgent-text' : ''}>{d.headline}</span>
      </a>
    </div>
  );
}
