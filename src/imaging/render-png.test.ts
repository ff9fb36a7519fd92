import { describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import { mostCalcifiedSlice, PALETTE, renderMipPng, renderSlicePng } from './render-png.js';
import { labelComponents } from './label.js';
import { resolveRoi } from './roi.js';
import { makePhantom } from '../test-support/phantom.js';

function colours(png: PNG): Set<string> {
  const s = new Set<string>();
  for (let p = 0; p < png.width * png.height; p++) s.add(`${png.data[4 * p]},${png.data[4 * p + 1]},${png.data[4 * p + 2]}`);
  return s;
}

describe('PNG pictures', () => {
  const { volume, truth } = makePhantom();
  const roi = resolveRoi(volume, truth.roi);
  const comps = labelComponents(volume, roi);

  it('the most calcified slice is the one with the most component voxels', () => {
    const k = mostCalcifiedSlice(comps);
    const per = new Array<number>(64).fill(0);
    for (let r = 0; r < comps.runs.count; r++) per[comps.runs.k[r]!]! += comps.runs.end[r]! - comps.runs.start[r]! + 1;
    expect(per[k]).toBe(Math.max(...per));
  });

  it('slice: decodes, has the ROI crop × scale size, shows component outlines', () => {
    const pic = renderSlicePng(volume, roi, comps, { scale: 3, marginVoxels: 4 });
    const png = PNG.sync.read(pic.png);
    // ROI bbox 5..91 in i and j, plus 4 voxels each side
    expect([png.width, png.height]).toEqual([(87 + 8) * 3, (87 + 8) * 3]);
    expect([pic.width, pic.height]).toEqual([png.width, png.height]);
    expect(pic.origin).toEqual([1, 1]);
    const cs = colours(png);
    expect(PALETTE.some((c) => cs.has(c.join(',')))).toBe(true);
    expect(cs.has('255,230,0')).toBe(true); // ROI outline
  });

  it('full slice in a soft-tissue window at a chosen k', () => {
    const pic = renderSlicePng(volume, roi, comps, { crop: 'full', window: 'soft_tissue', scale: 1, k: 10, showRoi: false });
    const png = PNG.sync.read(pic.png);
    expect([png.width, png.height, pic.k]).toEqual([96, 96, 10]);
    expect(png.data[0]).toBe(0); // air in the corner
    expect(() => renderSlicePng(volume, roi, comps, { k: 64 })).toThrow(RangeError);
  });

  it('maximum-intensity projection of the ROI', () => {
    const pic = renderMipPng(volume, roi, comps, { window: { center: 300, width: 1500 } });
    const png = PNG.sync.read(pic.png);
    expect(pic.scale).toBe(3); // default: >= 256 pixels
    // the default 6-voxel margin reaches the volume's edge: the crop is clipped to 0..95
    expect([png.width, png.height, ...pic.origin]).toEqual([96 * 3, 96 * 3, 0, 0]);
    const cs = colours(png);
    expect(PALETTE.filter((c) => cs.has(c.join(','))).length).toBeGreaterThanOrEqual(3);
  });

  it('no calcification: the middle slice of the ROI, no outlines', () => {
    const e = makePhantom({ objects: [] });
    const r = resolveRoi(e.volume, e.truth.roi);
    const c = labelComponents(e.volume, r);
    expect(mostCalcifiedSlice(c)).toBe(-1);
    const pic = renderSlicePng(e.volume, r, c, { scale: 1 });
    expect(pic.k).toBe(32);
    const cs = colours(PNG.sync.read(pic.png));
    expect(PALETTE.some((p) => cs.has(p.join(',')))).toBe(false);
  });
});
