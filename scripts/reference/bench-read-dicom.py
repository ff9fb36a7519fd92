#!/usr/bin/env python3
"""Times calcdx's DICOM reader against pydicom + numpy on a synthetic 512 × 512 × N CT series.

    npm run build
    /usr/bin/python3 scripts/reference/bench-read-dicom.py [--slices 300] [--dir /tmp/calcdx-bench]

Writes the series once (uncompressed, explicit VR little endian, 16-bit signed, shuffled file
order), then reads it with pydicom (dcmread every file, sort by position, stack, rescale to HU in
float64 — the usual recipe) and with calcdx (dist/imaging/read-volume.js), best of 3 runs each,
and checks that both give the same HU sum.
"""
import argparse
import json
import os
import subprocess
import time

import numpy as np
import pydicom
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
UID = '1.2.826.0.1.3680043.10.1337.99'


def write_series(folder, slices, size=512):
    os.makedirs(folder, exist_ok=True)
    if len([f for f in os.listdir(folder) if f.endswith('.dcm')]) == slices:
        return
    rng = np.random.default_rng(0)
    order = rng.permutation(slices)
    j, i = np.mgrid[0:size, 0:size]
    base = ((i - size / 2) ** 2 + (j - size / 2) ** 2 < (size / 2.2) ** 2) * 1000
    for n, k in enumerate(order):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = '1.2.840.10008.5.1.4.1.1.2'
        meta.MediaStorageSOPInstanceUID = f'{UID}.{k + 1}'
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = FileDataset('', {}, file_meta=meta, preamble=b'\0' * 128)
        ds.is_little_endian, ds.is_implicit_VR = True, False
        ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
        ds.Modality, ds.SeriesInstanceUID, ds.InstanceNumber = 'CT', UID, int(k + 1)
        ds.ImagePositionPatient = [-125.0, -125.0, 0.625 * float(k)]
        ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
        ds.PixelSpacing = [0.49, 0.49]
        ds.SliceThickness = 0.625
        ds.Rows = ds.Columns = size
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, 'MONOCHROME2'
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
        ds.PixelData = (base + rng.integers(0, 200, (size, size)) + int(k)).astype('<i2').tobytes()
        ds.save_as(os.path.join(folder, f'IM{n:05d}.dcm'), write_like_original=False)


def read_pydicom(folder):
    dss = [pydicom.dcmread(os.path.join(folder, f)) for f in sorted(os.listdir(folder))]
    iop = np.array(dss[0].ImageOrientationPatient, dtype=float)
    normal = np.cross(iop[:3], iop[3:])
    dss.sort(key=lambda d: float(np.dot(np.array(d.ImagePositionPatient, dtype=float), normal)))
    return np.stack([d.pixel_array * float(d.RescaleSlope) + float(d.RescaleIntercept) for d in dss])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--slices', type=int, default=300)
    ap.add_argument('--dir', default='/tmp/calcdx-bench')
    args = ap.parse_args()
    folder = os.path.join(args.dir, f'series-{args.slices}')
    write_series(folder, args.slices)
    best = float('inf')
    for _ in range(3):
        t = time.perf_counter()
        vol = read_pydicom(folder)
        best = min(best, time.perf_counter() - t)
    py_sum = float(vol.sum())
    js = f"""
import {{ readVolume }} from {json.dumps(os.path.join(ROOT, 'dist', 'imaging', 'read-volume.js'))};
let best = Infinity, sum = 0;
for (let r = 0; r < 3; r++) {{
  const t = performance.now();
  const v = await readVolume({json.dumps(folder)});
  best = Math.min(best, performance.now() - t);
  sum = 0; for (let p = 0; p < v.data.length; p++) sum += v.data[p];
}}
console.log(JSON.stringify({{ ms: best, sum }}));
"""
    out = json.loads(subprocess.run(['node', '--input-type=module', '-e', js], check=True, capture_output=True, text=True).stdout)
    same = 'equal' if out['sum'] == py_sum else 'DIFFER: %r vs %r' % (out['sum'], py_sum)
    print('%d slices of 512 x 512: pydicom + numpy %.0f ms, calcdx %.0f ms (%.1fx faster); HU sums %s'
          % (args.slices, best * 1000, out['ms'], best * 1000 / out['ms'], same))


if __name__ == '__main__':
    main()
