// Validates every knowledge-base file and prints each problem with its file and path.
import { checkKnowledgeBase } from '../dist/io/kb-files.js';

let r;
try {
  r = checkKnowledgeBase();
} catch (e) {
  console.error(`cannot read the knowledge base: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}
for (const p of r.problems) console.log(`${p.file}: ${p.path || '(file)'}: ${p.message}`);
if (r.ok) console.log(`knowledge base OK: ${r.kb.entities.length} entities, ${r.kb.findings.length} findings`);
else console.log(`${r.problems.length} problems`);
process.exit(r.ok ? 0 : 1);
