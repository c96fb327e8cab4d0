// @sparse-ift/core's masked products (ops/masked.ts: conv2d(x, kernel ⊙ mask), x · (kernel ⊙ mask) and the
// gradients [dx, dkernel ⊙ mask]) on the addon's unstructured-sparse kernels (sparse-kernels.ts), or on the
// dense native kernels with kernel ⊙ mask where those are faster.
//
// - A layer's plan (its mask's non-zeros with their input offsets) is side data of the mask tensor, one per
//   geometry: a mask update assigns the mask variable a new tensor, so a plan is never stale. The values are
//   taken from the kernel tensor at each call (again only when the kernel tensor changed since).
// - Sparse or dense is chosen per (geometry, density bucket, ISA) and direction (forward; dx + dkernel) by
//   timing both once on the call's own data; sparse must win by SPARSE_MARGIN. The choice is kept in a
//   per-user file (../sparse-choice-cache.ts), so later processes on the machine take the same paths and
//   repeat the first run's numbers bit for bit. Masks denser than DENSE_ABOVE go dense untimed.
//   `SIFT_SPARSE=sparse|dense` (or setSparseMode) forces one path; sparseKernelReport() lists the choices.
import * as tf from '@tensorflow/tfjs-core';
import type { NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import { MASKED_CONV2D, MASKED_CONV2D_GRAD, MASKED_MATMUL, MASKED_MATMUL_GRAD, type MaskedConv2DAttrs } from '@sparse-ift/core';
import { NATIVE_BACKEND_NAME, type NativeBackend } from '../backend.js';
import type { NativeKernel, NativeKernelArgs } from '../kernel.js';
import type { NativeAddon } from '../../native.js';
import { SparseConv, sparseConvGeometry, sparseLinearGeometry, type SparseConvGeometry, type SparseKernelsAddon } from '../../sparse-kernels.js';
import { chwnOutput, f32, output } from './tensors.js';
import { SparseChoiceCache, addonVersion, cpuModel, machineKey, sparseChoiceCacheFile } from '../sparse-choice-cache.js';
import { loadNativeAddon } from '../../native.js';

/** `auto`: measured per layer shape; `sparse` / `dense`: always that path (tests, benchmarks). */
export type SparseMode = 'auto' | 'sparse' | 'dense';
export type SparsePath = 'sparse' | 'dense';
export type SparseDirection = 'forward' | 'backward';

/**
 * In auto mode, masks denser than this run dense without timing: the sparse kernels measured 0.7–2× the
 * dense ones at 50 % density and never much faster above (tools/bench/results/sparse-kernels-2026-12-01-*).
 * The all-ones masks of RigL's dense-gradient step land here.
 */
export const DENSE_ABOVE = 0.6;

/**
 * Sparse runs only where it measured at least this much faster than dense: a near-tie, which timing noise
 * could send either way, goes dense (the reference path) every time.
 */
export const SPARSE_MARGIN = 0.05;

/**
 * Densities are bucketed to this step (nearest multiple) for the choice: a mask update that moves a layer's
 * density a little (RigL, pruning) keeps its choice instead of timing again.
 */
export const DENSITY_STEP = 0.05;

export function densityBucket(d: number): number {
  return Math.round(d / DENSITY_STEP) * DENSITY_STEP;
}

let mode: SparseMode | undefined;

function parseMode(v: string, where: string): SparseMode {
  if (v === 'auto' || v === 'sparse' || v === 'dense') return v;
  throw new Error(`${where} must be 'auto', 'sparse' or 'dense', got '${v}'`);
}

export function sparseMode(): SparseMode {
  mode ??= process.env['SIFT_SPARSE'] ? parseMode(process.env['SIFT_SPARSE'], 'SIFT_SPARSE') : 'auto';
  return mode;
}

/** Force (or stop forcing) a path for the masked products of the native backend. */
export function setSparseMode(m: SparseMode): void {
  mode = parseMode(m, 'setSparseMode');
}

/** What one direction of one layer shape measured and ran. */
export interface SparseDirectionReport {
  /** The path that runs (in auto mode, the faster one measured). */
  path: SparsePath;
  /** Measured in auto mode (best of two runs, ms); absent when the path was forced or untimed. */
  sparseMs?: number;
  denseMs?: number;
  /** Where a measured choice came from: timed in this process, or read from the choice cache file. */
  source?: 'measured' | 'cache';
  /** Why it is dense without measuring (density, unsupported geometry, no sparse kernels, forced). */
  why?: string;
  calls: { sparse: number; dense: number };
}

/** One layer shape at one density: which path each direction took. */
export interface SparseLayerReport {
  op: 'conv2d' | 'matmul';
  /** e.g. "3x3/1 [32,32,32,202]→202" or "[2048,1092]·[1092,4368]". */
  shape: string;
  /** The first mask's density; the choice holds for its bucket (densityBucket). */
  density: number;
  densityBucket: number;
  isa: string;
  /** The sparse mode the layer ran under (a forced path never stands for an `auto` choice, nor the reverse). */
  mode: SparseMode;
  forward?: SparseDirectionReport;
  backward?: SparseDirectionReport;
}

const choices = new Map<string, SparseLayerReport>();

/** Every layer shape the masked products ran on in this process, with the path each direction took. */
export function sparseKernelReport(): SparseLayerReport[] {
  return [...choices.values()].map((r) => structuredClone(r));
}

/** Forget this process's choices and call counts; the next calls take them from the cache file or measure. */
export function resetSparseChoices(): void {
  choices.clear();
  cache = undefined;
}

let cache: SparseChoiceCache | undefined;

/**
 * The choice cache of this machine as set up now (ISA, threads, tuning can be changed in a process: each
 * set-up has choices of its own). Asked only when a layer shape is first seen, so the look-up is rare.
 */
function choiceCache(k: SparseKernelsAddon & NativeAddon): SparseChoiceCache {
  const native = loadNativeAddon();
  const machine = {
    cpu: cpuModel(),
    isa: k.sparseIsa(),
    threads: k.threads(),
    convLibrary: k.convLibrary(),
    tuning: k.sparseTuning().join('/'),
    addon: native.loaded ? addonVersion(native.path) : 'unknown',
  };
  const file = sparseChoiceCacheFile();
  if (!cache || cache.file !== file || cache.key !== machineKey(machine)) cache = new SparseChoiceCache(file, machine);
  return cache;
}

/** One line for `sift doctor`: whether the masked products can run sparse here, on which ISA, in which mode. */
export function describeSparseKernels(addon: NativeAddon): string {
  const k = sparseAddon(addon);
  if (!k) return 'sparse kernels: not in this build of the addon (rebuild it); masked convs and linears run dense on w ⊙ mask';
  const m = sparseMode();
  const how = m === 'auto'
    ? `per layer shape and density bucket the faster of sparse and dense (sparse by ${SPARSE_MARGIN * 100} % or more), timed once per machine (dense above ${DENSE_ABOVE * 100} % density); ${choiceCache(k).describe()}`
    : `forced ${m} (SIFT_SPARSE)`;
  return `sparse kernels: ${k.sparseIsa()}; masked convs and linears at the mask's non-zeros: ${how}`;
}

/** The addon's sparse entry points, when it was built with them. */
function sparseAddon(addon: NativeAddon): (SparseKernelsAddon & NativeAddon) | undefined {
  const a = addon as unknown as Partial<SparseKernelsAddon>;
  return typeof a.sparseConvCreate === 'function' ? (a as SparseKernelsAddon & NativeAddon) : undefined;
}

/** Runs the native backend's kernel `name` (counted in its provenance like any other call). */
function call(name: string, backend: NativeBackend, inputs: NamedTensorInfoMap, attrs: NamedAttrMap = {}): TensorInfo {
  const kernel = tf.getKernel(name, NATIVE_BACKEND_NAME);
  if (!kernel) throw new Error(`native backend: no ${name} kernel for the dense masked product`);
  return kernel.kernelFunc({ inputs, backend, attrs }) as TensorInfo;
}

function dispose(backend: NativeBackend, ...infos: TensorInfo[]): void {
  for (const t of infos) backend.disposeData(t.dataId);
}

/** One masked product: its sparse geometry (null where the sparse kernels do not apply) and dense path. */
interface Problem {
  op: SparseLayerReport['op'];
  shape: string;
  geometry: SparseConvGeometry | null;
  unsupported?: string;
  yShape: number[];
  denseForward(backend: NativeBackend, x: TensorInfo, filter: TensorInfo): TensorInfo;
  /** [dx, unmasked dkernel]. */
  denseBackward(backend: NativeBackend, dy: TensorInfo, x: TensorInfo, filter: TensorInfo): [TensorInfo, TensorInfo];
}

function convProblem(x: TensorInfo, kernel: TensorInfo, a: MaskedConv2DAttrs): Problem {
  const [kh, kw, c, o] = kernel.shape as [number, number, number, number];
  const common = { strides: a.strides, pad: a.pad, dataFormat: 'NHWC', dimRoundingMode: undefined } as unknown as NamedAttrMap;
  const dilated = a.dilations[0] !== 1 || a.dilations[1] !== 1;
  const geometry = dilated ? null : sparseConvGeometry(x.shape as [number, number, number, number], [kh, kw, c, o], a.strides, a.pad);
  const stride = a.strides[0] === a.strides[1] ? `${a.strides[0]}` : a.strides.join('x');
  return {
    op: 'conv2d',
    shape: `${kh}x${kw}/${stride} [${x.shape.join(',')}]→${o}`,
    geometry,
    unsupported: dilated ? 'dilated (the sparse kernels have no dilation)' : undefined,
    yShape: geometry ? [geometry.n, geometry.outH, geometry.outW, o] : [],
    denseForward: (backend, xi, filter) => call(tf.Conv2D, backend, { x: xi, filter }, { ...common, dilations: a.dilations } as unknown as NamedAttrMap),
    denseBackward: (backend, dy, xi, filter) => [
      call(tf.Conv2DBackpropInput, backend, { dy, filter }, { ...common, inputShape: xi.shape } as unknown as NamedAttrMap),
      call(tf.Conv2DBackpropFilter, backend, { x: xi, dy }, { ...common, filterShape: kernel.shape } as unknown as NamedAttrMap),
    ],
  };
}

function matMulProblem(x: TensorInfo, kernel: TensorInfo): Problem {
  const [m, k] = x.shape as [number, number];
  const n = kernel.shape[1]!;
  return {
    op: 'matmul',
    shape: `[${m},${k}]·[${k},${n}]`,
    geometry: sparseLinearGeometry(m, k, n),
    yShape: [m, n],
    denseForward: (backend, xi, filter) => call(tf.BatchMatMul, backend, { a: xi, b: filter }, { transposeA: false, transposeB: false }),
    denseBackward: (backend, dy, xi, filter) => [
      call(tf.BatchMatMul, backend, { a: dy, b: filter }, { transposeA: false, transposeB: true }),
      call(tf.BatchMatMul, backend, { a: xi, b: dy }, { transposeA: true, transposeB: false }),
    ],
  };
}

function geometryKey(g: SparseConvGeometry): string {
  return [g.n, g.h, g.w, g.c, g.o, g.kh, g.kw, g.strideH, g.strideW, g.padTop, g.padLeft, g.outH, g.outW].join(',');
}

/**
 * The input the sparse kernels' shared staging buffer holds, as the last sparse forward left it: its data
 * (tf.js data is immutable, so the same dataId is the same values) and how it was staged (the geometry
 * but the output channels, and the layout read). Sparse Parallel's branches (one input, several masked
 * convs in a row) stage it once; any other sparse call forgets it.
 */
let stagedInput: { dataId: object; key: string } | undefined;

function stagingKey(op: string, g: SparseConvGeometry, layout: string): string {
  return [op, layout, g.n, g.h, g.w, g.c, g.kh, g.kw, g.strideH, g.strideW, g.padTop, g.padLeft, g.outH, g.outW].join(',');
}

/** The mask's share of non-zeros (side data of the mask tensor). */
function density(backend: NativeBackend, mask: TensorInfo, m: Float32Array): number {
  return backend.sideData(mask, 'masked-product:density', () => {
    let nnz = 0;
    for (let i = 0; i < m.length; i++) if (m[i] !== 0) nnz++;
    return m.length === 0 ? 1 : nnz / m.length;
  });
}

interface Plan {
  conv: SparseConv;
  /** The kernel tensor whose values the plan holds now. */
  gatheredFrom: object | null;
}

function plan(backend: NativeBackend, k: SparseKernelsAddon, mask: TensorInfo, m: Float32Array, g: SparseConvGeometry): Plan {
  return backend.sideData(
    mask,
    `masked-product:plan:${geometryKey(g)}`,
    () => ({ conv: new SparseConv(k, g, m), gatheredFrom: null }),
    (p) => p.conv.release(), // when the mask's data goes (a RigL update, a disposed model), not at some later GC
  );
}

/** The kernel values for a plan call: the dense weight, or null where the plan holds its values already. */
function weightsFor(p: Plan, kernel: TensorInfo, w: Float32Array): Float32Array | null {
  if (p.gatheredFrom === kernel.dataId) return null;
  p.gatheredFrom = kernel.dataId;
  return w;
}

function bestOfTwo(run: () => TensorInfo[], backend: NativeBackend): { out: TensorInfo[]; ms: number } {
  let out: TensorInfo[] = [];
  let ms = Infinity;
  for (let i = 0; i < 2; i++) {
    if (out.length) dispose(backend, ...out);
    const t0 = performance.now();
    out = run();
    ms = Math.min(ms, performance.now() - t0);
  }
  return { out, ms };
}

/**
 * Runs one direction of a masked product on the path its layer shape takes; in auto mode that path comes
 * from the choice cache or, the first time on this machine, from timing both (kept in the cache). Returns
 * that path's outputs.
 */
function runDirection(
  args: NativeKernelArgs, problem: Problem, direction: SparseDirection,
  sparse: ((p: Plan) => TensorInfo[]) | null, dense: () => TensorInfo[],
): TensorInfo[] {
  const { backend, addon } = args;
  const mask = args.inputs['mask']!;
  const m = f32(backend, mask, direction);
  const d = m ? density(backend, mask, m) : 1;
  const k = m ? sparseAddon(addon) : undefined;
  const isa = k ? k.sparseIsa() : 'none';
  const bucket = densityBucket(d);
  const forced = sparseMode();
  // The mode is part of the key: after a forced-dense run (a masked-dense benchmark row), `auto` must still
  // measure or read its own choice rather than reuse 'forced dense'.
  const key = `${problem.op} ${problem.shape} d${bucket.toFixed(2)} ${isa} ${forced}`;
  let layer = choices.get(key);
  if (!layer) {
    layer = { op: problem.op, shape: problem.shape, density: d, densityBucket: bucket, isa, mode: forced };
    choices.set(key, layer);
  }
  let report = layer[direction];
  if (!report) {
    const why = !m ? 'the mask is not float32' : !k ? 'the addon has no sparse kernels (rebuild it)'
      : problem.unsupported ?? (!problem.geometry ? 'shape not covered' : forced === 'dense' ? 'forced dense'
        : forced === 'auto' && d > DENSE_ABOVE ? `density ${d.toFixed(2)} > ${DENSE_ABOVE}` : undefined);
    const cacheKey = `${direction} ${problem.op} ${problem.shape} d${bucket.toFixed(2)}`;
    const stored = why === undefined && forced === 'auto' ? choiceCache(k!).get(cacheKey) : undefined;
    if (why !== undefined || forced === 'sparse') {
      report = { path: why === undefined ? 'sparse' : 'dense', ...(why === undefined ? { why: 'forced sparse' } : { why }), calls: { sparse: 0, dense: 0 } };
    } else if (stored) {
      report = { path: stored.path, sparseMs: stored.sparseMs, denseMs: stored.denseMs, source: 'cache', calls: { sparse: 0, dense: 0 } };
    } else {
      // auto, first time on this machine: measure both on this call's data, keep the chosen one's outputs
      const p = plan(backend, k!, mask, m!, problem.geometry!);
      const s = bestOfTwo(() => sparse!(p), backend);
      const t = bestOfTwo(dense, backend);
      const path: SparsePath = s.ms < t.ms * (1 - SPARSE_MARGIN) ? 'sparse' : 'dense';
      dispose(backend, ...(path === 'sparse' ? t.out : s.out));
      choiceCache(k!).put(cacheKey, { path, sparseMs: s.ms, denseMs: t.ms, measured: new Date().toISOString() });
      layer[direction] = { path, sparseMs: s.ms, denseMs: t.ms, source: 'measured', calls: { sparse: path === 'sparse' ? 1 : 0, dense: path === 'dense' ? 1 : 0 } };
      return path === 'sparse' ? s.out : t.out;
    }
    layer[direction] = report;
  }
  report.calls[report.path]++;
  if (report.path === 'dense') return dense();
  return sparse!(plan(backend, k!, mask, m!, problem.geometry!));
}

/** kernel ⊙ mask as a new tensor (the native Multiply). */
function maskedFilter(backend: NativeBackend, kernel: TensorInfo, mask: TensorInfo): TensorInfo {
  return call(tf.Multiply, backend, { a: kernel, b: mask });
}

function forward(args: NativeKernelArgs, problem: Problem): TensorInfo {
  const { backend } = args;
  const { x, kernel, mask } = args.inputs as { x: TensorInfo; kernel: TensorInfo; mask: TensorInfo };
  const [y] = runDirection(args, problem, 'forward',
    (p) => {
      // A conv reads x CHWN when it is stored so and writes y CHWN (consumers that cannot read it
      // materialise NHWC on demand); a linear stays row-major.
      const conv = problem.op === 'conv2d';
      const xc = conv ? backend.chwnValues(x) : undefined;
      const out = conv ? chwnOutput(backend, problem.yShape) : { ...output(backend, problem.yShape, 'float32', 'any'), chwn: false };
      const w = weightsFor(p, kernel, f32(backend, kernel, 'masked product')!);
      const layouts = { x: xc ? 'chwn' : 'nhwc', y: out.chwn ? 'chwn' : 'nhwc' } as const;
      const key = stagingKey(problem.op, p.conv.geometry, layouts.x);
      if (stagedInput?.dataId === x.dataId && stagedInput.key === key && p.conv.canForwardStaged) {
        p.conv.forwardStaged(w, out.values, layouts);
      } else {
        const staged = p.conv.forward(w, xc ?? f32(backend, x, 'masked product')!, out.values, layouts);
        stagedInput = staged ? { dataId: x.dataId, key } : undefined;
      }
      return [out.info];
    },
    () => {
      const filter = maskedFilter(backend, kernel, mask);
      const out = problem.denseForward(backend, x, filter);
      dispose(backend, filter);
      return [out];
    });
  return y!;
}

function backward(args: NativeKernelArgs, problem: Problem): TensorInfo[] {
  const { backend } = args;
  const { dy, x, kernel, mask } = args.inputs as { dy: TensorInfo; x: TensorInfo; kernel: TensorInfo; mask: TensorInfo };
  return runDirection(args, problem, 'backward',
    (p) => {
      // dy and x are read as stored (CHWN or NHWC); dx goes in x's layout, which its consumer (the
      // gradient of x's producer) reads best.
      stagedInput = undefined;
      const xc = backend.chwnValues(x);
      const dyc = backend.chwnValues(dy);
      const dx = xc ? chwnOutput(backend, x.shape) : { ...output(backend, x.shape, 'float32', 'any'), chwn: false };
      const dw = output(backend, kernel.shape, 'float32', 'any');
      const v = (t: TensorInfo) => f32(backend, t, 'masked product gradient')!;
      p.conv.backward(weightsFor(p, kernel, v(kernel)), xc ?? v(x), dyc ?? v(dy), dx.values, dw.values,
        { x: xc ? 'chwn' : 'nhwc', dy: dyc ? 'chwn' : 'nhwc', dx: dx.chwn ? 'chwn' : 'nhwc' });
      return [dx.info, dw.info];
    },
    () => {
      const filter = maskedFilter(backend, kernel, mask);
      const [dx, dwDense] = problem.denseBackward(backend, dy, x, filter);
      const dw = call(tf.Multiply, backend, { a: dwDense, b: mask });
      dispose(backend, filter, dwDense);
      return [dx, dw];
    });
}

/** Inputs the sparse path reads as Float32Arrays; anything else stays on the dense kernels' own checks. */
function allFloat(args: NativeKernelArgs, names: readonly string[]): boolean {
  // (a CHWN-stored input counts as float32 without materialising its NHWC order)
  return names.every((n) => args.backend.chwnValues(args.inputs[n]) !== undefined || f32(args.backend, args.inputs[n], 'masked product') !== undefined);
}

/** One of the four kernels: its problem from (x, kernel, attrs), and the direction it computes. */
function maskedKernel(kernelName: string, direction: SparseDirection, problemOf: (x: TensorInfo, kernel: TensorInfo, attrs: NamedAttrMap) => Problem): NativeKernel {
  const names = direction === 'forward' ? ['x', 'kernel', 'mask'] : ['dy', 'x', 'kernel', 'mask'];
  return {
    kernelName,
    run: (args) => {
      const { x, kernel } = args.inputs as { x: TensorInfo; kernel: TensorInfo };
      const problem = problemOf(x, kernel, args.attrs);
      if (!allFloat(args, names)) problem.geometry = null;
      return direction === 'forward' ? forward(args, problem) : backward(args, problem);
    },
  };
}

const conv = (x: TensorInfo, kernel: TensorInfo, attrs: NamedAttrMap) => convProblem(x, kernel, attrs as unknown as MaskedConv2DAttrs);
const matMul = (x: TensorInfo, kernel: TensorInfo) => matMulProblem(x, kernel);

export const SPARSE_KERNELS: NativeKernel[] = [
  maskedKernel(MASKED_CONV2D, 'forward', conv),
  maskedKernel(MASKED_CONV2D_GRAD, 'backward', conv),
  maskedKernel(MASKED_MATMUL, 'forward', matMul),
  maskedKernel(MASKED_MATMUL_GRAD, 'backward', matMul),
];
