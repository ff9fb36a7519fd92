/**
 * JSON Schema (draft 2020-12) of case format v1, generated from the zod schema that validates.
 */
import { z } from 'zod';
import { caseSchema } from './schema.js';

export function caseJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(caseSchema, { io: 'input', unrepresentable: 'any' }),
    $id: 'https://calcdx.invalid/schemas/case-v1.json',
    title: 'calcdx case file, format version 1',
  };
}
