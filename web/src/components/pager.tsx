/** Previous / next page of a paged list (the registry API's limit/offset pages). */
import { t } from '../../../src/i18n/index.js';
import { useLang } from '../app/lang.js';

/** previous / next page of a paged list; `capped`: the list was counted up to `total` (there may be more) */
export function Pager({ total, capped = false, offset, size, onPage }: { total: number; capped?: boolean | undefined; offset: number; size: number; onPage(o: number): void }) {
  const { lang } = useLang();
  if (total <= size) return null;
  return (
    <p class="pager">
      <button type="button" class="secondary small" disabled={offset === 0} onClick={() => onPage(Math.max(0, offset - size))}>{t(lang, 'web.reg.previous')}</button>
      <span>{t(lang, 'web.reg.range', { from: offset + 1, to: Math.min(total, offset + size), total: capped ? `${total}+` : total })}</span>
      <button type="button" class="secondary small" disabled={offset + size >= total} onClick={() => onPage(offset + size)}>{t(lang, 'web.reg.next')}</button>
    </p>
  );
}
