import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dicomParser from 'dicom-parser';
import type { DataSet } from 'dicom-parser';
import { readDicom } from './read-dicom.js';
import { analyseCalcification } from './pattern.js';
import { labelVolume } from './label.js';
import { describeSourceSeries } from './dicom-source.js';
import { buildSegmentation } from './write-seg.js';
import { buildMeasurementReport, COMPREHENSIVE_SR_SOP_CLASS_UID } from './write-sr.js';
import { writePhantomStudy, PHANTOM_SERIES_UID } from '../test-support/dicom-series.js';

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'calcdx-sr-')); });
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

/** The content items of a dataset, by concept name code value. */
function items(ds: DataSet): { code: string; type: string; ds: DataSet }[] {
  return (ds.elements.x0040a730?.items ?? []).map((it) => ({
    code: it.dataSet!.elements.x0040a043?.items?.[0]?.dataSet?.string('x00080100') ?? '',
    type: it.dataSet!.string('x0040a040') ?? '',
    ds: it.dataSet!,
  }));
}
const numValue = (d: DataSet): number => Number(d.elements.x0040a300!.items![0]!.dataSet!.string('x0040a30a'));

describe('buildMeasurementReport (TID 1500)', () => {
  it('holds the measurements of calcdx ct, coded, and references the SEG segment and the source series', async () => {
    const { files, instances, truth } = writePhantomStudy(join(dir, 'ph'));
    const volume = await readDicom(files);
    const a = analyseCalcification(volume, truth.roi);
    const source = describeSourceSeries(instances, volume);
    const seg = buildSegmentation({ labels: labelVolume(a.components), source, algorithmDescription: 'test' });
    const sr = buildMeasurementReport({ source, seg, analysis: a });
    const p = dicomParser.parseDicom(sr.bytes);
    expect(p.string('x00080016')).toBe(COMPREHENSIVE_SR_SOP_CLASS_UID);
    expect(p.string('x00080060')).toBe('SR');
    expect(p.elements.x0040a504!.items![0]!.dataSet!.string('x0040db00')).toBe('1500');
    const root = items(p);
    expect(root.map((i) => i.code)).toEqual(['121049', '121005', '121012', '121013', '121014', '121015', '121058', '111028', '126010']);
    const group = items(items(root.at(-1)!.ds)[0]!.ds);
    const byCode = (c: string) => group.filter((g) => g.code === c);
    const ref = byCode('121191')[0]!.ds.elements.x00081199!.items![0]!.dataSet!;
    expect(ref.string('x00081155')).toBe(seg.sopInstanceUid);
    expect(ref.uint16('x0062000b')).toBe(1);
    expect(byCode('121232')[0]!.ds.string('x0040a124')).toBe(PHANTOM_SERIES_UID);
    const les = a.measurements.lesion;
    expect(numValue(byCode('118565006')[0]!.ds)).toBeCloseTo(les.calcifiedVolumeMm3, 6);
    const hu = byCode('112031').map((g) => ({ value: numValue(g.ds), derivation: items(g.ds)[0]!.ds.elements.x0040a168!.items![0]!.dataSet!.string('x00080100') }));
    expect(hu).toEqual([{ value: expect.closeTo(les.meanHU!, 6), derivation: '373098007' }, { value: les.maxHU, derivation: '56851009' }]);
    expect(numValue(byCode('111038')[0]!.ds)).toBe(les.componentCount);
    const types = byCode('111009').map((g) => g.ds.elements.x0040a168!.items![0]!.dataSet!.string('x00080104'));
    expect(types.length).toBe(a.pattern.morphology.length);
    expect(types.length).toBeGreaterThan(0);
    expect(byCode('121106')[0]!.ds.string('x0040a160')).toContain(a.roi.description);
    // the evidence lists the source instances and the SEG
    const evidence = p.elements.x0040a375!.items![0]!.dataSet!.elements.x00081115!.items!;
    expect(evidence.map((e) => e.dataSet!.string('x0020000e'))).toEqual([PHANTOM_SERIES_UID, seg.seriesInstanceUid]);
    expect(evidence[0]!.dataSet!.elements.x00081199!.items!.length).toBe(volume.dims[2]);
  });
});
