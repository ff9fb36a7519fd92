/**
 * The case form in the DOM: built from GROUPS, read into and written from form values.
 * Booleans are tri-state radio groups (unknown / absent / present), enums selects with an
 * "unknown" option, numbers number inputs (empty = unknown), and each calcification pattern a
 * tri-state group of its own (unknown / seen / excluded) that writes `morphology` (seen) and
 * `morphologyAbsent` (excluded). The key findings come first; the other groups collapse.
 */
import type { KnowledgeBase } from '../../../../src/core/knowledge/compile.js';
import { t, type Lang } from '../../../../src/i18n/index.js';
import { entityName } from '../../../../src/report/describe.js';
import { h } from '../../dom.js';
import { FIELDS, GROUPS, MORPHOLOGY, type FieldDef, type FieldValue } from './fields.js';
import { patternIcon } from './patterns.js';

export const fieldId = (path: string): string => `f-${path.replace(/\./g, '-')}`;

/** The three states of a calcification pattern; the radio ids are `${fieldId(MORPHOLOGY)}-${pattern}-${state}`. */
export const PATTERN_STATES = ['unknown', 'seen', 'excluded'] as const;
export type PatternState = (typeof PATTERN_STATES)[number];
const patternName = (m: string): string => `${fieldId(MORPHOLOGY)}-${m}`;

function translated(lang: Lang, key: string): string | undefined {
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
  if (path === 'imaging.calcification.morphology' || path === 'imaging.calcification.morphologyAbsent') {
    const i = kb.findingIndex.get(`imaging.calcification.morphology.${v}`);
    if (i !== undefined) return kb.findings[i]!.def.label[lang];
  }
  const i = kb.findingIndex.get(path);
  if (i !== undefined) {
    const def = kb.findings[i]!.def;
    if (def.kind === 'enum') return def.values[String(v)]?.[lang] ?? String(v);
  }
  return translated(lang, `web.value.${path}.${String(v)}`) ?? String(v);
}

function controlFor(kb: KnowledgeBase, f: FieldDef, lang: Lang): HTMLElement {
  const id = fieldId(f.path);
  const label = fieldLabel(kb, f.path, lang);
  const wrap = h('div', { class: `field field-${f.kind}`, 'data-path': f.path });
  const badge = h('span', { class: 'measured-badge', title: t(lang, 'web.measuredTitle'), text: t(lang, 'web.measured') });
  switch (f.kind) {
    case 'bool': {
      const fs = h('fieldset', { class: 'tri', id });
      fs.append(h('legend', {}, label, badge));
      const opts: Array<[string, string]> = [['', t(lang, 'web.unknown')], ['false', t(lang, 'web.absent')], ['true', t(lang, 'web.present')]];
      for (const [v, text] of opts) {
        const rid = `${id}-${v || 'unknown'}`;
        fs.append(h('input', { type: 'radio', name: id, id: rid, value: v, checked: v === '' }), h('label', { for: rid, text }));
      }
      wrap.append(fs);
      break;
    }
    case 'pattern': {
      const fs = h('fieldset', { class: 'patterns', id });
      fs.append(h('legend', {}, t(lang, 'web.patterns'), badge));
      fs.append(h('p', { class: 'hint', id: `${id}-hint`, text: t(lang, 'web.patternsHint') }));
      const grid = h('div', { class: 'pattern-grid' });
      for (const m of f.values ?? []) {
        const name = patternName(String(m));
        const group = h('div', { class: 'pattern', role: 'radiogroup', 'aria-labelledby': `${name}-label`, 'aria-describedby': `${id}-hint`, 'data-member': String(m) },
          patternIcon(String(m)), h('span', { class: 'pattern-label', id: `${name}-label`, text: valueLabel(kb, f.path, m, lang) }));
        const seg = h('span', { class: 'seg' });
        for (const st of PATTERN_STATES) {
          const rid = `${name}-${st}`;
          seg.append(h('input', { type: 'radio', name, id: rid, value: st, checked: st === 'unknown' }), h('label', { for: rid, class: `st-${st}`, text: t(lang, `web.pattern.${st}`) }));
        }
        group.append(seg);
        grid.append(group);
      }
      fs.append(grid);
      wrap.classList.add('field-multi');
      wrap.append(fs);
      break;
    }
    case 'pattern-absent':
      // written by the pattern control of `morphology`
      return wrap;
    case 'enum':
    case 'int-enum': {
      const sel = h('select', { id });
      sel.append(h('option', { value: '', text: `— ${t(lang, 'web.unknown')} —` }));
      for (const v of f.values ?? []) sel.append(h('option', { value: String(v), text: valueLabel(kb, f.path, v, lang) }));
      wrap.append(h('label', { for: id }, label, badge), sel);
      break;
    }
    case 'number': {
      const inp = h('input', { type: 'number', id, min: f.min, max: f.max, step: f.step ?? 'any', inputmode: 'decimal', placeholder: t(lang, 'web.unknown'), 'aria-describedby': `${id}-unit` });
      wrap.append(h('label', { for: id }, label, badge), h('span', { class: 'with-unit' }, inp, h('span', { class: 'unit', id: `${id}-unit`, text: f.unit ? `${translated(lang, `web.unit.${f.unit}`) ?? f.unit} · ${t(lang, 'web.numberHint')}` : t(lang, 'web.numberHint') })));
      break;
    }
    case 'date':
      wrap.append(h('label', { for: id }, label, badge), h('input', { type: 'date', id }));
      break;
    case 'text':
      wrap.append(h('label', { for: id }, label), h('input', { type: 'text', id, maxlength: 200, autocomplete: 'off' }));
      break;
  }
  return wrap;
}

/** Builds the key findings into `keyRoot` and the other groups, collapsed, into `restRoot` (open ones stay open). */
export function buildForm(keyRoot: HTMLElement, restRoot: HTMLElement, kb: KnowledgeBase, lang: Lang): void {
  const open = new Set([...restRoot.querySelectorAll<HTMLDetailsElement>('details.group-details[open]')].map((d) => d.dataset.group));
  keyRoot.replaceChildren();
  restRoot.replaceChildren();
  for (const g of GROUPS) {
    const body = h('div', { class: 'group-body' });
    for (const f of g.fields) if (f.kind !== 'pattern-absent') body.append(controlFor(kb, f, lang));
    if (g.key) {
      keyRoot.append(h('fieldset', { class: `group group-${g.id}`, id: `g-${g.id}` },
        h('legend', { text: t(lang, `web.group.${g.id}`) }), h('p', { class: 'hint group-hint', text: t(lang, 'web.keyHint') }), body));
      continue;
    }
    const label = t(lang, `web.group.${g.id}`);
    restRoot.append(h('details', { class: 'group-details', id: `g-${g.id}`, 'data-group': g.id, open: open.has(g.id) },
      h('summary', {}, h('span', { class: 'group-name', text: label }), h('span', { class: 'group-count', 'data-count': '0' })),
      h('fieldset', { class: `group group-${g.id}` }, h('legend', { class: 'sr-only', text: label }), body)));
  }
}

/** Shows, on each collapsed group, how many of its fields are given. */
export function updateGroupCounts(root: HTMLElement, values: ReadonlyMap<string, FieldValue>, lang: Lang): void {
  for (const g of GROUPS) {
    if (g.key) continue;
    const el = root.querySelector<HTMLElement>(`#g-${g.id} .group-count`);
    if (!el) continue;
    const n = g.fields.filter((f) => values.has(f.path)).length;
    el.dataset.count = String(n);
    el.textContent = n ? t(lang, 'web.given', { count: n }) : '';
  }
}

/** Opens or closes every collapsed group. */
export function setGroupsOpen(root: HTMLElement, open: boolean): void {
  for (const d of root.querySelectorAll<HTMLDetailsElement>('details.group-details')) d.open = open;
}

/** The state of one calcification pattern in the form. */
export function patternState(root: HTMLElement, member: string): PatternState {
  const r = root.querySelector<HTMLInputElement>(`input[name="${patternName(member)}"]:checked`);
  return (r?.value as PatternState | undefined) ?? 'unknown';
}

export function setPatternState(root: HTMLElement, member: string, st: PatternState): void {
  const r = root.querySelector<HTMLInputElement>(`#${patternName(member)}-${st}`);
  if (r) r.checked = true;
}

export function readValue(root: HTMLElement, f: FieldDef): FieldValue {
  const id = fieldId(f.path);
  switch (f.kind) {
    case 'bool': {
      const r = root.querySelector<HTMLInputElement>(`input[name="${id}"]:checked`);
      return !r || r.value === '' ? undefined : r.value === 'true';
    }
    case 'pattern':
    case 'pattern-absent': {
      const want: PatternState = f.kind === 'pattern' ? 'seen' : 'excluded';
      const vs = (f.values ?? []).map(String).filter((m) => patternState(root, m) === want);
      return vs.length ? vs : undefined;
    }
    case 'number': {
      const el = root.querySelector<HTMLInputElement>(`#${id}`)!;
      if (el.value.trim() === '') return undefined;
      const v = Number(el.value);
      return Number.isFinite(v) ? v : undefined;
    }
    case 'int-enum': {
      const v = root.querySelector<HTMLSelectElement>(`#${id}`)!.value;
      return v === '' ? undefined : Number(v);
    }
    default: {
      const v = root.querySelector<HTMLInputElement | HTMLSelectElement>(`#${id}`)!.value;
      return v === '' ? undefined : v;
    }
  }
}

export function readValues(root: HTMLElement): Map<string, FieldValue> {
  const m = new Map<string, FieldValue>();
  for (const f of FIELDS) {
    const v = readValue(root, f);
    if (v !== undefined) m.set(f.path, v);
  }
  return m;
}

export function writeValue(root: HTMLElement, f: FieldDef, v: FieldValue): void {
  const id = fieldId(f.path);
  switch (f.kind) {
    case 'bool': {
      const key = v === undefined ? 'unknown' : String(v);
      const r = root.querySelector<HTMLInputElement>(`#${id}-${key}`);
      if (r) r.checked = true;
      break;
    }
    case 'pattern':
    case 'pattern-absent': {
      // each list sets its own state; a pattern it does not list leaves that state for unknown
      const st: PatternState = f.kind === 'pattern' ? 'seen' : 'excluded';
      const set = new Set(Array.isArray(v) ? v : []);
      for (const m of (f.values ?? []).map(String)) {
        if (set.has(m)) setPatternState(root, m, st);
        else if (patternState(root, m) === st) setPatternState(root, m, 'unknown');
      }
      break;
    }
    default: {
      const el = root.querySelector<HTMLInputElement | HTMLSelectElement>(`#${id}`)!;
      el.value = v === undefined ? '' : String(v);
    }
  }
}

export function writeValues(root: HTMLElement, values: ReadonlyMap<string, FieldValue>): void {
  for (const f of FIELDS) writeValue(root, f, values.get(f.path));
}

export function setMeasured(root: HTMLElement, path: string, on: boolean): void {
  root.querySelector(`.field[data-path="${path}"]`)?.classList.toggle('measured', on);
}

/** Moves focus to the control of a case path (for a morphology member, its state). */
export function focusField(root: HTMLElement, path: string, member?: string): boolean {
  const wrap = root.querySelector<HTMLElement>(`.field[data-path="${path}"]`);
  if (!wrap) return false;
  const details = wrap.closest('details');
  if (details) details.open = true;
  const target = (member ? wrap.querySelector<HTMLElement>(`input[name="${patternName(member)}"]:checked`) : null)
    ?? wrap.querySelector<HTMLElement>('input:checked, select, input');
  wrap.scrollIntoView({ block: 'center', behavior: 'smooth' });
  wrap.classList.add('flash');
  setTimeout(() => wrap.classList.remove('flash'), 1600);
  target?.focus({ preventScroll: true });
  return true;
}
