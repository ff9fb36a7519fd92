/**
 * The CDS Hooks service's state: the `jti` values already accepted (replay protection) and the card
 * feedback counts. One process (`calcdx serve`, tests) keeps them in memory. With `--workers n` the
 * workers share one port and a record system's calls are spread over them, so a state per worker
 * would let a replayed token through on another worker: there the cluster primary — which forks and
 * supervises, and answers no HTTP request — holds the one jti set and the one feedback count for all
 * workers, and each worker asks it over the cluster's IPC channel. A worker that gets no answer
 * (primary gone, IPC stalled) refuses the token (fail closed) rather than accept it unchecked.
 * No database: the set lives as long as the server (tokens live at most 5 minutes, so a restart only
 * forgets tokens that are about to expire; see the README's security model).
 */

/** Records the outcome of a card (POST /cds-services/{id}/feedback). */
export interface FeedbackSink {
  record(service: string, card: string, outcome: 'accepted' | 'overridden', suggestions: number): void;
}

/** Card outcomes, kept in memory (lost on restart). */
export class FeedbackStore implements FeedbackSink {
  readonly counts = new Map<string, { accepted: number; overridden: number; acceptedSuggestions: number }>();
  /** outcomes per card uuid (the last 10,000 cards) */
  readonly byCard = new Map<string, { accepted: number; overridden: number }>();
  record(service: string, card: string, outcome: 'accepted' | 'overridden', suggestions: number): void {
    const c = this.counts.get(service) ?? { accepted: 0, overridden: 0, acceptedSuggestions: 0 };
    c[outcome]++;
    c.acceptedSuggestions += suggestions;
    this.counts.set(service, c);
    const k = this.byCard.get(card) ?? { accepted: 0, overridden: 0 };
    k[outcome]++;
    this.byCard.delete(card);
    this.byCard.set(card, k);
    if (this.byCard.size > 10_000) this.byCard.delete(this.byCard.keys().next().value!);
  }
}

/** The token ids already accepted. */
export interface JtiRegistry {
  /** true when `key` (issuer and jti) was not seen yet, and remembers it until `expiresAtMs`; false for a replay; rejects when it cannot tell */
  claim(key: string, expiresAtMs: number, now: number): Promise<boolean>;
}

/** The jti set of one process. Full (maxRemembered live tokens) → every new token is refused as a replay (fail closed). */
export class MemoryJtiRegistry implements JtiRegistry {
  /** key → expiry (ms), in insertion order */
  private readonly seen = new Map<string, number>();
  constructor(private readonly maxRemembered = 100_000) {}
  get size(): number { return this.seen.size; }
  claimNow(key: string, expiresAtMs: number, now: number): boolean {
    // tokens arrive roughly in expiry order (lifetimes are capped at 5 minutes): drop the expired head
    for (const [k, exp] of this.seen) { if (exp < now) this.seen.delete(k); else break; }
    if (this.seen.has(key) || this.seen.size >= this.maxRemembered) return false;
    this.seen.set(key, expiresAtMs);
    return true;
  }
  claim(key: string, expiresAtMs: number, now: number): Promise<boolean> {
    return Promise.resolve(this.claimNow(key, expiresAtMs, now));
  }
}

/** one end of an IPC channel: a cluster worker's `process` (to the primary) or the primary's `Worker` */
export interface Channel {
  /** errors (a closed channel: the other process is exiting) go to the callback, never to an 'error' event */
  send(message: unknown, callback: (error: Error | null) => void): unknown;
  on(event: 'message', listener: (message: unknown) => void): unknown;
}

type StateMessage =
  | { calcdx: 'cds-jti'; id: number; key: string; exp: number; now: number }
  | { calcdx: 'cds-jti-answer'; id: number; fresh: boolean }
  | { calcdx: 'cds-feedback'; service: string; card: string; outcome: 'accepted' | 'overridden'; suggestions: number };

const isState = (m: unknown): m is StateMessage => typeof m === 'object' && m !== null && typeof (m as { calcdx?: unknown }).calcdx === 'string' && (m as { calcdx: string }).calcdx.startsWith('cds-');

/** The primary's side: one jti set and one feedback store for every worker; call once per forked worker. */
export class CdsStateHost {
  constructor(readonly jti = new MemoryJtiRegistry(), readonly feedback = new FeedbackStore()) {}
  attach(worker: Channel): void {
    worker.on('message', (m) => {
      if (!isState(m)) return;
      if (m.calcdx === 'cds-jti' && typeof m.key === 'string' && typeof m.exp === 'number' && typeof m.now === 'number') {
        // a worker that is exiting cannot be answered; its caller is gone with it
        worker.send({ calcdx: 'cds-jti-answer', id: m.id, fresh: this.jti.claimNow(m.key, m.exp, m.now) } satisfies StateMessage, () => undefined);
      } else if (m.calcdx === 'cds-feedback' && (m.outcome === 'accepted' || m.outcome === 'overridden')) {
        this.feedback.record(String(m.service), String(m.card), m.outcome, Number(m.suggestions) || 0);
      }
    });
  }
}

/** A worker's side: asks the primary. A claim the primary does not answer within `timeoutMs` rejects (the token is refused). */
export class PrimaryCdsState implements JtiRegistry, FeedbackSink {
  private next = 0;
  private readonly waiting = new Map<number, (fresh: boolean | Error) => void>();
  constructor(private readonly primary: Channel, private readonly timeoutMs = 2000) {
    primary.on('message', (m) => {
      if (!isState(m) || m.calcdx !== 'cds-jti-answer') return;
      this.waiting.get(m.id)?.(m.fresh === true);
    });
  }
  claim(key: string, expiresAtMs: number, now: number): Promise<boolean> {
    const id = this.next++;
    return new Promise<boolean>((resolve, reject) => {
      const timer = setTimeout(() => done(new Error('no answer from the primary')), this.timeoutMs);
      const done = (fresh: boolean | Error) => { clearTimeout(timer); this.waiting.delete(id); if (fresh instanceof Error) reject(fresh); else resolve(fresh); };
      this.waiting.set(id, done);
      try {
        this.primary.send({ calcdx: 'cds-jti', id, key, exp: expiresAtMs, now } satisfies StateMessage, (e) => { if (e) done(e); });
      } catch (e) { done(e as Error); }
    });
  }
  record(service: string, card: string, outcome: 'accepted' | 'overridden', suggestions: number): void {
    // primary gone: the worker is about to be stopped too
    try { this.primary.send({ calcdx: 'cds-feedback', service, card, outcome, suggestions } satisfies StateMessage, () => undefined); } catch { /* as above */ }
  }
}
