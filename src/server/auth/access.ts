/**
 * Who may use a route: every route of the registry and auth plugins declares its access in its
 * route config (`config: { access }`), and the auth plugin checks it before the body is read.
 *
 *   'public'   anyone (login; the stateless API unless --require-login)
 *   'session'  any logged-in user, whatever the role (logout, me)
 *   Role[]     a logged-in user with one of these roles
 *
 * Roles: clinician reads and writes patients; viewer reads them; admin manages users and reads
 * the audit log (no clinical records); auditor reads the audit log only.
 */
import type { Role } from '../../registry/schema.js';

export type Access = 'public' | 'session' | readonly Role[];

export const READ_CLINICAL: readonly Role[] = ['clinician', 'viewer'];
export const WRITE_CLINICAL: readonly Role[] = ['clinician'];
export const ADMIN: readonly Role[] = ['admin'];
export const AUDIT: readonly Role[] = ['admin', 'auditor'];
/** aggregate figures without identifiers (local performance) */
export const READ_AGGREGATE: readonly Role[] = ['clinician', 'viewer', 'admin'];

declare module 'fastify' {
  interface FastifyContextConfig {
    /** who may use the route (src/server/auth/access.ts) */
    access?: Access;
  }
}

/** methods that change nothing: no CSRF token needed */
export const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
