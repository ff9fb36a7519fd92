/**
 * The calcification components as a DICOM Segmentation (PS3.3 A.51): binary, one segment
 * "calcification", one frame per slice of the source series (the geometry of the source: the same
 * ImageOrientationPatient, PixelSpacing and SliceThickness, and each frame the
 * ImagePositionPatient of its source slice, which it references in its DerivationImageSequence).
 *
 * Written with dcmjs's data API (not its SEG adapter, which builds from Cornerstone image objects
 * and does not reference one source instance per frame in the form needed here). Layout learnt from
 * highdicom's `Segmentation` (read, not copied): Dimension Index = (ReferencedSegmentNumber,
 * ImagePositionPatient); per-frame DerivationImageSequence with purpose (121322, DCM, "Source image
 * for image processing operation") and derivation (113076, DCM, "Segmentation").
 */
import type { NaturalDataset } from 'dcmjs';
import type { SourceSeries } from './dicom-source.js';
import { code, codeItem, dicomDateTime, ds, encodePart10, EQUIPMENT, newUid, type Code } from './dicom-out.js';

export const SEG_SOP_CLASS_UID = '1.2.840.10008.5.1.4.1.1.66.4';

/** CID 7150 Segmentation Property Categories */
export const SEGMENT_CATEGORY: Code = code('49755003', 'SCT', 'Morphologically Abnormal Structure');
/** SNOMED CT 18115005 (pathologic calcification, calcified structure; DICOM CID 3802 meaning "pathologic calcification"); CID 7151 is extensible */
export const SEGMENT_TYPE: Code = code('18115005', 'SCT', 'Pathologic calcification');
export const SEGMENT_LABEL = 'calcification';

export interface SegOptions {
  /** the components as a label volume (i fastest, then j, then k); non-zero = calcified */
  labels: ArrayLike<number>;
  source: SourceSeries;
  /** e.g. "threshold > 100 HU, 26-connectivity, inside sphere-mm:…" */
  algorithmDescription: string;
  seriesNumber?: number;
  now?: Date;
}

export interface WrittenObject { bytes: Uint8Array; sopClassUid: string; sopInstanceUid: string; seriesInstanceUid: string }

/** Packs the label volume into 1-bit frames, first pixel in the least significant bit (PS3.5 8.1.1), frames back to back. */
export function packFrames(labels: ArrayLike<number>, pixelsPerFrame: number, frames: number): Uint8Array {
  const bits = pixelsPerFrame * frames;
  const out = new Uint8Array(Math.ceil(bits / 8) + (Math.ceil(bits / 8) % 2));
  for (let p = 0; p < bits; p++) if (labels[p]) out[p >> 3]! |= 1 << (p & 7);
  return out;
}

export function buildSegmentation(o: SegOptions): WrittenObject {
  const s = o.source;
  const frames = s.slices.length;
  const perFrame = s.rows * s.columns;
  if (o.labels.length !== perFrame * frames) throw new RangeError(`the label volume has ${o.labels.length} voxels, the source ${s.columns}×${s.rows}×${frames}`);
  const { date, time } = dicomDateTime(o.now ?? new Date());
  const seriesInstanceUid = newUid();
  const sopInstanceUid = newUid();
  const dimensionOrganizationUid = newUid();
  const sourceRef = (i: number): NaturalDataset => ({ ReferencedSOPClassUID: s.slices[i]!.sopClassUid, ReferencedSOPInstanceUID: s.slices[i]!.sopInstanceUid });
  const pixelMeasures: NaturalDataset = { PixelSpacing: s.pixelSpacing.split('\\'), SliceThickness: s.sliceThickness ?? ds(s.spacingBetweenSlices ?? 1) };
  if (s.spacingBetweenSlices !== undefined) pixelMeasures.SpacingBetweenSlices = ds(s.spacingBetweenSlices);
  const dataset: NaturalDataset = {
    SpecificCharacterSet: 'ISO_IR 192',
    SOPClassUID: SEG_SOP_CLASS_UID,
    SOPInstanceUID: sopInstanceUid,
    ImageType: ['DERIVED', 'PRIMARY'],
    InstanceCreationDate: date,
    InstanceCreationTime: time,
    ...s.patientStudy,
    StudyInstanceUID: s.studyInstanceUid,
    Modality: 'SEG',
    SeriesInstanceUID: seriesInstanceUid,
    SeriesNumber: String(o.seriesNumber ?? 901),
    SeriesDescription: 'calcdx calcification segmentation',
    ...EQUIPMENT,
    FrameOfReferenceUID: s.frameOfReferenceUid,
    PositionReferenceIndicator: '',
    InstanceNumber: '1',
    ContentLabel: 'CALCIFICATION',
    ContentDescription: 'calcdx: calcified components inside the ROI',
    ContentCreatorName: '',
    ContentDate: date,
    ContentTime: time,
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    NumberOfFrames: String(frames),
    Rows: s.rows,
    Columns: s.columns,
    BitsAllocated: 1,
    BitsStored: 1,
    HighBit: 0,
    PixelRepresentation: 0,
    LossyImageCompression: '00',
    SegmentationType: 'BINARY',
    SegmentsOverlap: 'NO',
    SegmentSequence: [{
      SegmentNumber: 1,
      SegmentLabel: SEGMENT_LABEL,
      SegmentDescription: o.algorithmDescription.slice(0, 64),
      SegmentAlgorithmType: 'AUTOMATIC',
      SegmentAlgorithmName: 'calcdx',
      SegmentedPropertyCategoryCodeSequence: [codeItem(SEGMENT_CATEGORY)],
      SegmentedPropertyTypeCodeSequence: [codeItem(SEGMENT_TYPE)],
      // white-yellow, as bone-like calcium is shown (CIELab scaled to 0-65535)
      RecommendedDisplayCIELabValue: [62258, 32768, 43690],
    }],
    ReferencedSeriesSequence: [{ SeriesInstanceUID: s.seriesInstanceUid, ReferencedInstanceSequence: s.slices.map((_, i) => sourceRef(i)) }],
    SourceImageSequence: s.slices.map((_, i) => ({ ...sourceRef(i), PurposeOfReferenceCodeSequence: [codeItem(code('121322', 'DCM', 'Source image for image processing operation'))] })),
    DimensionOrganizationType: '3D',
    DimensionOrganizationSequence: [{ DimensionOrganizationUID: dimensionOrganizationUid }],
    DimensionIndexSequence: [
      { DimensionOrganizationUID: dimensionOrganizationUid, DimensionIndexPointer: 0x0062000b, FunctionalGroupPointer: 0x0062000a, DimensionDescriptionLabel: 'Segment Number' },
      { DimensionOrganizationUID: dimensionOrganizationUid, DimensionIndexPointer: 0x00200032, FunctionalGroupPointer: 0x00209113, DimensionDescriptionLabel: 'Image Position Patient' },
    ],
    SharedFunctionalGroupsSequence: [{
      PixelMeasuresSequence: [pixelMeasures],
      PlaneOrientationSequence: [{ ImageOrientationPatient: s.imageOrientationPatient.split('\\') }],
    }],
    PerFrameFunctionalGroupsSequence: s.slices.map((slice, k) => ({
      DerivationImageSequence: [{
        SourceImageSequence: [{ ...sourceRef(k), PurposeOfReferenceCodeSequence: [codeItem(code('121322', 'DCM', 'Source image for image processing operation'))] }],
        DerivationCodeSequence: [codeItem(code('113076', 'DCM', 'Segmentation'))],
      }],
      FrameContentSequence: [{ DimensionIndexValues: [1, k + 1] }],
      PlanePositionSequence: [{ ImagePositionPatient: slice.imagePositionPatient.split('\\') }],
      SegmentIdentificationSequence: [{ ReferencedSegmentNumber: 1 }],
    })),
    PixelData: packFrames(o.labels, perFrame, frames).buffer,
    _vrMap: { PixelData: 'OB' },
  };
  return { bytes: encodePart10(dataset), sopClassUid: SEG_SOP_CLASS_UID, sopInstanceUid, seriesInstanceUid };
}
