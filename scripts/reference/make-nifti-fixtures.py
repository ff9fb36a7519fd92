#!/usr/bin/env python3
"""Builds test/fixtures/nifti/ and its reference.json with nibabel + numpy (outputs are committed).

    apt-get install -y python3-nibabel python3-numpy
    /usr/bin/python3 scripts/reference/make-nifti-fixtures.py

Each fixture is a small synthetic volume (7 × 5 × 4 voxels). The reference gives, per file, what
nibabel reads: dims, the scaled values (get_fdata: scl_slope / scl_inter applied, none when
scl_slope is 0), min / max / mean, a few voxels, pixdim spacing and the best affine (sform, else
qform), converted from RAS to LPS by negating its x and y rows.
"""
import gzip
import json
import os

import nibabel as nib
import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'test', 'fixtures', 'nifti')
SHAPE = (7, 5, 4)


def volume(dtype, base=-200, step=1.0):
    i, j, k = np.meshgrid(*[np.arange(n) for n in SHAPE], indexing='ij')
    return (base + step * (i + 10 * j + 100 * k)).astype(dtype)


def rot_z(deg):
    t = np.deg2rad(deg)
    return np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1]])


SFORM = np.eye(4)
SFORM[:3, :3] = rot_z(15) @ np.diag([0.8, 0.7, 2.5])
SFORM[:3, 3] = [-20.0, 30.0, -45.0]
QFORM = np.eye(4)
QFORM[:3, :3] = np.diag([-0.8, 0.7, 2.5])  # qfac flip in x
QFORM[:3, 3] = [10.0, -5.0, 7.5]


def write(name, data, slope=None, inter=None, version=1, sform=True, qform=True, big_endian=False):
    """Header and raw values written by hand, so that the file keeps exactly our scl_slope / scl_inter."""
    hdr = (nib.Nifti2Header if version == 2 else nib.Nifti1Header)()
    if big_endian:
        hdr = hdr.as_byteswapped('>')
    hdr.set_data_shape(data.shape)
    hdr.set_data_dtype(data.dtype.newbyteorder('='))
    hdr.set_zooms((0.8, 0.7, 2.5))
    hdr.set_qform(QFORM, code=1 if qform else 0)
    hdr.set_sform(SFORM, code=2 if sform else 0)
    hdr.set_xyzt_units('mm', 'sec')
    hdr['scl_slope'] = np.nan if slope is None else slope
    hdr['scl_inter'] = np.nan if inter is None else inter
    offset = hdr.sizeof_hdr + 4  # header + extension flag (no extension)
    offset = ((offset + 15) // 16) * 16
    hdr.set_data_offset(offset)
    path = os.path.join(ROOT, name)
    # mtime 0: the same bytes on every run
    opener = (lambda p, m: gzip.GzipFile(p, m, mtime=0)) if name.endswith('.gz') else open
    with opener(path, 'wb') as f:
        hdr.write_to(f)  # the header, then (NIfTI-1 and -2) the 4-byte extension flag
        written = f.tell()
        assert written <= offset, written
        f.write(b'\0' * (offset - written))
        f.write(np.asarray(data, dtype=data.dtype.newbyteorder(hdr.endianness)).tobytes(order='F'))
    return path


def make():
    os.makedirs(ROOT, exist_ok=True)
    for f in os.listdir(ROOT):
        if f.endswith(('.nii', '.nii.gz', '.json')):
            os.remove(os.path.join(ROOT, f))
    i16 = volume(np.int16)
    files = [
        ('ct-int16.nii', dict(data=i16, slope=2.0, inter=-1024.0)),
        ('ct-int16.nii.gz', dict(data=i16, slope=2.0, inter=-1024.0)),
        ('ct-nifti2.nii', dict(data=i16, slope=1.0, inter=-1024.0, version=2)),
        ('ct-nifti2.nii.gz', dict(data=i16, slope=1.0, inter=-1024.0, version=2)),
        ('float32-scaled.nii', dict(data=volume(np.float32, base=-100, step=0.5), slope=0.5, inter=0.25)),
        ('uint8.nii', dict(data=(volume(np.int32, base=0) % 256).astype(np.uint8), slope=4.0, inter=-1000.0)),
        ('int32.nii', dict(data=volume(np.int32, base=-100000, step=7), slope=1.0, inter=0.0)),
        ('float64.nii', dict(data=volume(np.float64, base=-1000.125, step=1.5))),
        ('uint16.nii', dict(data=volume(np.uint16, base=0, step=10))),
        ('noscale-slope0.nii', dict(data=i16, slope=0.0, inter=500.0)),
        ('qform-only.nii', dict(data=i16, sform=False)),
        ('bigendian.nii', dict(data=i16, slope=1.0, inter=-1024.0, big_endian=True)),
        ('bigendian-nifti2.nii', dict(data=i16, slope=1.0, inter=-1024.0, version=2, big_endian=True)),
    ]
    return [(name, write(name, **kw)) for name, kw in files]


def reference(written):
    ref = {'generator': 'scripts/reference/make-nifti-fixtures.py', 'nibabel': nib.__version__, 'numpy': np.__version__, 'entries': {}}
    lps = np.diag([-1.0, -1.0, 1.0, 1.0])
    for name, path in written:
        img = nib.load(path)
        data = np.asarray(img.get_fdata(dtype=np.float64))
        hdr = img.header
        slope, inter = hdr.get_slope_inter()
        raw_int = np.issubdtype(hdr.get_data_dtype(), np.integer)
        integral = raw_int and (slope is None or (float(slope).is_integer() and float(inter or 0).is_integer()))
        fits = data.min() >= -32768 and data.max() <= 32767
        ni, nj, nk = data.shape[:3]
        picks = [(0, 0, 0), (ni - 1, 0, 0), (0, nj - 1, 0), (ni // 2, nj // 3, nk // 2), (ni - 1, nj - 1, nk - 1)]
        ref['entries'][name] = {
            'version': 2 if isinstance(img, nib.Nifti2Image) else 1,
            'datatype': str(hdr.get_data_dtype()),
            'dims': [ni, nj, nk],
            'type': 'int16' if integral and fits else 'float32',
            'min': float(data.min()),
            'max': float(data.max()),
            'mean': float(data.mean()),
            'voxels': [[i, j, k, float(data[i, j, k])] for (i, j, k) in picks],
            'spacing': [float(z) for z in hdr.get_zooms()[:3]],
            'affine': [float(x) for x in (lps @ img.affine).flatten()],
            'sformCode': int(hdr['sform_code']),
            'qformCode': int(hdr['qform_code']),
        }
    with open(os.path.join(ROOT, 'reference.json'), 'w') as f:
        json.dump(ref, f, indent=1)
        f.write('\n')


if __name__ == '__main__':
    w = make()
    reference(w)
    print('wrote', len(w), 'NIfTI fixtures and reference.json to', os.path.normpath(ROOT))
