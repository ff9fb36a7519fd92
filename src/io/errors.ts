/**
 * The coded errors of calcdx's adapters. Each code has a message in both catalogues
 * (src/i18n/locales, key error.<code>) and is documented in the README.
 */
import type { CaseIssue } from '../core/case-format/validate.js';

export const ERROR_CODES = [
  'file_not_found', 'not_a_file', 'file_unreadable', 'file_too_large', 'file_empty', 'file_binary',
  'parse_json', 'parse_yaml', 'multiple_documents', 'case_too_deep', 'case_too_many_nodes', 'case_too_many_keys',
  'parse_timeout', 'case_invalid', 'unknown_entity', 'output_exists',
  'kb_invalid', 'eval_file_invalid', 'usage', 'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export class CalcdxError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly params: Record<string, string | number> = {},
    /** validation issues, for case_invalid */
    readonly issues: CaseIssue[] = [],
  ) {
    super(`${code} ${JSON.stringify(params)}`);
    this.name = 'CalcdxError';
  }
}
