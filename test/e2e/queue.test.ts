/**
 * The CT job queue against a real PostgreSQL, with real processes: `calcdx serve --db` and
 * `calcdx worker --db` children of this test (bin/calcdx.js over dist/). Each test creates and
 * drops its own database. Skipped with a message when CALCDX_TEST_PG is unset — except in CI.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../../src/test-support/cases.js';
import { createTestDb, inCi, pgSkipMessage, PG_BASE, query, type TestDb } from '../../src/test-support/postgres.js';
import { makePhantom } from '../../src/test-support/phantom.js';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { freePort, orthancMissing, startPhantomArchive } from '../../src/test-support/orthanc.js';
import { PHANTOM_STUDY_UID } from '../../src/test-support/dicom-series.js';
import { encodeNiftiMask } from '../../src/imaging/write-nifti.js';

const BIN = join(ROOT, 'bin', 'calcdx.js');
const skip = pgSkipMessage('test/e2e/queue.test.ts');
if (skip) process.stderr.write(skip);

interface Proc { child: ChildProcess; out: string[]; exited: Promise<number | null> }
const procs: Proc[] = [];
const dbs: TestDb[] = [];

function start(args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, LANG: 'C', CALCDX_LANG: '', CALCDX_DB: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: string[] = [];
  let buf = '';
  const take = (d: Buffer) => { buf += d; const lines = buf.split('\n'); buf = lines.pop()!; out.push(...lines); };
  child.stdout!.on('data', take);
  child.stderr!.on('data', take);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const p = { child, out, exited };
  procs.push(p);
  return p;
}

async function waitFor<T>(what: string, f: () => Promise<T | undefined> | T | undefined, ms = 90_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function server(db: string, extra: string[] = []): Promise<{ url: string; proc: Proc }> {
  const port = await freePort();
  // the queue's own tests: no registry (it would share the database)
  const proc = start(['serve', '--port', String(port), '--quiet', '--no-registry', '--db', db, ...extra]);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`the server (${proc.out.join(' | ')})`, async () => (await fetch(`${url}/api/health`).then((r) => r.ok, () => false)) || undefined, 30_000);
  return { url, proc };
}

function worker(db: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}): Proc {
  return start(['worker', '--db', db, '--maintenance-interval', '1', ...extra], env);
}
const ready = (w: Proc) => waitFor('a worker', () => w.out.some((l) => l.includes('worker ready')) || undefined, 30_000);
const logsOf = (w: Proc) => w.out.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string; id?: string; attempt?: number });

function form(nifti: Buffer, fields: Record<string, string> = { roi: 'whole' }): FormData {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) f.append(k, v);
  f.append('file', new Blob([new Uint8Array(nifti)]), 'phantom.nii.gz');
  return f;
}

async function submit(url: string, body: FormData | object): Promise<string> {
  const res = await fetch(`${url}/api/ct/jobs`, body instanceof FormData ? { method: 'POST', body } : { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  const j = await res.json() as { id: string };
  expect(res.status, JSON.stringify(j)).toBe(202);
  expect(res.headers.get('location')).toBe(`/api/ct/jobs/${j.id}`);
  return j.id;
}

type Job = { id: string; state: string; attempt: number; progress: number; result?: { measurement: unknown; findings: unknown; labels: string }; error?: { code: string; status: number; reason?: string; detail: string } };
const getJob = async (url: string, id: string): Promise<Job> => (await fetch(`${url}/api/ct/jobs/${id}`)).json() as Promise<Job>;
const ended = (url: string, id: string, ms?: number) => waitFor(`job ${id} to end`, async () => {
  const j = await getJob(url, id);
  return ['completed', 'failed', 'dead', 'expired'].includes(j.state) ? j : undefined;
}, ms);

let small: Buffer;
let embedded: { measurement: unknown; findings: unknown; labels: string };
const phantomNifti = (o: Parameters<typeof makePhantom>[0]) => {
  const { volume: v } = makePhantom(o);
  return encodeNiftiMask(v, v.data instanceof Int16Array ? v.data : Int16Array.from(v.data), { gzip: true, intent: 'none' });
};

describe.skipIf(!!skip)('the CT job queue in PostgreSQL, with calcdx serve and calcdx worker processes', () => {
  beforeAll(() => {
    if (!PG_BASE && inCi) throw new Error('CI=true and no PostgreSQL for the queue tests');
    small = phantomNifti({ preset: 'small' });
  });
  afterEach(async () => {
    for (const p of procs.splice(0)) { if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL'); await p.exited; }
    for (const d of dbs.splice(0)) await d.drop();
  });
  afterAll(async () => { for (const d of dbs.splice(0)) await d.drop(); });
  const newDb = async () => { const d = await createTestDb('calcdx_queue'); dbs.push(d); return d.url; };

  it('runs 20 jobs from the API on 2 worker processes, each once, with the numbers of the embedded path; progress comes as server-sent events', async () => {
    const db = await newDb();
    const { url } = await server(db);
    const embeddedRes = await fetch(`${url}/api/ct`, { method: 'POST', body: form(small) });
    expect(embeddedRes.status).toBe(200);
    embedded = await embeddedRes.json() as typeof embedded;
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push(await submit(url, form(small)));
    // the events of the first job, from before a worker runs it to its end
    const events = await fetch(`${url}/api/ct/jobs/${ids[0]}/events`);
    expect(events.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const ws = [worker(db), worker(db)];
    await Promise.all(ws.map(ready));
    const stream = await events.text();
    const states = [...stream.matchAll(/^data: (.*)$/gm)].map((m) => JSON.parse(m[1]!) as { state: string; progress: number });
    expect(states.at(-1)).toMatchObject({ state: 'completed', progress: 100 });
    expect(states[0]).toMatchObject({ state: 'queued', progress: 0 });
    expect(states.map((s) => s.state)).toContain('running');
    expect(stream).toMatch(/^event: progress$/m);
    for (const id of ids) {
      const j = await ended(url, id);
      expect(j.state, JSON.stringify(j.error)).toBe('completed');
      expect(j.attempt).toBe(1);
      expect(j.result).toEqual(embedded);
    }
    // each job completed once, and both workers took some
    // (a worker logs after writing the result: its line may come a moment after the API shows the job completed)
    const completed = await waitFor('the workers\' log lines', () => {
      const c = ws.flatMap((w) => logsOf(w).filter((l) => l.msg === 'job completed').map((l) => l.id));
      return c.length >= ids.length ? c : undefined;
    }, 10_000);
    expect(completed.sort()).toEqual([...ids].sort());
    for (const w of ws) expect(logsOf(w).some((l) => l.msg === 'job completed')).toBe(true);
    const who = await query<{ n: number }>(db, 'SELECT count(DISTINCT worker)::int AS n FROM calcdx.ct_job');
    expect(who[0]!.n).toBe(2);
    // the uploads are gone from the database once their jobs ended
    expect(await query(db, 'SELECT 1 FROM calcdx.ct_input')).toEqual([]);
    // no patient data in the workers' logs: no file name, no ROI, no measurement
    for (const w of ws) expect(w.out.join('\n')).not.toMatch(/phantom|whole|calcified|HU/);
  }, 240_000);

  it('with a spool shared by the server and the worker, an upload is not copied into PostgreSQL; its folder goes with the job', async () => {
    const db = await newDb();
    const spool = mkdtempSync(join(tmpdir(), 'calcdx-spool-'));
    try {
      const { url } = await server(db, ['--spool', spool]);
      const id = await submit(url, form(small, { roi: 'whole' }));
      // queued: the upload is a folder of the spool named by the job, nothing in ct_input
      expect(readdirSync(spool)).toEqual([id]);
      expect(await query(db, 'SELECT count(*)::int AS n FROM calcdx.ct_input')).toEqual([{ n: 0 }]);
      // a worker without the spool cannot read it: the job fails at once, saying so
      const blind = worker(db);
      await ready(blind);
      const failed = await ended(url, id);
      expect(failed.state).toBe('failed');
      expect(failed.error).toMatchObject({ reason: 'spool_missing' });
      blind.child.kill('SIGTERM');
      await blind.exited;
      expect(readdirSync(spool)).toEqual([id]);
      // with the spool: the job completes with the embedded path's numbers, and its folder is removed
      const w = worker(db, ['--spool', spool]);
      await ready(w);
      const id2 = await submit(url, form(small, { roi: 'whole' }));
      const j = await ended(url, id2);
      expect(j.state, JSON.stringify(j.error)).toBe('completed');
      const direct = await (await fetch(`${url}/api/ct`, { method: 'POST', body: form(small, { roi: 'whole' }) })).json();
      expect(j.result).toEqual(direct);
      expect(readdirSync(spool)).toEqual([id]);
    } finally {
      rmSync(spool, { recursive: true, force: true });
    }
  }, 180_000);

  it('a worker killed with SIGKILL mid-job: the other worker completes the job, once', async () => {
    const db = await newDb();
    const big = phantomNifti({ preset: 'reference', slices: 64 });
    const { url } = await server(db, ['--job-timeout', '20', '--job-retry-delay', '1']);
    const embeddedBig = await (await fetch(`${url}/api/ct`, { method: 'POST', body: form(big) })).json();
    const ws = [worker(db), worker(db)];
    await Promise.all(ws.map(ready));
    const id = await submit(url, form(big));
    const owner = await waitFor('the job to run', async () => (await query<{ worker: string | null; state: string }>(db, 'SELECT worker, state FROM calcdx.ct_job WHERE id = $1', [id]))[0]?.worker ?? undefined);
    const victim = ws.find((w) => owner.endsWith(`:${w.child.pid}`))!;
    const other = ws.find((w) => w !== victim)!;
    victim.child.kill('SIGKILL');
    await victim.exited;
    const j = await ended(url, id, 120_000);
    expect(j.state, JSON.stringify(j.error)).toBe('completed');
    expect(j.attempt).toBeGreaterThanOrEqual(2);
    expect(j.result).toEqual(embeddedBig);
    await waitFor('the worker\'s log line', () => logsOf(other).some((l) => l.msg === 'job completed' && l.id === id) || undefined, 10_000);
    expect(logsOf(other).filter((l) => l.msg === 'job completed' && l.id === id)).toHaveLength(1);
    expect(logsOf(victim).some((l) => l.msg === 'job completed')).toBe(false);
    const [row] = await query<{ worker: string }>(db, 'SELECT worker FROM calcdx.ct_job WHERE id = $1', [id]);
    expect(row!.worker).toBe(owner.replace(/:\d+$/, `:${other.child.pid}`));
  }, 240_000);

  it('jobs queued before a server restart survive it, run, and their results are read from the new server', async () => {
    const db = await newDb();
    const first = await server(db);
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await submit(first.url, form(small)));
    first.proc.child.kill('SIGTERM');
    expect(await first.proc.exited).toBe(0);
    const second = await server(db);
    for (const id of ids) expect((await getJob(second.url, id)).state).toBe('queued');
    await ready(worker(db));
    for (const id of ids) {
      const j = await ended(second.url, id);
      expect(j.state).toBe('completed');
      expect(j.result!.measurement).toEqual(embedded.measurement);
    }
  }, 240_000);

  it('bad input fails at once, without a retry; a bad ROI is refused at submission; an unknown job is a 404 problem', async () => {
    const db = await newDb();
    const { url } = await server(db, ['--job-retry-delay', '1']);
    const w = worker(db);
    await ready(w);
    const id = await submit(url, form(Buffer.from('this is not a CT volume at all, just text')));
    const j = await ended(url, id);
    expect(j.state).toBe('failed');
    expect(j.attempt).toBe(1);
    expect(j.error).toMatchObject({ code: 'imaging', status: 422 });
    expect(j.error!.detail).toMatch(/phantom\.nii\.gz/);
    // pg-boss was told the job is handled: no retry waits
    const boss = await query<{ state: string; retry_count: number }>(db, 'SELECT state, retry_count FROM calcdx_boss.job WHERE id = $1', [id]);
    expect(boss[0]).toMatchObject({ state: 'completed', retry_count: 0 });
    expect(logsOf(w).filter((l) => l.id === id).map((l) => l.msg)).toEqual(['job running', 'job failed']);
    const bad = await fetch(`${url}/api/ct/jobs`, { method: 'POST', body: form(small, { roi: 'sphere-mm:1,2' }) });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toMatch(/problem\+json/);
    expect(await bad.json()).toMatchObject({ code: 'roi', errors: [{ path: 'form.roi' }] });
    const none = await fetch(`${url}/api/ct/jobs/00000000-0000-4000-8000-000000000000`);
    expect(none.status).toBe(404);
    expect(await none.json()).toMatchObject({ code: 'not_found' });
    const notArchive = await fetch(`${url}/api/ct/jobs`, { method: 'POST', body: JSON.stringify({ dicomweb: { archive: 'http://elsewhere.invalid/dicom-web', study: '1.2.3' }, roi: 'whole' }), headers: { 'content-type': 'application/json' } });
    expect(notArchive.status).toBe(400);
    expect(await notArchive.json()).toMatchObject({ code: 'bad_parameter', errors: [{ path: 'body.dicomweb.archive' }] });
  }, 240_000);

  it.skipIf(orthancMissing().length > 0 && !inCi)('a job on a series of a configured archive (Orthanc) gives the numbers of `calcdx ct --dicomweb`', async () => {
    const db = await newDb();
    const archive = await startPhantomArchive('calcdx-queue-pacs-');
    const { orthanc, phantom } = archive;
    try {
      const creds = { CALCDX_DICOMWEB_USER: orthanc.user, CALCDX_DICOMWEB_PASSWORD: orthanc.password };
      const { url } = await server(db, ['--archive', orthanc.dicomweb]);
      const w = worker(db, ['--archive', orthanc.dicomweb], creds);
      await ready(w);
      const s = phantom.truth.roi;
      const roi = `sphere-ijk-mm:${s.center.join(',')},${s.radius}`;
      const id = await submit(url, { dicomweb: { archive: orthanc.dicomweb, study: PHANTOM_STUDY_UID }, roi });
      const cli = start(['ct', '--dicomweb', orthanc.dicomweb, '--study', PHANTOM_STUDY_UID, '--roi', roi, '--json'], creds);
      expect(await cli.exited, cli.out.join('\n')).toBe(0);
      const fromCli = JSON.parse(cli.out.join('\n')) as { lesion: unknown; components: unknown; findings: unknown; roi: unknown; options: unknown };
      const j = await ended(url, id);
      expect(j.state, JSON.stringify(j.error)).toBe('completed');
      const m = j.result!.measurement as typeof fromCli;
      expect(m.lesion).toEqual(fromCli.lesion);
      expect(m.components).toEqual(fromCli.components);
      expect(m.roi).toEqual(fromCli.roi);
      expect(m.options).toEqual(fromCli.options);
      expect(j.result!.findings).toEqual(fromCli.findings);
      // the credentials stayed in the worker's environment: not in the job, not in the database
      const rows = await query<{ data: unknown }>(db, 'SELECT data FROM calcdx_boss.job WHERE id = $1', [id]);
      expect(rows).toHaveLength(1);
      expect(JSON.stringify(rows)).not.toContain(orthanc.password);
    } finally {
      await archive.stop();
    }
  }, 240_000);

  it('an archive that is down: the job is retried with back-off, then dead and in the dead-letter queue, with the error naming the archive', async () => {
    const db = await newDb();
    const port = await freePort(); // nothing listens there
    const archive = `http://127.0.0.1:${port}/dicom-web`;
    const { url } = await server(db, ['--archive', archive, '--job-retries', '2', '--job-retry-delay', '1']);
    const w = worker(db, ['--archive', archive]);
    await ready(w);
    const id = await submit(url, { dicomweb: { archive, study: '1.2.3.4', series: '1.2.3.4.5' }, roi: 'whole' });
    const j = await ended(url, id, 120_000);
    expect(j.state).toBe('dead');
    expect(j.attempt).toBe(3);
    expect(j.error).toMatchObject({ code: 'archive', status: 502, reason: 'pacs_unreachable' });
    expect(j.error!.detail).toContain(archive);
    const msgs = logsOf(w).filter((l) => l.id === id).map((l) => l.msg);
    expect(msgs.filter((m) => m === 'job retrying')).toHaveLength(2);
    expect(msgs).toContain('job dead');
    const dlq = await waitFor('the dead-letter queue', async () => {
      const rows = await query<{ data: { jobId: string } }>(db, "SELECT data FROM calcdx_boss.job WHERE name = 'calcdx-ct-dead'");
      return rows.length ? rows : undefined;
    }, 30_000);
    expect(dlq.map((r) => r.data.jobId)).toEqual([id]);
  }, 240_000);
});
