/**
 * Errors of the image readers (DICOM, NIfTI). Every error names the file (or folder) it is about,
 * carries a stable code and an English message that says what was wrong.
 */
export const IMAGING_ERROR_CODES = [
  /** the path does not exist */
  'not_found',
  /** the file or folder could not be read (permissions, I/O error) */
  'unreadable',
  /** an empty folder, an empty list of files, or no image slices at all */
  'empty',
  /** neither DICOM nor NIfTI (readVolume), or not DICOM where DICOM was asked for */
  'unknown_format',
  /** a DICOM file cannot be parsed or is shorter than its content says */
  'truncated',
  /** a DICOM image without Pixel Data (7FE0,0010) */
  'no_pixel_data',
  /** a required attribute is missing or invalid (e.g. PixelRepresentation, Rows) */
  'missing_attribute',
  /** the transfer syntax is not supported (the message says which) */
  'unsupported_transfer_syntax',
  /** an image that cannot become a HU volume (colour, 1-bit, multi-frame without positions…) */
  'unsupported_image',
  /** several series found and none chosen; `series` lists them */
  'multiple_series',
  /** the series asked for by `seriesInstanceUid` is not there; `series` lists those found */
  'series_not_found',
  /** slices of one series disagree (size, orientation, duplicate positions) */
  'inconsistent_series',
  /** a compressed frame could not be decoded */
  'decode_failed',
  /** a NIfTI file is invalid (bad header, corrupted gzip, data shorter than the header says) */
  'nifti_invalid',
  /** a NIfTI datatype or layout that is not supported */
  'nifti_unsupported',
  /** the image declares (or decompresses to) more voxels or bytes than the limits (limits.ts) */
  'too_large',
] as const;
export type ImagingErrorCode = (typeof IMAGING_ERROR_CODES)[number];

/** One series found in a DICOM folder, as listed when the choice is ambiguous. */
export interface SeriesSummary {
  seriesInstanceUid: string;
  description?: string;
  modality?: string;
  seriesNumber?: number;
  files: number;
}

export class ImagingError extends Error {
  constructor(
    readonly code: ImagingErrorCode,
    /** the file or folder the error is about */
    readonly file: string,
    /** what is wrong, without the file name */
    readonly detail: string,
    /** for multiple_series and series_not_found: the series found */
    readonly series: SeriesSummary[] = [],
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${detail}`, options);
    this.name = 'ImagingError';
  }
}

export const describeSeries = (s: SeriesSummary): string =>
  `${s.seriesInstanceUid} (${[
    s.description ? `"${s.description}"` : 'no description',
    s.modality ?? 'no modality',
    s.seriesNumber !== undefined ? `series number ${s.seriesNumber}` : undefined,
    `${s.files} file${s.files === 1 ? '' : 's'}`,
  ].filter(Boolean).join(', ')})`;

/** The message of anything thrown (dicom-parser throws strings). */
export const thrownMessage = (e: unknown): string =>
  e instanceof Error ? e.message : typeof e === 'string' ? e : JSON.stringify(e) ?? String(e);
