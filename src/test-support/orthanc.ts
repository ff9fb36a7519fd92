/**
 * Test and benchmark support: a real image archive, Debian's Orthanc with its DICOMweb plugin,
 * started on a free loopback port with a temporary storage folder and configuration (HTTP only,
 * remote access refused, the DICOM port disabled, HTTP basic authentication with one user), and
 * stopped (and its folder removed) after.
 *
 * `orthancMissing()` / `archiveTools()` say what is missing: the PACS tests are skipped with that
 * message on a developer machine, and fail in CI (CI=true), where .ci/run installs the packages
 * (tool-gate.ts). `startPhantomArchive()` is what most of them need: Orthanc holding the phantom
 * CT study of dicom-series.ts, in a temporary folder of their own, all of it gone after stop().
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writePhantomStudy } from './dicom-series.js';

export const ORTHANC_BIN = '/usr/sbin/Orthanc';
const PLUGIN_CANDIDATES = ['/usr/share/orthanc/plugins/libOrthancDicomWeb.so', '/usr/lib/orthanc/libOrthancDicomWeb.so'];
export const PYTHON = '/usr/bin/python3';

/** The DICOMweb plugin of Debian's orthanc-dicomweb package. */
export function dicomwebPlugin(): string | undefined {
  const known = PLUGIN_CANDIDATES.find((p) => existsSync(p));
  if (known) return known;
  const r = spawnSync('dpkg', ['-L', 'orthanc-dicomweb'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split('\n').find((l) => /libOrthancDicomWeb\.so/.test(l) && existsSync(l)) : undefined;
}

const onPath = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** What startOrthanc needs and is missing: Orthanc and its DICOMweb plugin (empty when both are there). */
export function orthancMissing(): string[] {
  return [
    ...(existsSync(ORTHANC_BIN) ? [] : [`Orthanc (${ORTHANC_BIN}; apt-get install -y orthanc)`]),
    ...(dicomwebPlugin() ? [] : ['the Orthanc DICOMweb plugin (apt-get install -y orthanc-dicomweb)']),
  ];
}

/** What the archive tests of the CLI need and is missing: Orthanc, and dcmtk and pydicom to check what calcdx stores (empty when all is there). */
export function archiveTools(): string[] {
  const missing = orthancMissing();
  if (!onPath('dcmdump') || !onPath('dsrdump')) missing.push('dcmtk (dcmdump, dsrdump; apt-get install -y dcmtk)');
  if (spawnSync(PYTHON, ['-c', 'import pydicom, numpy'], { encoding: 'utf8' }).status !== 0) missing.push(`pydicom and numpy for ${PYTHON} (apt-get install -y python3-pydicom python3-numpy)`);
  return missing;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface Orthanc {
  /** http://127.0.0.1:PORT */
  base: string;
  /** the DICOMweb base URL */
  dicomweb: string;
  user: string;
  password: string;
  /** headers with the basic credentials, for Orthanc's own REST API */
  auth: Record<string, string>;
  /** stores a DICOM file through Orthanc's REST API (not through calcdx) */
  upload(bytes: Uint8Array): Promise<void>;
  stop(): Promise<void>;
}

export async function startOrthanc(): Promise<Orthanc> {
  const plugin = dicomwebPlugin();
  if (!plugin) throw new Error('the Orthanc DICOMweb plugin is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'calcdx-orthanc-'));
  const port = await freePort();
  const user = 'calcdx', password = `pw-${process.pid}-${port}`;
  const config = {
    Name: 'calcdx-test',
    StorageDirectory: join(dir, 'db'),
    IndexDirectory: join(dir, 'db'),
    HttpPort: port,
    RemoteAccessAllowed: false,
    DicomServerEnabled: false,
    AuthenticationEnabled: true,
    RegisteredUsers: { [user]: password },
    Plugins: [plugin],
    DicomWeb: { Enable: true, Root: '/dicom-web/', EnableWado: false },
    StableAge: 1,
    HttpCompressionEnabled: false,
    ConcurrentJobs: 1,
  };
  const cfg = join(dir, 'orthanc.json');
  writeFileSync(cfg, JSON.stringify(config));
  const log = join(dir, 'orthanc.log');
  const child: ChildProcess = spawn(ORTHANC_BIN, [`--logfile=${log}`, cfg], { stdio: 'ignore' });
  let exited: number | null | undefined;
  // if this process ends without stop() (a crash, an interrupted run), Orthanc ends with it
  const orphanGuard = (): void => { child.kill('SIGKILL'); rmSync(dir, { recursive: true, force: true }); };
  process.once('exit', orphanGuard);
  child.once('exit', (code) => { exited = code; process.off('exit', orphanGuard); });
  const base = `http://127.0.0.1:${port}`;
  const auth = { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
  const stop = async (): Promise<void> => {
    if (exited === undefined) {
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (exited !== undefined) {
      const tail = existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-15).join('\n') : '(no log)';
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`Orthanc exited (code ${exited}) before answering:\n${tail}`);
    }
    try {
      const r = await fetch(`${base}/system`, { headers: auth, signal: AbortSignal.timeout(1000) });
      if (r.ok) { await r.arrayBuffer(); break; }
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) { await stop(); throw new Error('Orthanc did not answer within 20 s'); }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base,
    dicomweb: `${base}/dicom-web`,
    user,
    password,
    auth,
    upload: async (bytes) => {
      const r = await fetch(`${base}/instances`, { method: 'POST', headers: { ...auth, 'content-type': 'application/dicom' }, body: bytes as Uint8Array<ArrayBuffer> });
      if (!r.ok) throw new Error(`Orthanc refused an upload: HTTP ${r.status} ${await r.text()}`);
      await r.arrayBuffer().catch(() => undefined);
    },
    stop,
  };
}

export type PhantomStudy = ReturnType<typeof writePhantomStudy>;

export interface PhantomArchive {
  orthanc: Orthanc;
  /** a temporary folder of the test's own; the phantom's DICOM files are in `dir`/phantom */
  dir: string;
  /** the phantom study (PHANTOM_STUDY_UID, one CT series) as written and uploaded */
  phantom: PhantomStudy;
  /** stops Orthanc (if it still runs) and removes `dir` */
  stop(): Promise<void>;
}

/**
 * Orthanc started (startOrthanc) with the phantom CT study of dicom-series.ts uploaded through
 * its REST API, the phantom's files kept in a temporary folder named after `prefix`.
 */
export async function startPhantomArchive(prefix: string): Promise<PhantomArchive> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  let orthanc: Orthanc | undefined;
  try {
    orthanc = await startOrthanc();
    const phantom = writePhantomStudy(join(dir, 'phantom'));
    for (const b of phantom.instances) await orthanc.upload(b);
    const o = orthanc;
    return { orthanc: o, dir, phantom, stop: async () => { await o.stop(); rmSync(dir, { recursive: true, force: true }); } };
  } catch (e) {
    await orthanc?.stop();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/** The archive as one entry of a server's archive configuration (resolvePacsConfig): id `main`, the credentials inline. */
export function pacsEntry(orthanc: Orthanc, label: string) {
  return { id: 'main', label, url: orthanc.dicomweb, auth: { kind: 'basic' as const, user: orthanc.user, password: orthanc.password } };
}
