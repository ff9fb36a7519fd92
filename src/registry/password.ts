/**
 * Password hashing: argon2id (@node-rs/argon2, prebuilt native binaries; no install script).
 * Parameters: OWASP's password storage cheat sheet lists m = 19 MiB, t = 2, p = 1 as the
 * minimum for argon2id; calcdx uses m = 19 MiB, t = 3, p = 1 (stronger in time, same memory,
 * ~40 ms on one core), so that a server logging several users in at once does not need
 * hundreds of MiB.
 */
import { randomBytes } from 'node:crypto';
import { Algorithm, hash, verify } from '@node-rs/argon2';
import type { RegistryStore } from './store.js';

export const ARGON2_PARAMS = { algorithm: Algorithm.Argon2id, memoryCost: 19 * 1024, timeCost: 3, parallelism: 1 } as const;

/** What a password must be (checked before hashing). */
export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 1024;

export function passwordProblem(pw: string): string | null {
  if (pw.length < PASSWORD_MIN) return `at least ${PASSWORD_MIN} characters (found ${pw.length})`;
  if (pw.length > PASSWORD_MAX) return `at most ${PASSWORD_MAX} characters (found ${pw.length})`;
  return null;
}

export const hashPassword = (pw: string): Promise<string> => hash(pw, ARGON2_PARAMS);

/** true when the password matches; false for a wrong password or a malformed hash */
export async function verifyPassword(hashed: string, pw: string): Promise<boolean> {
  try {
    return await verify(hashed, pw);
  } catch {
    return false;
  }
}

/** A random password: 24 characters from a 56-letter alphabet without look-alikes (~139 bits). */
export function randomPassword(length = 24): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
  let out = '';
  while (out.length < length) {
    for (const b of randomBytes(length * 2)) {
      // rejection sampling: no bias towards the first letters
      if (b < 256 - (256 % alphabet.length) && out.length < length) out += alphabet[b % alphabet.length];
    }
  }
  return out;
}

/**
 * On a registry without users: creates `admin` (role admin) with a random one-time password
 * and returns it, for the caller to print once. Returns null when there are users already.
 * The user and its audit row (from `origin`: who created it, e.g. "cli" or "server start") are one
 * transaction: both are written or neither.
 */
export async function ensureFirstAdmin(store: RegistryStore, origin = 'first start'): Promise<{ username: string; password: string } | null> {
  if (await store.countUsers() > 0) return null;
  const password = randomPassword();
  const passwordHash = await hashPassword(password); // ~50 ms of CPU: before the transaction, not inside it
  try {
    const created = await store.transaction(async (tx) => {
      if (await tx.countUsers() > 0) return false;
      const u = await tx.createUser({ username: 'admin', role: 'admin', passwordHash });
      await tx.appendAudit({ userId: null, action: 'create', recordType: 'user', recordId: u.id, origin });
      return true;
    });
    if (!created) return null;
  } catch (e) {
    // another process created the first user meanwhile
    if ((e as { code?: string }).code === 'exists') return null;
    throw e;
  }
  return { username: 'admin', password };
}
