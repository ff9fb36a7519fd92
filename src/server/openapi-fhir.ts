/**
 * The FHIR and CDS Hooks routes of the OpenAPI document (spread into src/server/openapi.ts). Bodies
 * that are FHIR resources are described by reference to the R4 specification; the CDS Hooks bodies
 * come from the zod schemas the service and its tests use.
 */
import { z } from 'zod';
import { discoverySchema, feedbackSchema, hookRequestSchema, hookResponseSchema } from './cds-hooks-schema.js';
import { problemResponse as problem } from './openapi-parts.js';

const json = (s: z.ZodType) => {
  const { $schema: _s, ...rest } = z.toJSONSchema(s, { target: 'draft-2020-12', unrepresentable: 'any', io: 'input' }) as Record<string, unknown>;
  return rest;
};
const fhirResource = (type: string, description: string) => ({ type: 'object', description: `${description} (FHIR R4 ${type}: https://hl7.org/fhir/R4/${type.toLowerCase()}.html)`, required: ['resourceType'], properties: { resourceType: { const: type } } });
const outcome = (description: string) => ({ description, content: { 'application/fhir+json': { schema: { $ref: '#/components/schemas/OperationOutcome' } } } });
const bundleBody = {
  required: true,
  description: 'a FHIR R4 Bundle of one patient (Patient, Observation, Condition, Procedure, DiagnosticReport; other resources are reported as not mapped) or a CDS Hooks prefetch object; at most 8 MiB',
  content: { 'application/fhir+json': { schema: { $ref: '#/components/schemas/FhirInput' } }, 'application/json': { schema: { $ref: '#/components/schemas/FhirInput' } } },
};
const fhirParams = [
  { name: 'lang', in: 'query', required: false, schema: { type: 'string', enum: ['zh', 'en'] } },
  { name: 'referenceDate', in: 'query', required: false, schema: { type: 'string', format: 'date' }, description: 'the date ages are computed at from Patient.birthDate (default today)' },
  { name: 'strict', in: 'query', required: false, schema: { type: 'string', enum: ['true', 'false'] }, description: 'true: 422 when anything could not be mapped' },
];
const fhirErrors = { 400: outcome('not JSON, or a bad parameter'), 413: outcome('larger than 8 MiB'), 415: outcome('not JSON'), 422: outcome('not a Bundle or prefetch, no Patient, several patients, or (strict) items not mapped') };
const serviceId = { name: 'id', in: 'path', required: true, schema: { type: 'string', enum: ['calcdx-patient-view', 'calcdx-order-select'] } };
const jwt = [{ cdsJwt: [] }];

/** `?format=fhir` of POST /api/assess */
export const assessFormatParam = { name: 'format', in: 'query', required: false, schema: { type: 'string', enum: ['json', 'fhir'], default: 'json' }, description: 'fhir: the assessment as a FHIR R4 Bundle (application/fhir+json)' };

export function fhirOpenApiPaths(): Record<string, unknown> {
  return {
    '/api/fhir/case': {
      post: {
        summary: 'FHIR R4 Bundle or CDS Hooks prefetch → case (as `calcdx fhir import --json`)', parameters: fhirParams, requestBody: bundleBody,
        responses: { 200: { description: '{ case, mapped, unmapped }: every item not mapped with its resource, element, code and why', content: { 'application/json': { schema: { $ref: '#/components/schemas/FhirImport' } } } }, ...fhirErrors },
      },
    },
    '/fhir/$assess': {
      post: {
        summary: 'FHIR R4 Bundle or prefetch → the assessment as a FHIR R4 Bundle', parameters: fhirParams, requestBody: bundleBody,
        responses: { 200: { description: 'collection Bundle: Patient, findings, RiskAssessment, DiagnosticReport, CarePlan, ServiceRequest when urgent', content: { 'application/fhir+json': { schema: fhirResource('Bundle', 'the assessment') } } }, ...fhirErrors },
      },
    },
    '/cds-services': {
      get: { summary: 'CDS Hooks 2.0 discovery', responses: { 200: { description: 'the services with their prefetch templates', content: { 'application/json': { schema: { $ref: '#/components/schemas/CdsDiscovery' } } } } } },
    },
    '/cds-services/{id}': {
      post: {
        summary: 'CDS Hooks 2.0 service call → cards', security: jwt, parameters: [serviceId],
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/CdsRequest' } } } },
        responses: {
          200: { description: 'cards (none when the patient has no soft-tissue lesion data)', content: { 'application/json': { schema: { $ref: '#/components/schemas/CdsResponse' } } } },
          400: problem('not a CDS Hooks request, or the wrong hook'), 401: problem('JWT missing or not valid (reason in WWW-Authenticate)'), 404: problem('unknown service'),
          412: problem('prefetch missing and no fhirServer with fhirAuthorization, or the fetch failed'), 413: problem('larger than 8 MiB'), 422: problem('the FHIR data has no Patient'),
        },
      },
    },
    '/cds-services/{id}/feedback': {
      post: {
        summary: 'CDS Hooks 2.0 feedback (counted in memory; with --workers by the cluster primary for all workers)', security: jwt, parameters: [serviceId],
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/CdsFeedback' } } } },
        responses: { 200: { description: 'recorded', content: { 'application/json': { schema: { type: 'object' } } } }, 400: problem('not CDS Hooks feedback'), 401: problem('JWT missing or not valid') },
      },
    },
  };
}

export function fhirOpenApiSchemas(): Record<string, unknown> {
  return {
    FhirInput: { description: 'a FHIR R4 Bundle or a CDS Hooks prefetch object ({ key: resource | Bundle | null })', type: 'object' },
    OperationOutcome: fhirResource('OperationOutcome', 'the problem; issue[].diagnostics is the calcdx code, details.text the message'),
    FhirImport: {
      type: 'object', required: ['case', 'mapped', 'unmapped'],
      properties: {
        case: { $ref: '#/components/schemas/Case' },
        mapped: { type: 'array', items: { type: 'object', required: ['resource', 'code', 'caseField', 'value'], properties: { resource: { type: 'string' }, code: { type: 'string' }, caseField: { type: 'string' }, value: {} } } },
        unmapped: { type: 'array', items: { type: 'object', required: ['resource', 'element', 'reason', 'why'], properties: { resource: { type: 'string' }, element: { type: 'string' }, code: { type: 'string' }, caseField: { type: 'string' }, reason: { type: 'string' }, why: { type: 'string' } } } },
      },
    },
    CdsDiscovery: json(discoverySchema),
    CdsRequest: json(hookRequestSchema),
    CdsResponse: json(hookResponseSchema),
    CdsFeedback: json(feedbackSchema),
  };
}

export const cdsSecuritySchemes = { cdsJwt: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'CDS Hooks 2.0 client JWT: asymmetric signature (JWKS from an allowed jku or configured), iss on the allow-list, aud = the endpoint URL, exp within 5 minutes of iat, jti used once' } };
