/**
 * Series of the archives retrieved recently, kept in the server's memory for a short time so that
 * viewing a series, measuring it and storing the result (three requests of "Open from PACS")
 * retrieve it from the archive once. Bounded: at most `maxBytes` of instances (the least recently
 * used series leave first; a series larger than the whole budget is not kept), each series for at
 * most `ttlMs` after its retrieval (then the archive is asked again: a series can change). Requests
 * for a series being retrieved wait for that retrieval instead of starting their own. Holds
 * patient images: in memory only, never written anywhere by the cache, gone with the process;
 * `maxBytes` 0 turns it off.
 */
export interface CachedSeries { instances: readonly Uint8Array[]; [k: string]: unknown }

interface Entry<T> { value: T; bytes: number; timer: ReturnType<typeof setTimeout> }

export class SeriesCache<T extends CachedSeries = CachedSeries> {
  private readonly entries = new Map<string, Entry<T>>();
  private readonly pending = new Map<string, Promise<T>>();
  private used = 0;
  constructor(readonly maxBytes: number, readonly ttlMs: number) {}

  /** The series under `key` (archive, study, series), from the cache or from `retrieve` (then kept). */
  async get(key: string, retrieve: () => Promise<T>): Promise<T> {
    const hit = this.entries.get(key);
    if (hit) {
      // most recently used last
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit.value;
    }
    const waiting = this.pending.get(key);
    if (waiting) return waiting;
    const run = retrieve().then((value) => { this.keep(key, value); return value; }).finally(() => this.pending.delete(key));
    this.pending.set(key, run);
    return run;
  }

  private keep(key: string, value: T): void {
    const bytes = value.instances.reduce((n, b) => n + b.length, 0);
    if (bytes > this.maxBytes || this.ttlMs <= 0) return;
    this.drop(key);
    for (const k of this.entries.keys()) {
      if (this.used + bytes <= this.maxBytes) break;
      this.drop(k);
    }
    const timer = setTimeout(() => this.drop(key), this.ttlMs);
    timer.unref();
    this.entries.set(key, { value, bytes, timer });
    this.used += bytes;
  }

  private drop(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    clearTimeout(e.timer);
    this.entries.delete(key);
    this.used -= e.bytes;
  }

  /** empties the cache (the server closing) */
  clear(): void { for (const k of [...this.entries.keys()]) this.drop(k); }

  /** bytes and series held */
  get stats(): { bytes: number; series: number } { return { bytes: this.used, series: this.entries.size }; }
}
