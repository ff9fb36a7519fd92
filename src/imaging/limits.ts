/**
 * Size limits of a CT volume, checked against what a file declares (DICOM Rows × Columns × frames ×
 * BitsAllocated, NIfTI dim × datatype) before anything is allocated or decompressed, so that a
 * header declaring a huge image, or a compressed file that inflates to gigabytes, is refused at once
 * instead of filling the memory.
 */
import { ImagingError } from './errors.js';

export interface VolumeLimits {
  /** bytes of image data once decompressed: the stored samples of every slice (or the NIfTI data) */
  maxBytes: number;
  /** voxels of the volume (columns × rows × slices) */
  maxVoxels: number;
}

/**
 * Defaults, the same for `calcdx ct` and the server: 1 GiB of decompressed image data (the server's
 * upload limit: an upload of uncompressed slices cannot hold more) and 2^28 voxels (268 million,
 * e.g. 512 × 512 × 1024 slices; the HU volume is then 512 MiB as int16, 1 GiB as float32).
 */
export const DEFAULT_VOLUME_LIMITS: Readonly<VolumeLimits> = { maxBytes: 1024 ** 3, maxVoxels: 2 ** 28 };

export const volumeLimits = (l: Partial<VolumeLimits> | undefined): VolumeLimits => ({ ...DEFAULT_VOLUME_LIMITS, ...l });

const mib = (b: number): string => `${Math.round((b / 1024 ** 2) * 10) / 10} MiB`;
const count = (n: number): string => (n >= 1e6 ? `${Math.round(n / 1e5) / 10} million` : String(n));

/**
 * Throws `too_large` when `dims` (any number of axes) of `bytesPerVoxel` bytes each exceed the limits.
 * `what` says what was measured (e.g. "the header declares 65535×65535×1 16-bit samples").
 */
export function checkVolumeSize(file: string, dims: readonly number[], bytesPerVoxel: number, limits: VolumeLimits, what = `${dims.join('×')} voxels`): void {
  const voxels = dims.reduce((a, b) => a * b, 1);
  const bytes = voxels * bytesPerVoxel;
  if (voxels > limits.maxVoxels) {
    throw new ImagingError('too_large', file, `${what}: ${count(voxels)} voxels, more than the limit of ${count(limits.maxVoxels)}`);
  }
  if (bytes > limits.maxBytes) {
    throw new ImagingError('too_large', file, `${what}: ${mib(bytes)} of image data, more than the limit of ${mib(limits.maxBytes)}`);
  }
}
