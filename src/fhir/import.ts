/**
 * FHIR R4 → case format v1. Input: a Bundle (any type, nested search Bundles included) or a CDS Hooks
 * prefetch object ({ key: resource | Bundle | null }). Which code fills which field is the code map
 * (data); this module reads values by the kind of the target field. Everything not used is reported
 * with where it was, its code and why; nothing is dropped silently. Pure: no I/O, no clock (the
 * reference date for the age is a parameter).
 */
import type { CaseFile } from '../core/case-format/schema.js';
import { validateCase } from '../core/case-format/validate.js';
import { formatIssue, type Lang } from '../i18n/index.js';
import { lookup, notUsedWhy, type CodeMap, type Coding, type MapEntry } from './code-map.js';
import { deletePath, setPath, type CaseField } from './fields.js';
import { FhirInputError, fhirText, type FhirIssue, type FhirMessageCode } from './messages.js';

type Res = Record<string, unknown>;
type Params = Record<string, string | number>;

export interface UnmappedItem {
  /** Type/id of the resource, or its place in the input (entry[3]) when it has no id */
  resource: string;
  /** the FHIR element that could not be used (code, valueQuantity.unit, bodySite, …) */
  element: string;
  /** system|code of the item, when it had one */
  code?: string;
  /** the case field it would have filled, when known */
  caseField?: string;
  reason: FhirMessageCode;
  why: string;
}

export interface MappedItem { resource: string; code: string; caseField: string; value: unknown }

export interface ImportResult {
  case: CaseFile;
  mapped: MappedItem[];
  unmapped: UnmappedItem[];
  /** resource counts read */
  resources: number;
}

export interface ImportOptions {
  /** the date ages are computed at (YYYY-MM-DD) */
  referenceDate: string;
  lang?: Lang;
  /** refuse the input (422) when anything could not be mapped */
  strict?: boolean;
}

const isObj = (x: unknown): x is Res => x !== null && typeof x === 'object' && !Array.isArray(x);
const str = (x: unknown): string | undefined => (typeof x === 'string' ? x : undefined);
const arr = (x: unknown): unknown[] => (Array.isArray(x) ? x : []);
const codings = (cc: unknown): Coding[] => (isObj(cc) ? arr(cc.coding).filter(isObj).map((c) => ({ system: str(c.system), code: str(c.code), display: str(c.display) })) : []);
const codeText = (c: Coding): string => `${c.system ?? ''}|${c.code ?? ''}`;

interface Located { res: Res; where: string }

/** Flattens a Bundle (and Bundles inside it) or a prefetch object into resources with their place. */
function collect(input: unknown): Located[] {
  if (!isObj(input)) throw new FhirInputError(422, [{ code: 'not_bundle', params: { found: Array.isArray(input) ? 'a list' : typeof input } }]);
  const out: Located[] = [];
  const visit = (r: unknown, where: string, depth: number): void => {
    if (!isObj(r) || typeof r.resourceType !== 'string') { out.push({ res: {}, where }); return; }
    if (r.resourceType === 'Bundle') {
      if (r.entry !== undefined && !Array.isArray(r.entry)) throw new FhirInputError(422, [{ code: 'bad_entries', expression: `${where}.entry` }]);
      if (depth > 3) return;
      arr(r.entry).forEach((e, i) => visit(isObj(e) ? e.resource : undefined, `${where}.entry[${i}]`, depth + 1));
      return;
    }
    out.push({ res: r, where });
  };
  if (typeof input.resourceType === 'string') {
    if (input.resourceType !== 'Bundle') throw new FhirInputError(422, [{ code: 'not_bundle', params: { found: `resourceType ${input.resourceType.slice(0, 40)}` }, expression: 'resourceType' }]);
    visit(input, 'Bundle', 0);
  } else {
    // a CDS Hooks prefetch: each value a resource, a Bundle or null (not available)
    for (const [k, v] of Object.entries(input)) if (v !== null && v !== undefined) visit(v, `prefetch.${k}`, 0);
    if (!Object.values(input).some((v) => isObj(v) && typeof v.resourceType === 'string')) {
      throw new FhirInputError(422, [{ code: 'not_bundle', params: { found: 'an object without FHIR resources' } }]);
    }
  }
  return out;
}

const refOf = (l: Located): string => (typeof l.res.resourceType === 'string' && typeof l.res.id === 'string' ? `${l.res.resourceType}/${l.res.id}` : l.where);

/** Full years from a FHIR date (YYYY, YYYY-MM, YYYY-MM-DD) to the reference date. */
export function ageAt(birthDate: string, ref: string): number | undefined {
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/.exec(birthDate);
  const r = /^(\d{4})-(\d{2})-(\d{2})$/.exec(ref);
  if (!m || !r) return undefined;
  // a partial date: the middle of its year or month
  const [y, mo, d] = [Number(m[1]), m[2] ? Number(m[2]) : 7, m[3] ? Number(m[3]) : (m[2] ? 15 : 1)];
  const [ry, rm, rd] = [Number(r[1]), Number(r[2]), Number(r[3])];
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return undefined;
  let age = ry - y;
  if (rm < mo || (rm === mo && rd < d)) age--;
  return age >= 0 ? age : undefined;
}

/** When a resource was observed, for choosing the latest of several values (ISO text compares in order). */
function whenOf(r: Res): string {
  const p = isObj(r.effectivePeriod) ? str(r.effectivePeriod.end) ?? str(r.effectivePeriod.start) : undefined;
  const pp = isObj(r.performedPeriod) ? str(r.performedPeriod.end) ?? str(r.performedPeriod.start) : undefined;
  return str(r.effectiveDateTime) ?? p ?? str(r.issued) ?? str(r.performedDateTime) ?? pp ?? str(r.recordedDate) ?? str(r.onsetDateTime) ?? '';
}

interface Candidate { field: CaseField; value: unknown; when: string; from: string; code: string; element: string }

const YES = new Set(['373066001', 'Y', 'yes', 'true']);
const NO = new Set(['373067005', 'N', 'no', 'false']);

export function fhirToCase(map: CodeMap, input: unknown, o: ImportOptions): ImportResult {
  const lang = o.lang ?? 'en';
  if (!/^\d{4}-\d{2}-\d{2}$/.test(o.referenceDate)) throw new FhirInputError(400, [{ code: 'bad_reference_date', params: { found: o.referenceDate } }]);
  const located = collect(input);
  const unmapped: UnmappedItem[] = [];
  const note = (l: Located | string, element: string, reason: FhirMessageCode, params: Params = {}, code?: string, caseField?: string) => {
    unmapped.push({ resource: typeof l === 'string' ? l : refOf(l), element, ...(code ? { code } : {}), ...(caseField ? { caseField } : {}), reason, why: fhirText(lang, reason, params) });
  };

  // ---- the patient
  const patients = located.filter((l) => l.res.resourceType === 'Patient');
  const ids = new Set(patients.map((p) => str(p.res.id) ?? p.where));
  if (patients.length === 0) throw new FhirInputError(422, [{ code: 'no_patient', expression: 'Bundle.entry' }]);
  if (ids.size > 1) throw new FhirInputError(422, [{ code: 'several_patients', params: { count: ids.size } }]);
  const patient = patients[0]!;
  const patientId = str(patient.res.id);
  const candidates: Candidate[] = [];
  const fields = map.fields;
  const add = (field: string, value: unknown, l: Located, code: string, element: string) => {
    candidates.push({ field: fields.get(field)!, value, when: whenOf(l.res), from: refOf(l), code, element });
  };

  const g = str(patient.res.gender);
  if (g !== undefined && map.sexField.values?.includes(g)) add(map.sexField.path, g, patient, 'Patient.gender', 'gender');
  else if (g !== undefined) note(patient, 'gender', 'gender', { gender: g.slice(0, 40) }, undefined, map.sexField.path);
  const bd = str(patient.res.birthDate);
  if (bd !== undefined) {
    const age = ageAt(bd, o.referenceDate);
    if (age === undefined) note(patient, 'birthDate', 'birth_date', { found: bd.slice(0, 40), ref: o.referenceDate }, undefined, map.ageField.path);
    else candidates.push({ field: map.ageField, value: age, when: '', from: refOf(patient), code: 'Patient.birthDate', element: 'birthDate' });
  }

  const subjectOk = (l: Located): boolean => {
    const s = isObj(l.res.subject) ? str(l.res.subject.reference) : isObj(l.res.patient) ? str(l.res.patient.reference) : undefined;
    if (s === undefined || patientId === undefined) return true;
    return s === `Patient/${patientId}` || s.endsWith(`/Patient/${patientId}`) || s === str(patient.res.fullUrl);
  };

  /** the value of an Observation for a field, or why there is none */
  const observationValue = (l: Located, e: MapEntry): { value: unknown; element: string } | { reason: FhirMessageCode; params?: Params; element: string } => {
    const r = l.res;
    const f = e.field;
    if (e.value !== undefined) {
      if (r.valueBoolean === false) return { value: e.absent ?? (f.kind === 'boolean' ? false : undefined), element: 'valueBoolean' };
      return { value: e.value, element: 'code' };
    }
    // a list without a value: the list is known and empty (morphology [] = calcification seen, pattern not described)
    if (isObj(r.dataAbsentReason)) return f.kind === 'list' ? { value: [], element: 'dataAbsentReason' } : { reason: 'no_value', element: 'dataAbsentReason' };
    switch (f.kind) {
      case 'boolean': {
        if (typeof r.valueBoolean === 'boolean') return { value: r.valueBoolean, element: 'valueBoolean' };
        for (const c of codings(r.valueCodeableConcept)) {
          if (c.code && YES.has(c.code)) return { value: true, element: 'valueCodeableConcept' };
          if (c.code && NO.has(c.code)) return { value: false, element: 'valueCodeableConcept' };
        }
        return { reason: 'wrong_value_type', params: { expected: 'valueBoolean' }, element: 'value[x]' };
      }
      case 'number': case 'integer': {
        if (typeof r.valueInteger === 'number') return { value: r.valueInteger, element: 'valueInteger' };
        if (!isObj(r.valueQuantity) || typeof r.valueQuantity.value !== 'number') return { reason: 'wrong_value_type', params: { expected: 'valueQuantity' }, element: 'value[x]' };
        const q = r.valueQuantity;
        if (typeof q.comparator === 'string') return { reason: 'limit_value', params: { comparator: q.comparator }, element: 'valueQuantity.comparator' };
        const u = map.units[f.path];
        if (!u) return { value: q.value, element: 'valueQuantity' };
        const unit = str(q.code) ?? str(q.unit) ?? '';
        const factor = u.from[unit] ?? (str(q.unit) !== undefined ? u.from[str(q.unit)!] : undefined);
        if (factor === undefined) return { reason: 'bad_unit', params: { unit: unit || '(none)', target: u.unit, allowed: Object.keys(u.from).join(', ') }, element: 'valueQuantity.code' };
        return { value: factor === 1 ? q.value : Math.round((q.value as number) * factor * 1e4) / 1e4, element: 'valueQuantity' };
      }
      case 'enum': case 'list': {
        const fromCc = codings(r.valueCodeableConcept).map((c) => {
          if (c.system === map.valueSystem && c.code && f.values!.includes(c.code)) return c.code;
          if (f === map.regionField && c.code && c.system === map.urisOf('sct')[0]) return map.regionOfSite.get(c.code);
          return undefined;
        }).find((x) => x !== undefined);
        const v = fromCc ?? str(r.valueString);
        if (v === undefined) return { reason: 'wrong_value_type', params: { expected: `valueCodeableConcept (${map.valueSystem})` }, element: 'value[x]' };
        if (!f.values!.includes(v)) return { reason: 'value_not_allowed', params: { found: v.slice(0, 60), field: f.path, allowed: f.values!.join(' | ') }, element: 'value[x]' };
        return { value: v, element: fromCc ? 'valueCodeableConcept' : 'valueString' };
      }
      case 'date': {
        const v = str(r.valueDateTime) ?? str(r.valueDate) ?? str(r.valueString);
        if (v === undefined || !/^\d{4}-\d{2}-\d{2}/.test(v)) return { reason: 'wrong_value_type', params: { expected: 'valueDateTime YYYY-MM-DD' }, element: 'value[x]' };
        return { value: v.slice(0, 10), element: 'valueDateTime' };
      }
      default: return { reason: 'wrong_value_type', params: { expected: 'a value' }, element: 'value[x]' };
    }
  };

  const matchCode = (l: Located, cc: unknown, element: string, resource: MapEntry['resource'] | 'any'): { entry: MapEntry; code: string } | undefined => {
    const cs = codings(cc);
    for (const c of cs) {
      const entry = lookup(map, c).find((e) => resource === 'any' || e.resource === resource || e.alias === 'calcdx');
      if (entry) return { entry, code: codeText(c) };
    }
    if (cs.length === 0) { note(l, element, 'no_coding'); return undefined; }
    const known = cs.map((c) => notUsedWhy(map, c)).find((w) => w !== undefined);
    const first = cs.find((c) => c.system && c.code) ?? cs[0]!;
    if (known) note(l, element, 'not_used', { why: known }, codeText(first));
    else note(l, element, 'unknown_code', {}, codeText(first));
    return undefined;
  };

  const observation = (l: Located): void => {
    const status = str(l.res.status);
    if (status === 'entered-in-error' || status === 'cancelled' || status === 'registered') { note(l, 'status', 'status', { status }); return; }
    const m = matchCode(l, l.res.code, 'code', 'Observation');
    if (!m) return;
    const v = observationValue(l, m.entry);
    if ('reason' in v) { note(l, v.element, v.reason, v.params, m.code, m.entry.field.path); return; }
    if (v.value === undefined) { note(l, 'valueBoolean', 'no_value', {}, m.code, m.entry.field.path); return; }
    add(m.entry.field.path, v.value, l, m.code, v.element);
    // an imaging finding's body site locates the lesion
    const field = m.entry.field.path;
    if (l.res.bodySite !== undefined && (field.startsWith('imaging.') || field.startsWith('lesion.'))) {
      const region = codings(l.res.bodySite).map((c) => (c.system === map.valueSystem ? c.code : c.code ? map.regionOfSite.get(c.code) : undefined)).find((x) => x !== undefined);
      if (region && map.regionField.values!.includes(region)) candidates.push({ field: map.regionField, value: region, when: '0000', from: refOf(l), code: 'bodySite', element: 'bodySite' });
    }
  };

  const VERIFIED = new Set(['confirmed', 'provisional']);
  const condition = (l: Located): void => {
    const vs = codings(l.res.verificationStatus)[0]?.code;
    if (vs === 'entered-in-error') { note(l, 'verificationStatus', 'status', { status: vs }); return; }
    if (vs !== undefined && vs !== 'refuted' && !VERIFIED.has(vs)) { note(l, 'verificationStatus', 'not_confirmed', { status: vs }); return; }
    const m = matchCode(l, l.res.code, 'code', 'Condition');
    if (!m) return;
    const e = m.entry;
    if (vs === 'refuted') {
      const absent = e.absent ?? (e.field.kind === 'boolean' ? false : undefined);
      if (absent === undefined) { note(l, 'verificationStatus', 'not_confirmed', { status: vs }, m.code, e.field.path); return; }
      add(e.field.path, absent, l, m.code, 'verificationStatus');
      return;
    }
    const value = e.value ?? (e.field.kind === 'boolean' ? true : undefined);
    if (value === undefined) { note(l, 'code', 'wrong_value_type', { expected: 'an Observation with a value' }, m.code, e.field.path); return; }
    add(e.field.path, value, l, m.code, 'code');
  };

  const surgeries: Located[] = [];
  const DONE = new Set(['completed', 'in-progress', 'stopped']);
  const procedure = (l: Located): void => {
    const status = str(l.res.status);
    if (status !== undefined && !DONE.has(status)) { note(l, 'status', 'status', { status }); return; }
    const cs = codings(l.res.code);
    const hit = cs.map((c) => ({ c, e: lookup(map, c).find((e) => e.resource === 'Procedure' || e.value !== undefined) })).find((x) => x.e);
    if (hit?.e) { add(hit.e.field.path, hit.e.value ?? true, l, codeText(hit.c), 'code'); return; }
    const cat = map.file.surgicalCategory;
    const surgical = [...codings(l.res.category), ...cs].some((c) => c.code === cat.code && c.system !== undefined && map.urisOf(cat.system).includes(c.system));
    if (!surgical) {
      const first = cs[0];
      note(l, 'code', first ? 'not_surgical' : 'no_coding', {}, first ? codeText(first) : undefined);
      return;
    }
    surgeries.push(l);
  };

  const diagnosticReport = (l: Located): void => {
    const contained = arr(l.res.contained).filter(isObj);
    contained.forEach((c, i) => {
      if (c.resourceType === 'Observation') observation({ res: { ...c, subject: l.res.subject, effectiveDateTime: c.effectiveDateTime ?? l.res.effectiveDateTime }, where: `${refOf(l)}.contained[${i}]` });
      else note(`${refOf(l)}.contained[${i}]`, 'resourceType', 'not_read_type', { type: String(c.resourceType).slice(0, 40) });
    });
    arr(l.res.conclusionCode).forEach((cc, i) => {
      const m = matchCode(l, cc, `conclusionCode[${i}]`, 'any');
      if (m && m.entry.value !== undefined) add(m.entry.field.path, m.entry.value, l, m.code, `conclusionCode[${i}]`);
      else if (m) note(l, `conclusionCode[${i}]`, 'wrong_value_type', { expected: 'an Observation with a value' }, m.code, m.entry.field.path);
    });
    if (contained.length === 0 && arr(l.res.result).length === 0 && arr(l.res.conclusionCode).length === 0) note(l, 'result', 'no_results');
  };

  for (const l of located) {
    const type = l.res.resourceType;
    if (typeof type !== 'string') { note(l, 'resource', 'not_resource'); continue; }
    if (type === 'Patient') continue;
    if (!subjectOk(l)) { note(l, 'subject', 'other_patient'); continue; }
    if (type === 'Observation') observation(l);
    else if (type === 'Condition') condition(l);
    else if (type === 'Procedure') procedure(l);
    else if (type === 'DiagnosticReport') diagnosticReport(l);
    else note(l, 'resourceType', 'not_read_type', { type: type.slice(0, 40) });
  }

  // ---- one value per field: the latest (lists gather every value); the others reported
  const out: Record<string, unknown> = { formatVersion: 1 };
  const chosen = new Map<string, Candidate>();
  for (const c of candidates) {
    const p = c.field.path;
    if (c.field.kind === 'list') {
      const prev = (chosen.get(p)?.value as string[] | undefined) ?? [];
      const add = (Array.isArray(c.value) ? c.value as string[] : [c.value as string]).filter((x) => !prev.includes(x));
      chosen.set(p, { ...(chosen.get(p) ?? c), value: [...prev, ...add] });
      continue;
    }
    const cur = chosen.get(p);
    if (!cur) { chosen.set(p, c); continue; }
    const later = c.when > cur.when;
    const [keep, drop] = later ? [c, cur] : [cur, c];
    chosen.set(p, keep);
    const same = drop.value === keep.value || (typeof drop.value === 'object' && JSON.stringify(drop.value) === JSON.stringify(keep.value));
    if (!same) note(drop.from, drop.element, 'superseded', { by: keep.from }, drop.code, p);
  }

  // ---- surgery at the lesion's site: compare body sites with the lesion region
  const region = chosen.get(map.regionField.path)?.value as string | undefined;
  for (const l of surgeries) {
    const sites = arr(l.res.bodySite).flatMap(codings);
    const siteRegions = sites.map((c) => (c.system === map.valueSystem ? c.code : c.code ? map.regionOfSite.get(c.code) : undefined)).filter((x): x is string => x !== undefined);
    if (siteRegions.length === 0 || region === undefined) { note(l, 'bodySite', 'no_site', {}, sites[0] ? codeText(sites[0]) : undefined, map.surgeryField.path); continue; }
    if (!siteRegions.includes(region)) { note(l, 'bodySite', 'other_site', { site: siteRegions.join(', '), region }, codeText(sites[0]!), map.surgeryField.path); continue; }
    const c: Candidate = { field: map.surgeryField, value: true, when: whenOf(l.res), from: refOf(l), code: codeText(sites[0]!), element: 'bodySite' };
    if (!chosen.has(c.field.path)) chosen.set(c.field.path, c);
  }

  for (const [p, c] of chosen) setPath(out, p, c.value);

  // ---- what the case format refuses (a value out of range after conversion, an incomplete FNCLCC score)
  let v = validateCase(out);
  for (let round = 0; !v.ok && round < 20; round++) {
    let removed = 0;
    for (const issue of v.issues) {
      // the field itself (or what lies under or above it); a field that is required but missing (an
      // incomplete FNCLCC score) takes its siblings with it
      let paths = [...chosen.keys()].filter((p) => p === issue.path || p.startsWith(`${issue.path}.`) || issue.path.startsWith(`${p}.`));
      if (paths.length === 0 && issue.path.includes('.')) paths = [...chosen.keys()].filter((p) => p.startsWith(`${issue.path.slice(0, issue.path.lastIndexOf('.'))}.`));
      removed += paths.length;
      for (const p of paths) {
        const c = chosen.get(p)!;
        note(c.from, c.element, 'case_invalid', { message: formatIssue(lang, issue) }, c.code, p);
        chosen.delete(p);
        deletePath(out, p);
      }
    }
    if (removed === 0) throw new Error(`fhir import: case issue without a source: ${v.issues[0]!.code} ${v.issues[0]!.path}`);
    v = validateCase(out);
  }
  if (!v.ok) throw new Error('fhir import: the case is still invalid');

  const mapped: MappedItem[] = [...chosen.entries()].map(([p, c]) => ({ resource: c.from, code: c.code, caseField: p, value: c.value }));
  if (o.strict && unmapped.length) {
    const issues: FhirIssue[] = unmapped.map((u) => ({ code: 'unmapped_item', params: { why: u.why }, expression: `${u.resource}.${u.element}`, type: 'not-supported' }));
    throw new FhirInputError(422, [{ code: 'strict_unmapped', params: { count: unmapped.length } }, ...issues]);
  }
  return { case: v.value, mapped, unmapped, resources: located.length };
}
