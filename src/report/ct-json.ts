/**
 * A CT measurement as JSON: what `calcdx ct --json` prints and what POST /api/ct answers in
 * `measurement` (one shape for the CLI and the server).
 */
import type { Analysis } from '../imaging/pattern.js';
import type { Volume } from '../imaging/volume.js';

export function ctReportJson(v: Volume, a: Analysis): Record<string, unknown> {
  return {
    volume: { dims: v.dims, spacing: v.spacing, modality: v.modality ?? null, source: v.source, warnings: v.warnings },
    roi: { kind: a.roi.kind, description: a.roi.description, voxels: a.roi.voxels, volumeMm3: a.roi.volumeMm3, bbox: a.roi.bbox, centerVoxel: a.roi.centerVoxel, centerMm: a.roi.centerMm, radiusMm: a.roi.radiusMm, warnings: a.roi.warnings },
    options: { thresholdHU: a.components.thresholdHU, connectivity: a.components.connectivity, minVoxels: a.components.minVoxels, dropped: a.components.dropped },
    lesion: a.measurements.lesion,
    components: a.measurements.components,
    pattern: { ...a.pattern, fragment: undefined },
    findings: a.pattern.fragment,
  };
}
