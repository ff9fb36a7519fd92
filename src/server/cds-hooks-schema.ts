/**
 * CDS Hooks 2.0 (https://cds-hooks.hl7.org/2.0/) request and response bodies as zod schemas, written
 * from the specification's field tables (REQUIRED / OPTIONAL / CONDITIONAL). The service validates
 * requests with them; the tests check every response against them.
 */
import { z } from 'zod';

const coding = z.looseObject({ code: z.string(), system: z.string().optional(), display: z.string().optional() });

export const discoveryServiceSchema = z.strictObject({
  hook: z.string().min(1),
  title: z.string().optional(),
  description: z.string().min(1),
  id: z.string().regex(/^[A-Za-z0-9._~-]+$/, 'a URL path segment'),
  prefetch: z.record(z.string(), z.string()).optional(),
  usageRequirements: z.string().optional(),
});
export const discoverySchema = z.strictObject({ services: z.array(discoveryServiceSchema) });

export const fhirAuthorizationSchema = z.looseObject({
  access_token: z.string().min(1),
  token_type: z.literal('Bearer'),
  expires_in: z.number().int().nonnegative(),
  scope: z.string(),
  subject: z.string(),
  patient: z.string().optional(),
});

export const hookRequestSchema = z.looseObject({
  hook: z.string().min(1),
  hookInstance: z.string().min(1),
  fhirServer: z.url().optional(),
  fhirAuthorization: fhirAuthorizationSchema.nullable().optional(),
  context: z.looseObject({}),
  prefetch: z.record(z.string(), z.unknown()).nullable().optional(),
}).refine((r) => !r.fhirAuthorization || r.fhirServer, { message: 'fhirAuthorization needs fhirServer', path: ['fhirServer'] });

const action = z.strictObject({
  type: z.enum(['create', 'update', 'delete']),
  description: z.string().min(1),
  resource: z.looseObject({ resourceType: z.string() }).optional(),
  resourceId: z.array(z.string()).optional(),
}).refine((a) => a.type === 'delete' ? a.resourceId !== undefined : a.resource !== undefined, { message: 'create and update carry a resource, delete a resourceId' });

export const cardSchema = z.strictObject({
  uuid: z.string().optional(),
  summary: z.string().min(1).max(139, 'summary must be shorter than 140 characters'),
  detail: z.string().optional(),
  indicator: z.enum(['info', 'warning', 'critical']),
  source: z.strictObject({ label: z.string().min(1), url: z.url().optional(), icon: z.url().optional(), topic: coding.optional() }),
  suggestions: z.array(z.strictObject({
    label: z.string().min(1), uuid: z.string().optional(), isRecommended: z.boolean().optional(), actions: z.array(action).optional(),
  })).optional(),
  selectionBehavior: z.enum(['at-most-one', 'any']).optional(),
  overrideReasons: z.array(coding).optional(),
  links: z.array(z.strictObject({ label: z.string().min(1), url: z.url(), type: z.enum(['absolute', 'smart']), appContext: z.string().optional() })).optional(),
}).refine((c) => !c.suggestions || c.selectionBehavior !== undefined, { message: 'selectionBehavior is required when suggestions are given', path: ['selectionBehavior'] });

export const hookResponseSchema = z.strictObject({
  cards: z.array(cardSchema),
  systemActions: z.array(action).optional(),
});

export const feedbackSchema = z.strictObject({
  feedback: z.array(z.strictObject({
    card: z.string().min(1),
    outcome: z.enum(['accepted', 'overridden']),
    acceptedSuggestions: z.array(z.strictObject({ id: z.string().min(1) })).optional(),
    overrideReason: z.strictObject({ reason: coding.optional(), userComment: z.string().optional() }).optional(),
    outcomeTimestamp: z.string().min(1),
  }).refine((f) => f.outcome === 'accepted' || !f.acceptedSuggestions, { message: 'acceptedSuggestions only with outcome accepted' })).min(1),
});
