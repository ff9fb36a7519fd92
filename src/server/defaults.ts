/**
 * The server's default limits and timeouts: its own module, so `calcdx serve --help` and the CLI can
 * read them without loading the server (fastify and its plugins).
 */
export const DEFAULTS = {
  /** JSON / YAML case bodies */
  bodyLimit: 1024 * 1024,
  /** a CT upload, all files together (and what a zip unpacks to) */
  uploadLimit: 1024 * 1024 * 1024,
  /** files in a CT upload (DICOM slices) */
  maxUploadFiles: 5000,
  /** CT jobs (upload + read + measure) at once */
  maxCtJobs: 2,
  /** seconds a client is told to wait when the CT jobs are all taken */
  retryAfterSeconds: 5,
  /** a request other than a CT upload */
  requestTimeoutMs: 30_000,
  /** the request line and headers of any request, from their first byte (slow-loris clients) */
  headersTimeoutMs: 10_000,
  /** a CT upload, from its headers to the answer */
  ctTimeoutMs: 600_000,
  /** serialised assessments kept for identical requests (0: none) */
  assessCacheBytes: 32 * 1024 * 1024,
} as const;
