/**
 * Reads the FHIR code map (data/fhir/code-map.yaml) once and compiles it (src/fhir/code-map.ts).
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { compileCodeMap, type CodeMap } from '../fhir/code-map.js';
import { packagePath } from './package-root.js';

/** data/fhir/code-map.yaml of this package (from src/ under vitest and from dist/). */
export const DEFAULT_FHIR_MAP = packagePath('data', 'fhir', 'code-map.yaml');

let cached: CodeMap | undefined;

export function loadFhirCodeMap(path = DEFAULT_FHIR_MAP): CodeMap {
  if (path === DEFAULT_FHIR_MAP && cached) return cached;
  const map = compileCodeMap(parse(readFileSync(path, 'utf8')));
  if (path === DEFAULT_FHIR_MAP) cached = map;
  return map;
}
