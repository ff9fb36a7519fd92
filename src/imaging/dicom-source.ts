/**
 * What a derived DICOM object (SEG, SR) must copy from, and reference in, the series it was
 * measured on: patient and study attributes, the frame of reference, the in-plane geometry, and for
 * each slice of the volume (in the volume's k order) the instance it came from and its
 * ImagePositionPatient as written in that instance.
 */
import dicomParser from 'dicom-parser';
import type { DataSet } from 'dicom-parser';
import dcmjs, { type NaturalDataset } from 'dcmjs';
import type { Volume } from './volume.js';

export interface SourceSlice {
  sopClassUid: string;
  sopInstanceUid: string;
  /** ImagePositionPatient as written in the source (DS text, backslash-separated) */
  imagePositionPatient: string;
}

export interface SourceSeries {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  frameOfReferenceUid: string;
  rows: number;
  columns: number;
  /** DS texts as in the source */
  pixelSpacing: string;
  imageOrientationPatient: string;
  sliceThickness?: string;
  /** the spacing between slice centres along the normal, mm, when the slices are evenly spaced */
  spacingBetweenSlices?: number;
  /** patient and study attributes (naturalized by dcmjs, so decoded from the source's character set) */
  patientStudy: NaturalDataset;
  /** one per volume slice, k order */
  slices: SourceSlice[];
}

/** Patient and General Study attributes copied into derived objects (type 2 in the SEG and SR IODs, so always written). */
export const PATIENT_STUDY_KEYWORDS = [
  'PatientName', 'PatientID', 'IssuerOfPatientID', 'PatientBirthDate', 'PatientSex',
  'StudyInstanceUID', 'StudyDate', 'StudyTime', 'ReferringPhysicianName', 'StudyID', 'AccessionNumber', 'StudyDescription',
] as const;
const TYPE2 = new Set(['PatientName', 'PatientID', 'PatientBirthDate', 'PatientSex', 'StudyDate', 'StudyTime', 'ReferringPhysicianName', 'StudyID', 'AccessionNumber']);

export class SourceSeriesError extends Error {
  override name = 'SourceSeriesError';
}

const str = (ds: DataSet, tag: string): string | undefined => {
  const s = ds.string(tag);
  return s === undefined || s === '' ? undefined : s.trim();
};

/**
 * Describes the series `instances` were read from, matched slice by slice to `volume` (the same
 * instances read by readDicom). Single-frame instances only: a multi-frame source is refused.
 */
export function describeSourceSeries(instances: readonly Uint8Array[], volume: Volume): SourceSeries {
  const [nx, ny, nz] = volume.dims;
  const a = volume.affine;
  // the slices are sorted as the reader sorts them: along the normal of the in-plane axes
  const row = [a[0]!, a[4]!, a[8]!], colAxis = [a[1]!, a[5]!, a[9]!];
  const cross = [row[1]! * colAxis[2]! - row[2]! * colAxis[1]!, row[2]! * colAxis[0]! - row[0]! * colAxis[2]!, row[0]! * colAxis[1]! - row[1]! * colAxis[0]!];
  const len = Math.hypot(cross[0]!, cross[1]!, cross[2]!) || 1;
  const normal = cross.map((x) => x / len);
  const along = (p: number[]): number => p[0]! * normal[0]! + p[1]! * normal[1]! + p[2]! * normal[2]!;
  type Parsed = { ds: DataSet; d: number; ipp: string; bytes: Uint8Array };
  let parsed: Parsed[] = instances.map((bytes, n) => {
    let ds: DataSet;
    try {
      ds = dicomParser.parseDicom(bytes, { untilTag: 'x7fe00010' });
    } catch (e) {
      throw new SourceSeriesError(`instance ${n + 1} cannot be parsed (${(e as Error)?.message ?? String(e)})`);
    }
    const frames = ds.elements.x00280008?.length ? ds.intString('x00280008') ?? 1 : 1;
    if (frames !== 1) throw new SourceSeriesError(`instance ${n + 1} is a multi-frame image (${frames} frames): writing a SEG for a multi-frame source is not supported`);
    const ipp = str(ds, 'x00200032');
    const pos = ipp?.split('\\').map(Number);
    if (!ipp || !pos || pos.length !== 3 || pos.some((x) => !Number.isFinite(x))) throw new SourceSeriesError(`instance ${n + 1} has no valid ImagePositionPatient`);
    return { ds, d: along(pos), ipp, bytes };
  });
  // instances of another series (an archive may send them) are not the volume's
  const uid = volume.source.seriesInstanceUid;
  if (uid) parsed = parsed.filter((p) => str(p.ds, 'x0020000e') === uid);
  if (parsed.length !== nz) throw new SourceSeriesError(`the series has ${parsed.length} instances for ${nz} slices: only single-frame series can be referenced slice by slice`);
  parsed.sort((p, q) => p.d - q.d);
  // the first slice is the volume's origin (voxel 0, 0, 0), whatever the spacing
  const first0 = parsed[0]!.ipp.split('\\').map(Number);
  if (Math.hypot(first0[0]! - a[3]!, first0[1]! - a[7]!, first0[2]! - a[11]!) > 1e-3) {
    throw new SourceSeriesError(`the first slice (ImagePositionPatient ${parsed[0]!.ipp}) is not the volume's origin`);
  }
  const slices: SourceSlice[] = parsed.map((p, k) => {    const sopClassUid = str(p.ds, 'x00080016');
    const sopInstanceUid = str(p.ds, 'x00080018');
    if (!sopClassUid || !sopInstanceUid) throw new SourceSeriesError(`slice ${k + 1} has no SOPClassUID or SOPInstanceUID`);
    return { sopClassUid, sopInstanceUid, imagePositionPatient: p.ipp };
  });
  const gaps = parsed.slice(1).map((p, i) => p.d - parsed[i]!.d);
  const even = gaps.length > 0 && gaps.every((g) => Math.abs(g - gaps[0]!) <= 1e-3 * Math.max(1, Math.abs(gaps[0]!)));
  const firstDs = parsed[0]!.ds;
  const need = (tag: string, name: string): string => {
    const v = str(firstDs, tag);
    if (!v) throw new SourceSeriesError(`the source has no ${name} (${tag.slice(1, 5)},${tag.slice(5)}), which a segmentation must repeat`);
    return v;
  };
  const rows = firstDs.uint16('x00280010') ?? 0;
  const columns = firstDs.uint16('x00280011') ?? 0;
  if (rows !== ny || columns !== nx) throw new SourceSeriesError(`the source images are ${columns}×${rows}, the volume ${nx}×${ny}`);
  for (const p of parsed) {
    if (str(p.ds, 'x0020000e') !== str(firstDs, 'x0020000e')) throw new SourceSeriesError('the instances belong to several series');
  }
  // patient and study attributes, decoded by dcmjs from the source's character set
  const first = parsed[0]!.bytes;
  const ab = first.buffer.slice(first.byteOffset, first.byteOffset + first.byteLength) as ArrayBuffer;
  let natural: NaturalDataset;
  try {
    natural = dcmjs.data.DicomMetaDictionary.naturalizeDataset(dcmjs.data.DicomMessage.readFile(ab, { untilTag: '7FE00010', includeUntilTagValue: false }).dict);
  } catch (e) {
    throw new SourceSeriesError(`the patient and study attributes cannot be read (${(e as Error)?.message ?? String(e)})`);
  }
  const patientStudy: NaturalDataset = {};
  for (const k of PATIENT_STUDY_KEYWORDS) {
    if (natural[k] !== undefined && natural[k] !== '') patientStudy[k] = natural[k];
    else if (TYPE2.has(k)) patientStudy[k] = '';
  }
  const out: SourceSeries = {
    studyInstanceUid: need('x0020000d', 'StudyInstanceUID'),
    seriesInstanceUid: need('x0020000e', 'SeriesInstanceUID'),
    frameOfReferenceUid: need('x00200052', 'FrameOfReferenceUID'),
    rows,
    columns,
    pixelSpacing: need('x00280030', 'PixelSpacing'),
    imageOrientationPatient: need('x00200037', 'ImageOrientationPatient'),
    patientStudy,
    slices,
  };
  const thickness = str(firstDs, 'x00180050');
  if (thickness) out.sliceThickness = thickness;
  if (even) out.spacingBetweenSlices = gaps[0]!;
  return out;
}
