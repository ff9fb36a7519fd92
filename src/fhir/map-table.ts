/**
 * The README's mapping table, generated from the code map (scripts/fhir-map-table.mjs writes it
 * between the README's fhir-map markers; a test fails when the README is stale).
 */
import type { CodeMap } from './code-map.js';

const SHORT: Record<string, string> = { loinc: 'LOINC', sct: 'SNOMED CT', icd10: 'ICD-10', calcdx: 'calcdx' };

export function mappingTableMarkdown(map: CodeMap): string {
  const rows: string[] = ['| case field | codes (resource) | units accepted → case unit |', '|---|---|---|'];
  const byField = new Map<string, string[]>();
  for (const e of map.entries) {
    if (e.alias === 'calcdx') continue;
    const code = `${SHORT[e.alias] ?? e.alias} ${e.code}${e.prefix ? '.*' : ''}${e.value !== undefined ? ` = ${String(e.value)}` : ''}${e.absent !== undefined ? ` (refuted = ${String(e.absent)})` : ''} (${e.resource})`;
    byField.set(e.field.path, [...(byField.get(e.field.path) ?? []), code]);
  }
  byField.set(map.sexField.path, [`Patient.gender (${map.sexField.values?.join(', ')})`]);
  byField.set(map.ageField.path, ['Patient.birthDate (full years at the reference date)', ...(byField.get(map.ageField.path) ?? [])]);
  const sc = map.file.surgicalCategory;
  byField.set(map.surgeryField.path, [`Procedure with category ${SHORT[sc.system] ?? sc.system} ${sc.code} whose bodySite is the lesion region`]);
  byField.set(map.regionField.path, [`bodySite of an imaging finding, or value: SNOMED CT body structure (${map.file.bodySites.length} codes in the table) or calcdx value`]);
  for (const [field, codes] of byField) {
    const u = map.units[field];
    rows.push(`| \`${field}\` | ${codes.join('; ')} | ${u ? `${Object.keys(u.from).map((k) => (u.from[k] === 1 ? k : `${k} ×${u.from[k]}`)).join(', ')} → ${u.unit}` : ''} |`);
  }
  const calcdxOnly = [...map.fields.keys()].filter((f) => !byField.has(f));
  const ignored = map.file.notUsed.map((n) => `${SHORT[n.system] ?? n.system} ${n.codes.join(', ')} (${n.why})`);
  return [
    ...rows,
    '',
    `Every case field also has a calcdx code (system \`${map.calcdxSystem}\`, code = the field path, value in the Observation: \`valueBoolean\`, \`valueQuantity\`, \`valueInteger\`, \`valueDateTime\`, or \`valueCodeableConcept\` with a code of \`${map.valueSystem}\`). These ${calcdxOnly.length} fields have no standard code and use it: ${calcdxOnly.map((f) => `\`${f}\``).join(', ')}.`,
    '',
    `Recognised and deliberately not used (reported with the reason): ${ignored.join('; ')}.`,
  ].join('\n');
}
