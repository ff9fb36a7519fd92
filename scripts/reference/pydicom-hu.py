#!/usr/bin/env python3
"""Outside reference for calcdx's DICOM reader: HU statistics computed with pydicom + numpy.

    apt-get install -y python3-pydicom python3-numpy python3-gdcm   # gdcm: JPEG / JPEG 2000 decoding
    /usr/bin/python3 scripts/reference/pydicom-hu.py

Reads every fixture under test/fixtures/dicom/single (one file each) and series/ (one folder per
series; a folder holding several series gives one entry per SeriesInstanceUID) and writes
test/fixtures/dicom/reference.json with, per entry: dims [columns, rows, slices], expected output
type, HU min/max/mean, the mean of every slice (in sorted order), a few voxels, spacing and the
LPS affine. The rules are written here independently of the TypeScript reader:

- stored value: pydicom's pixel_array; for Pixel Representation 1 with Bits Stored < Bits Allocated
  the value is sign-extended from Bits Stored (uncompressed data);
- HU = stored × RescaleSlope + RescaleIntercept, per slice (per frame for enhanced multi-frame);
- slices sorted by the projection of ImagePositionPatient on the normal row × column;
- spacing along k = median of the differences of those projections;
- affine columns: row cosine × column spacing, column cosine × row spacing, and the stacking direction
  (first → last position) scaled so that its projection on the normal is the k spacing (one slice:
  the normal × SliceThickness, else 1 mm); origin = position of the first sorted slice;
- missing ImageOrientationPatient / ImagePositionPatient / PixelSpacing (single slices only): axial,
  origin 0, 1 mm.
"""
import glob
import json
import os
import sys
import warnings

import numpy as np
import pydicom

warnings.simplefilter('ignore')
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'test', 'fixtures', 'dicom')


def seq_item(ds, tag_name):
    s = ds.get(tag_name)
    return s[0] if s else None


def frames_of(ds):
    """[(stored 2-D array, slope, intercept, ipp, iop, pixel spacing)] for every frame of a dataset."""
    arr = ds.pixel_array.astype(np.int64)
    bits_alloc, bits_stored = int(ds.BitsAllocated), int(ds.BitsStored)
    ts = str(ds.file_meta.TransferSyntaxUID)
    if int(ds.PixelRepresentation) == 1 and bits_stored < bits_alloc and ts not in (
            '1.2.840.10008.1.2.4.90', '1.2.840.10008.1.2.4.91'):
        shift = 64 - bits_stored
        arr = (arr << shift) >> shift
    n = int(ds.get('NumberOfFrames', 1) or 1)
    if n == 1:
        arr = arr[np.newaxis]
    out = []
    shared = seq_item(ds, 'SharedFunctionalGroupsSequence')
    per = ds.get('PerFrameFunctionalGroupsSequence')

    def fg(f, seq, attr, default):
        for group in ([per[f]] if per else []) + ([shared] if shared else []):
            item = seq_item(group, seq)
            if item is not None and attr in item:
                return item.get(attr)
        return ds.get(attr, default)

    for f in range(n):
        slope = float(fg(f, 'PixelValueTransformationSequence', 'RescaleSlope', 1))
        intercept = float(fg(f, 'PixelValueTransformationSequence', 'RescaleIntercept', 0))
        ipp = fg(f, 'PlanePositionSequence', 'ImagePositionPatient', None)
        iop = fg(f, 'PlaneOrientationSequence', 'ImageOrientationPatient', None)
        ps = fg(f, 'PixelMeasuresSequence', 'PixelSpacing', None)
        out.append((arr[f], slope, intercept,
                    None if ipp is None else np.array([float(x) for x in ipp]),
                    None if iop is None else np.array([float(x) for x in iop]),
                    None if ps is None else [float(x) for x in ps]))
    return out


def volume_entry(frames, modality, uid, description, nfiles, thickness=None):
    iop = frames[0][4] if frames[0][4] is not None else np.array([1.0, 0, 0, 0, 1, 0])
    row, col = iop[:3], iop[3:]
    normal = np.cross(row, col)
    if len(frames) > 1:
        frames = sorted(frames, key=lambda fr: float(np.dot(fr[3], normal)))
        d = np.array([float(np.dot(fr[3], normal)) for fr in frames])
        spacing_k = float(np.median(np.diff(d)))
        step = frames[-1][3] - frames[0][3]
        direction = step / np.linalg.norm(step)
        kcol = direction * spacing_k / float(np.dot(direction, normal))
    else:
        # one slice: no position difference; SliceThickness (else 1 mm) along the normal
        spacing_k = float(thickness) if thickness and float(thickness) > 0 else 1.0
        kcol = normal * spacing_k
    ps = frames[0][5] or [1.0, 1.0]
    hu = np.stack([fr[0].astype(np.float64) * fr[1] + fr[2] for fr in frames])  # [k, j, i]
    slopes = [fr[1] for fr in frames]
    intercepts = [fr[2] for fr in frames]
    integral = all(float(v).is_integer() for v in slopes + intercepts)
    fits = hu.min() >= -32768 and hu.max() <= 32767
    nk, nj, ni = hu.shape
    picks = [(0, 0, 0), (ni - 1, 0, 0), (0, nj - 1, 0), (ni // 2, nj // 3, nk // 2), (ni - 1, nj - 1, nk - 1)]
    origin = frames[0][3] if frames[0][3] is not None else np.zeros(3)
    entry = {
        'seriesInstanceUid': uid,
        'description': description,
        'modality': modality,
        'files': nfiles,
        'dims': [ni, nj, nk],
        'type': 'int16' if integral and fits else 'float32',
        'min': float(hu.min()),
        'max': float(hu.max()),
        'mean': float(hu.mean()),
        'sliceMeans': [float(m) for m in hu.mean(axis=(1, 2))],
        'voxels': [[i, j, k, float(hu[k, j, i])] for (i, j, k) in picks],
        'spacing': [ps[1], ps[0], spacing_k],
    }
    a = np.eye(4)
    a[:3, 0] = row * ps[1]
    a[:3, 1] = col * ps[0]
    a[:3, 2] = kcol
    a[:3, 3] = origin
    entry['affine'] = [float(x) for x in a.flatten()]
    return entry


def single_entries():
    out = {}
    for path in sorted(glob.glob(os.path.join(ROOT, 'single', '*.dcm'))):
        ds = pydicom.dcmread(path)
        e = volume_entry(frames_of(ds), ds.get('Modality'), ds.get('SeriesInstanceUID'),
                         ds.get('SeriesDescription'), 1, ds.get('SliceThickness'))
        e['transferSyntax'] = str(ds.file_meta.TransferSyntaxUID)
        out[os.path.relpath(path, ROOT)] = e
    return out


def series_entries():
    out = {}
    for folder in sorted(glob.glob(os.path.join(ROOT, 'series', '*'))):
        groups = {}
        for path in sorted(glob.glob(os.path.join(folder, '*'))):
            ds = pydicom.dcmread(path)
            groups.setdefault(str(ds.SeriesInstanceUID), []).append(ds)
        for uid, dss in groups.items():
            frames = [fr for ds in dss for fr in frames_of(ds)]
            key = os.path.relpath(folder, ROOT) + ('' if len(groups) == 1 else '#' + uid)
            out[key] = volume_entry(frames, dss[0].get('Modality'), uid, dss[0].get('SeriesDescription'), len(dss))
    return out


if __name__ == '__main__':
    if not os.path.isdir(ROOT):
        sys.exit('run scripts/reference/make-dicom-fixtures.py first')
    try:
        import gdcm  # noqa: F401
        have_gdcm = True
    except ImportError:
        have_gdcm = False
    ref = {
        'generator': 'scripts/reference/pydicom-hu.py',
        'pydicom': pydicom.__version__,
        'numpy': np.__version__,
        'gdcm': have_gdcm,
        'entries': {**single_entries(), **series_entries()},
    }
    with open(os.path.join(ROOT, 'reference.json'), 'w') as f:
        json.dump(ref, f, indent=1)
        f.write('\n')
    print('wrote', os.path.normpath(os.path.join(ROOT, 'reference.json')), len(ref['entries']), 'entries')
