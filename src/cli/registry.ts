/**
 * The registry's commands: `calcdx registry init|status|backup|restore|export|import`,
 * `calcdx worklist`, `calcdx users add|passwd|disable|list`. Only their definitions live here;
 * the work (src/cli/registry-run.ts) and the database drivers are imported when one runs.
 *
 * Every command takes --db sqlite:PATH | postgres://… (default: CALCDX_DB, else the file under
 * the user's data directory, src/registry/open.ts). Passwords are read from standard input
 * (or a prompt on a terminal), never from the command line.
 */
import { Option, type Command } from 'commander';
import type { Lang } from '../i18n/index.js';

const dbOption = () => new Option('--db <location>', 'registry: sqlite:PATH or postgres://user@host:port/database (default: $CALCDX_DB, else ~/.local/share/calcdx/registry.db)');
const langOption = () => new Option('--lang <lang>', 'language of the messages: zh | en').choices(['zh', 'en']);
const run = () => import('./registry-run.js');

export interface DbOpts { db?: string; lang?: Lang }

export function registerRegistry(program: Command, envLang: () => Lang): void {
  const lang = (o: DbOpts): Lang => o.lang ?? envLang();
  const reg = program.command('registry').description('the patient registry: follow-up, outcomes, users (SQLite by default, PostgreSQL with --db postgres://…)');
  reg.command('init')
    .description('create the registry (or migrate it to this version); on a registry without users, create "admin" and print its one-time password')
    .addOption(dbOption()).addOption(langOption())
    .action(async (o: DbOpts) => (await run()).init(o, lang(o)));
  reg.command('status')
    .description('where the registry is, its schema version and its record counts')
    .addOption(dbOption()).addOption(langOption())
    .option('--json', 'print JSON')
    .action(async (o: DbOpts & { json?: boolean }) => (await run()).status(o, lang(o)));
  reg.command('backup')
    .description('SQLite: copy the registry with SQLite\'s online backup API (safe while the server runs). PostgreSQL: prints the pg_dump command')
    .argument('<file>', 'backup file to write (must not exist)')
    .addOption(dbOption()).addOption(langOption())
    .action(async (file: string, o: DbOpts) => (await run()).backup(file, o, lang(o)));
  reg.command('restore')
    .description('SQLite: replace the registry by a backup (stop the server first). PostgreSQL: prints the pg_restore command')
    .argument('<file>', 'backup file made by calcdx registry backup')
    .option('--force', 'replace a registry that holds records')
    .addOption(dbOption()).addOption(langOption())
    .action(async (file: string, o: DbOpts & { force?: boolean }) => (await run()).restore(file, o, lang(o)));
  reg.command('export')
    .description('write every record as JSON Lines (lossless; calcdx registry import reads it back)')
    .option('--out <file>', 'write to a file instead of standard output')
    .option('--pseudonymise', 'drop what identifies a person: record number, name, date of birth, case labels, visit notes; users and audit are left out')
    .addOption(dbOption()).addOption(langOption())
    .action(async (o: DbOpts & { out?: string; pseudonymise?: boolean }) => (await run()).exportCmd(o, lang(o)));
  reg.command('import')
    .description('read a JSON Lines export into an empty registry (all or nothing)')
    .argument('<file>', 'export file, or - for standard input')
    .addOption(dbOption()).addOption(langOption())
    .action(async (file: string, o: DbOpts) => (await run()).importCmd(file, o, lang(o)));

  program.command('worklist')
    .description('follow-up visits due this week or overdue')
    .option('--overdue', 'only the overdue visits')
    .option('--json', 'print JSON')
    .option('--today <YYYY-MM-DD>', 'the day to compute due and overdue for (default: today, UTC)')
    .addOption(new Option('--sort <key>', 'order').choices(['dueDate', 'status', 'patient', 'site']).default('dueDate'))
    .option('--limit <n>', 'at most this many visits', '200')
    .addOption(dbOption()).addOption(langOption())
    .action(async (o: DbOpts & { overdue?: boolean; json?: boolean; today?: string; sort: string; limit: string }) => (await run()).worklistCmd(o, lang(o)));

  const users = program.command('users').description('registry users: roles clinician (read/write patients), viewer (read), admin (users, settings, audit), auditor (audit log only)');
  users.command('add')
    .description('add a user; the password is read from standard input (or a prompt)')
    .argument('<username>', 'lower-case letters, digits, ".", "_", "-"')
    .addOption(new Option('--role <role>', 'role').choices(['clinician', 'viewer', 'admin', 'auditor']).makeOptionMandatory())
    .addOption(dbOption()).addOption(langOption())
    .action(async (username: string, o: DbOpts & { role: string }) => (await run()).usersAdd(username, o, lang(o)));
  users.command('passwd')
    .description('set a user\'s password (read from standard input or a prompt); ends their sessions and unlocks the account')
    .argument('<username>')
    .addOption(dbOption()).addOption(langOption())
    .action(async (username: string, o: DbOpts) => (await run()).usersPasswd(username, o, lang(o)));
  users.command('disable')
    .description('disable a user (they can no longer sign in; their sessions end)')
    .argument('<username>')
    .addOption(dbOption()).addOption(langOption())
    .action(async (username: string, o: DbOpts) => (await run()).usersDisable(username, o, lang(o)));
  users.command('list')
    .description('list the users and their roles')
    .option('--json', 'print JSON')
    .addOption(dbOption()).addOption(langOption())
    .action(async (o: DbOpts & { json?: boolean }) => (await run()).usersList(o, lang(o)));
}
