/**
 * FHIR JSON text → data, for the CLI and the server alike: JSON, and nested at most MAX_FHIR_DEPTH
 * levels (FHIR resources nest a dozen or so; deeper input would only exhaust the stack of the
 * code that walks it). Anything else is a FhirInputError (400 OperationOutcome, exit 1).
 */
import { FhirInputError } from './messages.js';

export const MAX_FHIR_DEPTH = 64;

const refuse = (detail: string) => new FhirInputError(400, [{ code: 'not_json', params: { detail } }]);

export function parseFhirText(raw: string): unknown {
  const text = raw.replace(/^\uFEFF/, '');
  if (text.trim() === '') throw refuse('empty body');
  let data: unknown;
  try { data = JSON.parse(text); } catch (e) { throw refuse((e as Error).message.slice(0, 200)); }
  // depth, iteratively (JSON.parse itself takes any depth)
  const stack: Array<{ v: unknown; depth: number }> = [{ v: data, depth: 1 }];
  while (stack.length) {
    const { v, depth } = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth > MAX_FHIR_DEPTH) throw refuse(`nested more than ${MAX_FHIR_DEPTH} levels deep`);
    for (const x of Array.isArray(v) ? v : Object.values(v as Record<string, unknown>)) stack.push({ v: x, depth: depth + 1 });
  }
  return data;
}
