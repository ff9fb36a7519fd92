import { describe, expect, it } from 'vitest';
import type { Assessment, VisitView } from '../../../../src/registry/schema.js';
import { findingParts, lesionSeries, summarise } from './timeline-view.js';

const assessment = (assessedOn: string, sizeCm: number | undefined, output: Record<string, unknown> = {}): Assessment => ({
  id: `a-${assessedOn}`, lesionId: 'l1', patientId: 'p1', caseInput: { formatVersion: 1, ...(sizeCm !== undefined ? { lesion: { sizeCm } } : {}) },
  output, kbVersion: 'kb', engineVersion: 'e', assessedOn, topEntity: 'lipoma', createdBy: null, createdAt: `${assessedOn}T00:00:00.000Z`,
});
const visit = (dueDate: string, state: VisitView['state'], doneOn: string | null, findings: VisitView['findings']): VisitView => ({
  id: `v-${dueDate}`, planId: 'pl', lesionId: 'l1', patientId: 'p1', month: 3, dueDate, windowDays: 14, windowStart: dueDate, windowEnd: dueDate,
  items: ['clinical'], state, doneOn, findings, version: 1, createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z',
  status: state === 'planned' ? 'planned' : state,
});

describe('the patient timeline view', () => {
  it('charts size from the assessments and done visits (mm to cm), volume from the visits, in date order; planned and cancelled visits are not points', () => {
    const s = lesionSeries({
      assessments: [assessment('2026-03-01', 7), assessment('2026-01-10', undefined)],
      visits: [
        visit('2026-06-01', 'done', '2026-06-03', { sizeMm: 62, calcifiedVolumeMl: 2.5 }),
        visit('2026-09-01', 'planned', null, null),
        visit('2026-12-01', 'cancelled', null, null),
        visit('2026-02-01', 'done', '2026-03-01', { sizeMm: 71.4, growth: 'none' }),
      ],
    });
    // the visit on the day of an assessment wins (71.4 mm → 7.1 cm, not the case's 7)
    expect(s.size).toEqual([{ date: '2026-03-01', value: 7.1 }, { date: '2026-06-03', value: 6.2 }]);
    expect(s.volume).toEqual([{ date: '2026-06-03', value: 2.5 }]);
  });

  it('summarises an assessment from its stored output, and copes with an output without a differential', () => {
    expect(summarise(assessment('2026-01-01', 3, { differential: [{ id: 'synovial_sarcoma', probability: 0.41 }], malignancy: { probability: 0.6, urgentReferral: true } })))
      .toEqual({ leadId: 'synovial_sarcoma', leadProbability: 0.41, malignancy: 0.6, urgentReferral: true });
    expect(summarise(assessment('2026-01-01', 3, {}))).toEqual({ leadId: 'lipoma', leadProbability: null, malignancy: null, urgentReferral: false });
  });

  it('lists the findings that were given, in a fixed order', () => {
    const label = (k: string, v: string) => `${k}=${v}`;
    expect(findingParts({ note: 'n', growth: 'grown', sizeMm: 5, localRecurrence: false, lungFindings: null }, label)).toEqual(['sizeMm=5', 'growth=grown', 'localRecurrence=false', 'note=n']);
    expect(findingParts(null, label)).toEqual([]);
  });
});
