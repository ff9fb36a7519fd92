/**
 * The plan that closes an assessment, through the HTTP API: the assessment date (`?date=`),
 * the dated decision in the JSON and the report, and a bad date as a 400 problem.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildServer } from '../../src/server/app.js';
import { ROOT } from '../../src/test-support/cases.js';

let app: Awaited<ReturnType<typeof buildServer>>;
const case1 = readFileSync(join(ROOT, 'test', 'fixtures', 'issue14', 'case1-trauma-zonal.yaml'), 'utf8');
const post = (url: string, body: string) => app.inject({ method: 'POST', url, payload: body, headers: { 'content-type': 'application/yaml' } });

beforeAll(async () => { app = await buildServer({ logger: false, webRoot: join(ROOT, 'no-web-here') }); });
afterAll(async () => { await app?.close(); });

describe('POST /api/assess and /api/report with an assessment date', () => {
  it('dates the plan from ?date= (and a second date is not answered from the first one\'s cache)', async () => {
    const a = (await post('/api/assess?lang=en&date=2026-12-03', case1)).json();
    expect(a.assessedOn).toBe('2026-12-03');
    expect(a.malignancy.decision).toMatchObject({ kind: 'safety_net_reimaging', reimageFrom: '2026-12-31', reimageBy: '2027-01-14' });
    const b = (await post('/api/assess?lang=en&date=2027-01-07', case1)).json();
    expect(b.malignancy.decision.reimageBy).toBe('2027-02-18');
    expect(b.cantMiss.length).toBeGreaterThan(0);
  });

  it('without ?date= the plan is dated from today', async () => {
    const a = (await post('/api/assess?lang=en', case1)).json();
    expect(a.assessedOn).toBe(new Date().toISOString().slice(0, 10));
    expect(a.malignancy.decision.reimageBy).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it('the report carries the dated plan; a bad date is a 400 problem naming the parameter', async () => {
    const r = await post('/api/report?format=text&lang=en&date=2026-12-03', case1);
    expect(r.statusCode).toBe(200);
    expect(r.body).toContain('between 2026-12-31 and 2027-01-14');
    const bad = await post('/api/assess?date=2026-13-01', case1);
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(bad.json().errors[0]).toMatchObject({ path: 'query.date', found: '2026-13-01' });
  });
});
