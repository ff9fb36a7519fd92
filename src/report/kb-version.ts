/**
 * A version of the knowledge base for reports (src/core/knowledge/fingerprint.ts): a short
 * fingerprint of its content, so that a printed report says which knowledge it was made with.
 */
export { kbFingerprint as kbVersion } from '../core/knowledge/fingerprint.js';
