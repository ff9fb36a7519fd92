/**
 * Knowledge-base views for the CLI: entity list and one entity in full.
 */
import type { KnowledgeBase } from '../core/knowledge/compile.js';
import type { Entity } from '../core/knowledge/schema.js';
import { t, type Lang } from '../i18n/index.js';
import { findingValueLabel, groupName } from './describe.js';

export function kbListText(kb: KnowledgeBase, lang: Lang): string {
  const w = Math.max(...kb.entities.map((e) => e.id.length));
  const total = kb.entities.reduce((a, e) => a + e.prior.weight, 0);
  const lines = kb.entities.map((e) => `${e.id.padEnd(w)}  ${groupName(e.group, lang).padEnd(lang === 'zh' ? 6 : 15)}  prior ${(100 * e.prior.weight / total).toFixed(1).padStart(5)}%  ${e.seed ? '*' : ' '} ${e.names[lang]}`);
  return `${lines.join('\n')}\n(${kb.entities.length}; * = ${lang === 'zh' ? '原文所述的六种' : 'one of the seed article\'s six'})\n`;
}

export function kbEntityJson(kb: KnowledgeBase, e: Entity): Record<string, unknown> {
  const likelihoods: Record<string, Record<string, number>> = {};
  const ei = kb.entityIndex.get(e.id)!;
  for (const f of kb.findings) {
    if (!(f.def.id in e.likelihoods)) continue;
    const k = f.values.length;
    likelihoods[f.def.id] = Object.fromEntries(f.values.map((v, i) => [v, Number(f.lik[ei * k + i]!.toFixed(4))]));
  }
  return { ...e, compiledLikelihoods: likelihoods };
}

export function kbShowText(kb: KnowledgeBase, e: Entity, lang: Lang): string {
  const L: string[] = [];
  const src = (s: Entity['prior']['src']) => (s === 'expert' ? `[${t(lang, 'report.expert')}]` : `[${s.join(', ')}]`);
  L.push(`${e.names[lang]} (${e.id}) — ${groupName(e.group, lang)}`, '', e.summary[lang], '');
  L.push(`prior weight ${e.prior.weight} ${src(e.prior.src)}`, e.prior.note[lang], '');
  L.push(`mechanisms: ${Object.entries(e.mechanisms.weights).map(([m, w]) => `${kb.plans.mechanisms[m as keyof typeof kb.plans.mechanisms]?.name[lang] ?? m} ${w}`).join(', ')} ${src(e.mechanisms.src)}`, '');
  for (const m of ['xray', 'ct', 'mri', 'ultrasound'] as const) L.push(`${t(lang, `test.${m}`)}: ${e.imaging[m][lang]} ${src(e.imaging[m].src)}`);
  L.push('', `${t(lang, 'report.workup')}:`, ...e.workup.map((x) => `- ${x[lang]} ${src(x.src)}`));
  L.push('', `${t(lang, 'report.treatment')}:`, ...e.treatment.map((x) => `- ${x[lang]} ${src(x.src)}`));
  L.push('', `${t(lang, 'report.prognosis')}: ${e.prognosis[lang]} ${src(e.prognosis.src)}`);
  L.push('', `${t(lang, 'report.followUp')}: ${e.followUp.scheme} — ${e.followUp.note[lang]}`);
  L.push('', 'likelihoods:');
  for (const [fid, l] of Object.entries(e.likelihoods)) {
    const vals = typeof l.p === 'number' ? `P(true)=${l.p}` : Object.entries(l.p).map(([v, p]) => `${findingValueLabel(kb, fid, v, lang)}=${p}`).join(', ');
    L.push(`- ${fid}: ${vals} ${src(l.src)}${l.hallmark ? ' (hallmark)' : ''}`);
  }
  L.push('', `${t(lang, 'report.sources')}:`, ...e.sources.map((s) => `- ${s.id}: ${s.title} <${s.url}>`));
  return `${L.join('\n')}\n`;
}
