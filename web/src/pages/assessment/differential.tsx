/**
 * The differential: one bar per entity (the first twelve, then those of at least 0.1 %), its
 * group, and on click the evidence for and against it with the likelihood ratios, the prior and
 * the entity's references. An entity's panel stays open across updates (its element is kept by
 * entity).
 */
import type { Assessment } from '../../../../src/core/engine/assess.js';
import type { KnowledgeBase } from '../../../../src/core/knowledge/compile.js';
import { t, type Lang } from '../../../../src/i18n/index.js';
import { entityName, evidenceText, groupName } from '../../../../src/report/describe.js';
import { boundedPct } from './assessment-view.js';

type Evidence = Assessment['differential'][number]['evidence'][number];

const toneOf = (g: string): string => (g === 'malignant' ? 'malignant' : g === 'intermediate' ? 'intermediate' : 'benign');

export function Differential({ kb, a, lang }: { kb: KnowledgeBase; a: Assessment; lang: Lang }) {
  const ev = (e: Evidence) => <li>{evidenceText(kb, e, lang)}<span class="lr">{` ×${e.lr < 1 ? e.lr.toFixed(2) : e.lr.toFixed(1)}`}</span></li>;
  return (
    <>
      <h3>{t(lang, 'report.differential')}</h3>
      <ol class="differential">
        {a.differential.filter((dx, i) => !(i >= 12 && dx.probability < 0.001)).map((dx) => {
          const forE = dx.evidence.filter((e) => e.role !== 'prior' && e.direction === 'for');
          const againstE = dx.evidence.filter((e) => e.role !== 'prior' && e.direction === 'against');
          const prior = dx.evidence.filter((e) => e.role === 'prior');
          const ent = kb.entities[kb.entityIndex.get(dx.id)!];
          const sources = (ent?.sources ?? []).slice(0, 3);
          return (
            <li key={dx.id}>
              <details class={`dx tone-${toneOf(dx.group)}`} data-entity={dx.id}>
                <summary>
                  <span class="bar-label">{`${dx.rank}. ${entityName(kb, dx.id, lang)}`}</span>
                  <span class="bar-track" aria-hidden="true"><span class="bar-fill" style={{ width: `${Math.max(0.5, dx.probability * 100).toFixed(1)}%` }} /></span>
                  <span class="bar-value">{boundedPct(dx.probability)}</span>
                  <span class="bar-note">{groupName(dx.group, lang)}</span>
                </summary>
                <div class="evidence">
                  <div class="ev-for"><h4>{t(lang, 'web.evidenceFor')}</h4>{forE.length ? <ul>{forE.map(ev)}</ul> : <p class="muted">—</p>}</div>
                  <div class="ev-against"><h4>{t(lang, 'web.evidenceAgainst')}</h4>{againstE.length ? <ul>{againstE.map(ev)}</ul> : <p class="muted">—</p>}</div>
                  <p class="prior muted">
                    {t(lang, 'web.priorLine', { p: boundedPct(dx.prior) })}
                    {prior.length ? ` (${prior.map((e) => `${evidenceText(kb, e, lang)} ×${e.lr.toFixed(1)}`).join('; ')})` : ''}
                  </p>
                  {!forE.length && !againstE.length ? <p class="muted">{t(lang, 'web.noEvidence')}</p> : null}
                  {sources.length > 0 && (
                    <p class="sources">
                      {`${t(lang, 'web.reference', { count: sources.length })}: `}
                      {sources.map((src, k) => <>{k ? '; ' : ''}<a class="source" href={src.url} target="_blank" rel="noopener noreferrer">{src.title}</a></>)}
                    </p>
                  )}
                </div>
              </details>
            </li>
          );
        })}
      </ol>
    </>
  );
}
