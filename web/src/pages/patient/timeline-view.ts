/**
 * What the patient page shows of a lesion's records, as pure functions (unit-tested): the
 * assessments' leading diagnosis and malignancy figures from the stored output, the chart's series
 * (size from each assessment's case and each done visit, calcified volume from the visits), and
 * a one-line summary of a visit's findings.
 */
import type { Assessment, LesionTimeline, VisitFindings } from '../../../../src/registry/schema.js';
import type { ChartSeries, DatedValue } from '../../components/line-chart-data.js';

export interface AssessmentSummary { leadId: string | null; leadProbability: number | null; malignancy: number | null; urgentReferral: boolean }

const obj = (x: unknown): Record<string, unknown> | undefined => (x && typeof x === 'object' && !Array.isArray(x) ? x as Record<string, unknown> : undefined);
const num = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);

export function summarise(a: Pick<Assessment, 'output' | 'topEntity'>): AssessmentSummary {
  const diff = Array.isArray(a.output.differential) ? a.output.differential : [];
  const lead = obj(diff[0]);
  const mal = obj(a.output.malignancy);
  return {
    leadId: typeof lead?.id === 'string' ? lead.id : a.topEntity,
    leadProbability: num(lead?.probability),
    malignancy: num(mal?.probability),
    urgentReferral: mal?.urgentReferral === true,
  };
}

/** size in cm (the case's lesion.sizeCm at each assessment; a done visit's sizeMm / 10) and calcified volume in mL (done visits) */
export function lesionSeries(l: Pick<LesionTimeline, 'assessments' | 'visits'>): { size: DatedValue[]; volume: DatedValue[] } {
  const size = new Map<string, number>();
  const volume = new Map<string, number>();
  for (const a of l.assessments) {
    const cm = num(obj(a.caseInput.lesion)?.sizeCm);
    if (cm !== null) size.set(a.assessedOn, cm);
  }
  // a visit measured on the same day as an assessment wins: it is the newer, dedicated measurement
  for (const v of l.visits) {
    if (v.state !== 'done' || !v.doneOn || !v.findings) continue;
    if (typeof v.findings.sizeMm === 'number') size.set(v.doneOn, Math.round(v.findings.sizeMm) / 10);
    if (typeof v.findings.calcifiedVolumeMl === 'number') volume.set(v.doneOn, v.findings.calcifiedVolumeMl);
  }
  const sorted = (m: Map<string, number>): DatedValue[] => [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([date, value]) => ({ date, value }));
  return { size: sorted(size), volume: sorted(volume) };
}

export function chartSeries(l: Pick<LesionTimeline, 'assessments' | 'visits'>, labels: { size: string; volume: string }): ChartSeries[] {
  const { size, volume } = lesionSeries(l);
  return [{ label: labels.size, unit: 'cm', points: size }, { label: labels.volume, unit: 'mL', points: volume }];
}

/** findings as short labelled parts, for a table cell; `label(key, value)` renders one in the page language */
export function findingParts(f: VisitFindings | null, label: (key: string, value: string) => string): string[] {
  if (!f) return [];
  const parts: string[] = [];
  if (typeof f.sizeMm === 'number') parts.push(label('sizeMm', String(f.sizeMm)));
  if (typeof f.calcifiedVolumeMl === 'number') parts.push(label('calcifiedVolumeMl', String(f.calcifiedVolumeMl)));
  if (f.growth) parts.push(label('growth', f.growth));
  if (typeof f.localRecurrence === 'boolean') parts.push(label('localRecurrence', String(f.localRecurrence)));
  if (f.lungFindings) parts.push(label('lungFindings', f.lungFindings));
  if (f.note) parts.push(label('note', f.note));
  return parts;
}
