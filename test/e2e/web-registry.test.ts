/**
 * The registry's web pages in Debian's Chromium, through the real server (its CSP: no inline
 * script) on a temporary SQLite registry: the first administrator (the one-time password that
 * `calcdx serve` prints, from the same ensureFirstAdmin) logs in and adds a clinician, a viewer and
 * an auditor on the users page; the clinician finds no patient, adds one and a lesion, assesses a
 * case on the assessment page and saves it to the lesion, sees the timeline with the chart and the
 * planned visits, downloads the .ics, records a visit with new findings and re-assesses from the
 * pre-filled case, sees the worklist (sortable, overdue only, printable), corrects the patient's
 * details, plans the follow-up from a treatment date, records an outcome (a bad one first: the field
 * named, in Chinese) and sees the local performance; the viewer sees no edit
 * buttons; the auditor sees the audit view only, without clinical content, and logs out.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRegistry } from '../../src/registry/open.js';
import { ensureFirstAdmin } from '../../src/registry/password.js';
import type { RegistryStore } from '../../src/registry/store.js';
import { buildServer, type FastifyInstance } from '../../src/server/app.js';
import { EXAMPLES, ROOT } from '../../src/test-support/cases.js';

const SHOTS = join(ROOT, 'test-output', 'screenshots');

const CHROMIUM = '/usr/bin/chromium';
const PASSWORD = 'a long enough password';
let tmp: string;
let store: RegistryStore;
let server: FastifyInstance;
let base: string;
let browser: Browser;
let admin: { username: string; password: string };
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`the browser tests need Debian's Chromium at ${CHROMIUM}`);
  tmp = mkdtempSync(join(tmpdir(), 'calcdx-webreg-'));
  mkdirSync(SHOTS, { recursive: true });
  const webRoot = join(tmp, 'web');
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-web.mjs'), '--out', webRoot], { cwd: ROOT, encoding: 'utf8' });
  store = await openRegistry(`sqlite:${join(tmp, 'registry.sqlite')}`);
  const first = await ensureFirstAdmin(store);
  if (!first) throw new Error('the empty registry got no first admin');
  admin = first;
  server = await buildServer({ logger: false, webRoot, registry: store });
  base = await server.listen({ port: 0, host: '127.0.0.1' });
  browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
}, 180_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await server?.close();
  await store?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

type AppPage = Page & { errors: string[] };

/** a browser of its own (cookies, storage) for one user */
async function newUser(): Promise<AppPage> {
  const ctx = await browser.newContext({ locale: 'en-GB', viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  contexts.push(ctx);
  const page = await ctx.newPage() as AppPage;
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  // a refused call (401 before login, the bad outcome's 400) is logged by Chromium as a failed resource: not an app error
  page.on('console', (m) => { if (m.type() === 'error' && !/favicon|Failed to load resource/.test(m.text())) page.errors.push(m.text()); });
  page.on('dialog', (d) => void d.accept());
  return page;
}

async function logIn(page: Page, username: string, password: string, at = '/login'): Promise<void> {
  await page.goto(`${base}${at}`);
  await page.waitForSelector('#login-form');
  await page.fill('#login-username', username);
  await page.fill('#login-password', password);
  await page.click('#login-submit');
  await page.waitForSelector('#session-user');
}

const navLinks = (page: Page) => page.$$eval('nav.pages a', (as) => as.map((a) => a.getAttribute('href')));

let patientUrl = '';

describe('registry web pages', () => {
  it('the first admin logs in and adds users; a bad username is refused with the field named', async () => {
    const page = await newUser();
    // a page that needs a login sends the visitor to the login page
    await page.goto(`${base}/admin/users`);
    await page.waitForURL(/\/login\?next=%2Fadmin%2Fusers$/);
    await page.fill('#login-username', admin.username);
    await page.fill('#login-password', 'not the password');
    await page.click('#login-submit');
    await page.waitForSelector('.problem[data-status="401"]');
    await page.fill('#login-password', admin.password);
    await page.click('#login-submit');
    await page.waitForURL(/\/admin\/users$/);
    await page.waitForSelector('#user-list tr[data-user="admin"]');
    expect(await navLinks(page)).toEqual(['/', '/performance', '/admin/users', '/audit']);

    await page.fill('#nu-username', 'Bad Name');
    await page.selectOption('#nu-role', 'clinician');
    await page.fill('#nu-password', PASSWORD);
    await page.click('#nu-submit');
    await page.waitForSelector('#new-user .problem li[data-path="body.username"]');
    expect(await page.getAttribute('#nu-username', 'aria-invalid')).toBe('true');

    for (const [username, role] of [['dr.li', 'clinician'], ['ms.viewer', 'viewer'], ['audit.one', 'auditor']] as const) {
      await page.fill('#nu-username', username);
      await page.selectOption('#nu-role', role);
      await page.fill('#nu-password', PASSWORD);
      await page.click('#nu-submit');
      await page.waitForSelector(`#user-list tr[data-user="${username}"]`);
      expect(await page.inputValue(`#user-list tr[data-user="${username}"] select.user-role`)).toBe(role);
    }
    expect(page.errors).toEqual([]);
  }, 120_000);

  it('the clinician adds a patient and a lesion, assesses a case and sees the timeline, chart and visits', async () => {
    const page = await newUser();
    await logIn(page, 'dr.li', PASSWORD, '/login?next=/patients');
    await page.waitForURL(/\/patients$/);
    expect(await navLinks(page)).toEqual(['/', '/patients', '/worklist', '/performance']);
    await page.waitForSelector('#patient-count');
    expect(await page.textContent('#patient-count')).toContain('0');

    await page.click('#new-patient summary');
    await page.fill('#np-mrn', 'MRN-WEB-1');
    await page.fill('#np-name', 'Wang Wu');
    await page.fill('#np-birthDate', '1990-05-04');
    await page.selectOption('#np-sex', 'female');
    await page.click('#np-submit');
    await page.waitForURL(/\/patients\/[A-Za-z0-9_-]+$/);
    patientUrl = page.url();
    expect(await page.textContent('#patient-heading')).toBe('Wang Wu');

    await page.click('#new-lesion summary');
    await page.fill('#nl-site', 'left knee');
    await page.selectOption('#nl-side', 'left');
    await page.click('#nl-submit');
    await page.waitForSelector('section.lesion a.new-assessment');
    expect(await page.textContent('section.lesion h3')).toContain('left knee');

    // the assessment page, opened for this lesion: it starts empty, not from another case's draft
    // kept in this browser; import the case file, save it to the registry
    await page.evaluate(() => localStorage.setItem('calcdx.draft', JSON.stringify({ formatVersion: 1, lesion: { sizeCm: 3.3 } })));
    await page.click('section.lesion a.new-assessment');
    await page.waitForURL(/\/\?lesion=/);
    await page.waitForSelector('body[data-ready]');
    expect(await page.inputValue('#f-lesion-sizeCm')).toBe('');
    await page.setInputFiles('#import-file', join(EXAMPLES, 'synovial-sarcoma-knee.yaml'));
    await page.waitForSelector('#notice .alert-info');
    await page.click('#save-registry');
    await page.waitForURL(patientUrl);
    await page.waitForSelector('table.assessments tr[data-assessment]');
    expect(await page.textContent('table.assessments tbody')).toContain('Synovial sarcoma');
    // the chart: the size from the case (7 cm) in its data table; the visits planned from the surgery date
    await page.waitForSelector('section.lesion figure.line-chart, section.lesion .line-chart');
    expect(await page.textContent('section.lesion .line-chart')).toContain('7');
    const statuses = await page.$$eval('table.visits tr[data-visit]', (rs) => rs.map((r) => r.getAttribute('data-status')));
    expect(statuses.length).toBeGreaterThan(3);
    expect(statuses).toContain('overdue');

    // the patient's calendar
    const href = await page.getAttribute('#patient-ics', 'href');
    const ics = await page.request.get(`${base}${href}`);
    expect(ics.status()).toBe(200);
    expect(ics.headers()['content-type']).toMatch(/^text\/calendar/);
    expect(await ics.text()).toContain('BEGIN:VCALENDAR');
    expect(page.errors).toEqual([]);
  }, 180_000);

  it('records a visit with new findings, re-assesses from the pre-filled case, and sees the worklist', async () => {
    const page = await newUser();
    await logIn(page, 'dr.li', PASSWORD, `/login?next=${encodeURIComponent(new URL(patientUrl).pathname)}`);
    await page.waitForURL(patientUrl);
    await page.waitForSelector('table.visits tr[data-status="overdue"] button.record-visit');
    const visitId = await page.getAttribute('table.visits tr[data-status="overdue"]', 'data-visit');
    await page.click(`table.visits tr[data-visit="${visitId}"] button.record-visit`);
    const form = `#visit-form-${visitId}`;
    await page.fill(`${form} input[name="sizeMm"]`, '62');
    await page.fill(`${form} input[name="calcifiedVolumeMl"]`, '2.5');
    await page.selectOption(`${form} select[name="growth"]`, 'grown');
    await page.selectOption(`${form} select[name="lungFindings"]`, 'none');
    await page.click(`${form} button.visit-save`);
    await page.waitForSelector(`table.visits tr[data-visit="${visitId}"][data-status="done"]`);
    await page.waitForSelector('.reassess a.reassess-link');
    // the chart's table now has the visit's size and volume
    await page.screenshot({ path: join(SHOTS, 'registry-patient.png'), fullPage: true });
    const chart = await page.textContent('section.lesion .line-chart');
    expect(chart).toContain('6.2');
    expect(chart).toContain('2.5');

    await page.click('.reassess a.reassess-link');
    await page.waitForURL(/\/\?lesion=/);
    await page.waitForSelector('body[data-ready]');
    expect(await page.inputValue('#f-lesion-sizeCm')).toBe('6.2');
    await page.click('#save-registry');
    await page.waitForURL(patientUrl);
    await page.waitForFunction(() => document.querySelectorAll('table.assessments tr[data-assessment]').length === 2);

    // the worklist: due this week and overdue; sortable; overdue only; printable
    await page.click('nav.pages a[href="/worklist"]');
    await page.waitForSelector('#worklist tr[data-visit]');
    expect(await page.textContent('#worklist')).toContain('Wang Wu');
    await page.waitForSelector('main[data-loaded="week:dueDate:asc:0"]');
    const due = await page.$$eval('#worklist tr[data-visit] td:first-child', (tds) => tds.map((td) => td.textContent ?? ''));
    expect(due).toEqual([...due].sort());
    await page.click('#worklist button.sort[data-sort="patient"]');
    await page.waitForSelector('main[data-loaded="week:patient:asc:0"] #worklist th[aria-sort="ascending"] button[data-sort="patient"]');
    await page.click('#worklist button.sort[data-sort="dueDate"]');
    await page.click('#worklist button.sort[data-sort="dueDate"]');
    await page.waitForSelector('main[data-loaded="week:dueDate:desc:0"] #worklist th[aria-sort="descending"] button[data-sort="dueDate"]');
    const dueDesc = await page.$$eval('#worklist tr[data-visit] td:first-child', (tds) => tds.map((td) => td.textContent ?? ''));
    expect(dueDesc).toEqual([...due].sort().reverse());
    await page.check('#overdue-only');
    await page.waitForSelector('main[data-loaded^="overdue:"]');
    expect(await page.textContent('#worklist-heading')).toBe('Overdue follow-up');
    const shown = await page.$$eval('#worklist tr[data-visit], #worklist-empty', (rs) => rs.map((r) => r.getAttribute('data-status') ?? 'empty'));
    expect(shown.every((s) => s === 'overdue' || s === 'empty')).toBe(true);
    await page.screenshot({ path: join(SHOTS, 'registry-worklist.png') });
    await page.emulateMedia({ media: 'print' });
    expect(await page.isVisible('header.top')).toBe(false);
    expect(await page.isVisible('#overdue-only')).toBe(false);
    expect(await page.isVisible('#worklist-heading')).toBe(true);
    await page.emulateMedia({ media: 'screen' });
    expect(page.errors).toEqual([]);
  }, 180_000);

  it('records an outcome (a bad one first, its field named in Chinese) and sees the local performance', async () => {
    const page = await newUser();
    await logIn(page, 'dr.li', PASSWORD, `/login?next=${encodeURIComponent(new URL(patientUrl).pathname)}`);
    await page.waitForURL(patientUrl);
    await page.waitForSelector('form.outcome-form');
    // the patient's details corrected (row version carried)
    await page.click('#edit-patient summary');
    await page.fill('#ep-name', 'Wang Wu Li');
    await page.click('#ep-submit');
    await page.waitForFunction(() => document.querySelector('#patient-heading')?.textContent === 'Wang Wu Li');
    // the follow-up counted from a treatment date entered later: the open visits of the plan before are cancelled
    const count = (status: string) => page.$$eval(`table.visits tr[data-status="${status}"]`, (rs) => rs.length);
    const rows = await page.$$eval('table.visits tr[data-visit]', (rs) => rs.length);
    const cancelled = await count('cancelled');
    const open = rows - cancelled - await count('done');
    await page.click('details.plan-from-date summary');
    await page.fill('details.plan-from-date input[name="startDate"]', '2026-11-20');
    await page.click('details.plan-from-date button.plan-save');
    await page.waitForFunction((n) => document.querySelectorAll('table.visits tr[data-visit]').length > n, rows);
    expect(await count('cancelled')).toBe(cancelled + open);
    const dues = await page.$$eval('table.visits tr[data-status="planned"] td:nth-child(2)', (tds) => tds.map((td) => td.textContent ?? ''));
    expect(dues.length).toBeGreaterThan(0);
    expect(dues.every((d) => d > '2026-11-20')).toBe(true);

    await page.selectOption('#lang', 'zh');
    await page.waitForFunction(() => document.documentElement.lang.startsWith('zh'));
    await page.selectOption('form.outcome-form select[name="confirmedBy"]', 'histology');
    await page.click('form.outcome-form button.outcome-save');
    await page.waitForSelector('form.outcome-form .problem li[data-path="body.entity"]');
    // what was entered stays for the correction
    expect(await page.inputValue('form.outcome-form select[name="confirmedBy"]')).toBe('histology');
    expect(await page.textContent('form.outcome-form .problem')).toMatch(/[\u4e00-\u9fff]/);
    expect(await page.getAttribute('form.outcome-form select[name="entity"]', 'aria-invalid')).toBe('true');
    await page.selectOption('#lang', 'en');
    await page.selectOption('form.outcome-form select[name="entity"]', 'synovial_sarcoma');
    await page.selectOption('form.outcome-form select[name="confirmedBy"]', 'histology');
    await page.selectOption('form.outcome-form select[name="grade"]', '2');
    await page.click('form.outcome-form button.outcome-save');
    await page.waitForSelector('p.outcome[data-entity="synovial_sarcoma"]');
    expect(await page.textContent('p.outcome')).toContain('histology');

    await page.click('nav.pages a[href="/performance"]');
    await page.waitForSelector('#perf-figures tr[data-metric="n"]');
    const n = await page.$$eval('#perf-figures tr[data-metric="n"] td', (tds) => tds.map((td) => td.textContent));
    expect(n[0]).toBe('1');
    expect(Number(n[1])).toBeGreaterThan(50);
    expect(await page.textContent('#perf-case-mix tr[data-entity="synovial_sarcoma"]')).toContain('100.0%');
    expect(page.errors).toEqual([]);
  }, 180_000);

  it('a viewer sees the timeline without edit buttons', async () => {
    const page = await newUser();
    await logIn(page, 'ms.viewer', PASSWORD);
    await page.waitForURL(/\/patients$/);
    expect(await navLinks(page)).toEqual(['/', '/patients', '/worklist', '/performance']);
    await page.goto(patientUrl);
    await page.waitForSelector('table.visits');
    expect(await page.$$('#new-lesion, a.new-assessment, button.record-visit, button.cancel-visit, form.outcome-form, button.edit-outcome')).toHaveLength(0);
    expect(page.errors).toEqual([]);
  }, 120_000);

  it('the auditor sees the audit view only, with record ids and no clinical content', async () => {
    const page = await newUser();
    await logIn(page, 'audit.one', PASSWORD);
    await page.waitForURL(/\/audit$/);
    expect(await navLinks(page)).toEqual(['/audit']);
    await page.waitForSelector('#audit-log tr[data-action]');
    const log = await page.textContent('#audit-log');
    // who: the username, with the user id kept
    expect(log).toContain('dr.li');
    expect(await page.$$('#audit-log td.audit-user code')).not.toHaveLength(0);
    expect(log).not.toContain('Wang Wu');
    expect(log).not.toContain('MRN-WEB-1');
    await page.selectOption('#af-recordType', 'outcome');
    await page.click('#af-submit');
    await page.waitForFunction(() => [...document.querySelectorAll('#audit-log tr[data-record-type]')].every((r) => r.getAttribute('data-record-type') === 'outcome'));
    expect(await page.$$('#audit-log tr[data-action="create"]')).toHaveLength(1);
    // a clinical page is not for this role
    await page.goto(patientUrl);
    await page.waitForSelector('main.page-message h2');
    expect(await page.textContent('main.page-message')).toContain('auditor');
    // logging out ends the session: the audit view asks for a login again
    await page.click('#logout');
    await page.waitForURL(/\/login$/);
    expect(await page.$$('#session-user')).toHaveLength(0);
    await page.goto(`${base}/audit`);
    await page.waitForURL(/\/login\?next=%2Faudit$/);
    expect(page.errors).toEqual([]);
  }, 120_000);
});
