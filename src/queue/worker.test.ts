import { describe, expect, it } from 'vitest';
import { ImagingError } from '../imaging/errors.js';
import { PacsError } from '../pacs/errors.js';
import { toProblem } from '../server/problem.js';
import { isTransient } from './worker.js';
import { ctJobData, ctJobRequest } from './schema.js';

const problemOf = (e: unknown) => toProblem(e, 'en', '/api/ct/jobs/x').problem;
const transient = (e: unknown) => isTransient(e, problemOf(e));

describe('which failures of a CT job are retried', () => {
  it('an archive that cannot be reached, times out, breaks off or answers 5xx: retried', () => {
    for (const code of ['unreachable', 'timeout', 'truncated'] as const) expect(transient(new PacsError(code, 'http://a', 'study 1', 'x'))).toBe(true);
    expect(transient(new PacsError('http_error', 'http://a', 'study 1', 'HTTP 503 Service Unavailable'))).toBe(true);
  });
  it('what retrying cannot mend — a 4xx of the archive, a series that is not CT, an unreadable volume — fails at once', () => {
    expect(transient(new PacsError('http_error', 'http://a', 'study 1', 'HTTP 400 Bad Request'))).toBe(false);
    for (const code of ['not_ct', 'not_found', 'unauthorized', 'forbidden', 'ambiguous_series', 'bad_config'] as const) {
      expect(transient(new PacsError(code, 'http://a', 'study 1', 'x'))).toBe(false);
    }
    expect(transient(new ImagingError('unknown_format', 'upload', 'x'))).toBe(false);
  });
  it('an internal error (a bug, a worker thread that died) is retried, then dead-lettered', () => {
    expect(transient(new Error('worker exited'))).toBe(true);
  });
});

describe('the job schema', () => {
  const base = { v: 1, jobId: '8277a51d-3c7b-46d6-9393-c153e9e98b59', fields: { roi: 'whole' }, lang: 'en', limits: { maxBytes: 1, maxVoxels: 1 } };
  it('takes an upload or an archive series, and nothing else', () => {
    expect(ctJobData.safeParse({ ...base, source: { kind: 'upload', files: 2, bytes: 10, mask: false } }).success).toBe(true);
    expect(ctJobData.safeParse({ ...base, source: { kind: 'dicomweb', archive: 'http://pacs/dicom-web', study: '1.2.3' } }).success).toBe(true);
    expect(ctJobData.safeParse({ ...base, source: { kind: 'dicomweb', archive: 'http://pacs/dicom-web', study: '1.2.3 OR 1=1' } }).success).toBe(false);
    expect(ctJobData.safeParse({ ...base, source: { kind: 'folder', path: '/etc' } }).success).toBe(false);
    expect(ctJobData.safeParse({ ...base, fields: { roi: 'whole', path: '/etc' }, source: { kind: 'upload', files: 1, bytes: 1, mask: false } }).success).toBe(false);
  });
  it('a request for an archive series names the archive, the study and the ROI; unknown keys are refused', () => {
    expect(ctJobRequest.safeParse({ dicomweb: { archive: 'x', study: '1.2' }, roi: 'whole', threshold: 130 }).success).toBe(true);
    expect(ctJobRequest.safeParse({ dicomweb: { archive: 'x', study: '1.2', user: 'u' }, roi: 'whole' }).success).toBe(false);
    expect(ctJobRequest.safeParse({ dicomweb: { archive: 'x', study: '1.2' } }).success).toBe(false);
  });
});

describe('the time limit of an attempt (pg-boss 10 has no heartbeat: a killed worker\'s job returns after it)', () => {
  it('is derived from the measurement\'s time budget, longer than it, so that a live worker stops its own measurement first', async () => {
    const { expireForBudget, QUEUE_DEFAULTS } = await import('./queue.js');
    expect(expireForBudget(600_000)).toBe(900);
    expect(QUEUE_DEFAULTS.expireInSeconds).toBe(900);
    for (const ms of [1_000, 59_999, 600_000, 3_600_000]) expect(expireForBudget(ms) * 1000).toBeGreaterThan(ms);
  });
  it('a timed-out measurement is the 503 timeout problem, retried', async () => {
    const { CtJobAborted, ctJobError } = await import('../server/ct-jobs.js');
    const p = problemOf(ctJobError(new CtJobAborted(), 600_000));
    expect(p).toMatchObject({ status: 503, code: 'timeout' });
    expect(isTransient(new CtJobAborted(), p)).toBe(true);
  });
});
