/**
 * The FHIR code map (data/fhir/code-map.yaml) validated and indexed. Which code fills which case
 * field is data; this module only checks the table against the case format and builds lookups.
 */
import { z } from 'zod';
import { caseFields, type CaseField } from './fields.js';

/** where a standard code and its display were checked: a page listing them (source), or how (verified) */
const checked = { source: z.url().optional(), verified: z.string().min(1).optional() };
const codeRow = z.strictObject({ system: z.string(), code: z.string(), display: z.string(), ...checked });

export const codeMapFileSchema = z.strictObject({
  version: z.literal(1),
  systems: z.record(z.string(), z.array(z.url()).min(1)),
  valueSystem: z.url(),
  units: z.record(z.string(), z.strictObject({ unit: z.string(), from: z.record(z.string(), z.number().positive()) })),
  patient: z.strictObject({ gender: z.string(), birthDate: z.string() }),
  categories: z.record(z.string(), z.string()),
  entries: z.array(z.strictObject({
    resource: z.enum(['Observation', 'Condition', 'Procedure']),
    system: z.string(),
    code: z.string().min(1),
    display: z.string().min(1),
    field: z.string(),
    match: z.literal('prefix').optional(),
    value: z.union([z.boolean(), z.string()]).optional(),
    absent: z.union([z.boolean(), z.string()]).optional(),
    ...checked,
  })),
  notUsed: z.array(z.strictObject({ system: z.string(), codes: z.array(z.string()).min(1), why: z.string(), ...checked })),
  bodySiteField: z.string(),
  bodySites: z.array(z.strictObject({ code: z.string(), display: z.string(), region: z.string(), ...checked })),
  surgicalCategory: codeRow.extend({ field: z.string() }),
  orderSelect: z.array(codeRow),
});
export type CodeMapFile = z.infer<typeof codeMapFileSchema>;

export interface MapEntry {
  resource: 'Observation' | 'Condition' | 'Procedure';
  /** the system alias of the table (loinc, sct, icd10, calcdx) and its first URI */
  alias: string;
  system: string;
  code: string;
  display: string;
  field: CaseField;
  prefix: boolean;
  value?: boolean | string;
  absent?: boolean | string;
}

export interface CodeMap {
  file: CodeMapFile;
  entries: MapEntry[];
  /** URI → alias */
  aliasOf: Map<string, string>;
  /** the URIs of an alias */
  urisOf: (alias: string) => string[];
  calcdxSystem: string;
  valueSystem: string;
  /** `alias|code` → exact rows */
  exact: Map<string, MapEntry[]>;
  /** alias → prefix rows, longest code first */
  prefixes: Map<string, MapEntry[]>;
  /** `alias|code` → why a known code is not used */
  notUsed: Map<string, string>;
  /** built once for the import's lookups: system URI → code → exact rows / prefix rows (longest first) / why not used */
  bySystem: Map<string, { exact: Map<string, MapEntry[]>; prefixes: MapEntry[]; notUsed: Map<string, string> }>;
  /** SNOMED CT body structure code → region */
  regionOfSite: Map<string, string>;
  /** region → first body structure row */
  siteOfRegion: Map<string, { code: string; display: string }>;
  fields: Map<string, CaseField>;
  units: CodeMapFile['units'];
  /** Patient.gender → this field; Patient.birthDate → the age in this field */
  sexField: CaseField;
  ageField: CaseField;
  /** the field a body site fills (the lesion region) */
  regionField: CaseField;
  /** the field an earlier operation at that region sets */
  surgeryField: CaseField;
}

export class CodeMapError extends Error {
  constructor(readonly problems: string[]) {
    super(`FHIR code map: ${problems.join('; ')}`);
    this.name = 'CodeMapError';
  }
}

/** Validates the parsed table against its schema and the case format; throws CodeMapError with every problem. */
export function compileCodeMap(raw: unknown): CodeMap {
  const parsed = codeMapFileSchema.safeParse(raw);
  if (!parsed.success) throw new CodeMapError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  const file = parsed.data;
  const fields = caseFields();
  const problems: string[] = [];
  const aliasOf = new Map<string, string>();
  for (const [alias, uris] of Object.entries(file.systems)) for (const u of uris) aliasOf.set(u, alias);
  const urisOf = (alias: string) => file.systems[alias] ?? [];
  if (!file.systems.calcdx) problems.push('systems.calcdx is missing');
  const entries: MapEntry[] = [];
  const exact = new Map<string, MapEntry[]>();
  const prefixes = new Map<string, MapEntry[]>();
  file.entries.forEach((e, i) => {
    const field = fields.get(e.field);
    if (!field) { problems.push(`entries.${i}: ${e.field} is not a case-format field`); return; }
    if (!file.systems[e.system]) { problems.push(`entries.${i}: unknown system alias ${e.system}`); return; }
    for (const v of [e.value, e.absent]) {
      if (v === undefined) continue;
      const ok = field.kind === 'boolean' ? typeof v === 'boolean' : (field.kind === 'enum' || field.kind === 'list') && typeof v === 'string' && field.values!.includes(v);
      if (!ok) problems.push(`entries.${i}: value ${String(v)} is not allowed for ${e.field}`);
    }
    if ((field.kind === 'number') && !file.units[e.field] && e.value === undefined) problems.push(`entries.${i}: ${e.field} is numeric and has no units row`);
    const m: MapEntry = {
      resource: e.resource, alias: e.system, system: urisOf(e.system)[0]!, code: e.code, display: e.display, field, prefix: e.match === 'prefix',
      ...(e.value !== undefined ? { value: e.value } : {}), ...(e.absent !== undefined ? { absent: e.absent } : {}),
    };
    entries.push(m);
    if (m.prefix) {
      const list = prefixes.get(m.alias) ?? [];
      list.push(m);
      prefixes.set(m.alias, list);
    } else {
      const k = `${m.alias}|${m.code}`;
      exact.set(k, [...(exact.get(k) ?? []), m]);
    }
  });
  for (const list of prefixes.values()) list.sort((a, b) => b.code.length - a.code.length);
  for (const k of Object.keys(file.units)) if (!fields.has(k)) problems.push(`units.${k} is not a case-format field`);
  const notUsed = new Map<string, string>();
  for (const n of file.notUsed) for (const c of n.codes) notUsed.set(`${n.system}|${c}`, n.why);
  const field = (path: string, where: string): CaseField => {
    const f = fields.get(path);
    if (!f) problems.push(`${where}: ${path} is not a case-format field`);
    return f ?? { path, kind: 'text' };
  };
  const sexField = field(file.patient.gender, 'patient.gender');
  const ageField = field(file.patient.birthDate, 'patient.birthDate');
  const regionField = field(file.bodySiteField, 'bodySiteField');
  const surgeryField = field(file.surgicalCategory.field, 'surgicalCategory.field');
  const regionOfSite = new Map<string, string>();
  const siteOfRegion = new Map<string, { code: string; display: string }>();
  for (const b of file.bodySites) {
    if (!regionField.values?.includes(b.region)) problems.push(`bodySites: ${b.region} is not a ${regionField.path} value`);
    regionOfSite.set(b.code, b.region);
    if (!siteOfRegion.has(b.region)) siteOfRegion.set(b.region, { code: b.code, display: b.display });
  }
  if (problems.length) throw new CodeMapError(problems);
  const bySystem: CodeMap['bySystem'] = new Map();
  for (const [uri, alias] of aliasOf) {
    const ex = new Map<string, MapEntry[]>();
    for (const [k, rows] of exact) if (k.startsWith(`${alias}|`)) ex.set(k.slice(alias.length + 1), rows);
    const nu = new Map<string, string>();
    for (const [k, why] of notUsed) if (k.startsWith(`${alias}|`)) nu.set(k.slice(alias.length + 1), why);
    bySystem.set(uri, { exact: ex, prefixes: prefixes.get(alias) ?? [], notUsed: nu });
  }
  return {
    file, entries, aliasOf, urisOf, calcdxSystem: urisOf('calcdx')[0]!, valueSystem: file.valueSystem,
    exact, prefixes, notUsed, bySystem, regionOfSite, siteOfRegion, fields, units: file.units, sexField, ageField, regionField, surgeryField,
  };
}

export interface Coding { system?: string; code?: string; display?: string }

/** The rows a coding matches: exact code first, else the longest prefix (ICD-10 categories). */
export function lookup(map: CodeMap, coding: Coding): MapEntry[] {
  if (!coding.system || !coding.code) return NONE;
  const sys = map.bySystem.get(coding.system);
  if (!sys) return NONE;
  const hit = sys.exact.get(coding.code);
  if (hit) return hit;
  for (const e of sys.prefixes) if (isSubcode(coding.code, e.code)) return [e];
  return NONE;
}
const NONE: MapEntry[] = [];

/** ICD-10: N18, N18.3 and N183 (a subcode written without its dot, as some exports do) are all in category N18. */
function isSubcode(code: string, category: string): boolean {
  if (!code.startsWith(category)) return false;
  const rest = code.slice(category.length);
  return rest === '' || rest.startsWith('.') || /^[0-9A-Z]/.test(rest);
}

/** Why a known code is deliberately not used, if it is one. */
export function notUsedWhy(map: CodeMap, coding: Coding): string | undefined {
  if (!coding.system || !coding.code) return undefined;
  return map.bySystem.get(coding.system)?.notUsed.get(coding.code);
}
