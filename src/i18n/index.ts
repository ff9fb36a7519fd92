/**
 * Interface strings in zh and en (i18next), and rendering of case-validation issues.
 * Knowledge texts come bilingual from the knowledge base; these are the strings around them.
 */
import i18next, { type TFunction } from 'i18next';
import type { CaseIssue } from '../core/case-format/validate.js';
import en from './locales/en.json' with { type: 'json' };
import zh from './locales/zh.json' with { type: 'json' };

import type { Lang } from './lang.js';

export { LANGS, isLang, type Lang } from './lang.js';

const instance = i18next.createInstance();
void instance.init({
  resources: { en: { translation: en }, zh: { translation: zh } },
  lng: 'en',
  fallbackLng: 'en',
  initAsync: false,
  interpolation: { escapeValue: false },
  returnNull: false,
});

const fixed: Record<Lang, TFunction> = { en: instance.getFixedT('en'), zh: instance.getFixedT('zh') };

export function t(lang: Lang, key: string, params?: Record<string, unknown>): string {
  return fixed[lang](key, params ?? {}) as string;
}

/** Every key of the English catalogue (for parity tests and docs). */
export function catalogueKeys(lang: Lang): string[] {
  const out: string[] = [];
  const walk = (o: Record<string, unknown>, p: string): void => {
    for (const [k, v] of Object.entries(o)) {
      if (v && typeof v === 'object') walk(v as Record<string, unknown>, p ? `${p}.${k}` : k);
      else out.push(p ? `${p}.${k}` : k);
    }
  };
  walk(lang === 'en' ? en : zh, '');
  return out.sort();
}

function describeAllowed(lang: Lang, a: CaseIssue['allowed']): string {
  const sep = lang === 'zh' ? '、' : ', ';
  if (a.values) return t(lang, 'allowed.values', { list: a.values.join(sep) });
  if (a.keys) return a.keys.length ? t(lang, 'allowed.keys', { list: a.keys.join(sep) }) : t(lang, 'allowed.none');
  if (a.format) return a.format;
  if (a.unit === 'characters' || a.unit === 'items') {
    const unit = a.unit === 'characters' ? 'Length' : 'Items';
    if (a.min !== undefined) return t(lang, `allowed.min${unit}`, { min: a.inclusive === false ? a.min + 1 : a.min });
    if (a.max !== undefined) return t(lang, `allowed.max${unit}`, { max: a.inclusive === false ? a.max - 1 : a.max });
  }
  if (a.min !== undefined) return t(lang, a.inclusive === false ? 'allowed.minExclusive' : 'allowed.min', { min: a.min });
  if (a.max !== undefined) return t(lang, a.inclusive === false ? 'allowed.maxExclusive' : 'allowed.max', { max: a.max });
  if (a.type) return t(lang, 'allowed.type', { type: a.type });
  return '';
}

/**
 * One validation issue as a sentence. With `label` (the field's name for people, e.g. "Age") the
 * field is named by it; `withPath` adds the case-format path in brackets ("Age (patient.age)"),
 * for the command line, where the path is what to fix in the file.
 */
export function formatIssue(lang: Lang, i: CaseIssue, label?: string, withPath = false): string {
  const where = i.path || (lang === 'zh' ? '（整个文档）' : '(the document)');
  const named = label ? (withPath && i.path ? (lang === 'zh' ? `${label}（${i.path}）` : `${label} (${i.path})`) : label) : where;
  return t(lang, `issue.${i.code}`, {
    path: named,
    found: i.found ?? t(lang, 'allowed.nothing'),
    allowed: describeAllowed(lang, i.allowed),
    conflictsWith: i.allowed.conflictsWith ?? '',
  });
}
