/**
 * Errors of the DICOMweb client: each names the archive (its URL without credentials), what was
 * asked of it (study, series), a stable code (translated under `pacs.*`) and an English detail.
 */
export const PACS_ERROR_CODES = [
  /** the archive URL or the archive configuration (credentials in the environment) is not valid */
  'bad_config',
  /** no connection: refused, unknown host, reset */
  'unreachable',
  /** the TLS certificate of the archive is not trusted, or the TLS handshake failed */
  'tls',
  /** the archive did not answer (or stopped sending) within the timeout */
  'timeout',
  /** 401: credentials missing or wrong */
  'unauthorized',
  /** 403: the credentials are not allowed this */
  'forbidden',
  /** 404, or an empty search for a study that was named */
  'not_found',
  /** another HTTP status (3xx redirect, 4xx, 5xx) */
  'http_error',
  /** the answer is not what DICOMweb promises (not JSON, not multipart, a part that is not DICOM) */
  'bad_answer',
  /** the multipart answer does not follow the syntax */
  'malformed_multipart',
  /** the answer ended before it was complete */
  'truncated',
  /** the series asked for is not a CT series */
  'not_ct',
  /** the study has several series and none was chosen */
  'ambiguous_series',
  /** STOW-RS: the archive refused to store an object */
  'store_rejected',
  /** the measurement cannot be written back (e.g. a source instance that cannot be referenced) */
  'cannot_store',
] as const;
export type PacsErrorCode = (typeof PACS_ERROR_CODES)[number];

export class PacsError extends Error {
  constructor(
    readonly code: PacsErrorCode,
    /** the archive's URL, without credentials */
    readonly archive: string,
    /** what was asked: "study 1.2.3, series 4.5.6", or a search */
    readonly context: string,
    /** what is wrong, in English */
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${archive} (${context}): ${detail}`, options);
    this.name = 'PacsError';
  }
}
