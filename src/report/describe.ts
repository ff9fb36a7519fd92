/**
 * Names and labels in the reader's language: entities, findings and their values, sources.
 */
import type { KnowledgeBase } from '../core/knowledge/compile.js';
import type { Src, Text } from '../core/knowledge/schema.js';
import type { Assessment } from '../core/engine/assess.js';
import type { EvidenceTerm } from '../core/engine/differential.js';
import { boundedPercent } from '../core/engine/bounded.js';
import { t, type Lang } from '../i18n/index.js';

export const tx = (text: Text, lang: Lang): string => text[lang];

export function entityName(kb: KnowledgeBase, id: string, lang: Lang): string {
  const i = kb.entityIndex.get(id);
  return i === undefined ? id : kb.entities[i]!.names[lang];
}

/** A warning of the assessment in the reader's language (an entity parameter by its name). */
export function warningText(kb: KnowledgeBase, w: Assessment['warnings'][number], lang: Lang): string {
  const name = (k: string) => (typeof w.params[k] === 'string' ? { [k]: entityName(kb, w.params[k], lang) } : {});
  // a percentage parameter is shown bounded ("> 99%", never "100%")
  const probability = typeof w.params.probability === 'number' ? { probability: boundedPercent(w.params.probability / 100) } : {};
  return t(lang, `warning.${w.code}`, { ...w.params, entity: '', ...name('entity'), ...name('leader'), ...probability });
}

/** A probability in a report: bounded ("< 1%", "> 99%"), never "0.0%" or "100%". */
export const pct = (p: number): string => boundedPercent(p);

export function findingLabel(kb: KnowledgeBase, findingId: string, lang: Lang): string {
  const i = kb.findingIndex.get(findingId);
  if (i === undefined) return findingId;
  return kb.findings[i]!.def.label[lang];
}

/** The value alone ("present", "knee", "under 15 years") of one observed or possible value of a finding. */
export function findingValueLabel(kb: KnowledgeBase, findingId: string, value: string, lang: Lang): string {
  if (findingId === 'pathology.diagnosis') return entityName(kb, value, lang);
  const i = kb.findingIndex.get(findingId);
  if (i === undefined) return value;
  const def = kb.findings[i]!.def;
  switch (def.kind) {
    case 'boolean':
    case 'member':
      return value === 'true' ? (lang === 'zh' ? '有' : 'present') : (lang === 'zh' ? '无' : 'absent');
    case 'enum':
      return def.values[value]?.[lang] ?? value;
    case 'binned':
      return def.bins.find((b) => b.value === value)?.label[lang] ?? value;
  }
}

/** "Label: value" (zh "标签：值") for one observed or possible value of a finding. */
export function findingValueText(kb: KnowledgeBase, findingId: string, value: string, lang: Lang): string {
  const label = findingId === 'pathology.diagnosis' ? t(lang, 'report.pathologyTerm') : kb.findingIndex.has(findingId) ? findingLabel(kb, findingId, lang) : findingId;
  return `${label}${lang === 'zh' ? '：' : ': '}${findingValueLabel(kb, findingId, value, lang)}`;
}

/**
 * findingValueText per knowledge base, language, finding and value: the texts depend on nothing
 * else, and a JSON answer needs about 650 of them (23 entities × ~28 evidence terms).
 */
type TextCache = Record<Lang, Map<string, Map<string, string>>>;
const valueTexts = new WeakMap<KnowledgeBase, TextCache>();

/** findingValueText, remembered per knowledge base (the knowledge base is not changed once loaded). */
export function cachedFindingValueText(kb: KnowledgeBase, findingId: string, value: string, lang: Lang): string {
  let byLang = valueTexts.get(kb);
  if (byLang === undefined) valueTexts.set(kb, byLang = { en: new Map(), zh: new Map() });
  const byFinding = byLang[lang];
  let byValue = byFinding.get(findingId);
  if (byValue === undefined) byFinding.set(findingId, byValue = new Map());
  let text = byValue.get(value);
  if (text === undefined) byValue.set(value, text = findingValueText(kb, findingId, value, lang));
  return text;
}

export function evidenceText(kb: KnowledgeBase, e: EvidenceTerm, lang: Lang): string {
  return cachedFindingValueText(kb, e.finding, e.value, lang);
}

export function questionText(kb: KnowledgeBase, findingId: string, lang: Lang): string {
  const i = kb.findingIndex.get(findingId);
  return i === undefined ? findingId : kb.findings[i]!.def.question[lang];
}

export function groupName(g: string, lang: Lang): string {
  return t(lang, `group.${g}`);
}

/** Source entries cited by a list of src marks, for the reference list of a report. */
export function collectSources(kb: KnowledgeBase, srcs: Src[], entitySources: (id: string) => { url: string; title: string } | undefined): Array<{ id: string; url: string; title: string }> {
  // one entry per source: the same paper can carry two ids (a global and an entity's own)
  const seen = new Map<string, { id: string; url: string; title: string }>();
  for (const s of srcs) {
    if (s === 'expert') continue;
    for (const id of s) {
      const e = kb.sources.get(id) ?? entitySources(id);
      if (!e) continue;
      const key = e.url.replace(/^https?:\/\//, '').replace(/\/$/, '').toLowerCase();
      if (!seen.has(key)) seen.set(key, { id, url: e.url, title: e.title });
    }
  }
  return [...seen.values()];
}

/**
 * The name people use for a case-format field ("Age" for patient.age): the label of the finding in
 * data/kb/findings.yaml, else the page's field label (web.field.*); undefined when neither has one.
 * A path into a list (imaging.calcification.morphology.1) is named by its list.
 */
export function fieldLabel(kb: KnowledgeBase | undefined, path: string, lang: Lang): string | undefined {
  const clean = path.split('.').filter((x) => !/^\d+$/.test(x)).join('.');
  if (!clean) return undefined;
  if (kb) {
    const i = kb.findingIndex.get(clean);
    if (i !== undefined) return kb.findings[i]!.def.label[lang];
  }
  const key = `web.field.${clean}`;
  const v = t(lang, key);
  return v && v !== key && !v.startsWith('key ') ? v : undefined;
}
