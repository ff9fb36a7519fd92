/**
 * The clinician report's detail on the page (mechanism, work-up, plan, staging, prognosis,
 * follow-up), drawn from src/report's document model as the printed report is; the follow-up
 * heading is followed by the calendar download (enabled once a surgery date is given).
 */
import type { Assessment } from '../../../../src/core/engine/assess.js';
import type { KnowledgeBase } from '../../../../src/core/knowledge/compile.js';
import { t, type Lang } from '../../../../src/i18n/index.js';
import type { Block, Inline } from '../../../../src/report/document.js';
import { boundedPct } from './assessment-view.js';
import { reportDetail } from './results.js';

function InlineView({ i }: { i: Inline }) {
  if (typeof i === 'string') return <>{i}</>;
  if ('link' in i) return <a href={i.link} target="_blank" rel="noopener noreferrer">{i.text}</a>;
  return <strong>{i.strong}</strong>;
}

export function BarRow({ label, value, note, tone }: { label: string; value: number; note: string; tone: string }) {
  return (
    <li class={`bar-row tone-${tone}`}>
      <span class="bar-label">{label}</span>
      <span class="bar-track" aria-hidden="true"><span class="bar-fill" style={{ width: `${Math.max(0.5, value * 100).toFixed(1)}%` }} /></span>
      <span class="bar-value">{boundedPct(value)}</span>
      {note ? <span class="bar-note">{note}</span> : null}
    </li>
  );
}

export function BlockView({ b }: { b: Block }) {
  switch (b.kind) {
    case 'title': return null;
    case 'heading': return <h3>{b.text}</h3>;
    case 'paragraph': return <p>{b.text.map((i) => <InlineView i={i} />)}</p>;
    case 'alert': return <div class={`alert alert-${b.level}`} role={b.level === 'critical' ? 'alert' : undefined}>{b.text}</div>;
    case 'list': {
      const items = b.items.map((it) => <li>{it.map((i) => <InlineView i={i} />)}</li>);
      return b.ordered ? <ol>{items}</ol> : <ul>{items}</ul>;
    }
    case 'table':
      return (
        <table>
          <thead><tr>{b.head.map((x) => <th scope="col">{x}</th>)}</tr></thead>
          <tbody>{b.rows.map((r) => <tr>{r.map((x) => <td>{x}</td>)}</tr>)}</tbody>
        </table>
      );
    case 'bars': return <ul class="bars">{b.items.map((it) => <BarRow {...it} />)}</ul>;
    case 'timeline': return <ol class="timeline">{b.items.map((it) => <li><span class="when">{it.when}</span><span class="what">{it.what}</span></li>)}</ol>;
    case 'details': return <details><summary>{b.summary}</summary>{b.blocks.map((x) => <BlockView b={x} />)}</details>;
    case 'section':
      return <section class={`report-${b.role}`}>{b.title ? <h3>{b.title}</h3> : null}{b.blocks.map((x) => <BlockView b={x} />)}</section>;
  }
}

export function ReportDetail({ kb, a, lang, onIcs }: { kb: KnowledgeBase; a: Assessment; lang: Lang; onIcs: () => void }) {
  const dated = Boolean(a.followUp.surgeryDate);
  return (
    <>
      {reportDetail(kb, a, lang).map(({ block, followUp }) => (
        <>
          <BlockView b={block} />
          {followUp && (
            <p>
              <button type="button" id="ics" class="secondary" disabled={!dated} aria-describedby={dated ? undefined : 'ics-hint'} onClick={onIcs}>{t(lang, 'web.ics')}</button>
              {dated ? null : <span id="ics-hint" class="muted">{` ${t(lang, 'web.icsNeedsDate')}`}</span>}
            </p>
          )}
        </>
      ))}
    </>
  );
}
