/**
 * The leaf fields of case format v1 and what kind of value each holds, read from the JSON Schema
 * that is generated from the validating zod schema (one source of truth): the FHIR mapping reads
 * and writes a field according to its kind, never by its name.
 */
import { caseJsonSchema } from '../core/case-format/json-schema.js';
import { getField } from '../core/engine/findings.js';

export type FieldKind = 'boolean' | 'enum' | 'number' | 'integer' | 'list' | 'date' | 'text';

export interface CaseField {
  path: string;
  kind: FieldKind;
  /** enum and list fields: the values allowed */
  values?: string[];
  /** integer fields: the values allowed */
  integers?: number[];
}

type Json = Record<string, unknown>;

function kindOf(s: Json): Omit<CaseField, 'path'> | undefined {
  if (s.type === 'boolean') return { kind: 'boolean' };
  if (s.type === 'number' || s.type === 'integer') return { kind: 'number' };
  if (s.type === 'string' && Array.isArray(s.enum)) return { kind: 'enum', values: s.enum as string[] };
  if (s.type === 'string' && typeof s.pattern === 'string' && s.pattern.includes('\\d{4}')) return { kind: 'date' };
  if (s.type === 'array' && s.items && Array.isArray((s.items as Json).enum)) return { kind: 'list', values: (s.items as Json).enum as string[] };
  if (Array.isArray(s.anyOf) && (s.anyOf as Json[]).every((x) => typeof x.const === 'number')) {
    return { kind: 'integer', integers: (s.anyOf as Json[]).map((x) => x.const as number) };
  }
  if (Array.isArray(s.anyOf)) return { kind: 'text' };
  return undefined;
}

function walk(s: Json, prefix: string, out: Map<string, CaseField>): void {
  const props = s.properties as Record<string, Json> | undefined;
  if (s.type === 'object' && props) {
    for (const [k, v] of Object.entries(props)) walk(v, prefix ? `${prefix}.${k}` : k, out);
    return;
  }
  const k = kindOf(s);
  if (k) out.set(prefix, { path: prefix, ...k });
}

let cached: Map<string, CaseField> | undefined;

/** Every leaf field of the case format by its dotted path (formatVersion and id left out). */
export function caseFields(): Map<string, CaseField> {
  if (cached) return cached;
  const out = new Map<string, CaseField>();
  walk(caseJsonSchema(), '', out);
  out.delete('formatVersion');
  out.delete('id');
  cached = out;
  return out;
}

/** The value at a dotted path of a plain object (the engine's getField). */
export function getPath(o: unknown, path: string): unknown {
  return getField(o, path.split('.'));
}

/** Sets a dotted path, creating the objects on the way. */
export function setPath(o: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let x = o;
  for (let i = 0; i < keys.length - 1; i++) {
    const k = keys[i]!;
    const next = x[k];
    if (next === undefined || next === null || typeof next !== 'object') x = (x[k] = {}) as Record<string, unknown>;
    else x = next as Record<string, unknown>;
  }
  x[keys[keys.length - 1]!] = value;
}

/** Deletes a dotted path and the objects it leaves empty. */
export function deletePath(o: Record<string, unknown>, path: string): void {
  const keys = path.split('.');
  const stack: Array<Record<string, unknown>> = [o];
  let x = o;
  for (const k of keys.slice(0, -1)) {
    const next = x[k];
    if (next === null || typeof next !== 'object') return;
    x = next as Record<string, unknown>;
    stack.push(x);
  }
  delete x[keys[keys.length - 1]!];
  for (let i = keys.length - 2; i >= 0; i--) {
    const child = stack[i + 1]!;
    if (Object.keys(child).length === 0) delete stack[i]![keys[i]!];
    else break;
  }
}
