/**
 * The case form as data: the ids of its controls, the labels of its fields and values, and its
 * state. The state is what the controls show: for each field its text (a number as typed, an
 * enum's option, a tri-state's '' / 'false' / 'true') and for each calcification pattern one of
 * unknown / seen / excluded, which write `morphology` (seen) and `morphologyAbsent` (excluded).
 * Pure (no DOM): the components of form-fields.tsx draw it, and the mapping between the state
 * and the form values (fields.ts) is tested in Node.
 */
import type { KnowledgeBase } from '../../../../src/core/knowledge/compile.js';
import { t, type Lang } from '../../../../src/i18n/index.js';
import { entityName } from '../../../../src/report/describe.js';
import { FIELDS, FIELD_BY_PATH, MORPHOLOGY, MORPHOLOGY_ABSENT, type FieldDef, type FieldValue } from './fields.js';

export const fieldId = (path: string): string => `f-${path.replace(/\./g, '-')}`;

/** The three states of a calcification pattern; the radio ids are `${fieldId(MORPHOLOGY)}-${pattern}-${state}`. */
export const PATTERN_STATES = ['unknown', 'seen', 'excluded'] as const;
export type PatternState = (typeof PATTERN_STATES)[number];
/** the radio group name of one pattern */
export const patternName = (m: string): string => `${fieldId(MORPHOLOGY)}-${m}`;

/** The patterns of the form (the values of `morphology`). */
export const PATTERNS: readonly string[] = (FIELD_BY_PATH.get(MORPHOLOGY)?.values ?? []).map(String);

export function translated(lang: Lang, key: string): string | undefined {
  const s = t(lang, key);
  return s === key ? undefined : s;
}

export function fieldLabel(kb: KnowledgeBase, path: string, lang: Lang): string {
  const i = kb.findingIndex.get(path);
  if (i !== undefined) return kb.findings[i]!.def.label[lang];
  return translated(lang, `web.field.${path}`) ?? path.split('.').at(-1)!;
}

export function valueLabel(kb: KnowledgeBase, path: string, v: string | number, lang: Lang): string {
  if (path === 'pathology.diagnosis') return entityName(kb, String(v), lang);
  if (path === MORPHOLOGY || path === MORPHOLOGY_ABSENT) {
    const i = kb.findingIndex.get(`${MORPHOLOGY}.${v}`);
    if (i !== undefined) return kb.findings[i]!.def.label[lang];
  }
  const i = kb.findingIndex.get(path);
  if (i !== undefined) {
    const def = kb.findings[i]!.def;
    if (def.kind === 'enum') return def.values[String(v)]?.[lang] ?? String(v);
  }
  return translated(lang, `web.value.${path}.${String(v)}`) ?? String(v);
}

/** What the controls show: the text of each field (absent: empty), the state of each pattern (absent: unknown). */
export interface FormState {
  readonly text: Readonly<Record<string, string>>;
  readonly patterns: Readonly<Record<string, PatternState>>;
}

export const EMPTY_FORM: FormState = { text: {}, patterns: {} };

export const patternState = (s: FormState, member: string): PatternState => s.patterns[member] ?? 'unknown';

/** The value of one field in the form's state (undefined: unknown). */
export function readValue(s: FormState, f: FieldDef): FieldValue {
  if (f.kind === 'pattern' || f.kind === 'pattern-absent') {
    const want: PatternState = f.kind === 'pattern' ? 'seen' : 'excluded';
    const vs = (f.values ?? []).map(String).filter((m) => patternState(s, m) === want);
    return vs.length ? vs : undefined;
  }
  const raw = s.text[f.path] ?? '';
  switch (f.kind) {
    case 'bool': return raw === '' ? undefined : raw === 'true';
    case 'number': {
      if (raw.trim() === '') return undefined;
      const v = Number(raw);
      return Number.isFinite(v) ? v : undefined;
    }
    case 'int-enum': return raw === '' ? undefined : Number(raw);
    default: return raw === '' ? undefined : raw;
  }
}

/** The form values (fields.ts) of the state: the fields given. */
export function readValues(s: FormState): Map<string, FieldValue> {
  const m = new Map<string, FieldValue>();
  for (const f of FIELDS) {
    const v = readValue(s, f);
    if (v !== undefined) m.set(f.path, v);
  }
  return m;
}

/** The state with one field set to `v`; a pattern list sets its own state for the patterns it lists and unknown for those it no longer lists. */
export function writeValue(s: FormState, f: FieldDef, v: FieldValue): FormState {
  if (f.kind === 'pattern' || f.kind === 'pattern-absent') {
    const st: PatternState = f.kind === 'pattern' ? 'seen' : 'excluded';
    const set = new Set(Array.isArray(v) ? v : []);
    const patterns = { ...s.patterns };
    for (const m of (f.values ?? []).map(String)) {
      if (set.has(m)) patterns[m] = st;
      else if (patterns[m] === st) delete patterns[m];
    }
    return { ...s, patterns };
  }
  const text = { ...s.text };
  if (v === undefined) delete text[f.path];
  else text[f.path] = String(v);
  return { ...s, text };
}

/** The state that shows `values` (every other field unknown). */
export function formFromValues(values: ReadonlyMap<string, FieldValue>): FormState {
  let s = EMPTY_FORM;
  for (const f of FIELDS) s = writeValue(s, f, values.get(f.path));
  return s;
}

/** The state with a control's text changed (as typed or chosen). */
export function setText(s: FormState, path: string, raw: string): FormState {
  const text = { ...s.text };
  if (raw === '') delete text[path];
  else text[path] = raw;
  return { ...s, text };
}

export function setPattern(s: FormState, member: string, st: PatternState): FormState {
  const patterns = { ...s.patterns };
  if (st === 'unknown') delete patterns[member];
  else patterns[member] = st;
  return { ...s, patterns };
}
