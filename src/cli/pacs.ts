/**
 * `calcdx pacs studies|series`: search an image archive over DICOMweb (QIDO-RS), and the
 * `calcdx ct --dicomweb …` action. Registered by main.ts; the DICOMweb client and the DICOM
 * writers are imported only when one of these commands runs.
 */
import { type Command } from 'commander';
import type { CtOptions } from './ct.js';

export interface ArchiveCliOptions { url: string; timeout?: string; json?: boolean }

const ARCHIVE_HELP = 'credentials come from the environment: CALCDX_DICOMWEB_USER + CALCDX_DICOMWEB_PASSWORD (HTTP basic) or CALCDX_DICOMWEB_TOKEN (bearer); CALCDX_DICOMWEB_TIMEOUT (seconds, default 30)';

const cell = (x: unknown): string => (x === undefined || x === null || x === '' ? '—' : String(x));

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return `${rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n')}\n`;
}

export function registerPacs(program: Command): void {
  const pacs = program.command('pacs').description(`search an image archive (PACS) over DICOMweb; ${ARCHIVE_HELP}`);
  pacs.command('studies')
    .description('list the studies matching a patient ID, accession number and/or date (QIDO-RS)')
    .requiredOption('--url <url>', 'DICOMweb base URL, e.g. https://pacs.example.org/dicom-web')
    .option('--patient-id <id>', 'PatientID')
    .option('--accession <n>', 'AccessionNumber')
    .option('--date <range>', 'StudyDate: YYYYMMDD, YYYY-MM-DD, or a range FROM-TO, FROM-, -TO')
    .option('--limit <n>', 'at most this many studies', '100')
    .option('--timeout <s>', 'seconds to wait for the archive (default 30, or CALCDX_DICOMWEB_TIMEOUT)')
    .option('--json', 'print JSON')
    .action(async (o: ArchiveCliOptions & { patientId?: string; accession?: string; date?: string; limit: string }) => {
      const { archiveFromEnv, searchStudies } = await import('../pacs/dicomweb.js');
      const { CalcdxError } = await import('../io/errors.js');
      const limit = Number(o.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 10000) throw new CalcdxError('usage', { detail: `--limit: found "${o.limit}"; allowed: a whole number from 1 to 10000` });
      const archive = archiveFromEnv(o.url, process.env, o.timeout);
      const studies = await searchStudies(archive, { ...(o.patientId ? { patientId: o.patientId } : {}), ...(o.accession ? { accession: o.accession } : {}), ...(o.date ? { date: o.date } : {}), limit });
      if (o.json) { process.stdout.write(`${JSON.stringify(studies, null, 2)}\n`); return; }
      if (studies.length === 0) { process.stdout.write('no study found\n'); return; }
      process.stdout.write(table([
        ['date', 'accession', 'patient ID', 'modalities', 'series', 'instances', 'description', 'StudyInstanceUID'],
        ...studies.map((s) => [cell(s.date), cell(s.accession), cell(s.patientId), cell(s.modalities.join(',')), cell(s.series), cell(s.instances), cell(s.description), s.studyInstanceUid]),
      ]));
    });
  pacs.command('series')
    .description('list the series of a study (QIDO-RS)')
    .requiredOption('--url <url>', 'DICOMweb base URL')
    .requiredOption('--study <uid>', 'StudyInstanceUID')
    .option('--timeout <s>', 'seconds to wait for the archive (default 30, or CALCDX_DICOMWEB_TIMEOUT)')
    .option('--json', 'print JSON')
    .action(async (o: ArchiveCliOptions & { study: string }) => {
      const { archiveFromEnv, searchSeries } = await import('../pacs/dicomweb.js');
      const series = await searchSeries(archiveFromEnv(o.url, process.env, o.timeout), o.study);
      if (o.json) { process.stdout.write(`${JSON.stringify(series, null, 2)}\n`); return; }
      process.stdout.write(table([
        ['number', 'modality', 'instances', 'description', 'SeriesInstanceUID'],
        ...series.map((s) => [cell(s.number), cell(s.modality), cell(s.instances), cell(s.description), s.seriesInstanceUid]),
      ]));
    });
}

/** `calcdx ct --dicomweb …`: measure a series of the archive, print as calcdx ct does, and with --store write the SEG and SR back. */
export async function ctFromArchive(o: CtOptions & { dicomweb: string; study?: string; timeout?: string; store?: boolean; json?: boolean; png?: string; maskOut?: string }): Promise<void> {
  const { ctReportText, measureCt, writeCtOutputs } = await import('./ct.js');
  const { ctReportJson } = await import('../report/ct-json.js');
  const { retrieveVolume, storeMeasurement } = await import('../pacs/ct.js');
  type Retrieved = Awaited<ReturnType<typeof retrieveVolume>>;
  let retrieved: Retrieved | undefined;
  const { volume, analysis } = await measureCt([], o, async () => {
    retrieved = await retrieveVolume(o);
    return retrieved.volume;
  });
  const stored = o.store ? await storeMeasurement(retrieved!, analysis) : undefined;
  const written = await writeCtOutputs(volume, analysis, o);
  if (o.json) process.stdout.write(`${JSON.stringify(ctReportJson(volume, analysis), null, 2)}\n`);
  else process.stdout.write(ctReportText(volume, analysis));
  for (const w of written) process.stderr.write(`calcdx: wrote ${w}\n`);
  if (stored) {
    process.stderr.write(`calcdx: stored in ${retrieved!.archive.url}, study ${retrieved!.study}: SEG ${stored.seg.sopInstanceUid}, SR ${stored.sr.sopInstanceUid}\n`);
  }
}
