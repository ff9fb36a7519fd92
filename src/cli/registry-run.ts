/**
 * The work of the registry commands (src/cli/registry.ts), loaded only when one runs.
 * Each command opens the registry, does one thing, writes one audit row (user: none,
 * origin: "cli"; never clinical content) and closes it. Bad input is refused before anything
 * is written; files are written to a temporary name and renamed when complete.
 */
import { createReadStream, createWriteStream, existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import { isIsoDate } from '../core/engine/dates.js';
import { t, type Lang } from '../i18n/index.js';
import { CalcdxError } from '../io/errors.js';
import { RegistryError, invalid } from '../registry/errors.js';
import { pseudonymise, type ExportRecord } from '../registry/export-format.js';
import { LATEST_SCHEMA_VERSION } from '../registry/migrations.js';
import { describeLocation, openRegistry, parseLocation } from '../registry/open.js';
import { ensureFirstAdmin, hashPassword, passwordProblem } from '../registry/password.js';
import { username as usernameSchema, type Role } from '../registry/schema.js';
import type { KyselyRegistryStore } from '../registry/kysely-store.js';
import type { DbOpts } from './registry.js';

const CLI = 'cli';
const say = (s: string): void => { process.stdout.write(`${s}\n`); };
const note = (s: string): void => { process.stderr.write(`calcdx: ${s}\n`); };

async function withStore<T>(o: DbOpts, fn: (s: KyselyRegistryStore) => Promise<T>): Promise<T> {
  const store = await openRegistry(o.db);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

export async function init(o: DbOpts, lang: Lang): Promise<void> {
  await withStore(o, async (s) => {
    const st = await s.status();
    say(t(lang, 'registry.initialised', { location: st.location, version: st.schemaVersion }));
    const admin = await ensureFirstAdmin(s, CLI);
    if (admin) say(t(lang, 'registry.first_admin', admin));
  });
}

export async function status(o: DbOpts & { json?: boolean }, lang: Lang): Promise<void> {
  await withStore(o, async (s) => {
    const st = await s.status();
    if (o.json) { say(JSON.stringify(st, null, 2)); return; }
    say(t(lang, 'registry.initialised', { location: st.location, version: st.schemaVersion }));
    say(`${st.dialect}; ${Object.entries(st.counts).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  });
}

// ------------------------------------------------------------ backup / restore (SQLite)

function sqliteFileOf(o: DbOpts, lang: Lang, file: string, restore: boolean): string {
  const loc = parseLocation(o.db);
  if (loc.dialect === 'postgres') {
    throw new CalcdxError('usage', { detail: t(lang, 'registry.pg_dump', { file: restore ? file : file, url: describeLocation(loc) }) });
  }
  return loc.file;
}

/** A SQLite file that is a calcdx registry this version can read; returns its schema version. */
async function checkRegistryFile(file: string, lang: Lang, what: 'backup_failed' | 'restore_failed'): Promise<number> {
  const { default: Database } = await import('better-sqlite3');
  if (!existsSync(file)) throw new CalcdxError('file_not_found', { file });
  let db;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    const ok = db.pragma('integrity_check', { simple: true });
    if (ok !== 'ok') throw new Error(`integrity check: ${String(ok)}`);
    const hasSchema = db.prepare(`select count(*) as n from sqlite_master where type = 'table' and name = 'calcdx_schema'`).get() as { n: number };
    if (!hasSchema.n) throw new Error('not a calcdx registry (no calcdx_schema table)');
    const v = (db.prepare('select version from calcdx_schema').get() as { version: number } | undefined)?.version ?? 0;
    if (v > LATEST_SCHEMA_VERSION) throw new Error(`schema version ${v} is newer than this calcdx knows (${LATEST_SCHEMA_VERSION})`);
    return v;
  } catch (e) {
    throw new RegistryError('invalid', `${t(lang, `registry.${what}`)}: ${file}: ${(e as Error).message}`, { issues: [{ field: 'file', found: file, allowed: 'a calcdx SQLite registry' }] });
  } finally {
    db?.close();
  }
}

const tmpBeside = (file: string): string => join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);

export async function backup(file: string, o: DbOpts, lang: Lang): Promise<void> {
  const source = sqliteFileOf(o, lang, file, false);
  if (existsSync(file)) throw new CalcdxError('output_exists', { file, reason: 'the file exists; a backup does not overwrite' });
  await checkRegistryFile(source, lang, 'backup_failed');
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(source, { readonly: true, fileMustExist: true, timeout: 10_000 });
  const tmp = tmpBeside(file);
  try {
    // the online backup API: a consistent copy while other connections read and write
    await db.backup(tmp);
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new RegistryError('invalid', `${t(lang, 'registry.backup_failed')}: ${(e as Error).message}`);
  } finally {
    db.close();
  }
  say(t(lang, 'registry.backed_up', { location: source, file }));
}

export async function restore(file: string, o: DbOpts & { force?: boolean }, lang: Lang): Promise<void> {
  const target = sqliteFileOf(o, lang, file, true);
  await checkRegistryFile(file, lang, 'restore_failed');
  if (existsSync(target) && statSync(target).size > 0) {
    const { default: Database } = await import('better-sqlite3');
    const cur = new Database(target, { readonly: true, fileMustExist: true });
    let records = 0;
    try {
      for (const table of ['patient', 'app_user']) {
        const has = cur.prepare(`select count(*) as n from sqlite_master where type = 'table' and name = ?`).get(table) as { n: number };
        if (has.n) records += (cur.prepare(`select count(*) as n from ${table}`).get() as { n: number }).n;
      }
    } finally {
      cur.close();
    }
    if (records > 0 && !o.force) throw new CalcdxError('usage', { detail: `${target} holds ${records} patient and user records; restoring replaces them: add --force (and stop the server first)` });
  }
  const { default: Database } = await import('better-sqlite3');
  const src = new Database(file, { readonly: true, fileMustExist: true });
  const tmp = tmpBeside(target);
  try {
    await src.backup(tmp);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new RegistryError('invalid', `${t(lang, 'registry.restore_failed')}: ${(e as Error).message}`);
  } finally {
    src.close();
  }
  // the old registry's write-ahead log belongs to the old file
  rmSync(`${target}-wal`, { force: true });
  rmSync(`${target}-shm`, { force: true });
  renameSync(tmp, target);
  // open once: migrates an older backup forward, and records the restore
  await withStore({ db: `sqlite:${target}` }, (s) => s.appendAudit({ userId: null, action: 'restore', recordType: 'registry', recordId: null, origin: CLI }));
  say(t(lang, 'registry.restored', { file, location: target }));
}

// ------------------------------------------------------------ export / import

async function writeLine(out: NodeJS.WritableStream, line: string): Promise<void> {
  if (!out.write(`${line}\n`)) await once(out, 'drain');
}

export async function exportCmd(o: DbOpts & { out?: string; pseudonymise?: boolean }, lang: Lang): Promise<void> {
  if (o.out && existsSync(o.out)) throw new CalcdxError('output_exists', { file: o.out, reason: 'the file exists; export does not overwrite' });
  await withStore(o, async (s) => {
    const tmp = o.out ? tmpBeside(o.out) : undefined;
    const out = tmp ? createWriteStream(tmp, { flags: 'wx' }) : process.stdout;
    let count = 0;
    // a reader that stops early (| head) closes the pipe: stop writing, quietly
    let closed = false;
    const onError = (e: NodeJS.ErrnoException): void => { if (e.code === 'EPIPE') closed = true; };
    if (!tmp) process.stdout.on('error', onError);
    try {
      for await (const r of s.exportRecords()) {
        const rec = o.pseudonymise ? pseudonymise(r) : r;
        if (!rec) continue;
        if (closed) return;
        await writeLine(out, JSON.stringify(rec));
        count++;
      }
      if (tmp) {
        const ws = out as ReturnType<typeof createWriteStream>;
        ws.end();
        await once(ws, 'close');
        renameSync(tmp, o.out!);
      }
    } catch (e) {
      if (tmp) { (out as ReturnType<typeof createWriteStream>).destroy(); rmSync(tmp, { force: true }); }
      if ((e as NodeJS.ErrnoException).code === 'EPIPE') return;
      throw e;
    } finally {
      if (!tmp) process.stdout.off('error', onError);
    }
    await s.appendAudit({ userId: null, action: o.pseudonymise ? 'export_pseudonymised' : 'export', recordType: 'registry', recordId: null, origin: CLI });
    note(t(lang, 'registry.exported', { count }));
  });
}

async function* readJsonLines(file: string): AsyncIterable<ExportRecord> {
  if (file !== '-' && !existsSync(file)) throw new CalcdxError('file_not_found', { file });
  const input = file === '-' ? process.stdin : createReadStream(file, { encoding: 'utf8' });
  const rl = createInterface({ input, crlfDelay: Infinity });
  let n = 0;
  for await (const line of rl) {
    n++;
    if (!line.trim()) continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      throw invalid([{ field: `line ${n}`, found: (e as Error).message, allowed: 'one JSON object a line (calcdx registry export)' }]);
    }
    yield v as ExportRecord;
  }
}

export async function importCmd(file: string, o: DbOpts, lang: Lang): Promise<void> {
  if (file !== '-' && !existsSync(file)) throw new CalcdxError('file_not_found', { file });
  await withStore(o, async (s) => {
    const counts = await s.importRecords(readJsonLines(file));
    await s.appendAudit({ userId: null, action: 'import', recordType: 'registry', recordId: null, origin: CLI });
    say(t(lang, 'registry.imported', { counts: Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ') || '0' }));
  });
}

// ------------------------------------------------------------ worklist

export async function worklistCmd(o: DbOpts & { overdue?: boolean; json?: boolean; today?: string; sort: string; limit: string }, lang: Lang): Promise<void> {
  if (o.today !== undefined && !isIsoDate(o.today)) throw new CalcdxError('usage', { detail: `--today: found "${o.today}"; allowed: a calendar date YYYY-MM-DD` });
  const limit = Number(o.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new CalcdxError('usage', { detail: `--limit: found "${o.limit}"; allowed: a whole number from 1 to 1000` });
  const today = o.today ?? new Date().toISOString().slice(0, 10);
  await withStore(o, async (s) => {
    const page = await s.worklist({ today, overdueOnly: !!o.overdue, sort: o.sort as 'dueDate', limit });
    await s.appendAudit({ userId: null, action: 'read', recordType: 'worklist', recordId: null, origin: CLI });
    if (o.json) { say(JSON.stringify({ today, ...page }, null, 2)); return; }
    if (!page.total) { say(t(lang, 'registry.worklist_empty', { today })); return; }
    say(t(lang, 'registry.worklist_head', { total: page.totalCapped ? `${page.total}+` : page.total, today }));
    const rows = page.items.map((r) => [
      r.visit.status, r.visit.dueDate, `${r.visit.windowStart}..${r.visit.windowEnd}`,
      r.patient.name ?? r.patient.mrn ?? r.patient.id.slice(0, 8), r.patient.mrn ?? '', `${r.lesion.site}${r.lesion.side ? ` (${r.lesion.side})` : ''}`,
      r.visit.items.join('+'), r.visit.id,
    ]);
    const head = ['status', 'due', 'window', 'patient', 'MRN', 'site', 'items', 'visit'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    for (const r of [head, ...rows]) say(r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
    if (page.total > page.items.length) say(`… ${page.total - page.items.length}${page.totalCapped ? '+' : ''} more (--limit)`);
  });
}

// ------------------------------------------------------------ users

/** A password from standard input: typed at a prompt without echo on a terminal, else the first line. */
async function readPassword(lang: Lang, user: string): Promise<string> {
  const stdin = process.stdin;
  let pw: string;
  if (stdin.isTTY) {
    process.stderr.write(t(lang, 'registry.password_prompt', { username: user }));
    pw = await new Promise<string>((resolve, reject) => {
      let buf = '';
      stdin.setRawMode(true);
      stdin.resume();
      stdin.setEncoding('utf8');
      const onData = (chunk: string): void => {
        for (const ch of chunk) {
          if (ch === '\r' || ch === '\n') { done(); resolve(buf); return; }
          if (ch === '\u0003') { done(); reject(new CalcdxError('usage', { detail: 'cancelled' })); return; }
          if (ch === '\u007f' || ch === '\b') buf = buf.slice(0, -1);
          else buf += ch;
        }
      };
      const done = (): void => { stdin.off('data', onData); stdin.setRawMode(false); stdin.pause(); process.stderr.write('\n'); };
      stdin.on('data', onData);
    });
  } else {
    const chunks: Buffer[] = [];
    for await (const c of stdin) chunks.push(c as Buffer);
    pw = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
  }
  const problem = passwordProblem(pw);
  if (problem) throw new CalcdxError('usage', { detail: `password (standard input): ${problem}` });
  return pw;
}

function checkUsername(name: string): void {
  const r = usernameSchema.safeParse(name);
  if (!r.success) throw invalid([{ field: 'username', found: JSON.stringify(name), allowed: r.error.issues[0]?.message ?? 'a username' }]);
}

export async function usersAdd(name: string, o: DbOpts & { role: string }, lang: Lang): Promise<void> {
  checkUsername(name);
  const pw = await readPassword(lang, name);
  await withStore(o, async (s) => {
    const passwordHash = await hashPassword(pw);
    // the user and its audit row: one transaction
    const u = await s.transaction(async (tx) => {
      const made = await tx.createUser({ username: name, role: o.role as Role, passwordHash });
      await tx.appendAudit({ userId: null, action: 'create', recordType: 'user', recordId: made.id, origin: CLI });
      return made;
    });
    say(t(lang, 'registry.user_added', { username: name, role: u.role }));
  });
}

async function userByName(s: KyselyRegistryStore, name: string) {
  const u = await s.findUser(name);
  if (!u) throw new RegistryError('not_found', `no user "${name}"`, { recordType: 'user', issues: [{ field: 'username', found: name, allowed: 'an existing username (calcdx users list)' }] });
  return u;
}

export async function usersPasswd(name: string, o: DbOpts, lang: Lang): Promise<void> {
  checkUsername(name);
  // the user must exist before a password is asked for
  await withStore(o, (s) => userByName(s, name));
  const pw = await readPassword(lang, name);
  await withStore(o, async (s) => {
    const u = await userByName(s, name);
    const passwordHash = await hashPassword(pw);
    await s.transaction(async (tx) => {
      await tx.updateUser(u.id, u.version, { passwordHash });
      await tx.appendAudit({ userId: null, action: 'update', recordType: 'user', recordId: u.id, origin: CLI });
    });
    say(t(lang, 'registry.user_passwd', { username: name }));
  });
}

export async function usersDisable(name: string, o: DbOpts, lang: Lang): Promise<void> {
  checkUsername(name);
  await withStore(o, async (s) => {
    const u = await userByName(s, name);
    await s.transaction(async (tx) => {
      await tx.updateUser(u.id, u.version, { disabled: true });
      await tx.appendAudit({ userId: null, action: 'disable', recordType: 'user', recordId: u.id, origin: CLI });
    });
    say(t(lang, 'registry.user_disabled', { username: name }));
  });
}

export async function usersList(o: DbOpts & { json?: boolean }, _lang: Lang): Promise<void> {
  await withStore(o, async (s) => {
    const users = (await s.listUsers()).map(({ passwordHash: _h, ...u }) => u);
    if (o.json) { say(JSON.stringify(users, null, 2)); return; }
    for (const u of users) say(`${u.username.padEnd(20)} ${u.role.padEnd(10)} ${u.disabled ? 'disabled' : u.lockedUntil ? `locked until ${u.lockedUntil}` : 'active'}`);
  });
}
