/**
 * One entry point for CT volumes: a DICOM folder, a DICOM file, a list of DICOM files, or a NIfTI
 * file (.nii / .nii.gz). The format is told by the content, not the name.
 */
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { ImagingError, thrownMessage } from './errors.js';
import { looksLikeDicom, readDicom, type ReadDicomOptions } from './read-dicom.js';
import { isGzip, niftiKind, readNifti } from './read-nifti.js';
import type { Volume } from './volume.js';

export type ReadVolumeOptions = ReadDicomOptions;
export type { Volume } from './volume.js';
export { ImagingError, IMAGING_ERROR_CODES, type ImagingErrorCode, type SeriesSummary } from './errors.js';
export { DEFAULT_VOLUME_LIMITS, type VolumeLimits } from './limits.js';

type Kind = 'folder' | 'dicom' | 'nifti' | 'unknown' | 'empty';

async function sniff(p: string): Promise<Kind> {
  let st;
  try {
    st = await stat(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new ImagingError('not_found', p, 'no such file or folder', [], { cause: e });
    throw new ImagingError('unreadable', p, `cannot read (${thrownMessage(e)})`, [], { cause: e });
  }
  if (st.isDirectory()) return 'folder';
  if (st.size === 0) return 'empty';
  const head = Buffer.alloc(Math.min(st.size, 1024));
  let fh;
  try {
    fh = await open(p, 'r');
    await fh.read(head, 0, head.length, 0);
  } catch (e) {
    throw new ImagingError('unreadable', p, `cannot read the file (${thrownMessage(e)})`, [], { cause: e });
  } finally {
    await fh?.close();
  }
  if (isGzip(head) || niftiKind(head)) return 'nifti';
  if (looksLikeDicom(head)) return 'dicom';
  // a name that says NIfTI: let the NIfTI reader say what is wrong with it
  if (/\.nii(\.gz)?$/i.test(p)) return 'nifti';
  return 'unknown';
}

/**
 * Reads a CT volume.
 * - a folder: the DICOM series in it (searched recursively; `seriesInstanceUid` picks one of several);
 * - a file: NIfTI-1/2 (.nii, gzip-compressed .nii.gz) or a single DICOM file;
 * - a list of files: one DICOM series.
 */
export async function readVolume(input: string | readonly string[], options: ReadVolumeOptions = {}): Promise<Volume> {
  const paths = typeof input === 'string' ? [input] : [...input];
  if (paths.length === 0) throw new ImagingError('empty', '(no files)', 'no file or folder was given');
  if (paths.length === 1) {
    const p = paths[0]!;
    const kind = await sniff(p);
    switch (kind) {
      case 'folder':
      case 'dicom':
        return readDicom(p, options);
      case 'nifti':
        return readNifti(p, { ...(options.onProgress ? { onProgress: options.onProgress } : {}), ...(options.limits ? { limits: options.limits } : {}) });
      case 'empty':
        throw new ImagingError('unknown_format', p, 'the file is empty (0 bytes)');
      default:
        throw new ImagingError('unknown_format', p,
          'neither DICOM (no "DICM" prefix at byte 128) nor NIfTI (no NIfTI-1/2 header, not gzip): give a DICOM folder, a DICOM file or a .nii / .nii.gz file');
    }
  }
  // several paths: one DICOM series
  for (const p of paths) {
    const kind = await sniff(p);
    if (kind === 'nifti') {
      throw new ImagingError('unknown_format', p, `a NIfTI file in a list of ${paths.length} paths: several paths are read as one DICOM series; read a NIfTI file on its own`);
    }
    if (kind === 'empty') throw new ImagingError('unknown_format', p, 'the file is empty (0 bytes), not DICOM');
    if (kind === 'unknown') throw new ImagingError('unknown_format', p, `not a DICOM file (in a list of ${paths.length} DICOM paths${path.extname(p) ? `, extension ${path.extname(p)}` : ''})`);
  }
  return readDicom(paths, options);
}
