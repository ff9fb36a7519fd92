/**
 * User administration (role admin): list, add, change role or disable, and reset a password.
 * A reset without a password sets a random one, returned once in the answer. A disabled
 * account or a new password ends the account's sessions (the store does it in the same call).
 * Every call writes an audit row (the user's id, never the password).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { hashPassword, PASSWORD_MAX, PASSWORD_MIN, randomPassword } from '../../registry/password.js';
import { recordId, ROLES, rowVersion, username } from '../../registry/schema.js';
import type { RegistryStore } from '../../registry/store.js';
import { parseInput } from '../input.js';
import { ADMIN } from './access.js';
import { jsonBody, langQuery, publicUser } from './plugin.js';

const password = z.string().min(PASSWORD_MIN).max(PASSWORD_MAX);
export const userCreateBody = z.strictObject({ username, role: z.enum(ROLES), password });
export const userPatchBody = z.strictObject({ version: rowVersion, role: z.enum(ROLES).optional(), disabled: z.boolean().optional() });
export const passwordResetBody = z.strictObject({ version: rowVersion, password: password.optional() });
const idParams = z.strictObject({ id: recordId });

export async function usersPlugin(app: FastifyInstance, o: { store: RegistryStore }): Promise<void> {
  const { store } = o;
  const config = { access: ADMIN };

  app.get('/api/users', { config }, async (req) => {
    parseInput(langQuery, req.query, 'query');
    const users = await store.listUsers();
    await app.audit(req, 'list', 'user', null);
    return { items: users.map(publicUser) };
  });

  app.post('/api/users', { config, ...jsonBody }, async (req, reply) => {
    const b = parseInput(userCreateBody, req.body, 'body');
    const passwordHash = await hashPassword(b.password);
    const u = await app.audited(req, 'create', 'user', (s) => s.createUser({ username: b.username, role: b.role, passwordHash }), (r) => r.id);
    return reply.code(201).send(publicUser(u));
  });

  app.patch('/api/users/:id', { config, ...jsonBody }, async (req) => {
    const { id } = parseInput(idParams, req.params, 'params');
    const b = parseInput(userPatchBody, req.body, 'body');
    const u = await app.audited(req, b.disabled === true ? 'disable' : 'update', 'user',
      (s) => s.updateUser(id, b.version, { ...(b.role ? { role: b.role } : {}), ...(b.disabled !== undefined ? { disabled: b.disabled } : {}) }), (r) => r.id);
    return publicUser(u);
  });

  app.post('/api/users/:id/password', { config, ...jsonBody }, async (req) => {
    const { id } = parseInput(idParams, req.params, 'params');
    const b = parseInput(passwordResetBody, req.body, 'body');
    const generated = b.password === undefined ? randomPassword() : undefined;
    const passwordHash = await hashPassword(b.password ?? generated!);
    const u = await app.audited(req, 'reset_password', 'user', (s) => s.updateUser(id, b.version, { passwordHash }), (r) => r.id);
    return { user: publicUser(u), ...(generated ? { password: generated } : {}) };
  });
}
