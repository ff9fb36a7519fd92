/**
 * Login attempts counted per key (a client address, a username) in fixed windows, in the
 * server process's memory. Two keys per attempt and a count that only logins feed: the shape
 * of a login limiter, which a general request limiter (@fastify/rate-limit keys one value per
 * request) does not have. With --workers n each process counts its own attempts; the account
 * lock (in the database) is shared by all.
 */
export class AttemptCounter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();
  constructor(readonly windowMs: number, private readonly now: () => number = Date.now) {}

  /**
   * Counts one attempt for the key; returns 0 while the key has `limit` attempts or fewer in
   * its window, else the seconds until the window ends.
   */
  hit(key: string, limit: number): number {
    const now = this.now();
    if (this.windows.size > 10_000) for (const [k, w] of this.windows) if (w.resetAt <= now) this.windows.delete(k);
    let w = this.windows.get(key);
    if (!w || w.resetAt <= now) {
      w = { count: 0, resetAt: now + this.windowMs };
      this.windows.set(key, w);
    }
    w.count++;
    return w.count > limit ? Math.max(1, Math.ceil((w.resetAt - now) / 1000)) : 0;
  }

  clear(key: string): void {
    this.windows.delete(key);
  }
}
