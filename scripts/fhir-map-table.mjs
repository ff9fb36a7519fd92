// Rewrites the FHIR mapping table of README.md (between the fhir-map markers) from data/fhir/code-map.yaml.
// Run after `npm run build`: node scripts/fhir-map-table.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { mappingTableMarkdown } = await import('../dist/fhir/map-table.js');
const { loadFhirCodeMap } = await import('../dist/io/fhir-map-file.js');
const readme = join(root, 'README.md');
const text = readFileSync(readme, 'utf8');
const re = /<!-- fhir-map:start -->\n[\s\S]*?<!-- fhir-map:end -->/;
if (!re.test(text)) throw new Error('README.md has no fhir-map markers');
writeFileSync(readme, text.replace(re, () => `<!-- fhir-map:start -->\n${mappingTableMarkdown(loadFhirCodeMap())}\n<!-- fhir-map:end -->`));
console.log('README.md: FHIR mapping table written');
