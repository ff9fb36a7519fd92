/**
 * The case form's state as a hook: what the controls show (form.ts), the fields marked as
 * measured, the groups open, and the last CT measurement's merge (what it filled, the differences
 * still to decide, the form before it for "undo"). A measurement meets the form as ct-merge.ts
 * plans it: unknown fields are filled, the reader's entries are kept and each difference is
 * offered. Editing a field takes its "measured" mark away.
 */
import { useRef, useState } from 'preact/hooks';
import type { KnowledgeBase } from '../../../../src/core/knowledge/compile.js';
import type { Lang } from '../../../../src/i18n/index.js';
import type { MeasureOutcome } from '../../panels/ct-viewer/ct.js';
import { planMerge, type CtFindings, type MergeDifference } from './ct-merge.js';
import { filledLabel, type MergeView } from './ct-merge-panel.js';
import { FIELD_BY_PATH, GROUPS, MORPHOLOGY, valuesFromCase } from './fields.js';
import { formFromValues, readValues, setPattern, setText, writeValue, type FormState, type PatternState } from './form.js';

const COLLAPSIBLE = GROUPS.filter((g) => !g.key).map((g) => g.id);
/** the collapsible group that holds a case path */
const groupOf = (path: string): string | undefined => GROUPS.find((g) => !g.key && g.fields.some((f) => f.path === path))?.id;

export interface CaseForm {
  form: FormState;
  measured: ReadonlySet<string>;
  openGroups: ReadonlySet<string>;
  merge: MergeView | undefined;
  /** the last measurement was undone (said until the next one or another case) */
  undone: boolean;
  /** the form now (also between an edit and the next render) */
  current(): FormState;
  editText(path: string, raw: string): void;
  editPattern(member: string, st: PatternState): void;
  toggleGroup(group: string, open: boolean): void;
  setGroupsOpen(open: boolean): void;
  /** shows a case document (fields it does not give are unknown); forgets the measurement */
  load(doc: unknown): void;
  applyCt(f: CtFindings, kb: KnowledgeBase, lang: Lang): MeasureOutcome;
  resolveDiff(d: MergeDifference, useMeasured: boolean): void;
  undoMeasurement(): void;
}

export function useCaseForm(initial: () => FormState): CaseForm {
  const [form, setFormState] = useState<FormState>(initial);
  const [measured, setMeasuredState] = useState<ReadonlySet<string>>(new Set());
  const [openGroups, setOpenGroups] = useState<ReadonlySet<string>>(new Set());
  const [merge, setMerge] = useState<MergeView | undefined>(undefined);
  const [undone, setUndone] = useState(false);
  // the latest values, for handlers that run between renders (the CT panel's callback)
  const ref = useRef({ form, measured, merge });
  const undo = useRef<{ form: FormState; measured: ReadonlySet<string> } | undefined>(undefined);

  const setForm = (s: FormState): void => { ref.current.form = s; setFormState(s); };
  const setMeasured = (m: ReadonlySet<string>): void => { ref.current.measured = m; setMeasuredState(m); };
  const setMergeView = (m: MergeView | undefined): void => { ref.current.merge = m; setMerge(m); };
  const unmark = (path: string): void => {
    if (!ref.current.measured.has(path)) return;
    const m = new Set(ref.current.measured);
    m.delete(path);
    setMeasured(m);
  };
  const openFor = (paths: string[]): void => {
    const add = paths.map(groupOf).filter((g): g is string => g !== undefined);
    if (add.length) setOpenGroups((o) => new Set([...o, ...add]));
  };
  const forgetMerge = (): void => { undo.current = undefined; setMergeView(undefined); setUndone(false); };

  return {
    form, measured, openGroups, merge, undone,
    current: () => ref.current.form,
    editText(path, raw) { setForm(setText(ref.current.form, path, raw)); unmark(path); },
    editPattern(member, st) { setForm(setPattern(ref.current.form, member, st)); unmark(MORPHOLOGY); },
    toggleGroup(group, open) {
      setOpenGroups((o) => {
        if (o.has(group) === open) return o;
        const n = new Set(o);
        if (open) n.add(group); else n.delete(group);
        return n;
      });
    },
    setGroupsOpen(open) { setOpenGroups(new Set(open ? COLLAPSIBLE : [])); },
    load(doc) {
      setMeasured(new Set());
      forgetMerge();
      setForm(formFromValues(valuesFromCase(doc)));
    },
    applyCt(f, kb, lang) {
      const before = ref.current.form;
      undo.current = { form: before, measured: ref.current.measured };
      const plan = planMerge(readValues(before), f);
      let s = before;
      const m = new Set(ref.current.measured);
      for (const [path, v] of plan.fill) { s = writeValue(s, FIELD_BY_PATH.get(path)!, v); m.add(path); }
      for (const p of plan.patternsSeen) s = setPattern(s, p, 'seen');
      for (const path of plan.confirmed) m.add(path);
      const filled = [...plan.fill.keys(), ...(plan.patternsSeen.length ? [MORPHOLOGY] : [])];
      // the groups the measurement changed or questions are opened, so that it is seen
      openFor([...filled, ...plan.confirmed, ...plan.differences.map((d) => d.path)]);
      setForm(s);
      setMeasured(m);
      setMergeView({ filled, diffs: plan.differences });
      setUndone(false);
      return { filled: filled.map((p) => filledLabel(kb, p, lang)), differences: plan.differences.length };
    },
    resolveDiff(d, useMeasured) {
      const cur = ref.current.merge;
      if (cur) setMergeView({ ...cur, diffs: cur.diffs.filter((x) => x !== d) });
      if (!useMeasured) return;
      setForm(d.member ? setPattern(ref.current.form, d.member, 'seen') : writeValue(ref.current.form, FIELD_BY_PATH.get(d.path)!, d.measured));
      setMeasured(new Set([...ref.current.measured, d.path]));
    },
    undoMeasurement() {
      const u = undo.current;
      if (!u) return;
      setForm(u.form);
      setMeasured(u.measured);
      undo.current = undefined;
      setMergeView(undefined);
      setUndone(true);
    },
  };
}
