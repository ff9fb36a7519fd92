import { describe, expect, it } from 'vitest';
import { buildServer } from '../app.js';

describe('the CT job routes without a database', () => {
  it('answer 503 queue_not_configured, saying how to configure the queue; POST /api/ct is unchanged', async () => {
    const app = await buildServer({ logger: false, ctWorker: false });
    try {
      for (const [method, url] of [['POST', '/api/ct/jobs'], ['GET', '/api/ct/jobs/00000000-0000-4000-8000-000000000000'], ['GET', '/api/ct/jobs/x/events']] as const) {
        const r = await app.inject({ method, url, headers: { 'accept-language': 'zh' } });
        expect(r.statusCode).toBe(503);
        expect(r.headers['content-type']).toMatch(/problem\+json/);
        expect(r.json()).toMatchObject({ code: 'queue_not_configured', title: '未配置 CT 任务队列' });
        expect(r.json().detail).toMatch(/--db postgres:\/\//);
      }
      const ct = await app.inject({ method: 'POST', url: '/api/ct', headers: { 'content-type': 'application/json' }, payload: '{}' });
      expect(ct.statusCode).toBe(415);
    } finally { await app.close(); }
  });

  it('GET /api/ct/queue says there is none (the web app then measures with POST /api/ct); a PACS job names the archive first, then 503', async () => {
    const app = await buildServer({ logger: false, ctWorker: false });
    try {
      const q = await app.inject({ method: 'GET', url: '/api/ct/queue' });
      expect(q.statusCode).toBe(200);
      expect(q.json()).toEqual({ configured: false });
      const unknown = await app.inject({ method: 'POST', url: '/api/pacs/nope/jobs', headers: { 'content-type': 'application/json' }, payload: '{}' });
      expect(unknown.statusCode).toBe(404);
      expect(unknown.json()).toMatchObject({ reason: 'unknown_archive' });
    } finally { await app.close(); }
  });
});
