/**
 * Synthetic CT phantoms with known calcifications, mirroring
 * /work/shared/bench-reference/make_phantom.py: a spherical soft-tissue mass (35 HU, radius 35 mm,
 * the ROI) holding twelve calcifications defined in mm relative to the mass centre — a central
 * dense ellipsoid, an eggshell rim (spherical shell cap), five punctate spheres (one a single
 * voxel), two linear streaks, a chain of voxels touching only at corners, a ring arc and an
 * amorphous cluster — plus bone cylinders along z, one just outside the mass but inside its
 * bounding box. Spacing 0.8 × 0.8 × 1.5 mm.
 *
 * The shapes are evaluated on voxel centres with the same floating-point expressions as the
 * Python generator, so the object voxel counts and centroids (relative to the mass centre) are
 * the same. The noise is not numpy's: HU max/mean per object differ from truth.json, the counts
 * do not. Noise is Gaussian (sd 15 HU) truncated at ±55 HU, so "> 100 HU" inside the mass is
 * exactly the objects. Deterministic for a given seed.
 *
 * Presets: 'reference' = make_phantom.py's 512 × 512 × slices geometry (mass at voxel
 * (200, 230, slices/2), three bones); 'small' = 96 × 96 × 64 with the mass at (48, 48, 32) and
 * one hollow bone 3.4 mm outside the mass in the corner of its bounding box (for fast tests).
 */
import type { Volume } from '../imaging/volume.js';
import type { RoiSpec, Vec3 } from '../imaging/roi.js';

export const PHANTOM_SPACING: Vec3 = [0.8, 0.8, 1.5];
export const PHANTOM_THRESHOLD_HU = 100;
const HU_AIR = -1000, HU_SOFT = 40, HU_MASS = 35;
const NOISE_SD = 15, NOISE_CLIP = 55;
export const MASS_RADIUS_MM = 35;

export type PhantomObjectKind = 'dense_central' | 'rim' | 'punctate' | 'linear' | 'ring_arc' | 'amorphous';

type ShapeFn = (dx: number, dy: number, dz: number) => boolean;

interface ObjectSpec {
  kind: PhantomObjectKind;
  shape: string;
  mask: ShapeFn | { chain: { start: Vec3; step: Vec3; length: number } };
  hu: number | ((dx: number, dy: number, dz: number) => number);
}

const sq = (x: number): number => x * x;

function ellipsoid(c: Vec3, ax: Vec3): ShapeFn {
  return (dx, dy, dz) => sq((dx - c[0]) / ax[0]) + sq((dy - c[1]) / ax[1]) + sq((dz - c[2]) / ax[2]) <= 1.0;
}
const sphere = (c: Vec3, r: number): ShapeFn => ellipsoid(c, [r, r, r]);

function shellCap(rIn: number, rOut: number, dir: Vec3, halfAngleDeg: number): ShapeFn {
  const norm = Math.sqrt(dir[0] * dir[0] + dir[1] * dir[1] + dir[2] * dir[2]);
  const u = [dir[0] / norm, dir[1] / norm, dir[2] / norm] as Vec3;
  const cosmax = Math.cos(halfAngleDeg * (Math.PI / 180));
  return (dx, dy, dz) => {
    const r = Math.sqrt(dx * dx + dy * dy + dz * dz);
    const cosang = (dx * u[0] + dy * u[1] + dz * u[2]) / (r === 0 ? 1 : r);
    return r >= rIn && r <= rOut && cosang >= cosmax;
  };
}

function segment(p0: Vec3, p1: Vec3, radius: number): ShapeFn {
  const d = [p1[0] - p0[0], p1[1] - p0[1], p1[2] - p0[2]] as Vec3;
  const L2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
  return (dx, dy, dz) => {
    let t = ((dx - p0[0]) * d[0] + (dy - p0[1]) * d[1] + (dz - p0[2]) * d[2]) / L2;
    t = Math.min(1, Math.max(0, t));
    const qx = p0[0] + t * d[0], qy = p0[1] + t * d[1], qz = p0[2] + t * d[2];
    return sq(dx - qx) + sq(dy - qy) + sq(dz - qz) <= radius * radius;
  };
}

/** torus in the axial plane keeping the arc [start, start + arcDeg) */
function torusArc(c: Vec3, R: number, r: number, arcDeg: number, startDeg: number): ShapeFn {
  return (dx, dy, dz) => {
    const x = dx - c[0], y = dy - c[1], z = dz - c[2];
    const rho = Math.sqrt(x * x + y * y);
    let ang = (Math.atan2(y, x) * (180 / Math.PI) - startDeg) % 360;
    if (ang < 0) ang += 360;
    return sq(rho - R) + z * z <= r * r && ang < arcDeg;
  };
}

const union = (...fs: ShapeFn[]): ShapeFn => (dx, dy, dz) => fs.some((f) => f(dx, dy, dz));

/** The calcifications of make_phantom.py, in mm relative to the mass centre (x = +i, y = +j, z = +k). */
export function phantomObjectSpecs(): ObjectSpec[] {
  const amorphousCentres: Vec3[] = [[-14.0, 13.0, 9.0], [-16.5, 15.0, 10.5], [-12.0, 15.5, 11.0], [-15.0, 11.0, 12.0], [-17.0, 12.5, 8.0], [-13.0, 12.0, 6.5]];
  const amorphousRadii = [2.6, 2.2, 2.0, 2.4, 1.8, 2.0];
  const dc = ellipsoid([0, 0, 0], [8, 6, 7]);
  return [
    {
      kind: 'dense_central', shape: 'ellipsoid semi-axes 8, 6, 7 mm at the centre, HU 1300 at the centre falling to 700 at the surface',
      mask: dc,
      hu: (dx, dy, dz) => {
        const rn = Math.sqrt(sq(dx / 8) + sq(dy / 6) + sq(dz / 7));
        return 1300 - (1300 - 700) * Math.min(1, Math.max(0, rn));
      },
    },
    { kind: 'rim', shape: 'eggshell: spherical shell cap r 29.5-32 mm, half-angle 70 deg', mask: shellCap(29.5, 32.0, [-0.6, -0.6, 0.53], 70.0), hu: 450 },
    { kind: 'punctate', shape: 'sphere r 1.2 mm', mask: sphere([16.0, 8.0, -12.0], 1.2), hu: 500 },
    { kind: 'punctate', shape: 'sphere r 1.6 mm', mask: sphere([18.4, 16.0, 3.0], 1.6), hu: 600 },
    { kind: 'punctate', shape: 'sphere r 2.0 mm', mask: sphere([8.0, 20.0, -9.0], 2.0), hu: 550 },
    { kind: 'punctate', shape: 'sphere r 2.5 mm', mask: sphere([20.0, -4.0, 9.0], 2.5), hu: 650 },
    { kind: 'punctate', shape: 'single voxel (sphere r 0.5 mm on a voxel centre)', mask: sphere([-4.0, 22.4, -15.0], 0.5), hu: 250 },
    { kind: 'linear', shape: 'segment r 0.9 mm, 22 mm long', mask: segment([4.0, -14.0, -18.0], [18.0, -20.0, -3.0], 0.9), hu: 500 },
    { kind: 'linear', shape: 'segment r 0.9 mm, 21 mm long', mask: segment([-22.0, 2.0, -10.0], [-8.0, 16.0, -14.0], 0.9), hu: 480 },
    { kind: 'linear', shape: 'voxel-diagonal chain: 10 voxels, step (+1,+1,+1) voxel, corner contacts only', mask: { chain: { start: [-12, -10, 6], step: [1, 1, 1], length: 10 } }, hu: 350 },
    { kind: 'ring_arc', shape: 'torus arc in the axial plane: R 4 mm, r 0.9 mm, 240 deg', mask: torusArc([-6.0, -20.0, 4.5], 4.0, 0.9, 240.0, 30.0), hu: 520 },
    { kind: 'amorphous', shape: 'union of 6 overlapping spheres r 1.8-2.6 mm', mask: union(...amorphousCentres.map((c, n) => sphere(c, amorphousRadii[n]!))), hu: 420 },
  ];
}

interface BoneSpec { name: string; centerIJ: [number, number]; rOutMm: number; rInMm: number; huCortex: number; huMedulla: number }

const REFERENCE_BONES: BoneSpec[] = [
  { name: 'bone_adjacent_hollow', centerIJ: [248, 278], rOutMm: 15, rInMm: 10, huCortex: 1200, huMedulla: 700 },
  { name: 'bone_solid', centerIJ: [330, 300], rOutMm: 10, rInMm: 0, huCortex: 900, huMedulla: 900 },
  { name: 'bone_thin', centerIJ: [130, 330], rOutMm: 6, rInMm: 0, huCortex: 1100, huMedulla: 1100 },
];
const SMALL_BONES: BoneSpec[] = [
  { name: 'bone_adjacent_hollow', centerIJ: [88, 90], rOutMm: 8, rInMm: 5, huCortex: 1200, huMedulla: 700 },
];

export interface PhantomOptions {
  /** 'small' (default): 96 × 96 × 64; 'reference': make_phantom.py's 512 × 512 × slices */
  preset?: 'small' | 'reference';
  /** reference preset only; >= 56, default 64 */
  slices?: number;
  /** noise seed, default 1 */
  seed?: number;
  /** calcifications to include, by kind or by id (1..12, make_phantom.py's order); default all */
  objects?: ReadonlyArray<PhantomObjectKind | number>;
  /** bone cylinders, default true */
  bones?: boolean;
  /** truncated Gaussian noise, default true */
  noise?: boolean;
}

export interface PhantomObjectTruth {
  id: number;
  kind: PhantomObjectKind;
  shape: string;
  voxels: number;
  centroidVoxel: Vec3;
  bboxMin: Vec3;
  bboxMax: Vec3;
  maxHU: number;
  minHU: number;
  meanHU: number;
  sumHU: number;
  radialMinMm: number;
  radialMaxMm: number;
}

export interface PhantomTruth {
  preset: 'small' | 'reference';
  dims: Vec3;
  spacing: Vec3;
  seed: number;
  thresholdHU: number;
  /** the mass as an ROI: voxel centre + radius in mm (the reference pipeline's --roi-sphere) */
  roi: Extract<RoiSpec, { kind: 'sphere' }>;
  roiVoxels: number;
  massCenterVoxel: Vec3;
  objects: PhantomObjectTruth[];
  calcifiedVoxels: number;
  bones: { name: string; voxels: number; centerIJ: [number, number]; rOutMm: number; rInMm: number }[];
}

/** Deterministic PRNG (mulberry32) → standard normal pairs (Box–Muller). */
function gaussian(seed: number): () => number {
  let s = (seed >>> 0) ^ 0x9e3779b9;
  const uni = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
  let spare = Number.NaN;
  return () => {
    if (!Number.isNaN(spare)) { const x = spare; spare = Number.NaN; return x; }
    const r = Math.sqrt(-2 * Math.log(uni())), th = 2 * Math.PI * uni();
    spare = r * Math.sin(th);
    return r * Math.cos(th);
  };
}

const f32 = Math.fround;

/** Builds a phantom volume and its ground truth. */
export function makePhantom(options: PhantomOptions = {}): { volume: Volume; truth: PhantomTruth } {
  const preset = options.preset ?? 'small';
  const seed = options.seed ?? 1;
  const [SX, SY, SZ] = PHANTOM_SPACING;
  let nx: number, ny: number, nz: number, ci: number, cj: number, bones: BoneSpec[], body: { c: [number, number]; ax: [number, number] };
  if (preset === 'reference') {
    nx = 512; ny = 512; nz = options.slices ?? 64;
    if (!Number.isInteger(nz) || nz < 56) throw new RangeError('the reference phantom needs at least 56 slices for a 35 mm mass at 1.5 mm spacing');
    ci = 200; cj = 230; bones = REFERENCE_BONES; body = { c: [255.5, 255.5], ax: [180, 140] };
  } else {
    nx = 96; ny = 96; nz = 64; ci = 48; cj = 48; bones = SMALL_BONES; body = { c: [47.5, 47.5], ax: [38.4, 38.4] };
  }
  if (options.bones === false) bones = [];
  const ck = Math.floor(nz / 2);
  const nxy = nx * ny;
  const hu = new Float32Array(nxy * nz).fill(HU_AIR);

  // body and bones: 2-D masks in float32 arithmetic, as numpy does with float32 mgrid arrays
  const slice = new Float32Array(nxy).fill(HU_AIR);
  const sx32 = f32(SX), sy32 = f32(SY);
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      const a = f32(f32(f32(i - body.c[0]) * sx32) / body.ax[0]), b = f32(f32(f32(j - body.c[1]) * sy32) / body.ax[1]);
      if (f32(f32(a * a) + f32(b * b)) <= 1) slice[i + nx * j] = HU_SOFT;
    }
  }
  const boneVox: number[] = [];
  for (const b of bones) {
    let count = 0;
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const a = f32(f32(i - b.centerIJ[0]) * sx32), c = f32(f32(j - b.centerIJ[1]) * sy32);
        const r2 = f32(f32(a * a) + f32(c * c));
        if (r2 <= b.rOutMm * b.rOutMm) {
          count++;
          slice[i + nx * j] = b.rInMm > 0 && r2 <= b.rInMm * b.rInMm ? b.huMedulla : b.huCortex;
        }
      }
    }
    boneVox.push(count * nz);
  }
  for (let k = 0; k < nz; k++) hu.set(slice, k * nxy);

  // mass and objects inside the mass's box
  const ri = Math.ceil(MASS_RADIUS_MM / SX) + 1, rj = Math.ceil(MASS_RADIUS_MM / SY) + 1, rk = Math.ceil(MASS_RADIUS_MM / SZ) + 1;
  const i0 = Math.max(0, ci - ri), i1 = Math.min(nx - 1, ci + ri);
  const j0 = Math.max(0, cj - rj), j1 = Math.min(ny - 1, cj + rj);
  const k0 = Math.max(0, ck - rk), k1 = Math.min(nz - 1, ck + rk);
  const R2 = MASS_RADIUS_MM * MASS_RADIUS_MM;
  let roiVoxels = 0;
  for (let k = k0; k <= k1; k++) {
    const dz = (k - ck) * SZ;
    for (let j = j0; j <= j1; j++) {
      const dy = (j - cj) * SY;
      for (let i = i0; i <= i1; i++) {
        const dx = (i - ci) * SX;
        if (dx * dx + dy * dy + dz * dz <= R2) { hu[i + nx * j + nxy * k] = HU_MASS; roiVoxels++; }
      }
    }
  }
  const specs = phantomObjectSpecs();
  const wanted = options.objects;
  const objectIdx = new Int32Array(nxy * nz); // object id per voxel, for the truth
  const included: number[] = [];
  specs.forEach((s, n) => {
    const id = n + 1;
    if (wanted && !wanted.includes(s.kind) && !wanted.includes(id)) return;
    included.push(id);
    const set = (i: number, j: number, k: number): void => {
      const p = i + nx * j + nxy * k;
      const dx = (i - ci) * SX, dy = (j - cj) * SY, dz = (k - ck) * SZ;
      hu[p] = typeof s.hu === 'number' ? s.hu : s.hu(dx, dy, dz);
      objectIdx[p] = id;
    };
    if ('chain' in s.mask) {
      const { start, step, length } = s.mask.chain;
      for (let t = 0; t < length; t++) set(ci + start[0] + t * step[0], cj + start[1] + t * step[1], ck + start[2] + t * step[2]);
      return;
    }
    const f = s.mask;
    for (let k = k0; k <= k1; k++) {
      const dz = (k - ck) * SZ;
      for (let j = j0; j <= j1; j++) {
        const dy = (j - cj) * SY;
        for (let i = i0; i <= i1; i++) {
          if (f((i - ci) * SX, dy, dz)) set(i, j, k);
        }
      }
    }
  });

  // truncated noise, HU range, int16
  const data = new Int16Array(nxy * nz);
  const g = gaussian(seed);
  const noise = options.noise !== false;
  for (let p = 0; p < data.length; p++) {
    let x = hu[p]!;
    if (noise) x = f32(x + f32(Math.min(NOISE_CLIP, Math.max(-NOISE_CLIP, f32(g() * NOISE_SD)))));
    data[p] = Math.round(Math.min(3071, Math.max(-1024, x)));
  }

  // truth per object
  const objects: PhantomObjectTruth[] = [];
  for (const id of included) {
    const s = specs[id - 1]!;
    let n = 0, si = 0, sj = 0, sk = 0, sum = 0, mx = -Infinity, mn = Infinity, rmin = Infinity, rmax = -Infinity;
    const lo: Vec3 = [nx, ny, nz], hi: Vec3 = [-1, -1, -1];
    for (let k = k0; k <= k1; k++) {
      for (let j = j0; j <= j1; j++) {
        for (let i = i0; i <= i1; i++) {
          const p = i + nx * j + nxy * k;
          if (objectIdx[p] !== id) continue;
          const h = data[p]!;
          n++; si += i; sj += j; sk += k; sum += h;
          if (h > mx) mx = h; if (h < mn) mn = h;
          const dx = (i - ci) * SX, dy = (j - cj) * SY, dz = (k - ck) * SZ;
          const r = Math.sqrt(dx * dx + dy * dy + dz * dz);
          if (r < rmin) rmin = r; if (r > rmax) rmax = r;
          lo[0] = Math.min(lo[0], i); lo[1] = Math.min(lo[1], j); lo[2] = Math.min(lo[2], k);
          hi[0] = Math.max(hi[0], i); hi[1] = Math.max(hi[1], j); hi[2] = Math.max(hi[2], k);
        }
      }
    }
    objects.push({
      id, kind: s.kind, shape: s.shape, voxels: n, centroidVoxel: [si / n, sj / n, sk / n], bboxMin: lo, bboxMax: hi,
      maxHU: mx, minHU: mn, meanHU: sum / n, sumHU: sum, radialMinMm: rmin, radialMaxMm: rmax,
    });
  }

  const x0 = -204.4, y0 = -204.4, z0 = -Math.round((nz * SZ) / 2 * 10) / 10;
  const volume: Volume = {
    dims: [nx, ny, nz],
    spacing: [SX, SY, SZ],
    data,
    affine: [SX, 0, 0, x0, 0, SY, 0, y0, 0, 0, SZ, z0, 0, 0, 0, 1],
    modality: 'CT',
    warnings: [],
    source: { kind: 'nifti', files: 0, description: `calcdx synthetic phantom (${preset}, seed ${seed})` },
  };
  return {
    volume,
    truth: {
      preset, dims: [nx, ny, nz], spacing: [SX, SY, SZ], seed, thresholdHU: PHANTOM_THRESHOLD_HU,
      roi: { kind: 'sphere', center: [ci, cj, ck], radius: MASS_RADIUS_MM, centerUnits: 'voxel', radiusUnits: 'mm' },
      roiVoxels, massCenterVoxel: [ci, cj, ck], objects,
      calcifiedVoxels: objects.reduce((a, o) => a + o.voxels, 0),
      bones: bones.map((b, n) => ({ name: b.name, voxels: boneVox[n]!, centerIJ: b.centerIJ, rOutMm: b.rOutMm, rInMm: b.rInMm })),
    },
  };
}
