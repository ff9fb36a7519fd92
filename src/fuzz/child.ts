/**
 * A fuzz worker process: runs mutants `from`..`to` of one family in order and reports each to
 * the parent over IPC, with its time and the process's peak RSS so far. It stops (for the
 * parent to start a fresh one) after a mutant pushes the peak past the memory limit, since a
 * peak never comes down. Arguments: family seed from to root.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { buildServer } from '../server/app.js';
import { FAMILIES, loadFixtures, makeMutant, type Family } from './families.js';
import { runMutant, type TargetContext } from './targets.js';

export type ChildMessage =
  | { type: 'start'; index: number }
  | { type: 'done'; index: number; ok: boolean; reason?: string; ms: number; maxRssMb: number }
  | { type: 'end' };

export const MEMORY_LIMIT_MB = 1024;

const send = (m: ChildMessage) => new Promise<void>((resolve) => { process.send!(m, () => resolve()); });

async function main(): Promise<void> {
  const [family, seedText, fromText, toText, root] = process.argv.slice(2);
  if (!FAMILIES.includes(family as Family) || !root) throw new Error('usage: child family seed from to root');
  const seed = Number(seedText);
  const fx = loadFixtures(root);
  const dir = mkdtempSync(join(tmpdir(), 'calcdx-fuzz-'));
  const errorLogs: string[] = [];
  const logs = new Writable({ write(chunk, _enc, done) { errorLogs.push(String(chunk)); done(); } });
  const app = await buildServer({ logger: logs, logLevel: 'error', webRoot: join(dir, 'no-web') });
  const ctx: TargetContext = { app, dir, folders: [dir, root, tmpdir() === '/tmp' ? '' : tmpdir()], errorLogs };
  let current = -1;
  const crash = (e: unknown) => {
    const reason = `uncaught ${(e as Error)?.name ?? 'error'}: ${String((e as Error)?.message ?? e).slice(0, 200)}`;
    void send({ type: 'done', index: current, ok: false, reason, ms: 0, maxRssMb: process.resourceUsage().maxRSS / 1024 }).then(() => process.exit(3));
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
  try {
    for (let i = Number(fromText); i < Number(toText); i++) {
      current = i;
      const m = makeMutant(fx, family as Family, seed, i);
      await send({ type: 'start', index: i });
      const t0 = performance.now();
      const o = await runMutant(m, ctx);
      const ms = performance.now() - t0;
      const maxRssMb = process.resourceUsage().maxRSS / 1024;
      await send({ type: 'done', index: i, ok: o.ok, ...(o.reason ? { reason: o.reason } : {}), ms, maxRssMb });
      if (maxRssMb > MEMORY_LIMIT_MB) break;
    }
    await send({ type: 'end' });
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// run only as a forked child (the parent imports the constants above)
if (process.send && process.argv[1] && /fuzz[\\/]child\.js$/.test(process.argv[1])) {
  await main();
  process.exit(0);
}
