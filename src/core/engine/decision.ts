/**
 * The plan that closes every assessment: urgent referral, a sarcoma-centre review, or re-imaging
 * on a stated date with what then sends the case to a sarcoma team (the safety net) — and one
 * sentence that says why, reconciling the red flags with the decision. Generic: the plans, the
 * intervals and the sentences are data (plans.yaml `safetyNet`); the engine names no diagnosis.
 */
import type { KnowledgeBase } from '../knowledge/compile.js';
import type { Group, ReimagePlan, Src, Text } from '../knowledge/schema.js';
import { boundedPercent, percentAgainst } from './bounded.js';
import { addWeeks } from './dates.js';

export const DECISION_KINDS = ['urgent_referral', 'sarcoma_centre_review', 'safety_net_reimaging', 'routine'] as const;
export type DecisionKind = (typeof DECISION_KINDS)[number];

export interface Decision {
  kind: DecisionKind;
  /** why: one sentence that reconciles the red flags with the decision */
  reason: Text;
  /** the entity the plan rests on (the leading one) */
  entity: string;
  /** the red flags present (ids) */
  redFlags: string[];
  /** safety_net_reimaging: weeks after the assessment, and the dates when an assessment date is given */
  reimageWeeks?: [number, number];
  reimageFrom?: string;
  reimageBy?: string;
  /** the test to repeat and what to look for */
  test?: Text;
  /** sarcoma_centre_review: within how many weeks, and by which date */
  reviewWeeks?: number;
  reviewBy?: string;
  /** what ends observation and sends the case to a sarcoma team */
  referIf?: Array<{ id: string; text: Text }>;
  src: Src;
}

export interface DecisionInput {
  post: Float64Array | number[];
  /** entity indices by descending posterior */
  order: number[];
  redFlags: ReadonlyArray<{ id: string }>;
  urgentReferral: boolean;
  /** 'probability' and/or red-flag ids */
  reasons: readonly string[];
  malignancy: number;
  threshold: number;
  /** assessment date (ISO); without it the plan gives weeks, not dates */
  date?: string;
  /** the entity a pathology report names (index), when there is one */
  confirmed?: number;
}

const fill = (template: string, params: Record<string, string>): string =>
  template.replace(/\{(\w+)\}/g, (m, k: string) => params[k] ?? m);

function joinList(items: string[], last: string, lang: 'en' | 'zh'): string {
  if (items.length <= 1) return items[0] ?? '';
  const sep = lang === 'zh' ? '、' : ', ';
  const tail = lang === 'zh' ? last : ` ${last} `;
  return `${items.slice(0, -1).join(sep)}${tail}${items[items.length - 1]!}`;
}

/** An English name inside a sentence: "Myositis ossificans" → "myositis ossificans" (not "CPPD …"). */
export const midSentence = (s: string): string => (/^[A-Z][a-z]/.test(s) ? s[0]!.toLowerCase() + s.slice(1) : s);
const upperFirst = (s: string): string => (s ? s[0]!.toUpperCase() + s.slice(1) : s);
const weeksText = (w: readonly [number, number]): string => (w[0] === w[1] ? String(w[0]) : `${w[0]}-${w[1]}`);

export function decide(kb: KnowledgeBase, input: DecisionInput): Decision {
  const net = kb.plans.safetyNet;
  const T = net.texts;
  const lead = input.order[0]!;
  const leadEntity = kb.entities[lead]!;
  const leadGroup: Group = kb.groups[lead]!;
  const flagIds = input.redFlags.map((f) => f.id);
  const flagDefs = kb.rules.redFlags;
  const flagShort = (id: string, lang: 'en' | 'zh'): string => {
    const d = flagDefs.find((f) => f.id === id);
    return (d?.short ?? d?.text)?.[lang] ?? id;
  };
  const common = (lang: 'en' | 'zh'): Record<string, string> => ({
    p: percentAgainst(input.malignancy, input.threshold), t: boundedPercent(input.threshold),
    entity: lang === 'en' ? midSentence(leadEntity.names.en) : leadEntity.names.zh, lp: boundedPercent(input.post[lead]!),
  });
  const both = (make: (lang: 'en' | 'zh') => string): Text => ({ en: make('en'), zh: make('zh') });
  const base = { entity: leadEntity.id, redFlags: flagIds };

  if (input.urgentReferral) {
    const reasons = (lang: 'en' | 'zh'): string => joinList(input.reasons.map((r) => (r === 'probability'
      ? fill(T.urgentProbability[lang], common(lang))
      : (flagDefs.find((f) => f.id === r)?.text[lang] ?? r))), T.and[lang], lang);
    const src: string[] = [];
    if (input.reasons.includes('probability') && kb.rules.thresholds.urgentReferral.src !== 'expert') src.push(...kb.rules.thresholds.urgentReferral.src);
    for (const r of input.reasons) { const d = flagDefs.find((f) => f.id === r); if (d && d.src !== 'expert') src.push(...d.src); }
    return { kind: 'urgent_referral', reason: both((l) => fill(T.urgent[l], { reasons: reasons(l) })), ...base, src: src.length ? [...new Set(src)] : 'expert' };
  }

  const review = (template: Text, src: Src): Decision => {
    const weeks = net.reviewWeeks.value;
    const by = input.date ? addWeeks(input.date, weeks) : undefined;
    const byText = (l: 'en' | 'zh'): string => (by ? fill(T.byDated[l], { by, weeks: String(weeks) }) : fill(T.byUndated[l], { weeks: String(weeks) }));
    return { kind: 'sarcoma_centre_review', reason: both((l) => fill(template[l], { ...common(l), by: byText(l) })), ...base, reviewWeeks: weeks, ...(by ? { reviewBy: by } : {}), src };
  };

  // a pathology report that names a diagnosis managed by a sarcoma team decides the plan, whatever the imaging suggests
  if (input.confirmed !== undefined) {
    const ce = kb.entities[input.confirmed]!;
    const cplan = net.entities[ce.id] ?? net.groups[kb.groups[input.confirmed]!];
    if (cplan && 'review' in cplan) {
      const r = review(T.confirmedReview, cplan.src);
      const cname = (l: 'en' | 'zh') => (l === 'en' ? midSentence(ce.names.en) : ce.names.zh);
      return { ...r, entity: ce.id, reason: both((l) => fill(T.confirmedReview[l], { ...common(l), confirmed: cname(l), by: r.reviewBy ? fill(T.byDated[l], { by: r.reviewBy, weeks: String(r.reviewWeeks) }) : fill(T.byUndated[l], { weeks: String(r.reviewWeeks) }) })) };
    }
  }

  const characterised = !flagIds.some((id) => net.notCharacterisedRedFlags.includes(id));
  if (!characterised) return review(T.notCharacterised, net.reviewWeeks.src);

  const plan = net.entities[leadEntity.id] ?? net.groups[leadGroup];
  if (plan && 'review' in plan) return review(T.reviewGroup, plan.src);
  const entityNet = net.entities[leadEntity.id] !== undefined;
  if (!plan || (!entityNet && flagIds.length === 0)) {
    return { kind: 'routine', reason: both((l) => fill(T.routine[l], common(l))), ...base, src: kb.rules.thresholds.urgentReferral.src };
  }
  return safetyNet(kb, plan, input, common, both, base, flagShort, flagIds);
}

function safetyNet(
  kb: KnowledgeBase, plan: ReimagePlan, input: DecisionInput,
  common: (lang: 'en' | 'zh') => Record<string, string>, both: (make: (lang: 'en' | 'zh') => string) => Text,
  base: { entity: string; redFlags: string[] }, flagShort: (id: string, lang: 'en' | 'zh') => string, flagIds: string[],
): Decision {
  const net = kb.plans.safetyNet;
  const T = net.texts;
  const weeks = plan.reimageWeeks;
  const from = input.date ? addWeeks(input.date, weeks[0]) : undefined;
  const to = input.date ? addWeeks(input.date, weeks[1]) : undefined;
  const referIf = plan.referIf.map((id) => {
    const r = net.referIf[id];
    const present = r?.ifRedFlag ? flagIds.find((f) => r.ifRedFlag![f] !== undefined) : undefined;
    const text = present ? r!.ifRedFlag![present]! : r ? { en: r.en, zh: r.zh } : { en: id, zh: id };
    return { id, text };
  });
  const sentence = (l: 'en' | 'zh'): string => {
    const when = input.date
      ? (from === to ? fill(T.byDated[l], { by: to!, weeks: weeksText(weeks) }) : fill(T.whenDated[l], { from: from!, to: to!, weeks: weeksText(weeks), date: input.date }))
      : fill(T.whenUndated[l], { weeks: weeksText(weeks) });
    const params = { ...common(l), test: plan.test[l], when, referIf: joinList(referIf.map((r) => r.text[l]), T.or[l], l) };
    if (!flagIds.length) return fill(T.netNoFlags[l], params);
    const flags = joinList(flagIds.map((id) => flagShort(id, l)), T.and[l], l);
    return fill((flagIds.length === 1 ? T.netWithFlags.one : T.netWithFlags.other)[l], { ...params, flags: l === 'en' ? upperFirst(flags) : flags });
  };
  return {
    kind: 'safety_net_reimaging', reason: both(sentence), ...base,
    reimageWeeks: [weeks[0], weeks[1]], ...(from ? { reimageFrom: from, reimageBy: to! } : {}),
    test: plan.test, referIf, src: plan.src,
  };
}
