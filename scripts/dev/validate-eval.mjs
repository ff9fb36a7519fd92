// Validates evaluation case files: case format v1 plus source, finalDiagnosis, confirmedBy.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { validateCase } from '../../dist/core/case-format/validate.js';
import { ENTITY_IDS } from '../../dist/core/case-format/schema.js';
const dir = process.argv[2] ?? 'eval/cases';
let bad = 0, n = 0;
const count = {};
for (const f of readdirSync(dir).filter((x) => x.endsWith('.yaml')).sort()) {
  n++;
  let doc;
  try { doc = parse(readFileSync(join(dir, f), 'utf8')); } catch (e) { console.log(`${f}: YAML error ${e.message}`); bad++; continue; }
  const { source, finalDiagnosis, confirmedBy, ...rest } = doc ?? {};
  const problems = [];
  if (!source || typeof source.url !== 'string' || !/^https?:\/\//.test(source.url) || typeof source.title !== 'string') problems.push('source {url, title} missing');
  if (!ENTITY_IDS.includes(finalDiagnosis)) problems.push(`finalDiagnosis "${finalDiagnosis}" is not an entity id`);
  if (!['histology', 'clinical', 'follow-up'].includes(confirmedBy)) problems.push(`confirmedBy "${confirmedBy}" not histology|clinical|follow-up`);
  if (rest.pathology) problems.push('pathology must not be given');
  if (!f.startsWith(`${finalDiagnosis}--`)) problems.push(`file name must start with "${finalDiagnosis}--"`);
  const v = validateCase(rest);
  if (!v.ok) for (const i of v.issues) problems.push(`${i.code} ${i.path} found ${i.found} allowed ${JSON.stringify(i.allowed)}`);
  if (problems.length) { bad++; console.log(`${f}:\n  ${problems.join('\n  ')}`); }
  count[finalDiagnosis] = (count[finalDiagnosis] ?? 0) + 1;
}
console.log(`${n} files, ${bad} invalid`);
console.log(Object.entries(count).sort().map(([k, v]) => `${k}:${v}`).join(' '));
