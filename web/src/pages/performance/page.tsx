/**
 * Local performance (/performance; clinician, viewer, admin): the figures of `calcdx eval` over
 * this site's lesions with a recorded outcome (GET /api/registry/performance) next to the same
 * figures on the published cases, the lesions left out and why, the reliability of the site's
 * probabilities, and the site's observed case mix against the knowledge base's priors. It shows;
 * it changes no probability.
 */
import { useEffect, useState } from 'preact/hooks';
import { t, type Lang } from '../../../../src/i18n/index.js';
import * as api from '../../api/registry.js';
import { useLoad } from '../../api/use-load.js';
import { useLang } from '../../app/lang.js';
import { RequireRole } from '../../app/session.js';
import { Shell } from '../../app/shell.js';
import { ProblemView } from '../../components/problem-view.js';

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
const interval = (p: api.Proportion): string => `${pct(p.rate)} (${p.k}/${p.n}; 95% ${pct(p.low)}–${pct(p.high)})`;
const ratio = (p: { k: number; n: number; rate: number }): string => (p.n ? `${pct(p.rate)} (${p.k}/${p.n})` : '—');

type Row = { key: string; show(f: api.Figures): string };
const ROWS: Row[] = [
  { key: 'n', show: (f) => String(f.n) },
  { key: 'top1', show: (f) => interval(f.top1) },
  { key: 'top3', show: (f) => interval(f.top3) },
  { key: 'brier', show: (f) => `${f.brier.toFixed(3)} (${f.baseline.brier.toFixed(3)})` },
  { key: 'logLoss', show: (f) => `${f.logLoss.toFixed(3)} (${f.baseline.logLoss.toFixed(3)})` },
  { key: 'malignantReferred', show: (f) => ratio(f.malignantReferred) },
  { key: 'benignReferred', show: (f) => ratio(f.benignReferred) },
  { key: 'auc', show: (f) => (f.malignancyAuc === null ? '—' : f.malignancyAuc.toFixed(3)) },
];

function Performance() {
  const { lang } = useLang();
  const { data: report, error } = useLoad(() => api.localPerformance(), []);
  const [names, setNames] = useState<Map<string, Record<Lang, string>>>(new Map());
  useEffect(() => {
    api.kbEntities().then((es) => setNames(new Map(es.map((e) => [e.id, e.names]))), () => undefined);
  }, []);
  const cell = (f: api.Figures | null, r: Row): string => (f ? r.show(f) : '—');
  const mix = report ? [...report.caseMix].sort((a, b) => b.observed - a.observed || b.prior - a.prior) : [];
  return (
    <Shell>
      <main class="reg-page">
        <h2>{t(lang, 'web.nav.performance')}</h2>
        <p class="hint">{t(lang, 'web.reg.perf.intro')}</p>
        <ProblemView error={error} />
        {report && (
          <>
            {!report.site && <p class="alert alert-info" id="perf-no-site">{t(lang, 'web.reg.perf.noOutcomes')}</p>}
            <table class="reg-table" id="perf-figures">
              <thead><tr><th /><th>{t(lang, 'web.reg.perf.site')}</th><th>{t(lang, 'web.reg.perf.published')}</th></tr></thead>
              <tbody>
                {ROWS.map((r) => <tr data-metric={r.key}><th scope="row">{t(lang, `web.reg.perf.metric.${r.key}`)}</th><td>{cell(report.site, r)}</td><td>{cell(report.published, r)}</td></tr>)}
              </tbody>
            </table>
            <p class="hint">{t(lang, 'web.reg.perf.baselineNote')}</p>
            <p id="perf-excluded">{t(lang, 'web.reg.perf.excluded', { unknownEntity: report.excluded.unknownEntity, caseInvalid: report.excluded.caseInvalid })}</p>
            {report.site && report.site.reliability.some((b) => b.count > 0) && (
              <>
                <h3>{t(lang, 'web.reg.perf.reliability')}</h3>
                <table class="reg-table" id="perf-reliability">
                  <thead><tr><th>{t(lang, 'web.reg.perf.bin')}</th><th>{t(lang, 'web.reg.perf.count')}</th><th>{t(lang, 'web.reg.perf.meanPredicted')}</th><th>{t(lang, 'web.reg.perf.observed')}</th></tr></thead>
                  <tbody>
                    {report.site.reliability.filter((b) => b.count > 0).map((b) => <tr><td>{pct(b.from)}–{pct(b.to)}</td><td>{b.count}</td><td>{pct(b.meanPredicted)}</td><td>{pct(b.observed)}</td></tr>)}
                  </tbody>
                </table>
              </>
            )}
            <h3>{t(lang, 'web.reg.perf.caseMix')}</h3>
            <table class="reg-table" id="perf-case-mix">
              <thead><tr><th>{t(lang, 'web.reg.entity')}</th><th>{t(lang, 'web.reg.perf.observedCount')}</th><th>{t(lang, 'web.reg.perf.observedShare')}</th><th>{t(lang, 'web.reg.perf.prior')}</th></tr></thead>
              <tbody>
                {mix.map((m) => <tr data-entity={m.entity}><td>{names.get(m.entity)?.[lang] ?? m.entity}</td><td>{m.observed}</td><td>{pct(m.observedShare)}</td><td>{pct(m.prior)}</td></tr>)}
              </tbody>
            </table>
          </>
        )}
      </main>
    </Shell>
  );
}

export function PerformancePage() {
  return <RequireRole roles={['clinician', 'viewer', 'admin']}><Performance /></RequireRole>;
}
