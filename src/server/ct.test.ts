import { describe, expect, it } from 'vitest';
import { RoiError } from '../imaging/roi.js';
import { ctOptions } from './ct.js';
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
