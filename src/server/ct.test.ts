import { describe, expect, it } from 'vitest';
import { RoiError } from '../imaging/roi.js';
import { asciiJson, ctOptions, uploadedNames } from './ct.js';
import { HttpProblem } from './problem.js';

describe('CT form fields', () => {
  it('defaults and parsed values', () => {
    expect(ctOptions({ roi: 'sphere:1,2,3,4' }, false)).toEqual({ roiText: 'sphere:1,2,3,4', thresholdHU: 100, connectivity: 26, minVoxels: 1 });
    expect(ctOptions({ roi: 'whole', threshold: '130', connectivity: '6', minVoxels: '3', series: '1.2.3' }, false)).toEqual({ roiText: 'whole', thresholdHU: 130, connectivity: 6, minVoxels: 3, series: '1.2.3' });
    expect(ctOptions({ roi: 'mask' }, true).roiText).toBe('mask');
  });

  it('refuses a missing ROI, a server path as mask, a mask ROI without the mask file, and bad numbers', () => {
    const code = (f: () => unknown) => { try { f(); } catch (e) { return e instanceof RoiError ? e.code : e instanceof HttpProblem ? e.code : String(e); } return 'none'; };
    expect(code(() => ctOptions({}, false))).toBe('roi_required');
    expect(code(() => ctOptions({ roi: 'mask:/etc/passwd' }, true))).toBe('roi_syntax');
    expect(code(() => ctOptions({ roi: 'mask' }, false))).toBe('roi_syntax');
    expect(code(() => ctOptions({ roi: 'whole', threshold: 'x' }, false))).toBe('bad_parameter');
    expect(code(() => ctOptions({ roi: 'whole', connectivity: '18' }, false))).toBe('bad_parameter');
    expect(code(() => ctOptions({ roi: 'whole', minVoxels: '0.5' }, false))).toBe('bad_parameter');
  });
});

describe('upload names in messages', () => {
  it('temporary paths and names become the names the files were uploaded under', () => {
    const dir = '/tmp/calcdx-upload-a.b';
    const names = new Map([[dir, 'upload'], [`${dir}/in`, 'upload'], [`${dir}/in/f000001`, 'IM-0001.dcm'], [`${dir}/in/f000012`, 'scan (1).dcm']]);
    expect(uploadedNames(`size differs from 512×512 in ${dir}/in/f000001`, names)).toBe('size differs from 512×512 in IM-0001.dcm');
    expect(uploadedNames('2 files that are not DICOM skipped (e.g. f000012)', names)).toBe('2 files that are not DICOM skipped (e.g. scan (1).dcm)');
    expect(uploadedNames(`${dir}/in`, names)).toBe('upload');
    expect(uploadedNames('f0000123 and x', names)).toBe('f0000123 and x');
    expect(uploadedNames('unchanged', undefined)).toBe('unchanged');
  });

  it('warnings as a header value: a JSON array in printable ASCII', () => {
    expect(asciiJson([])).toBe('[]');
    const list = ['tilt 1.5°', '非 CT', 'line\nbreak'];
    const h = asciiJson(list);
    expect(h).toMatch(/^[\x20-\x7e]+$/);
    expect(JSON.parse(h)).toEqual(list);
  });
});
