// Regenerates src/core/engine/fixtures/no-setting-snapshot.json (the assessments of a few cases without a care
// setting): only after a deliberate change of the knowledge base's likelihoods, never for a change of the settings.
//   npm run build && node scripts/dev/no-setting-snapshot.mjs src/core/engine/fixtures/no-setting-snapshot.json
import { writeFileSync } from 'node:fs';
import { loadKnowledgeBase } from '../../dist/io/kb-files.js';
import { assess } from '../../dist/core/engine/assess.js';
import { exampleCases, textbookCases } from '../../dist/test-support/cases.js';
const kb = loadKnowledgeBase();
const pick = new Set(['extraskeletal_osteosarcoma-thigh-rectus-femoris.yaml', 'hemangioma-forearm-intramuscular.yaml', 'pilomatricoma-back-child.yaml', 'liposarcoma-retroperitoneum-dedifferentiated.yaml']);
const cases = [...exampleCases(), ...textbookCases().filter((c) => pick.has(c.file))];
const out = cases.map((c) => { const a = assess(kb, c.case); return { file: c.file, malignancy: a.malignancy.probability, threshold: a.malignancy.threshold, urgentReferral: a.malignancy.urgentReferral, differential: Object.fromEntries(a.differential.map((d) => [d.id, d.probability])) }; });
writeFileSync(process.argv[2], JSON.stringify(out, null, 1) + '\n');
