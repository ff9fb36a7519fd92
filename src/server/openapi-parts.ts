/**
 * What the parts of the OpenAPI document (openapi.ts and the openapi-*.ts it spreads in) write
 * alike: a zod schema as a component, a $ref, a problem+json or JSON response, the `lang`
 * parameter, and an operation behind login (the session cookie, the CSRF header for a change,
 * 401 and 403).
 */
import { z } from 'zod';

/** A JSON Schema without the $schema and $id keys that a component schema must not repeat. */
export function asComponent(s: Record<string, unknown>): Record<string, unknown> {
  const { $schema: _s, $id: _i, ...rest } = s;
  return rest;
}

/** A zod schema as a component schema (JSON Schema 2020-12; `io`: what the schema reads, or what it gives). */
export function componentSchema(s: z.ZodType, io: 'input' | 'output' = 'output'): Record<string, unknown> {
  return asComponent(z.toJSONSchema(s, { target: 'draft-2020-12', unrepresentable: 'any', io }) as Record<string, unknown>);
}

export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** An error answer: RFC 9457 problem details (the Problem schema). */
export const problemResponse = (description: string) => ({ description, content: { 'application/problem+json': { schema: ref('Problem') } } });

/** A JSON answer with its schema. */
export const jsonResponse = (description: string, schema: Record<string, unknown>) => ({ description, content: { 'application/json': { schema } } });

/** The 202 of a queued CT job (POST /api/ct/jobs, /api/pacs/{archive}/jobs): where to follow it. */
export const queuedResponse = () => ({
  description: 'queued', headers: { Location: { description: 'the job', schema: { type: 'string' } } },
  content: { 'application/json': { schema: { type: 'object', properties: { id: { type: 'string', format: 'uuid' }, state: { type: 'string' }, url: { type: 'string' }, events: { type: 'string' } } } } },
});

/** The `lang` query parameter (zh or en), with what it changes when `description` is given. */
export function langParam(description?: string): Record<string, unknown> {
  return { name: 'lang', in: 'query', required: false, schema: { type: 'string', enum: ['zh', 'en'] }, ...(description ? { description } : {}) };
}

/** The security of an operation behind login: the session cookie, and the CSRF header for anything but a GET. */
export const sessionSecurity = (method: string) => [method === 'get' ? { session: [] } : { session: [], csrf: [] }];

/** The answers of an operation behind login when the session or the role does not allow it. */
export const sessionProblems = () => ({
  401: problemResponse('not logged in, or the session ended (idle or absolute timeout)'),
  403: problemResponse('the role may not do this (reason role), or the X-CSRF-Token header is missing or wrong (reason csrf)'),
});
