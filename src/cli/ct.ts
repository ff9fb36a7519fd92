/**
 * CT quantification from the command line: read a DICOM series or NIfTI volume (with a
 * progress bar on a terminal), measure the calcification inside the ROI, print it, and
 * optionally write PNG pictures or a NIfTI label mask (merging the findings into a case:
 * src/cli/ct-merge.ts).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { analyseCalcification, type Analysis } from '../imaging/pattern.js';
import { readVolume, type ReadVolumeOptions } from '../imaging/read-volume.js';
import type { VolumeGeometry } from '../imaging/read-dicom.js';
import { parseRoiSpec, resolveRoi, type RoiSpec } from '../imaging/roi.js';
import type { Volume } from '../imaging/volume.js';
import { CalcdxError } from '../io/errors.js';
import { writeFileAtomic } from '../io/write-file.js';
import { readNifti } from '../imaging/read-nifti.js';

export interface CtOptions {
  roi?: string;
  threshold?: string;
  connectivity?: string;
  minVoxels?: string;
  series?: string;
}

function numberOption(name: string, raw: string | undefined, fallback: number, ok: (x: number) => boolean, allowed: string): number {
  if (raw === undefined) return fallback;
  const x = Number(raw);
  if (!Number.isFinite(x) || !ok(x)) throw new CalcdxError('usage', { detail: `--${name}: found "${raw}"; allowed: ${allowed}` });
  return x;
}

/** Reads the volume with a progress bar when standard error is a terminal. */
export async function loadVolume(inputs: string[], series?: string, region?: ReadVolumeOptions['region']): Promise<Volume> {
  const tty = process.stderr.isTTY === true;
  // the progress bar, the PNG and NIfTI writers are imported only when used
  const bar = tty ? new (await import('cli-progress')).SingleBar({ format: 'reading {bar} {value}/{total}', hideCursor: true, clearOnComplete: true, stream: process.stderr }) : undefined;
  let started = false;
  try {
    return await readVolume(inputs.length === 1 ? inputs[0]! : inputs, {
      ...(series ? { seriesInstanceUid: series } : {}),
      ...(region ? { region } : {}),
      onProgress: (done, total) => {
        if (!bar) return;
        if (!started) { bar.start(total, done); started = true; } else { bar.setTotal(total); bar.update(done); }
      },
    });
  } finally {
    if (started) bar?.stop();
  }
}

/** The ROI spec of the command line; a mask file (NIfTI, .nii or .nii.gz) is read here: non-zero voxels are inside. */
async function roiSpecOf(text: string | undefined): Promise<RoiSpec> {
  const parsed = parseRoiSpec(text);
  if (parsed.kind !== 'mask-file') return parsed;
  if (!existsSync(parsed.path)) throw new CalcdxError('file_not_found', { file: parsed.path });
  const mv = await readNifti(parsed.path);
  const mask = new Uint8Array(mv.data.length);
  for (let i = 0; i < mask.length; i++) mask[i] = mv.data[i]! > 0 ? 1 : 0;
  return { kind: 'mask', mask, path: parsed.path };
}

/**
 * `load` replaces the reading of `inputs` (calcdx ct --dicomweb reads the series from an archive).
 * `whole`: read every voxel (the PNG images show the whole slice); otherwise a DICOM series is read
 * only within the ROI's bounding box, the only part the measurement uses.
 */
export async function measureCt(inputs: string[], o: CtOptions, load?: () => Promise<Volume>, whole = false): Promise<{ volume: Volume; analysis: Analysis }> {
  // the ROI is checked before the (slow) read, so a missing or malformed one fails at once
  if (o.roi === undefined || !o.roi.startsWith('mask:')) parseRoiSpec(o.roi);
  const thresholdHU = numberOption('threshold', o.threshold, 100, () => true, 'a number of HU');
  const connectivity = numberOption('connectivity', o.connectivity, 26, (x) => x === 6 || x === 26, '6 or 26') as 6 | 26;
  const minVoxels = numberOption('min-voxels', o.minVoxels, 1, (x) => Number.isInteger(x) && x >= 1, 'a whole number ≥ 1');
  const spec = await roiSpecOf(o.roi);
  // the ROI's box, from the geometry the headers give (resolveRoi reads no voxel)
  const region = whole ? undefined : (g: VolumeGeometry) => resolveRoi({ ...g, data: new Int16Array(0), warnings: [], source: { kind: 'dicom', files: 0 } }, spec).bbox;
  const volume = load ? await load() : await loadVolume(inputs, o.series, region);
  return { volume, analysis: analyseCalcification(volume, spec, { thresholdHU, connectivity, minVoxels, source: inputs.length === 1 ? inputs[0]! : `${inputs.length} files` }) };
}

const r = (x: number | null | undefined, d = 1): string => (x === null || x === undefined ? '—' : x.toFixed(d));

export function ctReportText(v: Volume, a: Analysis): string {
  const L: string[] = [];
  const m = a.measurements;
  L.push(`volume: ${v.dims.join('×')} voxels, ${v.spacing.map((s) => s.toFixed(3)).join(' × ')} mm, ${v.source.kind}${v.modality ? `, ${v.modality}` : ''}`);
  for (const w of [...v.warnings, ...a.roi.warnings]) L.push(`warning: ${w}`);
  L.push(`ROI: ${a.roi.description} (${a.roi.voxels} voxels, ${r(a.roi.volumeMm3 / 1000, 2)} cm³)`);
  L.push(`threshold: > ${a.components.thresholdHU} HU, ${a.components.connectivity}-connectivity, minimum ${a.components.minVoxels} voxel(s)`);
  const les = m.lesion;
  L.push(`calcified: ${les.calcifiedVoxels} voxels, ${r(les.calcifiedVolumeMm3, 1)} mm³ (${r(les.calcifiedFraction * 100, 1)}% of the ROI) in ${les.componentCount} component(s); max ${r(les.maxHU, 0)} HU, mean ${r(les.meanHU, 0)} HU`);
  const p = a.pattern;
  const nums = (o: Record<string, unknown>): string => Object.entries(o)
    .map(([k, v]) => `${k} ${typeof v === 'number' ? (Number.isInteger(v) ? v : v.toFixed(3)) : String(v)}`).join(', ');
  const decided = (name: string, d: { value: unknown; rule: string; measured: Record<string, unknown>; thresholds: Record<string, unknown> }) =>
    `  ${name} ${String(d.value)} (${d.rule}): measured ${nums(d.measured)}; thresholds ${nums(d.thresholds)}`;
  L.push('', 'pattern (each label with the numbers that decided it):');
  for (const f of p.morphology) L.push(decided('morphology', f));
  if (p.distribution) L.push(decided('distribution', p.distribution));
  if (p.zonal) L.push(decided('zonal', p.zonal));
  if (p.extent) L.push(decided('extent', p.extent));
  if (p.notDetected.length) L.push(`  not measured on CT by calcdx: ${p.notDetected.join(', ')}`);
  L.push('', 'components:');
  m.components.slice(0, 30).forEach((c, i) => {
    L.push(`  ${i + 1}. ${c.voxels} vox, ${r(c.volumeMm3, 1)} mm³, max ${r(c.maxHU, 0)} / mean ${r(c.meanHU, 0)} HU, centroid (${c.centroidVoxel.map((x) => x.toFixed(1)).join(', ')}), ρ ${r(c.position.rho, 2)}, elongation ${r(c.elongation, 2)} → ${p.components[i]?.value ?? '—'}`);
  });
  if (m.components.length > 30) L.push(`  … ${m.components.length - 30} more`);
  L.push('', 'case-format findings (merge into imaging):', JSON.stringify(p.fragment, null, 2));
  return `${L.join('\n')}\n`;
}

export async function writeCtOutputs(v: Volume, a: Analysis, o: { png?: string; maskOut?: string }): Promise<string[]> {
  const written: string[] = [];
  if (o.png) {
    try { mkdirSync(o.png, { recursive: true }); } catch (e) {
      throw new CalcdxError('output_exists', { file: o.png, reason: (e as NodeJS.ErrnoException).code ?? String(e) });
    }
    const { renderMipPng, renderSlicePng } = await import('../imaging/render-png.js');
    const slice = renderSlicePng(v, a.roi, a.components);
    const mip = renderMipPng(v, a.roi, a.components);
    const s = join(o.png, `axial-k${slice.k}.png`);
    const m = join(o.png, 'mip.png');
    writeFileAtomic(s, slice.png);
    writeFileAtomic(m, mip.png);
    written.push(s, m);
  }
  if (o.maskOut) {
    const [{ writeNiftiMask }, { labelVolume }] = await Promise.all([import('../imaging/write-nifti.js'), import('../imaging/label.js')]);
    await writeNiftiMask(o.maskOut, v, labelVolume(a.components));
    written.push(o.maskOut);
  }
  return written;
}
