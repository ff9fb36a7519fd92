/**
 * What a CT measurement did to the form (ct-merge.ts decides): the fields it filled, each
 * difference from the reader's entries with "use measured" / "keep mine", and "undo", which
 * restores the form as it was before measuring.
 */
import type { KnowledgeBase } from '../../../../src/core/knowledge/compile.js';
import { t, type Lang } from '../../../../src/i18n/index.js';
import type { MergeDifference } from './ct-merge.js';
import { FIELD_BY_PATH, MORPHOLOGY, type FieldValue } from './fields.js';
import { fieldLabel, valueLabel } from './form.js';

/** The last measurement's outcome still on the page: the paths it filled, the differences still to decide. */
export interface MergeView { filled: string[]; diffs: MergeDifference[] }

/** A filled field by its label; the patterns by the pattern control's name. */
export function filledLabel(kb: KnowledgeBase, path: string, lang: Lang): string {
  return path === MORPHOLOGY ? t(lang, 'web.patterns') : fieldLabel(kb, path, lang);
}

function shown(kb: KnowledgeBase, path: string, v: FieldValue, lang: Lang): string {
  if (v === undefined) return t(lang, 'web.unknown');
  if (typeof v === 'boolean') return t(lang, v ? 'web.present' : 'web.absent');
  if (Array.isArray(v)) return v.map((x) => valueLabel(kb, path, x, lang)).join(', ');
  const def = FIELD_BY_PATH.get(path);
  if (def?.kind === 'number') return `${v}${def.unit ? ` ${def.unit}` : ''}`;
  return valueLabel(kb, path, v, lang);
}

export function CtMergePanel({ kb, lang, merge, undone, onResolve, onUndo }: {
  kb: KnowledgeBase; lang: Lang; merge: MergeView | undefined; undone: boolean;
  onResolve: (d: MergeDifference, useMeasured: boolean) => void; onUndo: () => void;
}) {
  const diffLabel = (d: MergeDifference): string => (d.member ? `${t(lang, 'web.patterns')}: ${valueLabel(kb, MORPHOLOGY, d.member, lang)}` : fieldLabel(kb, d.path, lang));
  const diffValue = (d: MergeDifference, v: FieldValue): string => (d.member ? t(lang, `web.pattern.${String(v)}`) : shown(kb, d.path, v, lang));
  const sepList = lang === 'zh' ? '、' : ', ';
  return (
    <div id="ct-merge" aria-live="polite">
      {undone && !merge && <p class="alert alert-info" role="status">{t(lang, 'web.merge.undone')}</p>}
      {merge && (
        <div class="merge-panel" role="region" aria-label={t(lang, 'web.merge.heading')}>
          <p>
            <strong>{t(lang, 'web.merge.heading')}</strong>{' '}
            {merge.filled.length
              ? t(lang, 'web.merge.filled', { fields: merge.filled.map((p) => filledLabel(kb, p, lang)).join(sepList) })
              : t(lang, 'web.merge.nothingFilled')}
          </p>
          {merge.diffs.length
            ? <p>{t(lang, 'web.merge.differ', { count: merge.diffs.length })}</p>
            : <p class="muted">{t(lang, 'web.merge.noDifferences')}</p>}
          {merge.diffs.length > 0 && (
            <ul class="merge-list">
              {merge.diffs.map((d) => (
                <li key={`${d.path}|${d.member ?? ''}`} class="merge-diff" data-path={d.path} data-member={d.member}>
                  <span class="merge-what">
                    <strong>{diffLabel(d)}</strong>{' '}
                    {t(lang, 'web.merge.values', { mine: diffValue(d, d.mine), measured: diffValue(d, d.measured) })}
                  </span>
                  <span class="merge-actions">
                    <button type="button" class="small use-measured" onClick={() => onResolve(d, true)}>{t(lang, 'web.merge.useMeasured')}</button>{' '}
                    <button type="button" class="small secondary keep-mine" onClick={() => onResolve(d, false)}>{t(lang, 'web.merge.keepMine')}</button>
                  </span>
                </li>
              ))}
            </ul>
          )}
          <p><button type="button" id="ct-undo" class="secondary" onClick={onUndo}>{t(lang, 'web.merge.undo')}</button></p>
        </div>
      )}
    </div>
  );
}
