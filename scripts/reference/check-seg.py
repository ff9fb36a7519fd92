#!/usr/bin/python3
"""Independent check of a calcdx DICOM SEG with pydicom (Debian's python3-pydicom, python3-numpy).

usage: check-seg.py SEG.dcm MASK.raw NX NY NZ SOURCE_DIR

MASK.raw: the label mask calcdx measured, one byte per voxel (non-zero = calcified), i fastest,
then j (rows), then k (slices sorted along the slice normal). SOURCE_DIR: the source series.
Prints JSON: the frame count, voxels set in the SEG and in the mask, voxels that differ, frames
whose position or orientation differs from the source image they reference, and the segment's
label and codes. pydicom unpacks the 1-bit pixel data itself (its numpy pixel data handler).
"""
import json
import os
import sys

import numpy as np
import pydicom

seg_path, mask_path, nx, ny, nz, src_dir = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:6]), sys.argv[6]
seg = pydicom.dcmread(seg_path)
mask = np.fromfile(mask_path, dtype=np.uint8).reshape((nz, ny, nx)) != 0

sources = {}
for name in sorted(os.listdir(src_dir)):
    ds = pydicom.dcmread(os.path.join(src_dir, name), stop_before_pixels=True)
    sources[ds.SOPInstanceUID] = ds
first = next(iter(sources.values()))
iop = np.array(first.ImageOrientationPatient, dtype=float)
normal = np.cross(iop[:3], iop[3:])
order = sorted(sources.values(), key=lambda d: float(np.dot(np.array(d.ImagePositionPatient, dtype=float), normal)))
index = {d.SOPInstanceUID: k for k, d in enumerate(order)}

frames = seg.pixel_array
if frames.ndim == 2:
    frames = frames[np.newaxis]
shared = seg.SharedFunctionalGroupsSequence[0]
seg_iop = np.array(shared.PlaneOrientationSequence[0].ImageOrientationPatient, dtype=float)
seg_ps = np.array(shared.PixelMeasuresSequence[0].PixelSpacing, dtype=float)
geometry_mismatches = []
if not np.allclose(seg_iop, iop, atol=1e-6) or not np.allclose(seg_ps, np.array(first.PixelSpacing, dtype=float), atol=1e-6):
    geometry_mismatches.append('orientation or spacing')
rebuilt = np.zeros_like(mask)
for f, item in enumerate(seg.PerFrameFunctionalGroupsSequence):
    ref = item.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID
    src = sources.get(ref)
    if src is None:
        geometry_mismatches.append(f'frame {f + 1}: references an unknown instance')
        continue
    ipp = np.array(item.PlanePositionSequence[0].ImagePositionPatient, dtype=float)
    if not np.allclose(ipp, np.array(src.ImagePositionPatient, dtype=float), atol=1e-6):
        geometry_mismatches.append(f'frame {f + 1}: position differs from its source')
    if item.SegmentIdentificationSequence[0].ReferencedSegmentNumber != 1:
        geometry_mismatches.append(f'frame {f + 1}: not segment 1')
    rebuilt[index[ref]] |= frames[f] != 0

segment = seg.SegmentSequence[0]
print(json.dumps({
    'frames': int(seg.NumberOfFrames),
    'segVoxels': int(rebuilt.sum()),
    'maskVoxels': int(mask.sum()),
    'mismatches': int((rebuilt != mask).sum()),
    'geometryMismatches': geometry_mismatches,
    'segmentLabel': segment.SegmentLabel,
    'category': segment.SegmentedPropertyCategoryCodeSequence[0].CodeValue,
    'type': segment.SegmentedPropertyTypeCodeSequence[0].CodeValue,
    'referencedSeries': seg.ReferencedSeriesSequence[0].SeriesInstanceUID,
    'patientName': str(seg.PatientName),
}))
