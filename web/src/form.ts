/**
 * The case form in the DOM: built from GROUPS, read into and written from form values.
 * Booleans are tri-state radio groups (unknown / absent / present), enums selects with an
 * "unknown" option, numbers number inputs (empty = unknown), morphology checkboxes.
 */
import type { KnowledgeBase } from '../../src/core/knowledge/compile.js';
import { t, type Lang } from '../../src/i18n/index.js';
import { entityName } from '../../src/report/describe.js';
import { h } from './dom.js';
import { FIELDS, GROUPS, type FieldDef, type FieldValue } from './fields.js';

export const fieldId = (path: string): string => `f-${path.replace(/\./g, '-')}`;

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
    case 'multi': {
      const fs = h('fieldset', { class: 'multi', id });
      fs.append(h('legend', {}, label, badge));
      for (const v of f.values ?? []) {
        const cid = `${id}-${v}`;
        fs.append(h('span', { class: 'check' }, h('input', { type: 'checkbox', id: cid, value: String(v) }), h('label', { for: cid, text: valueLabel(kb, f.path, v, lang) })));
      }
      fs.append(h('p', { class: 'hint', text: t(lang, f.path.endsWith('Absent') ? 'web.morphologyAbsentHint' : 'web.morphologyHint') }));
      wrap.append(fs);
      break;
    }
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

export function buildForm(root: HTMLElement, kb: KnowledgeBase, lang: Lang): void {
  root.replaceChildren();
  for (const g of GROUPS) {
    const fs = h('fieldset', { class: `group group-${g.id}`, id: `g-${g.id}` });
    fs.append(h('legend', { text: t(lang, `web.group.${g.id}`) }));
    const body = h('div', { class: 'group-body' });
    for (const f of g.fields) body.append(controlFor(kb, f, lang));
    fs.append(body);
    root.append(fs);
  }
}

export function readValue(root: HTMLElement, f: FieldDef): FieldValue {
  const id = fieldId(f.path);
  switch (f.kind) {
    case 'bool': {
      const r = root.querySelector<HTMLInputElement>(`input[name="${id}"]:checked`);
      return !r || r.value === '' ? undefined : r.value === 'true';
    }
    case 'multi': {
      const vs = [...root.querySelectorAll<HTMLInputElement>(`#${id} input[type=checkbox]:checked`)].map((c) => c.value);
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
    case 'multi': {
      const set = new Set(Array.isArray(v) ? v : []);
      for (const c of root.querySelectorAll<HTMLInputElement>(`#${id} input[type=checkbox]`)) c.checked = set.has(c.value);
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

/** Moves focus to the control of a case path (for a morphology member, its checkbox). */
export function focusField(root: HTMLElement, path: string, member?: string): boolean {
  const wrap = root.querySelector<HTMLElement>(`.field[data-path="${path}"]`);
  if (!wrap) return false;
  const group = wrap.closest('fieldset.group');
  if (group instanceof HTMLElement) group.querySelector('details')?.setAttribute('open', '');
  const target = (member ? wrap.querySelector<HTMLElement>(`input[value="${member}"]`) : null)
    ?? wrap.querySelector<HTMLElement>('input:checked, select, input');
  wrap.scrollIntoView({ block: 'center', behavior: 'smooth' });
  wrap.classList.add('flash');
  setTimeout(() => wrap.classList.remove('flash'), 1600);
  target?.focus({ preventScroll: true });
  return true;
}
