/**
 * CT panel: opens a NIfTI volume from the user's disk in NiiVue (axial, coronal, sagittal), or a
 * DICOM folder converted to NIfTI by the server (POST /api/volume); radiological convention by
 * default (patient left on screen right), switchable; window presets; the ROI as a sphere (click
 * the centre in any view, give a radius) or a box (drag in any view), drawn in all three views;
 * measurement on the server (POST /api/ct, or a queued job — POST /api/ct/jobs, progress pushed by
 * server-sent events — when the server has a queue, GET /api/ct/queue) with progress; the component labels as a coloured
 * overlay, and the findings handed to the form (which decides what to fill, see ct-merge.ts).
 * A series can also come from an image archive ("Open from PACS", panels/pacs): the server
 * retrieves it (POST /api/pacs/:archive/volume, …/measure, or …/jobs with a queue) and, on "Store to PACS", writes the
 * measurement back as DICOM SEG + SR (…/store).
 *
 * One coordinate convention: the centre fields and the ROI text are patient LPS mm, as
 * `calcdx ct` takes them (x to the patient's left, y posterior, z superior); NiiVue works in
 * RAS mm, so x and y change sign at the viewer boundary (toLps / toRas) and nowhere else.
 */
import { t, type Lang } from '../../../../src/i18n/index.js';
import { h } from '../../dom.js';
import { csrfHeaders } from '../../api/session.js';
import { mountPacsBrowser, type PacsSelection } from '../pacs/pacs-browser.js';

type NiivueModule = typeof import('@niivue/niivue');
type NV = InstanceType<NiivueModule['Niivue']>;

/** The findings of a CT measurement (the `findings` of POST /api/ct), handed to the page. */
export interface CtFindings { imaging?: { ct?: Record<string, unknown>; calcification?: Record<string, unknown> } }

/** What the form did with a measurement: the fields it filled, how many entries differ. */
export interface MeasureOutcome { filled: string[]; differences: number }

export interface CtPanel {
  render(lang: Lang): void;
}

type Vec3 = [number, number, number];
const toLps = (ras: ArrayLike<number>): Vec3 => [-ras[0]!, -ras[1]!, ras[2]!];
const toRas = toLps;

/** distinct colours for the component labels (Okabe–Ito and a few more) */
const PALETTE: Array<[number, number, number]> = [
  [230, 159, 0], [86, 180, 233], [0, 158, 115], [240, 228, 66], [0, 114, 178], [213, 94, 0], [204, 121, 167],
  [255, 80, 80], [160, 255, 120], [180, 120, 255], [255, 255, 255], [120, 220, 220],
];

const WINDOWS = { soft: { w: 400, l: 40 }, bone: { w: 2000, l: 500 } } as const;

const round1 = (x: number): string => (Math.round(x * 10) / 10).toString();

export function createCtPanel(root: HTMLElement, getLang: () => Lang, onFindings: (f: CtFindings) => MeasureOutcome): CtPanel {
  let nv: NV | undefined;
  let mod: NiivueModule | undefined;
  let files: File[] = [];
  /** the archive series shown, when it came from PACS (then `files` is empty) */
  let pacs: PacsSelection | undefined;
  /** what was last measured on an archive series: the store request repeats it */
  let measuredPacs: { sel: PacsSelection; body: string } | undefined;
  let volumeName = '';
  let windowPreset: keyof typeof WINDOWS = 'soft';
  let boxMode = false;
  let radiological = true;
  let status = '';
  let statusKind: 'info' | 'error' = 'info';
  let statusDetail = '';
  /** counts the volumes chosen: a slower load of an earlier choice must not replace a later one */
  let loadSeq = 0;

  const pacsEl = h('div', { id: 'pacs-panel' });
  void hasQueue();
  const canvas = h('canvas', { id: 'ct-canvas', tabindex: 0, role: 'img' });
  const viewer = h('div', { class: 'ct-viewer', hidden: true }, canvas);
  // progress: one bar and one line (stage, percentage when known, elapsed seconds)
  const progressBar = h('progress', { id: 'ct-progress-bar', max: 1 });
  const progressText = h('span', { id: 'ct-progress-text' });
  const progress = h('div', { id: 'ct-progress', class: 'ct-progress', hidden: true, role: 'status', 'aria-live': 'polite' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), progressBar, progressText);
  let progressTimer: ReturnType<typeof setInterval> | undefined;
  let progressStart = 0;
  let progressStage = { key: '', frac: undefined as number | undefined };

  function showProgress(key: string, frac?: number): void {
    if (progress.hidden) {
      progressStart = performance.now();
      progress.hidden = false;
      root.dataset.stages = '';
      progressTimer = setInterval(drawProgress, 250);
    }
    if (progressStage.key !== key) root.dataset.stages = [root.dataset.stages, key].filter(Boolean).join(',');
    progressStage = { key, frac };
    root.dataset.stage = key;
    drawProgress();
  }
  function drawProgress(): void {
    const lang = getLang();
    const secs = Math.round((performance.now() - progressStart) / 1000);
    const { key, frac } = progressStage;
    if (frac === undefined) progressBar.removeAttribute('value'); else progressBar.value = frac;
    progressText.textContent = t(lang, 'web.ct.progress', {
      stage: t(lang, `web.ct.stage.${key}`), pct: frac === undefined ? '' : ` ${Math.round(frac * 100)} %`, s: secs,
    });
  }
  function hideProgress(): void {
    if (progressTimer) clearInterval(progressTimer);
    progressTimer = undefined;
    progress.hidden = true;
    delete root.dataset.stage;
  }

  async function ensureViewer(): Promise<NV> {
    if (nv) return nv;
    mod ??= await import('@niivue/niivue');
    nv = new mod.Niivue({
      backColor: [0, 0, 0, 1], show3Dcrosshair: false, crosshairColor: [1, 0.2, 0.2, 1],
      multiplanarShowRender: mod.SHOW_RENDER.NEVER, isColorbar: false, dragMode: mod.DRAG_MODE.none,
      isRadiologicalConvention: radiological, isOrientationTextVisible: true, showAllOrientationMarkers: true,
      multiplanarLayout: mod.MULTIPLANAR_TYPE.GRID,
    });
    await nv.attachToCanvas(canvas);
    nv.setSliceType(nv.sliceTypeMultiplanar);
    nv.setDrawOpacity(0.35);
    nv.opts.dragModePrimary = boxMode ? mod.DRAG_MODE.callbackOnly : mod.DRAG_MODE.crosshair;
    nv.onDragRelease = (p) => { exposeTiles(); if (boxMode) setBox(p); };
    nv.onLocationChange = (loc: unknown) => {
      exposeTiles();
      const mm = (loc as { mm?: ArrayLike<number> }).mm;
      if (!mm || boxMode) return;
      setCentre(toLps(mm));
    };
    return nv;
  }

  function input(id: string): HTMLInputElement { return root.querySelector<HTMLInputElement>(`#${id}`)!; }

  /** The centre fields (LPS mm), from a click in the viewer. */
  function setCentre(lps: Vec3): void {
    input('ct-x').value = round1(lps[0]);
    input('ct-y').value = round1(lps[1]);
    input('ct-z').value = round1(lps[2]);
    updateRoi();
  }

  /** The sphere ROI from the centre fields and the radius (all LPS mm, as `calcdx ct` takes them). */
  function updateRoi(): void {
    const [x, y, z, r] = ['ct-x', 'ct-y', 'ct-z', 'ct-r'].map((id) => input(id).value.trim());
    if ([x, y, z, r].some((v) => v === '' || !Number.isFinite(Number(v)))) return;
    input('ct-roi').value = `sphere-mm:${round1(Number(x))},${round1(Number(y))},${round1(Number(z))},${round1(Number(r))}`;
    moveCrosshair(toRas([Number(x), Number(y), Number(z)]));
    drawRoi();
  }

  /**
   * A box dragged in any view: the two in-plane axes from the drag, the third (through the
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
    drawRoi();
  }

  /**
   * The ROI (sphere-mm or box-mm, LPS) painted into NiiVue's drawing layer, so that it shows in
   * all three views. Other ROI kinds (voxel boxes, masks) are measured but not drawn.
   */
  function drawRoi(): void {
    if (!nv || !nv.volumes.length || !nv.back) return;
    const spec = input('ct-roi').value.trim();
    const m = /^(sphere-mm|box-mm):(.*)$/.exec(spec);
    const nums = m ? m[2]!.split(',').map(Number) : [];
    const ok = m && nums.every(Number.isFinite) && nums.length === (m[1] === 'sphere-mm' ? 4 : 6);
    const dims = nv.back.dims!;
    const [dx, dy, dz] = [dims[1]!, dims[2]!, dims[3]!];
    if (!nv.drawBitmap || nv.drawBitmap.length !== dx * dy * dz) nv.createEmptyDrawing();
    const bitmap = nv.drawBitmap!;
    bitmap.fill(0);
    let count = 0;
    if (ok) {
      // voxel (RAS-ordered, as NiiVue stores it) → RAS mm: an affine, taken from four voxels
      const mmOf = (v: Vec3): Vec3 => { const q = nv!.frac2mm(nv!.vox2frac(v)); return [q[0]!, q[1]!, q[2]!]; };
      const o = mmOf([0, 0, 0]);
      const ax = [mmOf([1, 0, 0]), mmOf([0, 1, 0]), mmOf([0, 0, 1])].map((q) => [q[0] - o[0], q[1] - o[1], q[2] - o[2]]);
      let inside: (x: number, y: number, z: number) => boolean;
      let lo: number[], hi: number[];
      if (m![1] === 'sphere-mm') {
        const c = toRas(nums as Vec3); const r = nums[3]!; const r2 = r ** 2;
        inside = (x, y, z) => (x - c[0]) ** 2 + (y - c[1]) ** 2 + (z - c[2]) ** 2 <= r2;
        lo = c.map((v) => v - r); hi = c.map((v) => v + r);
      } else {
        const p0 = toRas(nums.slice(0, 3) as Vec3), p1 = toRas(nums.slice(3, 6) as Vec3);
        lo = [0, 1, 2].map((i) => Math.min(p0[i]!, p1[i]!)); hi = [0, 1, 2].map((i) => Math.max(p0[i]!, p1[i]!));
        const l = lo, u = hi;
        inside = (x, y, z) => x >= l[0]! && x <= u[0]! && y >= l[1]! && y <= u[1]! && z >= l[2]! && z <= u[2]!;
      }
      // NiiVue's display grid is axis-aligned: only the voxels of the ROI's bounding box are visited
      const range = (axis: number, n: number): [number, number] => {
        const step = ax[axis]![axis]!;
        const offAxis = ax[axis]!.some((v, i) => i !== axis && Math.abs(v) > 1e-6);
        if (offAxis || !step) return [0, n - 1];
        const a0 = (lo[axis]! - o[axis]!) / step, a1 = (hi[axis]! - o[axis]!) / step;
        return [Math.max(0, Math.floor(Math.min(a0, a1))), Math.min(n - 1, Math.ceil(Math.max(a0, a1)))];
      };
      const [i0, i1] = range(0, dx), [j0, j1] = range(1, dy), [k0, k1] = range(2, dz);
      for (let k = k0; k <= k1; k++) {
        for (let j = j0; j <= j1; j++) {
          const bx = o[0] + ax[1]![0]! * j + ax[2]![0]! * k, by = o[1] + ax[1]![1]! * j + ax[2]![1]! * k, bz = o[2] + ax[1]![2]! * j + ax[2]![2]! * k;
          const row = (k * dy + j) * dx;
          for (let i = i0; i <= i1; i++) {
            if (inside(bx + ax[0]![0]! * i, by + ax[0]![1]! * i, bz + ax[0]![2]! * i)) { bitmap[row + i] = 1; count++; }
          }
        }
      }
    }
    nv.refreshDrawing(true);
    root.dataset.roiVoxels = String(count);
  }

  function moveCrosshair(mm: Vec3): void {
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

  function setStatus(text: string, kind: 'info' | 'error' = 'info', detail = ''): void {
    status = text; statusKind = kind; statusDetail = detail;
    const el = root.querySelector('#ct-status');
    if (el) el.replaceWith(statusElement());
  }

  function statusElement(): HTMLElement {
    const lang = getLang();
    const text = status || (volumeName ? t(lang, 'web.ct.loaded', { name: volumeName }) : t(lang, 'web.ct.none'));
    return h('div', { id: 'ct-status', class: statusKind === 'error' ? 'alert alert-warning' : 'muted', role: 'status', 'aria-live': 'polite' },
      h('span', { id: 'ct-status-text', text }),
      statusDetail ? h('details', { class: 'ct-detail' }, h('summary', { text: t(lang, 'web.ct.technical') }), h('code', { text: statusDetail })) : null);
  }

  /**
   * The panel's one way to run an action: the busy status (and its button disabled) while `work`
   * runs; an error shown as the `failed` sentence (its {detail}: the error in plain words) with the
   * server's own detail as the technical detail; then the progress hidden and the button enabled
   * again. `current`: false once a later choice of volume has replaced this one, whose error and
   * progress are then left alone. `lang`: the action's language, else the page's when it fails.
   */
  async function runAction(o: {
    busy?: string; button?: HTMLButtonElement; current?: () => boolean; failed: string; lang?: Lang;
    onError?: () => void; explain?: (e: PanelError, lang: Lang) => { message: string; detail: string };
  }, work: () => Promise<void>): Promise<void> {
    const current = o.current ?? (() => true);
    if (o.button) o.button.disabled = true;
    if (o.busy !== undefined) setStatus(o.busy);
    try {
      await work();
    } catch (e) {
      if (current()) {
        const lang = o.lang ?? getLang();
        const pe = e as PanelError;
        const { message, detail } = o.explain ? o.explain(pe, lang) : { message: messageOf(pe, lang), detail: pe.detail ?? '' };
        o.onError?.();
        setStatus(t(lang, o.failed, { detail: message }), 'error', detail);
      }
    } finally {
      if (current()) hideProgress();
      if (o.button) o.button.disabled = false;
    }
  }

  /** Clears the viewer and what was measured on the previous volume. */
  function clearVolume(): void {
    if (nv) while (nv.volumes.length) nv.removeVolume(nv.volumes[0]!);
    if (nv?.drawBitmap) nv.closeDrawing();
    delete root.dataset.loaded; delete root.dataset.dims; delete root.dataset.overlay; delete root.dataset.measured; delete root.dataset.roiVoxels; delete root.dataset.stored; delete root.dataset.source;
    pacs = undefined;
    measuredPacs = undefined;
    showStore();
  }

  /** Shows a NIfTI file (bytes) in the viewer; false when a later choice has replaced it meanwhile. */
  async function showVolume(bytes: ArrayBuffer, name: string, seq: number): Promise<boolean> {
    showProgress('decode');
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
    // the viewer was hidden until now: size the canvas to its box before the first drawing
    v.resizeListener();
    v.createEmptyDrawing();
    drawRoi();
    v.drawScene();
    exposeTiles();
    return true;
  }

  /** Where the views are on the canvas (CSS px; view 0 axial, 1 coronal, 2 sagittal), for tests and tools. */
  function exposeTiles(): void {
    if (!nv || !canvas.width) return;
    const dpr = canvas.width / Math.max(1, canvas.clientWidth);
    root.dataset.tiles = JSON.stringify(nv.screenSlices.map((s) => {
      const [left, top, width, height] = (s.leftTopWidthHeight as ArrayLike<number>) as number[];
      return { view: s.axCorSag, left: left! / dpr, top: top! / dpr, width: width! / dpr, height: height! / dpr };
    }));
  }

  async function openNifti(file: File): Promise<void> {
    const lang = getLang();
    const seq = ++loadSeq;
    clearVolume();
    await runAction({
      current: () => seq === loadSeq, failed: 'web.ct.failed', lang,
      explain: (e) => ({ message: t(lang, 'web.ct.error.unreadableVolume'), detail: e.message }),
    }, async () => {
      files = [file];
      volumeName = file.name;
      showProgress('read');
      const bytes = await file.arrayBuffer();
      if (!await showVolume(bytes, file.name, seq)) return;
      setStatus(t(lang, 'web.ct.loaded', { name: file.name }));
    });
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
    await runAction({ busy: t(getLang(), 'web.ct.converting', { count: fs.length }), current: () => seq === loadSeq, failed: 'web.ct.convertFailed' }, async () => {
      const body = new FormData();
      for (const f of fs) body.append('file', f, f.webkitRelativePath || f.name);
      const res = await send(`api/volume?lang=${getLang()}`, body, (stage, frac) => { if (seq === loadSeq) showProgress(stage === 'server' ? 'convert' : stage, frac); });
      if (res.status !== 200) throw problemError(res, getLang());
      const warnings = parseWarnings(res.header('x-calcdx-warnings'));
      if (seq !== loadSeq) return;
      if (!await showVolume(res.body, `${folder.replace(/[^\w.-]+/g, '_')}.nii.gz`, seq)) return;
      volumeName = folder;
      const lang = getLang();
      const dims = root.dataset.dims?.replace(/x/g, '×') ?? '?';
      setStatus([t(lang, 'web.ct.dicomLoaded', { count: fs.length, dims }), ...(warnings.length ? [t(lang, 'web.ct.warnings', { list: warnings.join('; ') })] : [])].join(lang === 'zh' ? '。' : '. '));
    });
  }

  /** A CT series of an archive: the server retrieves it and answers with the NIfTI volume for the viewer. */
  async function openPacs(sel: PacsSelection): Promise<void> {
    const seq = ++loadSeq;
    clearVolume();
    files = [];
    volumeName = '';
    pacs = sel;
    await runAction({
      busy: t(getLang(), 'web.pacs.retrieving', { archive: sel.archiveLabel }), current: () => seq === loadSeq, failed: 'web.pacs.failed',
      onError: () => { pacs = undefined; },
    }, async () => {
      const body = JSON.stringify({ study: sel.study, series: sel.series });
      const res = await send(`api/pacs/${encodeURIComponent(sel.archive)}/volume?lang=${getLang()}`, body, (stage, frac) => { if (seq === loadSeq) showProgress(stage === 'server' ? 'retrieve' : stage, frac); }, await csrfHeaders());
      if (res.status !== 200) throw problemError(res, getLang());
      const warnings = parseWarnings(res.header('x-calcdx-warnings'));
      if (seq !== loadSeq) return;
      if (!await showVolume(res.body, 'pacs.nii.gz', seq)) return;
      volumeName = sel.title || sel.series;
      const lang = getLang();
      const dims = root.dataset.dims?.replace(/x/g, '×') ?? '?';
      root.dataset.source = 'pacs';
      setStatus([t(lang, 'web.pacs.loaded', { archive: sel.archiveLabel, title: volumeName, dims }), ...(warnings.length ? [t(lang, 'web.ct.warnings', { list: warnings.join('; ') })] : [])].join(lang === 'zh' ? '。' : '. '));
    });
  }

  /** "Store to PACS": shown once an archive series has been measured. */
  function showStore(): void {
    const btn = root.querySelector<HTMLButtonElement>('#ct-store');
    if (btn) btn.hidden = measuredPacs === undefined;
  }

  /** Writes the last measurement of an archive series back to its study (DICOM SEG + SR, through the server). */
  async function store(): Promise<void> {
    const lang = getLang();
    const m = measuredPacs;
    if (!m) return;
    const button = root.querySelector<HTMLButtonElement>('#ct-store')!;
    await runAction({ busy: t(lang, 'web.pacs.storing', { archive: m.sel.archiveLabel }), button, failed: 'web.pacs.storeFailed', lang }, async () => {
      const res = await send(`api/pacs/${encodeURIComponent(m.sel.archive)}/store?lang=${lang}`, m.body, (stage, frac) => showProgress(stage === 'server' ? 'store' : stage, frac), await csrfHeaders());
      if (res.status !== 200) throw problemError(res, lang);
      const stored = (res.json().stored ?? {}) as { seg?: { sopInstanceUid?: string }; sr?: { sopInstanceUid?: string } };
      root.dataset.stored = '1';
      setStatus(t(lang, 'web.pacs.stored', { archive: m.sel.archiveLabel, seg: stored.seg?.sopInstanceUid ?? '?', sr: stored.sr?.sopInstanceUid ?? '?' }));
    });
  }

  /**
   * A queued job (the 202 of POST /api/ct/jobs or /api/pacs/:archive/jobs) followed to its end: its
   * state and progress pushed by the server (EventSource on …/events) drive the progress bar; the
   * final state is read once (GET /api/ct/jobs/:id) and answered as the synchronous route would
   * have answered: the result with 200, or the job's problem. Anything but a 202 is returned as it is.
   */
  async function jobResult(sent: Sent, lang: Lang): Promise<Sent> {
    if (sent.status !== 202) return sent;
    const id = String(sent.json().id ?? '');
    root.dataset.job = id;
    root.dataset.jobEvents = '0';
    root.dataset.jobSeen = '';
    const url = `api/ct/jobs/${encodeURIComponent(id)}`;
    const final = async (): Promise<Sent> => {
      const r = await fetch(`${url}?lang=${lang}`, { headers: { accept: 'application/json' } });
      const j = await r.json().catch(() => ({})) as { state?: string; result?: unknown; error?: Record<string, unknown> };
      if (!r.ok) return jsonSent(r.status, j);
      return j.state === 'completed' ? jsonSent(200, j.result ?? {}) : jsonSent(Number(j.error?.status) || 500, j.error ?? {});
    };
    return new Promise<Sent>((resolve, reject) => {
      const es = new EventSource(`${url}/events?lang=${lang}`);
      let done = false;
      let errors = 0;
      const end = () => {
        if (done) return;
        done = true;
        es.close();
        final().then(resolve, () => reject(Object.assign(new Error('network'), { code: 'network' })));
      };
      const onEvent = (ev: MessageEvent<string>) => {
        errors = 0;
        let e: { state?: string; progress?: number };
        try { e = JSON.parse(ev.data) as typeof e; } catch { return; }
        // what arrived, for tests and tools: the count, and each event as state:progress
        root.dataset.jobEvents = String(Number(root.dataset.jobEvents ?? 0) + 1);
        root.dataset.jobSeen = [root.dataset.jobSeen, `${e.state}:${e.progress}`].filter(Boolean).join(',');
        if (e.state === 'queued' || e.state === 'retrying') showProgress('queued');
        else if (e.state === 'running') showProgress('measure', (e.progress ?? 0) / 100);
        if (e.state && JOB_ENDS.has(e.state)) end();
      };
      es.addEventListener('state', onEvent);
      es.addEventListener('progress', onEvent);
      // the stream broke (EventSource reconnects by itself): the job may have ended meanwhile, or the server be gone
      es.onerror = () => {
        if (done) return;
        if (++errors > 5) { done = true; es.close(); reject(Object.assign(new Error('network'), { code: 'network' })); return; }
        void fetch(`${url}?lang=${lang}`, { headers: { accept: 'application/json' } })
          .then((r) => r.json() as Promise<{ state?: string }>)
          .then((j) => { if (j.state && JOB_ENDS.has(j.state)) end(); }, () => undefined);
      };
    });
  }

  async function measure(): Promise<void> {
    const lang = getLang();
    const roi = input('ct-roi').value.trim();
    if (!files.length && !pacs) { setStatus(t(lang, 'web.ct.needVolume'), 'error'); return; }
    if (!roi) { setStatus(t(lang, 'web.ct.needRoi'), 'error'); return; }
    const button = root.querySelector<HTMLButtonElement>('#ct-measure')!;
    await runAction({ busy: t(lang, 'web.ct.measuring'), button, failed: 'web.ct.failed', lang }, async () => {
      const sel = pacs;
      let res: Sent;
      const onStage = (stage: 'upload' | 'server' | 'download', frac?: number) => showProgress(stage === 'server' ? 'measure' : stage, frac);
      // with a queue (calcdx serve --db) the measurement is a job: queued, its progress pushed by the server (SSE)
      const queue = await hasQueue();
      delete root.dataset.job; delete root.dataset.jobEvents; delete root.dataset.jobSeen;
      if (sel) {
        measuredPacs = undefined;
        showStore();
        const body = JSON.stringify({ study: sel.study, series: sel.series, roi });
        let queuedRes: Sent | undefined;
        if (queue) {
          const sent = await send(`api/pacs/${encodeURIComponent(sel.archive)}/jobs?lang=${lang}`, body, onStage, await csrfHeaders());
          // the archive is not one the workers read: measured directly, as without a queue
          if (!(sent.status === 503 && sent.json().code === 'queue_not_configured')) queuedRes = await jobResult(sent, lang);
        }
        res = queuedRes ?? await send(`api/pacs/${encodeURIComponent(sel.archive)}/measure?lang=${lang}`, body, onStage, await csrfHeaders());
        if (res.status === 200 && pacs === sel) measuredPacs = { sel, body };
      } else {
        const body = new FormData();
        body.append('roi', roi);
        for (const f of files) body.append('file', f, f.webkitRelativePath || f.name);
        res = queue ? await jobResult(await send(`api/ct/jobs?lang=${lang}`, body, onStage), lang) : await send(`api/ct?lang=${lang}`, body, onStage);
      }
      if (res.status !== 200) throw problemError(res, lang);
      const json = res.json();
      const m = (json.measurement ?? {}) as Record<string, unknown>;
      const lesion = (m.lesion ?? (m.measurements as Record<string, unknown> | undefined)?.lesion ?? {}) as Record<string, number>;
      const count = typeof lesion.componentCount === 'number' ? lesion.componentCount : undefined;
      const summary = t(lang, 'web.ct.result', {
        count: count ?? 0, n: count ?? '?',
        volume: typeof lesion.calcifiedVolumeMm3 === 'number' ? lesion.calcifiedVolumeMm3.toFixed(0) : '?',
        fraction: typeof lesion.calcifiedFraction === 'number' ? `${(lesion.calcifiedFraction * 100).toFixed(1)} %` : '?',
        max: typeof lesion.maxHU === 'number' ? lesion.maxHU.toFixed(0) : '?',
      });
      showProgress('overlay');
      if (typeof json.labels === 'string' && nv && nv.volumes.length) await showLabels(json.labels, count ?? 1);
      const outcome = onFindings((json.findings ?? {}) as CtFindings);
      const sep = lang === 'zh' ? '、' : ', ';
      const end = lang === 'zh' ? '。' : '. ';
      setStatus([summary, outcome.filled.length ? t(lang, 'web.ct.filled', { fields: outcome.filled.join(sep) }) : t(lang, 'web.ct.filledNone'),
        ...(outcome.differences ? [t(lang, 'web.ct.differ', { count: outcome.differences })] : [])].join(end));
      root.dataset.measured = '1';
      showStore();
    });
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
    const radio = h('input', { type: 'checkbox', id: 'ct-radiological', checked: radiological });
    radio.addEventListener('change', () => { radiological = radio.checked; nv?.setRadiologicalConvention(radiological); root.dataset.convention = radiological ? 'radiological' : 'neurological'; });
    root.dataset.convention = radiological ? 'radiological' : 'neurological';
    const num = (id: string, label: string, value = ''): HTMLElement =>
      h('span', { class: 'ct-num' }, h('label', { for: id, text: label }), h('input', { type: 'number', id, step: 'any', value }));
    const old = (id: string): string => root.querySelector<HTMLInputElement>(`#${id}`)?.value ?? '';
    const keep = { x: old('ct-x'), y: old('ct-y'), z: old('ct-z'), r: old('ct-r') || '30', roi: old('ct-roi') };
    const modeSphere = h('input', { type: 'radio', name: 'ct-mode', id: 'ct-mode-sphere', value: 'sphere', checked: !boxMode });
    const modeBox = h('input', { type: 'radio', name: 'ct-mode', id: 'ct-box', value: 'box', checked: boxMode });
    const onMode = (): void => {
      boxMode = modeBox.checked;
      if (nv && mod) nv.opts.dragModePrimary = boxMode ? mod.DRAG_MODE.callbackOnly : mod.DRAG_MODE.crosshair;
    };
    modeSphere.addEventListener('change', onMode);
    modeBox.addEventListener('change', onMode);
    const measureBtn = h('button', { type: 'button', id: 'ct-measure', text: t(lang, 'web.ct.measure') });
    measureBtn.addEventListener('click', () => void measure());
    const storeBtn = h('button', { type: 'button', id: 'ct-store', class: 'secondary', text: t(lang, 'web.pacs.store'), hidden: measuredPacs === undefined });
    storeBtn.addEventListener('click', () => void store());
    mountPacsBrowser(pacsEl, lang, (sel) => void openPacs(sel));
    canvas.setAttribute('aria-label', t(lang, 'web.ct.viewerLabel'));
    const roiInput = h('input', { type: 'text', id: 'ct-roi', value: keep.roi, 'aria-describedby': 'ct-roi-hint', spellcheck: 'false' });
    roiInput.addEventListener('change', drawRoi);
    const body = h('div', { class: 'ct-body' },
      h('div', { class: 'ct-open' },
        h('span', {}, h('label', { for: 'ct-file', text: t(lang, 'web.ct.open') }), fileInput),
        h('span', {}, h('label', { for: 'ct-dir', text: t(lang, 'web.ct.openDicom') }), dirInput)),
      pacsEl,
      h('div', { class: 'ct-window' }, h('label', { for: 'ct-window', text: t(lang, 'web.ct.window') }), sel,
        h('span', { class: 'check' }, radio, h('label', { for: 'ct-radiological', text: t(lang, 'web.ct.radiological') }))),
      progress,
      viewer,
      h('fieldset', { class: 'ct-mode' }, h('legend', { text: t(lang, 'web.ct.mode') }),
        h('span', { class: 'check' }, modeSphere, h('label', { for: 'ct-mode-sphere', text: t(lang, 'web.ct.modeSphere') })),
        h('span', { class: 'check' }, modeBox, h('label', { for: 'ct-box', text: t(lang, 'web.ct.box') }))),
      h('fieldset', { class: 'ct-roi' },
        h('legend', { text: t(lang, 'web.ct.centre') }),
        num('ct-x', t(lang, 'web.ct.centreX'), keep.x), num('ct-y', t(lang, 'web.ct.centreY'), keep.y), num('ct-z', t(lang, 'web.ct.centreZ'), keep.z),
        num('ct-r', t(lang, 'web.ct.radius'), keep.r),
        h('span', { class: 'ct-roi-spec' }, h('label', { for: 'ct-roi', text: t(lang, 'web.ct.roi') }), roiInput),
        h('p', { id: 'ct-roi-hint', class: 'hint', text: t(lang, 'web.ct.roiHint') })),
      h('p', {}, measureBtn, ' ', storeBtn),
      statusElement());
    const details = root.querySelector('details');
    const wasOpen = details?.open ?? false;
    root.replaceChildren(h('details', { open: wasOpen }, h('summary', { text: t(lang, 'web.ct.heading') }), body));
    for (const id of ['ct-x', 'ct-y', 'ct-z', 'ct-r']) input(id).addEventListener('change', updateRoi);
    if (progressStage.key && !progress.hidden) drawProgress();
  }

  return { render };
}

/** the job states after which nothing changes (src/queue/schema.ts) */
const JOB_ENDS = new Set(['completed', 'failed', 'dead', 'expired']);

let queueAsked: Promise<boolean> | undefined;
/** Whether the server queues CT jobs (GET /api/ct/queue), asked once per page: an upload is then sent once, to the route that takes it. */
function hasQueue(): Promise<boolean> {
  queueAsked ??= fetch('api/ct/queue', { headers: { accept: 'application/json' } })
    .then(async (r) => r.ok && ((await r.json()) as { configured?: unknown }).configured === true, () => false);
  return queueAsked;
}

/** A JSON answer as `send` gives it (a job's result or problem, read with fetch). */
function jsonSent(status: number, value: unknown): Sent {
  const body = new TextEncoder().encode(JSON.stringify(value)).buffer as ArrayBuffer;
  return { status, body, header: () => null, json: () => (value && typeof value === 'object' ? value as Record<string, unknown> : {}) };
}

interface Sent { status: number; body: ArrayBuffer; header(name: string): string | null; json(): Record<string, unknown> }

/**
 * POST a form (or a JSON text) with XMLHttpRequest (fetch has no upload progress): reports 'upload' with the
 * fraction sent, 'server' while the server works, 'download' with the fraction received. `headers`: the
 * session's CSRF token for the PACS routes (web/src/api/session.ts).
 */
function send(url: string, body: FormData | string, onStage: (stage: 'upload' | 'server' | 'download', frac?: number) => void, headers: Record<string, string> = {}): Promise<Sent> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url);
    if (typeof body === 'string') xhr.setRequestHeader('content-type', 'application/json');
    for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
    xhr.responseType = 'arraybuffer';
    xhr.upload.onprogress = (e) => onStage('upload', e.lengthComputable && e.total ? e.loaded / e.total : undefined);
    xhr.upload.onload = () => onStage('server');
    xhr.onprogress = (e) => { if (e.loaded > 0) onStage('download', e.lengthComputable && e.total ? e.loaded / e.total : undefined); };
    xhr.onerror = () => reject(Object.assign(new Error('network'), { code: 'network' }));
    xhr.onload = () => {
      const buf = xhr.response as ArrayBuffer;
      resolve({
        status: xhr.status, body: buf, header: (n) => xhr.getResponseHeader(n),
        json: () => { try { return JSON.parse(new TextDecoder().decode(buf)) as Record<string, unknown>; } catch { return {}; } },
      });
    };
    onStage('upload', 0);
    xhr.send(body);
  });
}

/**
 * An error answer in plain words: the problem's finer reason (an imaging or ROI code) or its
 * code mapped to a sentence of the page's catalogue; the server's own detail kept as the
 * technical detail (it may name files or ROI syntax).
 */
function problemError(res: Sent, lang: Lang): Error & { detail: string } {
  const json = res.json();
  const detail = errorText(json) ?? `HTTP ${res.status}`;
  const keys = [json.reason, json.code].filter((x): x is string => typeof x === 'string').map((c) => `web.ct.error.${c}`);
  if (res.status === 413) keys.push('web.ct.error.payload_too_large');
  const key = keys.find((k) => t(lang, k) !== k);
  // an archive's problem names the archive and the study or series in plain words already
  if (json.code === 'pacs') return Object.assign(new Error(detail), { detail: '' });
  return Object.assign(new Error(key ? t(lang, key) : t(lang, 'web.ct.error.unknown', { status: res.status })), { detail });
}

/** An error of an action: `detail` the server's own words (problemError), `code` 'network' when the server was not reached. */
type PanelError = Error & { detail?: string; code?: string };

/** The sentence of an error: a network failure in words, else the error's own (already plain) message. */
function messageOf(e: PanelError, lang: Lang): string {
  return e.code === 'network' ? t(lang, 'web.ct.error.network') : e.message;
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
