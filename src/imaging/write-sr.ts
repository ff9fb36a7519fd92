/**
 * The calcification measurement as a DICOM Structured Report following TID 1500 "Measurement
 * Report" (Comprehensive SR), with one TID 1411 "Volumetric ROI Measurements" group that references
 * the segment of the SEG (121191 "Referenced Segment") and the source series (121232), holding the
 * calcified volume (mm3), mean and maximum attenuation (Hounsfield units, with 121401 "Derivation"
 * = Mean / Maximum), the number of components (111038 "Number of calcifications"), the extent as a
 * percentage of the ROI volume (112019), the pattern as coded values (111009 "Calcification Type",
 * 111008 "Calcification Distribution") and the ROI as a comment. Structure learnt from highdicom's
 * `MeasurementReport` / `VolumetricROIMeasurementsAndQualitativeEvaluations` (read, not copied).
 *
 * Pattern values with a SNOMED CT code in DICOM's calcification vocabularies (CID 6010, 6012) use
 * it; the others (linear, ring and arc, dense central; peripheral, central, eccentric) use the local
 * coding scheme 99CALCDX, declared in CodingSchemeIdentificationSequence.
 */
import type { NaturalDataset } from 'dcmjs';
import type { Analysis } from './pattern.js';
import type { SourceSeries } from './dicom-source.js';
import { code, codeItem, dicomDateTime, ds, encodePart10, EQUIPMENT, newUid, type Code } from './dicom-out.js';
import { SEGMENT_CATEGORY, SEGMENT_TYPE, SEGMENT_LABEL, type WrittenObject } from './write-seg.js';
import { VERSION } from '../report/version.js';

export const COMPREHENSIVE_SR_SOP_CLASS_UID = '1.2.840.10008.5.1.4.1.1.88.33';
/** calcdx as the device observer (TID 1004) */
export const DEVICE_OBSERVER_UID = '2.25.203536466884536931638915242286258840728';
export const LOCAL_SCHEME = '99CALCDX';

const DCM = (v: string, m: string): Code => code(v, 'DCM', m);
const SCT = (v: string, m: string): Code => code(v, 'SCT', m);
const UCUM = (v: string, m: string): Code => code(v, 'UCUM', m);
const LOCAL = (v: string, m: string): Code => code(v, LOCAL_SCHEME, m);

/** The codes of the pattern vocabulary (case format) in the SR. */
export const MORPHOLOGY_CODES: Record<string, Code> = {
  punctate: SCT('129755006', 'Punctate calcification'),
  amorphous: SCT('129760005', 'Amorphous calcification'),
  rim: SCT('129751002', 'Eggshell calcification'),
  linear: LOCAL('linear', 'Linear calcification'),
  ring_arc: LOCAL('ring_arc', 'Ring and arc calcification'),
  dense_central: LOCAL('dense_central', 'Dense central calcification'),
};
export const DISTRIBUTION_CODES: Record<string, Code> = {
  diffuse: SCT('129764001', 'Diffuse calcification distribution'),
  peripheral: LOCAL('peripheral', 'Peripheral calcification distribution'),
  central: LOCAL('central', 'Central calcification distribution'),
  eccentric: LOCAL('eccentric', 'Eccentric calcification distribution'),
};

type Item = NaturalDataset;
type Rel = 'CONTAINS' | 'HAS OBS CONTEXT' | 'HAS CONCEPT MOD';
const named = (rel: Rel, valueType: string, concept: Code | undefined, rest: Item): Item => ({
  RelationshipType: rel, ValueType: valueType, ...(concept ? { ConceptNameCodeSequence: [codeItem(concept)] } : {}), ...rest,
});
const container = (rel: Rel, concept: Code, children: Item[], template?: string): Item => named(rel, 'CONTAINER', concept, {
  ContinuityOfContent: 'SEPARATE',
  ...(template ? { ContentTemplateSequence: [{ MappingResource: 'DCMR', TemplateIdentifier: template }] } : {}),
  ContentSequence: children,
});
const text = (rel: Rel, concept: Code, value: string): Item => named(rel, 'TEXT', concept, { TextValue: value });
const coded = (rel: Rel, concept: Code, value: Code): Item => named(rel, 'CODE', concept, { ConceptCodeSequence: [codeItem(value)] });
const uidref = (rel: Rel, concept: Code, uid: string): Item => named(rel, 'UIDREF', concept, { UID: uid });
const num = (concept: Code, value: number, unit: Code, modifiers: Item[] = []): Item => named('CONTAINS', 'NUM', concept, {
  MeasuredValueSequence: [{ NumericValue: ds(value), MeasurementUnitsCodeSequence: [codeItem(unit)] }],
  ...(modifiers.length ? { ContentSequence: modifiers } : {}),
});
const image = (concept: Code | undefined, sopClassUid: string, sopInstanceUid: string, segment?: number): Item => named('CONTAINS', 'IMAGE', concept, {
  ReferencedSOPSequence: [{ ReferencedSOPClassUID: sopClassUid, ReferencedSOPInstanceUID: sopInstanceUid, ...(segment ? { ReferencedSegmentNumber: segment } : {}) }],
});

export interface SrOptions {
  source: SourceSeries;
  seg: WrittenObject;
  analysis: Analysis;
  seriesNumber?: number;
  now?: Date;
}

export function buildMeasurementReport(o: SrOptions): WrittenObject {
  const { source: s, seg, analysis: a } = o;
  const les = a.measurements.lesion;
  const { date, time } = dicomDateTime(o.now ?? new Date());
  const seriesInstanceUid = newUid();
  const sopInstanceUid = newUid();
  const hu = UCUM("[hnsf'U]", 'Hounsfield unit');
  const derivation = (c: Code): Item[] => [coded('HAS CONCEPT MOD', DCM('121401', 'Derivation'), c)];
  const measurements: Item[] = [num(SCT('118565006', 'Volume'), les.calcifiedVolumeMm3, UCUM('mm3', 'cubic millimeter'))];
  if (les.meanHU !== null) measurements.push(num(DCM('112031', 'Attenuation Coefficient'), les.meanHU, hu, derivation(SCT('373098007', 'Mean'))));
  if (les.maxHU !== null) measurements.push(num(DCM('112031', 'Attenuation Coefficient'), les.maxHU, hu, derivation(SCT('56851009', 'Maximum'))));
  measurements.push(num(DCM('111038', 'Number of calcifications'), les.componentCount, UCUM('1', 'no units')));
  measurements.push(num(DCM('112019', 'Calcification extent as percent of volume'), les.calcifiedFraction * 100, UCUM('%', 'Percent')));
  const p = a.pattern;
  const evaluations: Item[] = [];
  for (const m of p.morphology) evaluations.push(coded('CONTAINS', DCM('111009', 'Calcification Type'), MORPHOLOGY_CODES[m.value] ?? LOCAL(m.value, m.value.replace(/_/g, ' '))));
  if (p.distribution) evaluations.push(coded('CONTAINS', DCM('111008', 'Calcification Distribution'), DISTRIBUTION_CODES[p.distribution.value] ?? LOCAL(p.distribution.value, p.distribution.value)));
  const c = a.components;
  const comment = `ROI ${a.roi.description} (${a.roi.voxels} voxels, ${(a.roi.volumeMm3 / 1000).toFixed(2)} cm3); calcified = HU > ${c.thresholdHU}, ${c.connectivity}-connectivity, components of at least ${c.minVoxels} voxel(s)${p.extent ? `; extent ${p.extent.value}` : ''}`;
  const group = container('CONTAINS', DCM('125007', 'Measurement Group'), [
    text('HAS OBS CONTEXT', DCM('112039', 'Tracking Identifier'), SEGMENT_LABEL),
    uidref('HAS OBS CONTEXT', DCM('112040', 'Tracking Unique Identifier'), newUid()),
    coded('CONTAINS', SCT('276214006', 'Finding category'), SEGMENT_CATEGORY),
    coded('CONTAINS', DCM('121071', 'Finding'), SEGMENT_TYPE),
    text('HAS CONCEPT MOD', DCM('111001', 'Algorithm Name'), 'calcdx'),
    text('HAS CONCEPT MOD', DCM('111003', 'Algorithm Version'), VERSION),
    image(DCM('121191', 'Referenced Segment'), seg.sopClassUid, seg.sopInstanceUid, 1),
    uidref('CONTAINS', DCM('121232', 'Source series for segmentation'), s.seriesInstanceUid),
    ...measurements,
    ...evaluations,
    text('CONTAINS', DCM('121106', 'Comment'), comment),
  ], '1411');
  const content: Item[] = [
    coded('HAS CONCEPT MOD', DCM('121049', 'Language of Content Item and Descendants'), code('en-US', 'RFC5646', 'English (United States)')),
    coded('HAS OBS CONTEXT', DCM('121005', 'Observer Type'), DCM('121007', 'Device')),
    uidref('HAS OBS CONTEXT', DCM('121012', 'Device Observer UID'), DEVICE_OBSERVER_UID),
    text('HAS OBS CONTEXT', DCM('121013', 'Device Observer Name'), 'calcdx'),
    text('HAS OBS CONTEXT', DCM('121014', 'Device Observer Manufacturer'), 'calcdx'),
    text('HAS OBS CONTEXT', DCM('121015', 'Device Observer Model Name'), `calcdx ${VERSION}`),
    coded('HAS CONCEPT MOD', DCM('121058', 'Procedure reported'), code('25045-6', 'LN', 'CT unspecified body region')),
    container('CONTAINS', DCM('111028', 'Image Library'), [
      container('CONTAINS', DCM('126200', 'Image Library Group'), s.slices.map((x) => image(undefined, x.sopClassUid, x.sopInstanceUid))),
    ]),
    container('CONTAINS', DCM('126010', 'Imaging Measurements'), [group]),
  ];
  const usesLocal = evaluations.some((e) => JSON.stringify(e).includes(`"${LOCAL_SCHEME}"`));
  const dataset: NaturalDataset = {
    SpecificCharacterSet: 'ISO_IR 192',
    SOPClassUID: COMPREHENSIVE_SR_SOP_CLASS_UID,
    SOPInstanceUID: sopInstanceUid,
    InstanceCreationDate: date,
    InstanceCreationTime: time,
    ...s.patientStudy,
    StudyInstanceUID: s.studyInstanceUid,
    Modality: 'SR',
    SeriesInstanceUID: seriesInstanceUid,
    SeriesNumber: String(o.seriesNumber ?? 902),
    SeriesDescription: 'calcdx calcification measurement',
    ...EQUIPMENT,
    InstanceNumber: '1',
    ContentDate: date,
    ContentTime: time,
    ReferencedPerformedProcedureStepSequence: [],
    PerformedProcedureCodeSequence: [],
    CompletionFlag: 'COMPLETE',
    VerificationFlag: 'UNVERIFIED',
    CurrentRequestedProcedureEvidenceSequence: [{
      StudyInstanceUID: s.studyInstanceUid,
      ReferencedSeriesSequence: [
        { SeriesInstanceUID: s.seriesInstanceUid, ReferencedSOPSequence: s.slices.map((x) => ({ ReferencedSOPClassUID: x.sopClassUid, ReferencedSOPInstanceUID: x.sopInstanceUid })) },
        { SeriesInstanceUID: seg.seriesInstanceUid, ReferencedSOPSequence: [{ ReferencedSOPClassUID: seg.sopClassUid, ReferencedSOPInstanceUID: seg.sopInstanceUid }] },
      ],
    }],
    ...(usesLocal ? { CodingSchemeIdentificationSequence: [{ CodingSchemeDesignator: LOCAL_SCHEME, CodingSchemeName: 'calcdx calcification pattern vocabulary', CodingSchemeResponsibleOrganization: 'calcdx' }] } : {}),
    ValueType: 'CONTAINER',
    ConceptNameCodeSequence: [codeItem(DCM('126000', 'Imaging Measurement Report'))],
    ContinuityOfContent: 'SEPARATE',
    ContentTemplateSequence: [{ MappingResource: 'DCMR', TemplateIdentifier: '1500' }],
    ContentSequence: content,
  };
  return { bytes: encodePart10(dataset), sopClassUid: COMPREHENSIVE_SR_SOP_CLASS_UID, sopInstanceUid, seriesInstanceUid };
}
