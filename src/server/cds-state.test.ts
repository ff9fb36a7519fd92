import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { CdsStateHost, MemoryJtiRegistry, PrimaryCdsState, type Channel } from './cds-state.js';

/** an IPC channel pair (primary's Worker ↔ worker's process), asynchronous as node's is */
function pipe(): { toPrimary: Channel; toWorker: Channel } {
  const atPrimary = new EventEmitter();
  const atWorker = new EventEmitter();
  return {
    toPrimary: { send: (m, cb) => setImmediate(() => { atPrimary.emit('message', structuredClone(m)); cb(null); }), on: (e, l) => atWorker.on(e, l) },
    toWorker: { send: (m, cb) => setImmediate(() => { atWorker.emit('message', structuredClone(m)); cb(null); }), on: (e, l) => atPrimary.on(e, l) },
  };
}

describe('CDS Hooks state', () => {
  it('memory: a jti once; forgotten after its expiry; full → refused (fail closed)', async () => {
    const r = new MemoryJtiRegistry(2);
    expect(await r.claim('iss a', 1000, 0)).toBe(true);
    expect(await r.claim('iss a', 1000, 10)).toBe(false);
    expect(await r.claim('iss b', 2000, 20)).toBe(true);
    expect(await r.claim('iss c', 3000, 30)).toBe(false); // full
    expect(await r.claim('iss c', 3000, 1500)).toBe(true); // a expired and was dropped
    expect(r.size).toBe(2);
  });

  it('workers: a jti accepted through one worker is a replay through every other; feedback is counted once for all', async () => {
    const host = new CdsStateHost();
    const workers = [pipe(), pipe(), pipe()].map((p) => { host.attach(p.toWorker); return new PrimaryCdsState(p.toPrimary); });
    const now = Date.now();
    const answers = await Promise.all(workers.map((w) => w.claim('https://ehr.example.org j-1', now + 60_000, now)));
    expect(answers.filter(Boolean)).toHaveLength(1);
    expect(await workers[1]!.claim('https://ehr.example.org j-1', now + 60_000, now)).toBe(false);
    expect(await workers[2]!.claim('https://ehr.example.org j-2', now + 60_000, now)).toBe(true);
    workers[0]!.record('calcdx-patient-view', 'card-1', 'accepted', 1);
    workers[1]!.record('calcdx-patient-view', 'card-2', 'overridden', 0);
    await new Promise((r) => setImmediate(r));
    expect(host.feedback.counts.get('calcdx-patient-view')).toEqual({ accepted: 1, overridden: 1, acceptedSuggestions: 1 });
  });

  it('a worker whose primary does not answer (or whose channel is closed) cannot tell: the claim rejects', async () => {
    const silent = new PrimaryCdsState({ send: () => true, on: () => undefined }, 20);
    await expect(silent.claim('k', Date.now() + 1000, Date.now())).rejects.toThrow();
    const closed = new PrimaryCdsState({ send: () => { throw new Error('channel closed'); }, on: () => undefined });
    await expect(closed.claim('k', Date.now() + 1000, Date.now())).rejects.toThrow('channel closed');
    const epipe = new PrimaryCdsState({ send: (_m, cb) => setImmediate(() => cb(new Error('write EPIPE'))), on: () => undefined });
    await expect(epipe.claim('k', Date.now() + 1000, Date.now())).rejects.toThrow('EPIPE');
  });

  it('the host answering a worker that has gone away does not throw (the primary keeps serving the others)', () => {
    const host = new CdsStateHost();
    const worker = new EventEmitter();
    let failed = 0;
    host.attach({ send: (_m, cb) => { failed++; cb(new Error('write EPIPE')); }, on: (e, l) => worker.on(e, l) });
    expect(() => worker.emit('message', { calcdx: 'cds-jti', id: 1, key: 'k', exp: Date.now() + 1000, now: Date.now() })).not.toThrow();
    expect(failed).toBe(1);
  });

  it('the host ignores messages that are not its own', async () => {
    const host = new CdsStateHost();
    const sent: unknown[] = [];
    const worker = new EventEmitter();
    host.attach({ send: (m, cb) => { sent.push(m); cb(null); }, on: (e, l) => worker.on(e, l) });
    worker.emit('message', { calcdx: 'listening', url: 'http://127.0.0.1:1' });
    worker.emit('message', { calcdx: 'cds-jti', id: 1, key: 7 });
    worker.emit('message', null);
    worker.emit('message', { calcdx: 'cds-jti', id: 2, key: 'k', exp: Date.now() + 1000, now: Date.now() });
    expect(sent).toEqual([{ calcdx: 'cds-jti-answer', id: 2, fresh: true }]);
  });
});
