/**
 * CT panel: opens a NIfTI volume from the user's disk in NiiVue (axial, coronal, sagittal), or a
 * DICOM folder converted to NIfTI by the server (POST /api/volume), window presets, lesion centre
 * by click + radius → ROI spec, measurement on the server (POST /api/ct), the component labels as
 * a coloured overlay, and the findings handed back.
 */
import { t, type Lang } from '../../src/i18n/index.js';
import { h } from './dom.js';

type NiivueModule = typeof import('@niivue/niivue');
type NV = InstanceType<NiivueModule['Niivue']>;

export interface CtFindings { imaging?: { ct?: Record<string, unknown>; calcification?: Record<string, unknown> } }

export interface CtPanel {
  render(lang: Lang): void;
}

/** distinct colours for the component labels (Okabe–Ito and a few more) */
const PALETTE: Array<[number, number, number]> = [
  [230, 159, 0], [86, 180, 233], [0, 158, 115], [240, 228, 66], [0, 114, 178], [213, 94, 0], [204, 121, 167],
  [255, 80, 80], [160, 255, 120], [180, 120, 255], [255, 255, 255], [120, 220, 220],
];

const WINDOWS = { soft: { w: 400, l: 40 }, bone: { w: 2000, l: 500 } } as const;

const round1 = (x: number): string => (Math.round(x * 10) / 10).toString();

export function createCtPanel(root: HTMLElement, getLang: () => Lang, onFindings: (f: CtFindings) => void, labelOf: (path: string) => string = (p) => p): CtPanel {
  let nv: NV | undefined;
  let mod: NiivueModule | undefined;
  let files: File[] = [];
  let volumeName = '';
  let windowPreset: keyof typeof WINDOWS = 'soft';
  let boxMode = false;
  let status = '';
  let statusKind: 'info' | 'error' = 'info';
  /** counts the volumes chosen: a slower load of an earlier choice must not replace a later one */
  let loadSeq = 0;

  const canvas = h('canvas', { id: 'ct-canvas', tabindex: 0, role: 'img' });
  const viewer = h('div', { class: 'ct-viewer', hidden: true }, canvas);

  async function ensureViewer(): Promise<NV> {
    if (nv) return nv;
    mod ??= await import('@niivue/niivue');
    nv = new mod.Niivue({
      backColor: [0, 0, 0, 1], show3Dcrosshair: false, crosshairColor: [1, 0.2, 0.2, 1],
      multiplanarShowRender: mod.SHOW_RENDER.NEVER, isColorbar: false, dragMode: mod.DRAG_MODE.none,
    });
    await nv.attachToCanvas(canvas);
    nv.setSliceType(nv.sliceTypeMultiplanar);
    nv.onDragRelease = (p) => { if (boxMode) setBox(p); };
    nv.onLocationChange = (loc: unknown) => {
      const mm = (loc as { mm?: ArrayLike<number> }).mm;
      if (!mm) return;
      setCentre([mm[0]!, mm[1]!, mm[2]!]);
    };
    return nv;
  }

  function input(id: string): HTMLInputElement { return root.querySelector<HTMLInputElement>(`#${id}`)!; }

  function setCentre(mm: [number, number, number]): void {
    input('ct-x').value = round1(mm[0]);
    input('ct-y').value = round1(mm[1]);
    input('ct-z').value = round1(mm[2]);
    updateRoi();
  }

  /** sphere-mm takes patient LPS mm; NiiVue shows RAS mm: x and y change sign. */
  function updateRoi(): void {
    const [x, y, z, r] = ['ct-x', 'ct-y', 'ct-z', 'ct-r'].map((id) => input(id).value.trim());
    if ([x, y, z, r].some((v) => v === '' || !Number.isFinite(Number(v)))) return;
    input('ct-roi').value = `sphere-mm:${round1(-Number(x))},${round1(-Number(y))},${round1(Number(z))},${round1(Number(r))}`;
    moveCrosshair([Number(x), Number(y), Number(z)]);
  }

  /**
   * A box dragged in one view: the two in-plane axes from the drag, the third (through the
   * slice) centred on the slice with the larger in-plane side as its depth; RAS → LPS for box-mm.
   */
  function setBox(p: { mmStart: ArrayLike<number>; mmEnd: ArrayLike<number>; axCorSag: number }): void {
    const a = [p.mmStart[0]!, p.mmStart[1]!, p.mmStart[2]!];
    const b = [p.mmEnd[0]!, p.mmEnd[1]!, p.mmEnd[2]!];
    const through = p.axCorSag === 0 ? 2 : p.axCorSag === 1 ? 1 : 0;
    const lo = [0, 1, 2].map((i) => Math.min(a[i]!, b[i]!));
    const hi = [0, 1, 2].map((i) => Math.max(a[i]!, b[i]!));
    const side = Math.max(...[0, 1, 2].filter((i) => i !== through).map((i) => hi[i]! - lo[i]!));
    if (!(side > 0)) return;
    const mid = (a[through]! + b[through]!) / 2;
    lo[through] = mid - side / 2; hi[through] = mid + side / 2;
    // LPS: x and y change sign (so their ends swap)
    const lps0 = [-hi[0]!, -hi[1]!, lo[2]!], lps1 = [-lo[0]!, -lo[1]!, hi[2]!];
    input('ct-roi').value = `box-mm:${[...lps0, ...lps1].map(round1).join(',')}`;
  }

  function moveCrosshair(mm: [number, number, number]): void {
    if (!nv || !nv.volumes.length) return;
    const frac = nv.mm2frac(mm);
    const cur = nv.scene.crosshairPos;
    if (Math.abs(cur[0]! - frac[0]!) + Math.abs(cur[1]! - frac[1]!) + Math.abs(cur[2]! - frac[2]!) < 1e-6) return;
    nv.scene.crosshairPos = frac;
    nv.drawScene();
  }

  function applyWindow(): void {
    const v = nv?.volumes[0];
    if (!nv || !v) return;
    const { w, l } = WINDOWS[windowPreset];
    v.cal_min = l - w / 2;
    v.cal_max = l + w / 2;
    nv.updateGLVolume();
  }

  function setStatus(text: string, kind: 'info' | 'error' = 'info'): void {
    status = text; statusKind = kind;
    const el = root.querySelector('#ct-status');
    if (el) { el.textContent = text; el.className = kind === 'error' ? 'alert alert-warning' : 'muted'; }
  }

  /** Clears the viewer and what was measured on the previous volume. */
  function clearVolume(): void {
    if (nv) while (nv.volumes.length) nv.removeVolume(nv.volumes[0]!);
    delete root.dataset.loaded; delete root.dataset.dims; delete root.dataset.overlay; delete root.dataset.measured;
  }

  /** Shows a NIfTI file (bytes) in the viewer; false when a later choice has replaced it meanwhile. */
  async function showVolume(bytes: ArrayBuffer, name: string, seq: number): Promise<boolean> {
    const v = await ensureViewer();
    if (seq !== loadSeq) return false;
    viewer.hidden = false;
    while (v.volumes.length) v.removeVolume(v.volumes[0]!);
    await v.loadFromArrayBuffer(bytes, name);
    if (seq !== loadSeq) return false;
    applyWindow();
    const dims = v.volumes[0]?.dims;
    if (dims) root.dataset.dims = dims.slice(1, 4).join('x');
    root.dataset.loaded = '1';
    return true;
  }

  async function openNifti(file: File): Promise<void> {
    const lang = getLang();
    const seq = ++loadSeq;
    clearVolume();
    try {
      files = [file];
      volumeName = file.name;
      if (!await showVolume(await file.arrayBuffer(), file.name, seq)) return;
      setStatus(t(lang, 'web.ct.loaded', { name: file.name }));
    } catch (e) {
      if (seq === loadSeq) setStatus(t(lang, 'web.ct.failed', { detail: (e as Error).message }), 'error');
    }
  }

  /**
   * A DICOM folder: the files are kept for the measurement (POST /api/ct) and sent to
   * POST /api/volume, which answers with the series as a gzip NIfTI volume for the viewer.
   */
  async function openDicom(fs: File[]): Promise<void> {
    const seq = ++loadSeq;
    clearVolume();
    files = fs;
    volumeName = '';
    const folder = fs[0]?.webkitRelativePath.split('/')[0] || 'DICOM';
    setStatus(t(getLang(), 'web.ct.converting', { n: fs.length }));
    try {
      const body = new FormData();
      for (const f of fs) body.append('file', f, f.webkitRelativePath || f.name);
      const res = await fetch(`api/volume?lang=${getLang()}`, { method: 'POST', body });
      if (!res.ok) {
        const json = await res.json().catch(() => ({})) as Record<string, unknown>;
        throw new Error(errorText(json) ?? `HTTP ${res.status}`);
      }
      const warnings = parseWarnings(res.headers.get('x-calcdx-warnings'));
      const bytes = await res.arrayBuffer();
      if (seq !== loadSeq) return;
      if (!await showVolume(bytes, `${folder.replace(/[^\w.-]+/g, '_')}.nii.gz`, seq)) return;
      volumeName = folder;
      const lang = getLang();
      const dims = root.dataset.dims?.replace(/x/g, '×') ?? '?';
      setStatus([t(lang, 'web.ct.dicomLoaded', { n: fs.length, dims }), ...(warnings.length ? [t(lang, 'web.ct.warnings', { list: warnings.join('; ') })] : [])].join('. '));
    } catch (e) {
      if (seq === loadSeq) setStatus(t(getLang(), 'web.ct.convertFailed', { detail: (e as Error).message }), 'error');
    }
  }

  async function measure(): Promise<void> {
    const lang = getLang();
    const roi = input('ct-roi').value.trim();
    if (!files.length || !roi) return;
    const btn = root.querySelector<HTMLButtonElement>('#ct-measure')!;
    btn.disabled = true;
    setStatus(t(lang, 'web.ct.measuring'));
    try {
      const body = new FormData();
      body.append('roi', roi);
      for (const f of files) body.append('file', f, f.webkitRelativePath || f.name);
      const res = await fetch(`api/ct?lang=${lang}`, { method: 'POST', body });
      const json = await res.json().catch(() => ({})) as Record<string, unknown>;
      if (!res.ok) throw new Error(errorText(json) ?? `HTTP ${res.status}`);
      const m = (json.measurement ?? {}) as Record<string, unknown>;
      const lesion = (m.lesion ?? (m.measurements as Record<string, unknown> | undefined)?.lesion ?? {}) as Record<string, number>;
      const summary = t(lang, 'web.ct.result', {
        count: lesion.componentCount ?? '?',
        volume: typeof lesion.calcifiedVolumeMm3 === 'number' ? lesion.calcifiedVolumeMm3.toFixed(0) : '?',
        fraction: typeof lesion.calcifiedFraction === 'number' ? `${(lesion.calcifiedFraction * 100).toFixed(1)}%` : '?',
        max: typeof lesion.maxHU === 'number' ? lesion.maxHU.toFixed(0) : '?',
      });
      if (typeof json.labels === 'string' && nv && nv.volumes.length) await showLabels(json.labels, typeof lesion.componentCount === 'number' ? lesion.componentCount : 1);
      const findings = (json.findings ?? {}) as CtFindings;
      onFindings(findings);
      const fields = Object.entries(findings.imaging ?? {}).flatMap(([s, o]) => Object.keys(o ?? {}).map((k) => labelOf(`imaging.${s}.${k}`)));
      setStatus(`${summary}. ${t(lang, 'web.ct.filled', { fields: fields.join(lang === 'zh' ? '、' : ', ') })}`);
      root.dataset.measured = '1';
    } catch (e) {
      setStatus(t(lang, 'web.ct.failed', { detail: (e as Error).message }), 'error');
    } finally {
      btn.disabled = false;
    }
  }

  async function showLabels(b64: string, count: number): Promise<void> {
    if (!nv || !mod) return;
    const bin = atob(b64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    const gz = bytes[0] === 0x1f && bytes[1] === 0x8b;
    while (nv.volumes.length > 1) nv.removeVolume(nv.volumes[nv.volumes.length - 1]!);
    await nv.loadFromArrayBuffer(bytes.buffer, gz ? 'labels.nii.gz' : 'labels.nii');
    const img = nv.volumes[nv.volumes.length - 1]!;
    // one colour per component (label 1 … count), background transparent
    const n = Math.max(1, count);
    const I = Array.from({ length: n + 1 }, (_, i) => i);
    const rgb = I.map((i) => (i === 0 ? [0, 0, 0] : PALETTE[(i - 1) % PALETTE.length]!));
    img.setColormapLabel({ R: rgb.map((c) => c[0]!), G: rgb.map((c) => c[1]!), B: rgb.map((c) => c[2]!), A: I.map((i) => (i === 0 ? 0 : 255)), I, labels: I.map((i) => (i === 0 ? '' : `#${i}`)) });
    img.opacity = 0.85;
    nv.updateGLVolume();
    root.dataset.overlay = '1';
  }

  function render(lang: Lang): void {
    const fileInput = h('input', { type: 'file', id: 'ct-file', accept: '.nii,.nii.gz,.gz,application/octet-stream' });
    fileInput.addEventListener('change', () => { const f = fileInput.files?.[0]; if (f) void openNifti(f); });
    const dirInput = h('input', { type: 'file', id: 'ct-dir', multiple: true, webkitdirectory: true });
    dirInput.addEventListener('change', () => {
      const fs = [...(dirInput.files ?? [])];
      if (fs.length) void openDicom(fs);
    });
    const sel = h('select', { id: 'ct-window' },
      h('option', { value: 'soft', text: t(lang, 'web.ct.soft'), selected: windowPreset === 'soft' }),
      h('option', { value: 'bone', text: t(lang, 'web.ct.bone'), selected: windowPreset === 'bone' }));
    sel.addEventListener('change', () => { windowPreset = sel.value === 'bone' ? 'bone' : 'soft'; applyWindow(); });
    const num = (id: string, label: string, value = ''): HTMLElement =>
      h('span', { class: 'ct-num' }, h('label', { for: id, text: label }), h('input', { type: 'number', id, step: 'any', value }));
    const old = (id: string): string => root.querySelector<HTMLInputElement>(`#${id}`)?.value ?? '';
    const keep = { x: old('ct-x'), y: old('ct-y'), z: old('ct-z'), r: old('ct-r') || '30', roi: old('ct-roi') };
    const boxToggle = h('input', { type: 'checkbox', id: 'ct-box', checked: boxMode });
    boxToggle.addEventListener('change', () => {
      boxMode = boxToggle.checked;
      if (nv && mod) nv.opts.dragModePrimary = boxMode ? mod.DRAG_MODE.callbackOnly : mod.DRAG_MODE.crosshair;
    });
    const measureBtn = h('button', { type: 'button', id: 'ct-measure', text: t(lang, 'web.ct.measure') });
    measureBtn.addEventListener('click', () => void measure());
    canvas.setAttribute('aria-label', t(lang, 'web.ct.viewerLabel'));
    const body = h('div', { class: 'ct-body' },
      h('div', { class: 'ct-open' },
        h('span', {}, h('label', { for: 'ct-file', text: t(lang, 'web.ct.open') }), fileInput),
        h('span', {}, h('label', { for: 'ct-dir', text: t(lang, 'web.ct.openDicom') }), dirInput)),
      h('div', { class: 'ct-window' }, h('label', { for: 'ct-window', text: t(lang, 'web.ct.window') }), sel),
      viewer,
      h('span', { class: 'check' }, boxToggle, h('label', { for: 'ct-box', text: t(lang, 'web.ct.box') })),
      h('fieldset', { class: 'ct-roi' },
        h('legend', { text: t(lang, 'web.ct.centre') }),
        num('ct-x', t(lang, 'web.ct.centreX'), keep.x), num('ct-y', t(lang, 'web.ct.centreY'), keep.y), num('ct-z', t(lang, 'web.ct.centreZ'), keep.z),
        num('ct-r', t(lang, 'web.ct.radius'), keep.r),
        h('span', { class: 'ct-roi-spec' }, h('label', { for: 'ct-roi', text: t(lang, 'web.ct.roi') }), h('input', { type: 'text', id: 'ct-roi', value: keep.roi, 'aria-describedby': 'ct-roi-hint', spellcheck: 'false' })),
        h('p', { id: 'ct-roi-hint', class: 'hint', text: t(lang, 'web.ct.roiHint') })),
      h('p', {}, measureBtn),
      h('p', { id: 'ct-status', class: statusKind === 'error' ? 'alert alert-warning' : 'muted', role: 'status', 'aria-live': 'polite', text: status || (volumeName ? t(lang, 'web.ct.loaded', { name: volumeName }) : t(lang, 'web.ct.none')) }));
    const details = root.querySelector('details');
    const wasOpen = details?.open ?? false;
    root.replaceChildren(h('details', { open: wasOpen }, h('summary', { text: t(lang, 'web.ct.heading') }), body));
    for (const id of ['ct-x', 'ct-y', 'ct-z', 'ct-r']) input(id).addEventListener('change', updateRoi);
  }

  return { render };
}

/** X-Calcdx-Warnings: a JSON array of strings (anything else is ignored). */
function parseWarnings(header: string | null): string[] {
  if (!header) return [];
  try {
    const v = JSON.parse(header) as unknown;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch { return []; }
}

/** The message of an error answer: a problem's detail, else an error object's message or code. */
function errorText(json: Record<string, unknown>): string | undefined {
  if (typeof json.detail === 'string') return json.detail;
  const e = json.error;
  if (typeof e === 'string') return e;
  if (e && typeof e === 'object') {
    const o = e as Record<string, unknown>;
    return [o.message, o.code].find((x): x is string => typeof x === 'string');
  }
  return typeof json.message === 'string' ? json.message : undefined;
}
