/**
 * The case form's components: the key findings (always open) and the other groups, collapsed
 * with how many of their fields are given. Booleans are tri-state radio groups (unknown / absent
 * / present), enums selects with an "unknown" option, numbers number inputs (empty = unknown),
 * and each calcification pattern a tri-state group of its own (unknown / seen / excluded) with
 * its drawing. The controls show the form's state (form.ts) and report each edit; a field the CT
 * measurement filled or confirmed carries the "measured" mark.
 */
import { Component } from 'preact';
import type { KnowledgeBase } from '../../../../src/core/knowledge/compile.js';
import { t, type Lang } from '../../../../src/i18n/index.js';
import { GROUPS, type FieldDef, type FieldValue } from './fields.js';
import { PATTERN_STATES, fieldId, fieldLabel, patternName, translated, valueLabel, type FormState, type PatternState } from './form.js';
import { PatternIcon } from './pattern-icon.js';

export interface FormProps {
  kb: KnowledgeBase;
  lang: Lang;
  form: FormState;
  /** the fields marked as measured (by path) */
  measured: ReadonlySet<string>;
  /** a control's text changed (as typed or chosen) */
  onText: (path: string, raw: string) => void;
  onPattern: (member: string, st: PatternState) => void;
}

/** One field's part of the form: its text, or for the pattern control the patterns' states. */
interface FieldProps {
  f: FieldDef;
  kb: KnowledgeBase;
  lang: Lang;
  value: string | Readonly<Record<string, PatternState>>;
  measured: boolean;
  onText: FormProps['onText'];
  onPattern: FormProps['onPattern'];
}

function Badge({ lang }: { lang: Lang }) {
  return <span class="measured-badge" title={t(lang, 'web.measuredTitle')}>{t(lang, 'web.measured')}</span>;
}

const PatternControl = ({ f, kb, lang, value, onPattern }: FieldProps) => {
  const id = fieldId(f.path);
  const states = typeof value === 'string' ? {} : value;
  return (
    <fieldset class="patterns" id={id}>
      <legend>{t(lang, 'web.patterns')}<Badge lang={lang} /></legend>
      <p class="hint" id={`${id}-hint`}>{t(lang, 'web.patternsHint')}</p>
      <div class="pattern-grid">
        {(f.values ?? []).map(String).map((m) => {
          const name = patternName(m);
          const st = states[m] ?? 'unknown';
          return (
            <div key={m} class="pattern" role="radiogroup" aria-labelledby={`${name}-label`} aria-describedby={`${id}-hint`} data-member={m}>
              <PatternIcon pattern={m} />
              <span class="pattern-label" id={`${name}-label`}>{valueLabel(kb, f.path, m, lang)}</span>
              <span class="seg">
                {PATTERN_STATES.map((s) => (
                  <>
                    <input type="radio" name={name} id={`${name}-${s}`} value={s} checked={st === s} onChange={() => onPattern(m, s)} />
                    <label for={`${name}-${s}`} class={`st-${s}`}>{t(lang, `web.pattern.${s}`)}</label>
                  </>
                ))}
              </span>
            </div>
          );
        })}
      </div>
    </fieldset>
  );
};

function Control(props: FieldProps) {
  const { f, kb, lang, value, onText } = props;
  const id = fieldId(f.path);
  const label = fieldLabel(kb, f.path, lang);
  const raw = typeof value === 'string' ? value : '';
  const edit = (e: Event): void => onText(f.path, (e.currentTarget as HTMLInputElement | HTMLSelectElement).value);
  switch (f.kind) {
    case 'bool': {
      const opts: Array<[string, string]> = [['', t(lang, 'web.unknown')], ['false', t(lang, 'web.absent')], ['true', t(lang, 'web.present')]];
      return (
        <fieldset class="tri" id={id}>
          <legend>{label}<Badge lang={lang} /></legend>
          {opts.map(([v, text]) => {
            const rid = `${id}-${v || 'unknown'}`;
            return (
              <>
                <input type="radio" name={id} id={rid} value={v} checked={raw === v} onChange={() => onText(f.path, v)} />
                <label for={rid}>{text}</label>
              </>
            );
          })}
        </fieldset>
      );
    }
    case 'pattern':
      return <PatternControl {...props} />;
    case 'pattern-absent':
      // written by the pattern control of `morphology`
      return null;
    case 'enum':
    case 'int-enum':
      return (
        <>
          <label for={id}>{label}<Badge lang={lang} /></label>
          <select id={id} value={raw} onChange={edit}>
            <option value="">{`— ${t(lang, 'web.unknown')} —`}</option>
            {(f.values ?? []).map((v) => <option value={String(v)}>{valueLabel(kb, f.path, v, lang)}</option>)}
          </select>
        </>
      );
    case 'number': {
      const unit = f.unit ? `${translated(lang, `web.unit.${f.unit}`) ?? f.unit} · ${t(lang, 'web.numberHint')}` : t(lang, 'web.numberHint');
      return (
        <>
          <label for={id}>{label}<Badge lang={lang} /></label>
          <span class="with-unit">
            <input type="number" id={id} min={f.min} max={f.max} step={f.step ?? 'any'} inputMode="decimal" placeholder={t(lang, 'web.unknown')}
              aria-describedby={`${id}-unit`} value={raw} onInput={edit} />
            <span class="unit" id={`${id}-unit`}>{unit}</span>
          </span>
        </>
      );
    }
    case 'date':
      return (
        <>
          <label for={id}>{label}<Badge lang={lang} /></label>
          <input type="date" id={id} value={raw} onInput={edit} />
        </>
      );
    case 'text':
      return (
        <>
          <label for={id}>{label}</label>
          <input type="text" id={id} maxLength={200} autocomplete="off" value={raw} onInput={edit} />
        </>
      );
  }
}

/** A field redraws only when its own value, mark or language changes (an edit elsewhere leaves it as it is). */
class Field extends Component<FieldProps> {
  override shouldComponentUpdate(n: FieldProps): boolean {
    const p = this.props;
    return n.value !== p.value || n.measured !== p.measured || n.lang !== p.lang || n.kb !== p.kb || n.f !== p.f;
  }

  override render() {
    const { f, measured } = this.props;
    const cls = `field field-${f.kind}${f.kind === 'pattern' ? ' field-multi' : ''}${measured ? ' measured' : ''}`;
    return <div class={cls} data-path={f.path}><Control {...this.props} /></div>;
  }
}

const groupBody = ({ kb, lang, form, measured, onText, onPattern }: FormProps, fields: FieldDef[]) => (
  <div class="group-body">
    {fields.filter((f) => f.kind !== 'pattern-absent').map((f) => (
      <Field key={f.path} f={f} kb={kb} lang={lang} value={f.kind === 'pattern' ? form.patterns : form.text[f.path] ?? ''}
        measured={measured.has(f.path)} onText={onText} onPattern={onPattern} />
    ))}
  </div>
);

/** The key findings: always open, first in the form. */
export function KeyFields(props: FormProps) {
  const { lang } = props;
  return (
    <div id="key-fields">
      {GROUPS.filter((g) => g.key).map((g) => (
        <fieldset key={g.id} class={`group group-${g.id}`} id={`g-${g.id}`}>
          <legend>{t(lang, `web.group.${g.id}`)}</legend>
          <p class="hint group-hint">{t(lang, 'web.keyHint')}</p>
          {groupBody(props, g.fields)}
        </fieldset>
      ))}
    </div>
  );
}

/** The other groups, collapsed unless opened, each with how many of its fields are given. */
export function FieldGroups(props: FormProps & { values: ReadonlyMap<string, FieldValue>; open: ReadonlySet<string>; onToggle: (group: string, open: boolean) => void }) {
  const { lang, values, open, onToggle } = props;
  return (
    <div id="fields">
      {GROUPS.filter((g) => !g.key).map((g) => {
        const label = t(lang, `web.group.${g.id}`);
        const n = g.fields.filter((f) => values.has(f.path)).length;
        return (
          <details key={g.id} class="group-details" id={`g-${g.id}`} data-group={g.id} open={open.has(g.id)}
            onToggle={(e) => onToggle(g.id, (e.currentTarget as HTMLDetailsElement).open)}>
            <summary><span class="group-name">{label}</span><span class="group-count" data-count={String(n)}>{n ? t(lang, 'web.given', { count: n }) : ''}</span></summary>
            <fieldset class={`group group-${g.id}`}>
              <legend class="sr-only">{label}</legend>
              {groupBody(props, g.fields)}
            </fieldset>
          </details>
        );
      })}
    </div>
  );
}

/** Moves focus to the control of a case path (for a morphology member, its state); opens its group. */
export function focusField(path: string, member?: string): boolean {
  const wrap = document.querySelector<HTMLElement>(`#case-form .field[data-path="${path}"]`);
  if (!wrap) return false;
  const details = wrap.closest('details');
  // (the group's toggle event tells the page that it is open)
  if (details) details.open = true;
  const target = (member ? wrap.querySelector<HTMLElement>(`input[name="${patternName(member)}"]:checked`) : null)
    ?? wrap.querySelector<HTMLElement>('input:checked, select, input');
  wrap.scrollIntoView({ block: 'center', behavior: 'smooth' });
  wrap.classList.add('flash');
  setTimeout(() => wrap.classList.remove('flash'), 1600);
  target?.focus({ preventScroll: true });
  return true;
}

