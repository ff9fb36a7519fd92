/**
 * A CT volume in Hounsfield units, as read from a DICOM series or a NIfTI file.
 * Voxel (i, j, k): i fastest (columns), then j (rows), then k (slices).
 */
export interface Volume {
  /** [columns, rows, slices] */
  dims: [number, number, number];
  /** voxel size in mm along i, j, k (k from the slice positions, not SliceThickness) */
  spacing: [number, number, number];
  /** HU per voxel, index i + j * dims[0] + k * dims[0] * dims[1]; Int16Array when the rescale keeps integers */
  data: Int16Array | Float32Array;
  /**
   * voxel → patient coordinates in mm, DICOM LPS convention (NIfTI RAS is converted):
   * 4×4 row-major, [x y z 1]ᵀ = affine · [i j k 1]ᵀ
   */
  affine: number[];
  modality?: string;
  /** conditions the user should know about (gantry tilt, irregular spacing, non-CT modality…) */
  warnings: string[];
  source: { kind: 'dicom' | 'nifti'; files: number; seriesInstanceUid?: string; description?: string };
  /**
   * When set, only this box was read (ReadDicomOptions.region: an ROI's bounding box) and `data`
   * holds 0 outside it: what reads the volume must stay inside it.
   */
  region?: VoxelBox;
}

/** A box of voxels, min and max inclusive, as [i, j, k]. */
export interface VoxelBox { min: [number, number, number]; max: [number, number, number] }

export const voxelIndex = (v: Volume, i: number, j: number, k: number): number => i + v.dims[0] * (j + v.dims[1] * k);

export function voxelToPatient(v: Volume, i: number, j: number, k: number): [number, number, number] {
  const a = v.affine;
  return [
    a[0]! * i + a[1]! * j + a[2]! * k + a[3]!,
    a[4]! * i + a[5]! * j + a[6]! * k + a[7]!,
    a[8]! * i + a[9]! * j + a[10]! * k + a[11]!,
  ];
}
