/**
 * Test support: a generated CT phantom written as a complete DICOM series (study, patient and
 * frame of reference attributes, as an archive holds them), read back, measured and described.
 */
import { readFileSync } from 'node:fs';
import { makePhantom, type PhantomOptions } from './phantom.js';
import { writeCtSeries, type El } from '../imaging/write-dicom.js';

export const PHANTOM_STUDY_UID = '1.2.826.0.1.3680043.10.1234.100';
export const PHANTOM_SERIES_UID = '1.2.826.0.1.3680043.10.1234.101';
export const PHANTOM_FRAME_OF_REFERENCE_UID = '1.2.826.0.1.3680043.10.1234.102';

/** Writes a phantom series with the attributes an archive needs (and a non-ASCII patient name, UTF-8); returns its files and truth. */
export function writePhantomStudy(dir: string, o: PhantomOptions & { seriesInstanceUid?: string; studyInstanceUid?: string } = {}) {
  const { volume, truth } = makePhantom(o);
  const extra: El[] = [
    { tag: 0x00080005, vr: 'CS', value: 'ISO_IR 192' },
    { tag: 0x00080020, vr: 'DA', value: '20261201' },
    { tag: 0x00080030, vr: 'TM', value: '101500' },
    { tag: 0x00080050, vr: 'SH', value: 'ACC-PHANTOM-1' },
    { tag: 0x00080090, vr: 'PN', value: '' },
    { tag: 0x00100010, vr: 'PN', value: 'Phantom^Test=张^三' },
    { tag: 0x00100020, vr: 'LO', value: 'CALCDX-PHANTOM' },
    { tag: 0x00100030, vr: 'DA', value: '19700101' },
    { tag: 0x00100040, vr: 'CS', value: 'O' },
    { tag: 0x00180050, vr: 'DS', value: '1.5' },
    { tag: 0x0020000d, vr: 'UI', value: o.studyInstanceUid ?? PHANTOM_STUDY_UID },
    { tag: 0x00200010, vr: 'SH', value: 'PH1' },
    { tag: 0x00200011, vr: 'IS', value: '3' },
    { tag: 0x00200052, vr: 'UI', value: PHANTOM_FRAME_OF_REFERENCE_UID },
    { tag: 0x00201040, vr: 'LO', value: '' },
  ];
  const files = writeCtSeries(dir, volume, { seriesInstanceUid: o.seriesInstanceUid ?? PHANTOM_SERIES_UID, extra });
  return { volume, truth, files, instances: files.map((f) => new Uint8Array(readFileSync(f))) };
}
