/**
 * The CT panel (panels/ct-viewer) inside the page: an imperative panel that builds and updates
 * its own elements in #ct-panel (NiiVue draws into a canvas there). This component gives it its
 * element once, tells it the language, and hands its measurements to the page (`onFindings`,
 * which answers what the form did with them). Preact never renders into #ct-panel (no children),
 * and the data attributes the panel sets on it are not Preact's, so they stay.
 */
import { useEffect, useRef } from 'preact/hooks';
import type { Lang } from '../../../../src/i18n/index.js';
import { createCtPanel, type CtFindings, type CtPanel, type MeasureOutcome } from '../../panels/ct-viewer/ct.js';

export function CtPanelHost({ lang, onFindings }: { lang: Lang; onFindings: (f: CtFindings) => MeasureOutcome }) {
  const root = useRef<HTMLElement>(null);
  const panel = useRef<{ ct: CtPanel; lang: Lang } | undefined>(undefined);
  // the panel is created once: it reads the latest language and handler through these
  const latest = useRef({ lang, onFindings });
  latest.current = { lang, onFindings };

  useEffect(() => {
    const ct = createCtPanel(root.current!, () => latest.current.lang, (f) => latest.current.onFindings(f));
    ct.render(latest.current.lang);
    panel.current = { ct, lang: latest.current.lang };
  }, []);
  useEffect(() => {
    const p = panel.current;
    if (!p || p.lang === lang) return;
    p.lang = lang;
    p.ct.render(lang);
  }, [lang]);

  return <section id="ct-panel" class="ct-panel" ref={root} />;
}
