/**
 * CDS Hooks 2.0 cards from an assessment (pure). One card: the summary (< 140 characters: leading
 * diagnosis, malignancy probability, referral), the indicator (critical when an urgent referral is
 * due, warning for red flags, info otherwise), the detail in Markdown (differential with its
 * evidence, malignancy, red flags, safety rules), a suggestion to create the urgent referral
 * (ServiceRequest), and a link opening the calcdx web app with the case filled in.
 */
import type { CaseFile } from '../core/case-format/schema.js';
import type { Assessment } from '../core/engine/assess.js';
import type { KnowledgeBase } from '../core/knowledge/compile.js';
import type { Lang } from '../i18n/index.js';
import { cachedFindingValueText, entityName } from '../report/describe.js';
import { referralServiceRequest, type Resource } from './export.js';

export interface Card {
  uuid: string;
  summary: string;
  detail?: string;
  indicator: 'info' | 'warning' | 'critical';
  source: { label: string; url?: string };
  suggestions?: Array<{ label: string; uuid: string; isRecommended?: boolean; actions: Array<{ type: 'create' | 'update' | 'delete'; description: string; resource?: Resource }> }>;
  selectionBehavior?: 'at-most-one' | 'any';
  links?: Array<{ label: string; url: string; type: 'absolute' | 'smart' }>;
}

export const SUMMARY_MAX = 139;

/** A summary below the 140-character limit of the specification (cut at a word, with an ellipsis). */
export function clampSummary(s: string): string {
  if (s.length <= SUMMARY_MAX) return s;
  const cut = s.slice(0, SUMMARY_MAX - 1);
  const sp = cut.lastIndexOf(' ');
  return `${(sp > 80 ? cut.slice(0, sp) : cut).trimEnd()}…`;
}

const percent = (p: number): string => {
  const v = p * 100;
  return v > 0 && v < 1 ? `${v.toFixed(1)} %` : `${Math.round(v)} %`;
};

/** The case as base64url JSON, for the web app's #case= reader. */
export function caseLinkFragment(c: CaseFile): string {
  return `case=${Buffer.from(JSON.stringify(c), 'utf8').toString('base64url')}`;
}

/** Markdown special characters escaped in a text from the knowledge base. */
const md = (s: string): string => s.replace(/([\\`*_[\]<>#|])/g, '\\$1');

export interface CardOptions {
  lang: Lang;
  /** where the web app is served (the link opens `${appUrl}/#case=…`) */
  appUrl: string;
  patientId: string;
  now: string;
  uuid: () => string;
}

export function assessmentCards(kb: KnowledgeBase, c: CaseFile, a: Assessment, o: CardOptions): Card[] {
  const zh = o.lang === 'zh';
  const name = (id: string) => entityName(kb, id, o.lang);
  const lead = a.differential[0];
  const urgent = a.malignancy.urgentReferral;
  const summary = clampSummary([
    lead ? `${name(lead.id)} ${percent(lead.probability)}` : '',
    `${zh ? '恶性' : 'malignancy'} ${percent(a.malignancy.probability)}`,
    urgent ? (zh ? '需紧急转诊肉瘤团队' : 'urgent sarcoma-team referral') : a.redFlags.length ? (zh ? `${a.redFlags.length} 个警示征象` : `${a.redFlags.length} red flag(s)`) : '',
  ].filter(Boolean).join(' · '));

  // zh: full-width punctuation next to Chinese text (the English separators otherwise)
  const [colon, semi, comma, open, close] = zh ? ['：', '；', '、', '（', '）'] : [': ', '; ', ', ', ' (', ')'];
  const lines: string[] = [];
  lines.push(`**${zh ? '鉴别诊断' : 'Differential'}**${open}calcdx${close}`, '');
  a.differential.slice(0, 5).forEach((d, i) => {
    const ev = d.evidence.filter((e) => e.role !== 'prior').slice(0, 3)
      .map((e) => `${e.direction === 'for' ? '+' : '−'} ${md(cachedFindingValueText(kb, e.finding, e.value, o.lang))}${open}LR ${e.lr.toFixed(2)}${close}`);
    lines.push(`${i + 1}. ${md(name(d.id))} — ${percent(d.probability)}${ev.length ? `${colon}${ev.join(semi)}` : ''}`);
  });
  lines.push('', `**${zh ? '恶性可能性' : 'Malignancy'}**${colon}${percent(a.malignancy.probability)}${urgent ? ` — ${zh ? '需紧急转诊至肉瘤多学科团队' : 'urgent referral to a sarcoma multidisciplinary team'}${open}${a.malignancy.reasons.map(md).join(comma)}${close}` : ''}`);
  if (a.redFlags.length) lines.push('', `**${zh ? '警示征象' : 'Red flags'}**`, '', ...a.redFlags.map((f) => `- ${md(f.text[o.lang])}`));
  if (a.safety.length) lines.push('', `**${zh ? '安全规则' : 'Safety'}**`, '', ...a.safety.map((s) => `- ${s.severity === 'critical' ? '**' : ''}${md(s.text[o.lang])}${s.severity === 'critical' ? '**' : ''}`));
  lines.push('', `_${md(kb.plans.disclaimer[o.lang])}_`);

  const card: Card = {
    uuid: o.uuid(),
    summary,
    indicator: urgent ? 'critical' : a.redFlags.length ? 'warning' : 'info',
    detail: lines.join('\n'),
    source: { label: 'calcdx', url: o.appUrl },
    links: [{ label: zh ? '在 calcdx 中打开（已填入病例）' : 'Open in calcdx (case filled in)', url: `${o.appUrl}/#${caseLinkFragment(c)}`, type: 'absolute' }],
  };
  if (urgent) {
    card.suggestions = [{
      label: zh ? '紧急转诊至肉瘤团队' : 'Refer urgently to the sarcoma team',
      uuid: o.uuid(),
      isRecommended: true,
      actions: [{
        type: 'create',
        description: zh ? '创建紧急转诊申请（ServiceRequest）' : 'Create an urgent referral (ServiceRequest) to the sarcoma team',
        resource: referralServiceRequest(a, o.lang, `Patient/${o.patientId}`, o.now),
      }],
    }];
    card.selectionBehavior = 'at-most-one';
  }
  return [card];
}

/** Whether a case says anything about a soft-tissue lesion (no card otherwise). */
export function hasLesionData(c: CaseFile): boolean {
  const nonEmpty = (x: unknown) => x !== undefined && x !== null && typeof x === 'object' && Object.keys(x).length > 0;
  return nonEmpty(c.lesion) || nonEmpty(c.imaging);
}
