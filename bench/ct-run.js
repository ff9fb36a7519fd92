// One run of calcdx's CT pipeline on a DICOM series, timed per stage; prints JSON.
// Run as a child of bench/ct.js so that its peak memory is its own.
import { readVolume } from '../dist/imaging/read-volume.js';
import { resolveRoi } from '../dist/imaging/roi.js';
import { labelComponents } from '../dist/imaging/label.js';
import { measureComponents } from '../dist/imaging/measure.js';
import { classifyPattern } from '../dist/imaging/pattern.js';

const [dir, roiArg] = process.argv.slice(2);
const t = {};
let t0 = performance.now();
const v = await readVolume(dir);
t.load = (performance.now() - t0) / 1000;
t0 = performance.now();
const roi = resolveRoi(v, roiArg === 'whole' ? { kind: 'whole' } : JSON.parse(roiArg));
const comps = labelComponents(v, roi, { thresholdHU: 100, connectivity: 26 });
t.threshold_label = (performance.now() - t0) / 1000;
t0 = performance.now();
const m = measureComponents(v, roi, comps);
classifyPattern(m);
t.stats_shape = (performance.now() - t0) / 1000;
t.total = t.load + t.threshold_label + t.stats_shape;
const rawBytes = v.dims[0] * v.dims[1] * v.dims[2] * 2;
console.log(JSON.stringify({
  timings_s: t,
  components: comps.count,
  foreground: m.lesion.calcifiedVoxels,
  peakRssMB: process.resourceUsage().maxRSS / 1024,
  rawMB: rawBytes / 1048576,
  dtype: v.data.constructor.name,
}));
