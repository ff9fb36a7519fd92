/**
 * `calcdx ct --dicomweb URL --study UID [--series UID] --roi … [--store]`: the CT series is found
 * with QIDO-RS (a study with one CT series needs no --series), retrieved with WADO-RS into memory
 * (a progress bar by instances on a terminal), read by the same DICOM reader as files, measured as
 * `calcdx ct` measures files; with --store the component mask goes back to the archive as a DICOM
 * SEG and the measurement as a TID 1500 SR, both in one STOW-RS request to the source study.
 */
import { SingleBar } from 'cli-progress';
import { readDicom } from '../imaging/read-dicom.js';
import type { Volume } from '../imaging/volume.js';
import type { Analysis } from '../imaging/pattern.js';
import { labelVolume } from '../imaging/label.js';
import { describeSourceSeries, SourceSeriesError } from '../imaging/dicom-source.js';
import { buildSegmentation, type WrittenObject } from '../imaging/write-seg.js';
import { buildMeasurementReport } from '../imaging/write-sr.js';
import { archiveFromEnv, checkUid, retrieveSeries, searchSeries, storeInstances, type Archive, type SeriesSummary, type StoredInstance } from './dicomweb.js';
import { PacsError } from './errors.js';

export interface DicomwebCtOptions {
  dicomweb: string;
  study?: string;
  series?: string;
  timeout?: string;
}

export interface RetrievedSeries {
  archive: Archive;
  study: string;
  series: SeriesSummary;
  /** in the order the archive sent them */
  instances: Uint8Array[];
  volume: Volume;
}

const describe = (s: SeriesSummary): string =>
  `${s.seriesInstanceUid} (${[s.modality ?? 'no modality', s.description ? `"${s.description}"` : undefined, s.number !== undefined ? `series number ${s.number}` : undefined, s.instances !== undefined ? `${s.instances} instance(s)` : undefined].filter(Boolean).join(', ')})`;

/** The series to measure: the one named (it must be CT), or the study's only CT series. */
export async function chooseSeries(archive: Archive, study: string, series?: string): Promise<SeriesSummary> {
  const all = await searchSeries(archive, study);
  const list = all.map(describe).join('; ');
  if (series !== undefined) {
    checkUid(archive, 'series', series);
    const s = all.find((x) => x.seriesInstanceUid === series);
    if (!s) throw new PacsError('not_found', archive.url, `study ${study}, series ${series}`, `the study has no such series; its series: ${list}`);
    if (s.modality !== 'CT') throw new PacsError('not_ct', archive.url, `study ${study}, series ${series}`, `the series is ${s.modality ?? 'of no modality'}, not CT: HU thresholds do not apply to it; CT series of the study: ${all.filter((x) => x.modality === 'CT').map(describe).join('; ') || 'none'}`);
    return s;
  }
  const ct = all.filter((x) => x.modality === 'CT');
  if (ct.length === 1) return ct[0]!;
  if (ct.length === 0) throw new PacsError('not_ct', archive.url, `study ${study}`, `the study has no CT series; its series: ${list}`);
  throw new PacsError('ambiguous_series', archive.url, `study ${study}`, `the study has ${ct.length} CT series, choose one with --series: ${ct.map(describe).join('; ')}`);
}

/** Retrieves and reads the series, with a progress bar by instances (then by slices decoded) on a terminal. */
export async function retrieveVolume(o: DicomwebCtOptions): Promise<RetrievedSeries> {
  const archive = archiveFromEnv(o.dicomweb, process.env, o.timeout);
  if (!o.study) throw new PacsError('bad_config', archive.url, 'configuration', '--dicomweb needs --study UID (calcdx pacs studies lists the studies)');
  const study = o.study;
  checkUid(archive, 'study', study);
  const series = await chooseSeries(archive, study, o.series);
  const tty = process.stderr.isTTY === true;
  const bar = tty ? new SingleBar({ format: '{stage} {bar} {value}/{total}', hideCursor: true, clearOnComplete: true, stream: process.stderr }) : undefined;
  let started = false;
  const show = (stage: string, done: number, total: number) => {
    if (!bar) return;
    if (!started) { bar.start(total, done, { stage }); started = true; } else { bar.setTotal(total); bar.update(done, { stage }); }
  };
  try {
    const instances = await retrieveSeries(archive, study, series.seriesInstanceUid, {
      ...(series.instances !== undefined ? { expected: series.instances } : {}),
      onInstance: (n, expected) => show('retrieving instances', n, Math.max(n, expected ?? n)),
    });
    const names = instances.map((_, i) => `${archive.url} series ${series.seriesInstanceUid} instance ${i + 1}`);
    const volume = await readDicom(names, {
      instances: new Map(names.map((n, i) => [n, instances[i]!])),
      seriesInstanceUid: series.seriesInstanceUid,
      onProgress: (done, total) => show('reading', done, total),
    });
    // an archive may answer with instances of other series: the reader keeps the series asked for
    const ignored = instances.length - volume.source.files;
    if (ignored > 0) volume.warnings.push(`${ignored} instance(s) of the archive's answer belong to another series and were ignored`);
    return { archive, study, series, instances, volume };
  } finally {
    if (started) bar?.stop();
  }
}

/**
 * The SEG (the component label mask) and the TID 1500 SR of a measurement of `volume`, read from
 * `instances`; a source that cannot be referenced is a SourceSeriesError.
 */
export function buildWriteback(instances: readonly Uint8Array[], volume: Volume, analysis: Analysis): { seg: WrittenObject; sr: WrittenObject } {
  const source = describeSourceSeries(instances, volume);
  const c = analysis.components;
  const seg = buildSegmentation({
    labels: labelVolume(c),
    source,
    algorithmDescription: `HU > ${c.thresholdHU}, ${c.connectivity}-connectivity, in ${analysis.roi.description}`,
  });
  const sr = buildMeasurementReport({ source, seg, analysis });
  return { seg, sr };
}

/** Writes the SEG and the SR of a measurement and stores both with one STOW-RS request. */
export async function storeMeasurement(r: RetrievedSeries, analysis: Analysis): Promise<{ seg: StoredInstance; sr: StoredInstance }> {
  const context = `study ${r.study}, series ${r.series.seriesInstanceUid}`;
  let built;
  try {
    built = buildWriteback(r.instances, r.volume, analysis);
  } catch (e) {
    if (e instanceof SourceSeriesError) throw new PacsError('cannot_store', r.archive.url, context, `the SEG cannot reference the source: ${e.message}`, { cause: e });
    throw e;
  }
  const { seg, sr } = built;
  const [storedSeg, storedSr] = await storeInstances(r.archive, r.study, [
    { ...seg, what: `SEG ${seg.sopInstanceUid}` },
    { ...sr, what: `SR ${sr.sopInstanceUid}` },
  ]);
  return { seg: storedSeg!, sr: storedSr! };
}
