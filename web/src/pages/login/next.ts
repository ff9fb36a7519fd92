/** Where the login page goes on to (?next=): a path of this app, never another site or the login page itself. */
export function safeNext(next: string | undefined): string | undefined {
  return next && /^\/(?![/\\])/.test(next) && !next.startsWith('/login') ? next : undefined;
}
