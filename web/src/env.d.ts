declare module 'virtual:calcdx-kb' {
  import type { RawKnowledgeBase } from '../../src/core/knowledge/compile.js';
  const raw: RawKnowledgeBase;
  export default raw;
}
