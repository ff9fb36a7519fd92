#!/usr/bin/env python3
"""Builds test/fixtures/dicom/ (run once; the outputs are committed).

Needs Debian's python3-pydicom, python3-numpy, dcmtk and libgdcm-tools:
    apt-get install -y python3-pydicom python3-numpy dcmtk libgdcm-tools
    /usr/bin/python3 scripts/reference/make-dicom-fixtures.py

- single/: pydicom's own test files (MIT, see README there) and CT_small.dcm converted
  to the other transfer syntaxes with DCMTK (dcmconv, dcmcjpeg, dcmcrle) and GDCM (gdcmconv).
- series/: two real CT series from pydicom's dicomdirtests and small synthetic series
  written with pydicom (sorting, per-slice rescale, sign extension, tilt, oblique, …).
- bad/: inputs that must fail with a clear error.
Then run scripts/reference/pydicom-hu.py to refresh reference.json.
"""
import os
import shutil
import subprocess
import sys

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'test', 'fixtures', 'dicom')
PYDICOM = os.path.join(os.path.dirname(pydicom.__file__), 'data', 'test_files')
CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2'
ENHANCED_CT_STORAGE = '1.2.840.10008.5.1.4.1.1.2.1'
# fixed UIDs so that a re-run gives the same files
UID_ROOT = '1.2.826.0.1.3680043.10.1337.'


def run(*cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def fresh(path):
    if os.path.isdir(path):
        shutil.rmtree(path)
    os.makedirs(path)


def copy(src, dst):
    shutil.copyfile(os.path.join(PYDICOM, src), dst)


def single():
    d = os.path.join(ROOT, 'single')
    fresh(d)
    for f in ['CT_small.dcm', 'MR_small.dcm', 'MR_small_implicit.dcm', 'MR_small_bigendian.dcm',
              'MR_small_RLE.dcm', 'MR_small_jp2klossless.dcm', 'MR_small_jpeg_ls_lossless.dcm', '693_J2KI.dcm',
              'image_dfl.dcm']:
        copy(f, os.path.join(d, f))
    ct = os.path.join(d, 'CT_small.dcm')
    run('dcmconv', '+tb', ct, os.path.join(d, 'CT_small_bigendian.dcm'))
    run('dcmcjpeg', '+e1', ct, os.path.join(d, 'CT_small_jpeg_lossless_sv1.dcm'))  # .4.70
    run('dcmcjpeg', '+el', ct, os.path.join(d, 'CT_small_jpeg_lossless.dcm'))  # .4.57
    run('dcmcrle', ct, os.path.join(d, 'CT_small_rle.dcm'))  # .5
    run('gdcmconv', '--j2k', ct, os.path.join(d, 'CT_small_j2k_lossless.dcm'))  # .4.90
    run('gdcmconv', '--j2k', '--lossy', '--irreversible', ct, os.path.join(d, 'CT_small_j2k.dcm'))  # .4.91
    run('gdcmconv', '--jpegls', ct, os.path.join(d, 'CT_small_jpeg_ls_lossless.dcm'))  # .4.80
    run('gdcmconv', '--jpegls', '--lossy', '-e', '2', ct, os.path.join(d, 'CT_small_jpeg_ls_near.dcm'))  # .4.81


def new_file(path, meta_sop=CT_IMAGE_STORAGE, sop_uid=None):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = meta_sop
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = UID_ROOT + '0'
    ds = FileDataset(path, {}, file_meta=meta, preamble=b'\0' * 128)
    ds.is_little_endian = True
    ds.is_implicit_VR = False
    ds.SOPClassUID = meta_sop
    ds.SOPInstanceUID = sop_uid
    return ds


def synth_series(name, number, *, cols=8, rows=6, positions, iop=(1, 0, 0, 0, 1, 0), pixel_spacing=(0.8, 0.7),
                 slopes=None, intercepts=None, bits_stored=16, signed=True, modality='CT', values=None,
                 thickness=5.0, description=None, shuffle=True):
    """positions: IPP per slice in acquisition order; files are written in a shuffled order with
    misleading instance numbers, so that only the positions give the right order."""
    d = os.path.join(ROOT, 'series', name)
    fresh(d)
    n = len(positions)
    series_uid = UID_ROOT + '1.' + str(number)
    rng = np.random.default_rng(number)
    order = list(rng.permutation(n)) if shuffle else list(range(n))
    for file_no, s in enumerate(order):
        sop = series_uid + '.' + str(s + 1)
        path = os.path.join(d, 'IM%04d' % (file_no + 1))
        ds = new_file(path, sop_uid=sop)
        ds.Modality = modality
        ds.SeriesInstanceUID = series_uid
        ds.StudyInstanceUID = UID_ROOT + '2'
        ds.FrameOfReferenceUID = UID_ROOT + '3'
        ds.SeriesDescription = description or name
        ds.SeriesNumber = number
        ds.InstanceNumber = n - s if shuffle else s + 1  # reversed: must not be used for sorting
        ds.ImagePositionPatient = [float(x) for x in positions[s]]
        ds.ImageOrientationPatient = [float(x) for x in iop]
        ds.PixelSpacing = [float(x) for x in pixel_spacing]
        ds.SliceThickness = thickness
        ds.Rows = rows
        ds.Columns = cols
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = 'MONOCHROME2'
        ds.BitsAllocated = 16
        ds.BitsStored = bits_stored
        ds.HighBit = bits_stored - 1
        ds.PixelRepresentation = 1 if signed else 0
        if slopes is not None:
            ds.RescaleSlope = slopes[s]
            ds.RescaleIntercept = intercepts[s]
            ds.RescaleType = 'HU'
        v = values(s, rows, cols)
        if signed:
            raw = v.astype(np.int16).view(np.uint16)
            if bits_stored < 16:  # keep only BitsStored bits: readers must sign-extend
                raw = raw & np.uint16((1 << bits_stored) - 1)
        else:
            raw = v.astype(np.uint16)
        ds.PixelData = raw.astype('<u2').tobytes()
        ds.save_as(path, write_like_original=False)
    return d


def ramp(base, step=1):
    def f(s, rows, cols):
        j, i = np.mgrid[0:rows, 0:cols]
        return base + s * 100 + j * 10 * step + i * step
    return f


def series():
    root = os.path.join(ROOT, 'series')
    if os.path.isdir(root):
        shutil.rmtree(root)
    os.makedirs(root)
    # real series from pydicom's dicomdirtests (16×16 CT)
    for src, dst in [('dicomdirtests/98892001/CT5N', 'ct5n'), ('dicomdirtests/77654033/CT2', 'ct2-irregular')]:
        shutil.copytree(os.path.join(PYDICOM, src), os.path.join(root, dst))
    z = [-40.0 + 2.5 * s for s in range(5)]
    # signed 12-bit stored with negative values (upper bits zero), intercept differing per slice
    synth_series('axial', 1, positions=[(-10.0, -20.0, zz) for zz in z], bits_stored=12,
                 slopes=[1] * 5, intercepts=[-1024, -1000, -1024, -1010, -1024],
                 values=lambda s, r, c: ramp(-300 + 7 * s)(s, r, c) - 40 * (s % 2))
    # non-integer rescale → Float32Array
    synth_series('float', 2, positions=[(0.0, 0.0, 10.0 + 1.25 * s) for s in range(4)],
                 slopes=[0.5] * 4, intercepts=[-1024.25] * 4, values=ramp(100), pixel_spacing=(0.5, 0.5))
    # oblique, not tilted: rotated 30° about z, stacked along the normal, unsigned 16-bit
    c, s30 = np.cos(np.pi / 6), np.sin(np.pi / 6)
    row, col = np.array([c, s30, 0.0]), np.array([-s30, c, 0.0])
    normal = np.cross(row, col)
    origin = np.array([5.0, -3.0, 20.0])
    synth_series('oblique', 3, iop=list(row) + list(col), positions=[origin + 3.0 * k * normal for k in range(4)],
                 signed=False, slopes=[1] * 4, intercepts=[-1024] * 4, values=ramp(1000), thickness=3.0)
    # gantry tilt: axial orientation, but each slice shifted along y (tilt 20°)
    t = np.tan(np.deg2rad(20))
    synth_series('tilt', 4, positions=[(0.0, -2.0 * k * t, 2.0 * k) for k in range(4)],
                 slopes=[1] * 4, intercepts=[-1024] * 4, values=ramp(900))
    # irregular spacing: 2, 2, 4, 2 mm
    synth_series('irregular', 5, positions=[(0.0, 0.0, zz) for zz in [0.0, 2.0, 4.0, 8.0, 10.0]],
                 slopes=[1] * 5, intercepts=[-1024] * 5, values=ramp(1000))
    # unsigned 16-bit values up to 60000 with intercept -1024: HU above 32767 → Float32Array
    synth_series('uint16-wide', 6, positions=[(0.0, 0.0, 3.0 * k) for k in range(3)], signed=False,
                 slopes=[1] * 3, intercepts=[-1024] * 3, values=lambda s, r, c: ramp(50000, step=100)(s, r, c))
    # MR: no rescale, non-CT warning
    synth_series('mr', 7, positions=[(0.0, 0.0, 4.0 * k) for k in range(3)], modality='MR', values=ramp(10))
    # two series in one folder
    mixed = os.path.join(root, 'mixed')
    os.makedirs(mixed)
    for name in ['axial', 'float']:
        for f in sorted(os.listdir(os.path.join(root, name))):
            shutil.copyfile(os.path.join(root, name, f), os.path.join(mixed, name + '-' + f))
    enhanced()


def enhanced():
    """Enhanced CT: one multi-frame file with per-frame positions and rescale in functional groups."""
    d = os.path.join(ROOT, 'series', 'enhanced')
    fresh(d)
    path = os.path.join(d, 'enhanced-ct.dcm')
    sop = UID_ROOT + '4.1'
    ds = new_file(path, meta_sop=ENHANCED_CT_STORAGE, sop_uid=sop)
    ds.Modality = 'CT'
    ds.SeriesInstanceUID = UID_ROOT + '4'
    ds.StudyInstanceUID = UID_ROOT + '2'
    ds.SeriesDescription = 'enhanced'
    ds.SeriesNumber = 8
    ds.InstanceNumber = 1
    rows, cols, n = 5, 7, 3
    ds.Rows, ds.Columns, ds.NumberOfFrames = rows, cols, n
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = 'MONOCHROME2'
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    shared = Dataset()
    po = Dataset()
    po.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    shared.PlaneOrientationSequence = Sequence([po])
    pm = Dataset()
    pm.PixelSpacing = [0.6, 0.9]
    pm.SliceThickness = 1.0
    shared.PixelMeasuresSequence = Sequence([pm])
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    per = []
    # frames stored in descending z: the reader must sort them
    zs = [6.0, 3.0, 0.0]
    for f in range(n):
        g = Dataset()
        pp = Dataset()
        pp.ImagePositionPatient = [-1.0, 2.0, zs[f]]
        g.PlanePositionSequence = Sequence([pp])
        pv = Dataset()
        pv.RescaleSlope = 1
        pv.RescaleIntercept = -1024 + 10 * f
        pv.RescaleType = 'HU'
        g.PixelValueTransformationSequence = Sequence([pv])
        per.append(g)
    ds.PerFrameFunctionalGroupsSequence = Sequence(per)
    j, i = np.mgrid[0:rows, 0:cols]
    frames = [(500 + 100 * f + 10 * j + i).astype(np.int16) for f in range(n)]
    ds.PixelData = np.stack(frames).astype('<i2').tobytes()
    ds.save_as(path, write_like_original=False)


def bad():
    d = os.path.join(ROOT, 'bad')
    fresh(d)
    copy('MR_truncated.dcm', os.path.join(d, 'MR_truncated.dcm'))
    copy('JPGExtended.dcm', os.path.join(d, 'JPGExtended.dcm'))  # .4.51: not supported
    ct = pydicom.dcmread(os.path.join(PYDICOM, 'CT_small.dcm'))
    del ct.PixelRepresentation
    ct.save_as(os.path.join(d, 'no_pixel_representation.dcm'))
    ct = pydicom.dcmread(os.path.join(PYDICOM, 'CT_small.dcm'))
    del ct.PixelData
    ct.save_as(os.path.join(d, 'no_pixel_data.dcm'))
    with open(os.path.join(d, 'not_dicom.txt'), 'w') as f:
        f.write('This is not a DICOM file.\n' * 10)


if __name__ == '__main__':
    if not os.path.isdir(PYDICOM):
        sys.exit('pydicom test files not found: ' + PYDICOM)
    single()
    series()
    bad()
    print('fixtures written to', os.path.normpath(ROOT))
