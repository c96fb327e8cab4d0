// Benchmark (not a test) of the training backends. One command:
//   npx tsx tools/bench/run.ts [--quick] [--out runs/bench] [--torch-threads 1,2] [--skip-steps]
//                              [--skip-kernels] [--skip-b128] [--threads N] [--paths native,wasm+native,...]
//                              [--skip-sparse | --only-sparse]
// Writes runs/bench/bench-<time>.json and .md: per-kernel GFLOP/s for wasm as shipped, this project's
// wasm kernels, wasm with the native addon's heap kernels, the native backend and the cpu backend; one
// training step (forward + backward + optimizer) of CIFAR ResNet-18 (batch 32) and a small GPT (4 layers,
// d 256, ctx 256, batch 8) on each path against the same models in PyTorch (Debian python3-torch) in the
// same run, with each row's peak RSS; Sparse Wide 75 % / 90 % masked-dense vs dense at batch 8, and Sparse
// Wide 90 % at the CIFAR batch of 128 on the native backend; Sparse Wide 75 % / 90 % on the sparse kernels vs
// dense at batch 32 (training step and inference). JSON `ratios` holds ours / PyTorch and sparse / dense of
// the same run. Machine load is recorded: on a shared machine, compare ratios taken in the same run.
import * as tf from '@tensorflow/tfjs-core';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import {
  describeBackend,
  initBackend,
  loadNativeAddon,
  loadSparseKernels,
  registerWasmTrainingKernels,
  sparseKernelReport,
  setNativeKernels,
  trimNativeMemory,
  unregisterWasmTrainingKernels,
  type BackendInfo,
  type SparseLayerReport,
} from '../../packages/backend/src/index.js';
import { sparseWideWidth } from '../../packages/core/src/isoflop.js';
import { batchNormTrain } from '../../packages/core/src/ops/batch-norm.js';
import { gelu } from '../../packages/core/src/ops/gelu.js';
import { layerNorm } from '../../packages/core/src/ops/layer-norm.js';
import { coreMomentum, gpt, resnet18, type Model, type StepOptimizer } from './models.js';
import { runTorchTwins as runTorch, type TorchJob, type TorchRun } from '../../reproductions/wallclock-cpu/src/pytorch.js';
import { argv as args, flag, option } from './args.js';

const quick = flag('--quick');
const outDir = option('--out', 'runs/bench');
const torchThreads = option('--torch-threads', '2').split(',').map(Number);

/**
 * wasm-shipped: tfjs-backend-wasm as published; wasm-sparse-ift: with this project's wasm kernels;
 * wasm+native: those calling the addon on the wasm heap; native: the native backend (tensors in Node
 * memory, the addon's kernels); cpu: tfjs-backend-cpu.
 */
type Path = 'wasm-shipped' | 'wasm-sparse-ift' | 'wasm+native' | 'native' | 'cpu';
const native = loadNativeAddon();
const nativeBackend = native.loaded && typeof native.addon.tensors === 'object';

async function usePath(path: Path): Promise<void> {
  if (path === 'cpu' || path === 'native') {
    await tf.setBackend(path);
    return;
  }
  await tf.setBackend('wasm');
  if (path === 'wasm-shipped') {
    unregisterWasmTrainingKernels();
    setNativeKernels(undefined);
  } else {
    registerWasmTrainingKernels();
    setNativeKernels(path === 'wasm+native' && native.loaded ? native.addon : undefined);
  }
}

function statusKB(field: 'VmHWM' | 'VmRSS'): number | undefined {
  try {
    const kb = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb);
  } catch {
    return undefined;
  }
}

/**
 * Peak resident memory (MB) of the process while `fn` runs: Linux's high-water mark, reset first
 * (/proc/self/clear_refs); with the resident memory at the start, since the wasm heap never shrinks and
 * stays in every later row.
 */
async function withPeakRss<T>(fn: () => Promise<T>): Promise<{ value: T; peakRssMB: number; startRssMB: number }> {
  trimNativeMemory(); // blocks kept for reuse by an earlier model
  try {
    writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    /* not Linux: the process-wide peak below */
  }
  const startRssMB = (statusKB('VmRSS') ?? 0) / 1024;
  const value = await fn();
  return { value, peakRssMB: (statusKB('VmHWM') ?? process.resourceUsage().maxRSS) / 1024, startRssMB };
}

/** Median seconds of `fn` over reps (stops early past `budgetS`). */
function timeIt(fn: () => void, reps: number, budgetS: number, warmup = true): number {
  if (warmup) fn(); // warm-up (XNNPACK operator creation, allocation)
  const times: number[] = [];
  const start = performance.now();
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    times.push((performance.now() - t0) / 1000);
    if ((performance.now() - start) / 1000 > budgetS) break;
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

interface KernelCase {
  name: string;
  /** Builds inputs at a batch scale (1 = full size; the cpu backend runs a smaller scale). */
  run: (scale: 'full' | 'small') => { flops: number; go: () => tf.Tensor };
}

const runKernel = (name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown>) =>
  tf.engine().runKernel(name, inputs, attrs as never) as tf.Tensor;

function matmulCase(name: string, m: number, k: number, n: number, tA: boolean, tB: boolean, batch = 1): KernelCase {
  return {
    name,
    run: (scale) => {
      const mm = scale === 'full' ? m : Math.min(m, 128);
      const bb = scale === 'full' ? batch : Math.min(batch, 2);
      const aShape = batch > 1 ? [bb, ...(tA ? [k, mm] : [mm, k])] : tA ? [k, mm] : [mm, k];
      const bShape = batch > 1 ? [bb, ...(tB ? [n, k] : [k, n])] : tB ? [n, k] : [k, n];
      const a = tf.randomNormal(aShape);
      const b = tf.randomNormal(bShape);
      return { flops: 2 * bb * mm * k * n, go: () => runKernel('BatchMatMul', { a, b }, { transposeA: tA, transposeB: tB }) };
    },
  };
}

function convCases(label: string, n: number, hw: number, c: number, o: number, k: number, s: number): KernelCase[] {
  const make = (scale: 'full' | 'small') => {
    const nn = scale === 'full' ? n : 1;
    const x = tf.randomNormal([nn, hw, hw, c]) as tf.Tensor4D;
    const w = tf.randomNormal([k, k, c, o]) as tf.Tensor4D;
    const ohw = Math.ceil(hw / s);
    const dy = tf.randomNormal([nn, ohw, ohw, o]) as tf.Tensor4D;
    return { x, w, dy, flops: 2 * nn * ohw * ohw * k * k * c * o };
  };
  const attrs = { strides: [s, s], pad: 'same', dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined };
  return [
    { name: `conv2d fwd ${label}`, run: (sc) => { const t = make(sc); return { flops: t.flops, go: () => runKernel('Conv2D', { x: t.x, filter: t.w }, attrs) }; } },
    { name: `conv2d dx ${label}`, run: (sc) => { const t = make(sc); return { flops: t.flops, go: () => runKernel('Conv2DBackpropInput', { dy: t.dy, filter: t.w }, { ...attrs, inputShape: t.x.shape }) }; } },
    { name: `conv2d dW ${label}`, run: (sc) => { const t = make(sc); return { flops: t.flops, go: () => runKernel('Conv2DBackpropFilter', { x: t.x, dy: t.dy }, { ...attrs, filterShape: t.w.shape }) }; } },
  ];
}

const kernelCases: KernelCase[] = [
  matmulCase('matmul NN 2048x256 @ 256x1024 (GPT MLP fwd)', 2048, 256, 1024, false, false),
  matmulCase('matmul NT 2048x1024 @ (256x1024)^T (dx)', 2048, 1024, 256, false, true),
  matmulCase('matmul TN (2048x256)^T @ 2048x1024 (dW)', 256, 2048, 1024, true, false),
  matmulCase('bmm NT 32x[256x64 @ (256x64)^T] (scores)', 256, 64, 256, false, true, 32),
  matmulCase('bmm NN 32x[256x256 @ 256x64] (att @ v)', 256, 256, 64, false, false, 32),
  ...convCases('32x32x32 3x3 64->64 s1', 32, 32, 64, 64, 3, 1),
  ...convCases('32x16x16 3x3 128->256 s2', 32, 16, 128, 256, 3, 2),
  ...convCases('32x4x4 3x3 512->512 s1', 32, 4, 512, 512, 3, 1),
  {
    name: 'UnsortedSegmentSum 2048x256 -> 512 (embedding grad; adds)',
    run: (scale) => {
      const rows = scale === 'full' ? 2048 : 256;
      const x = tf.randomNormal([rows, 256]);
      const ids = tf.randomUniform([rows], 0, 512, 'int32');
      return { flops: rows * 256, go: () => runKernel('UnsortedSegmentSum', { x, segmentIds: ids }, { numSegments: 512 }) };
    },
  },
  {
    name: 'MaxPoolGrad 32x32x32x64 2x2 s2 (window reads)',
    run: (scale) => {
      const n = scale === 'full' ? 32 : 2;
      const x = tf.randomNormal([n, 32, 32, 64]);
      const dy = tf.randomNormal([n, 16, 16, 64]);
      const attrs = { filterSize: [2, 2], strides: [2, 2], pad: 'valid', dimRoundingMode: undefined };
      const y = runKernel('MaxPool', { x }, attrs);
      return { flops: n * 32 * 32 * 64, go: () => runKernel('MaxPoolGrad', { dy, input: x, output: y }, attrs) };
    },
  },
];

/**
 * Memory-bound ops a training step runs between the GEMMs, timed as forward + backward (tf.grads of
 * sum(op(x) * r)) in milliseconds: core's fused ops run one kernel pair where @sparse-ift/backend
 * registers it (wasm), and their composed tf.js form elsewhere (wasm as shipped, cpu).
 */
interface OpCase { name: string; shape: number[]; op: (x: tf.Tensor, p: tf.Tensor[]) => tf.Tensor; params: (shape: number[]) => tf.Tensor[] }

const channelParams = (shape: number[]) => [tf.randomNormal([shape[shape.length - 1]!]), tf.randomNormal([shape[shape.length - 1]!])];
const opCases: OpCase[] = [
  { name: 'BatchNorm + residual + ReLU (ResNet stage 1)', shape: [32, 32, 32, 64], params: (s) => [...channelParams(s), tf.randomNormal(s)],
    op: (x, [g, b, r]) => batchNormTrain(x, g!, b!, { relu: true, residual: r }).y },
  { name: 'BatchNorm + ReLU (ResNet stage 3)', shape: [32, 8, 8, 256], params: channelParams,
    op: (x, [g, b]) => batchNormTrain(x, g!, b!, { relu: true }).y },
  { name: 'LayerNorm (GPT, 2048 rows x 256)', shape: [2048, 256], params: channelParams, op: (x, [g, b]) => layerNorm(x, g!, b!) },
  { name: 'GELU tanh (GPT MLP, 2048 x 1024)', shape: [2048, 1024], params: () => [], op: (x) => gelu(x, 'tanh') },
];

interface OpRow { op: string; ms: Partial<Record<Path, number | string>> }

async function benchOps(paths: Path[]): Promise<OpRow[]> {
  const rows: OpRow[] = opCases.map((c) => ({ op: `${c.name} [${c.shape.join('x')}]`, ms: {} }));
  for (const path of paths) {
    await usePath(path);
    for (const [i, c] of opCases.entries()) {
      // The cpu backend runs a 1/8 batch once (it is ~100x slower); its time is scaled back up.
      const shape = path === 'cpu' ? [Math.max(1, Math.floor(c.shape[0]! / 8)), ...c.shape.slice(1)] : c.shape;
      const scale = c.shape[0]! / shape[0]!;
      try {
        const seconds = tf.tidy(() => {
          const x = tf.randomNormal(shape);
          const params = c.params(shape);
          const r = tf.randomNormal(shape);
          const grads = tf.grads((xx: tf.Tensor, ...ps: tf.Tensor[]) => tf.sum(tf.mul(c.op(xx, ps), r)));
          return timeIt(() => tf.tidy(() => void grads([x, ...params])), path === 'cpu' ? 1 : quick ? 2 : 5, 3, path !== 'cpu');
        });
        rows[i]!.ms[path] = seconds * scale * 1000;
        console.log(`${path.padEnd(16)} ${rows[i]!.op.padEnd(58)} ${(seconds * scale * 1000).toFixed(2).padStart(8)} ms fwd+bwd${scale > 1 ? ` (x${scale} from a smaller batch)` : ''}`);
      } catch (e) {
        const why = e instanceof Error ? e.message.split('\n')[0]!.slice(0, 80) : String(e);
        rows[i]!.ms[path] = `failed (${why})`;
        console.log(`${path.padEnd(16)} ${rows[i]!.op.padEnd(58)} ${why}`);
      }
    }
  }
  return rows;
}

interface KernelRow { kernel: string; gflops: Partial<Record<Path, number | string>> }

async function benchKernels(paths: Path[]): Promise<KernelRow[]> {
  const rows: KernelRow[] = kernelCases.map((c) => ({ kernel: c.name, gflops: {} }));
  for (const path of paths) {
    await usePath(path);
    for (const [i, c] of kernelCases.entries()) {
      const scale = path === 'cpu' ? 'small' : 'full';
      try {
        const seconds = tf.tidy(() => {
          const { flops, go } = c.run(scale);
          // The cpu backend runs once, unwarmed, on a smaller batch: it is 100-1000x slower.
          // wasm and cpu kernels run synchronously: no dataSync (it would time an extra copy of the output).
          const s = timeIt(() => tf.tidy(() => void go()), path === 'cpu' ? 1 : quick ? 2 : 5, 3, path !== 'cpu');
          rows[i]!.gflops[path] = flops / s / 1e9;
          return s;
        });
        console.log(`${path.padEnd(16)} ${c.name.padEnd(58)} ${(rows[i]!.gflops[path] as number).toPrecision(3).padStart(8)} GFLOP/s  (${(seconds * 1000).toFixed(1)} ms${scale === 'small' ? ', small shape' : ''})`);
      } catch (e) {
        const why = e instanceof Error ? e.message.split('\n')[0]!.slice(0, 80) : String(e);
        rows[i]!.gflops[path] = `missing (${why})`;
        console.log(`${path.padEnd(16)} ${c.name.padEnd(58)} ${why}`);
      }
    }
  }
  return rows;
}

interface StepRow { model: string; path: Path; seconds: number | string; gflops?: number; peakRssMB?: number; startRssMB?: number }

function stepFlops(m: Model): number {
  return 3 * 2 * m.forwardMacs;
}

async function benchStep(path: Path, build: () => Model, optimizer: (m: Model) => StepOptimizer, reps: number): Promise<StepRow> {
  const { value: row, peakRssMB, startRssMB } = await withPeakRss(() => benchStepOnce(path, build, optimizer, reps));
  row.peakRssMB = peakRssMB;
  row.startRssMB = startRssMB;
  console.log(`     peak RSS ${peakRssMB.toFixed(0)} MB (${startRssMB.toFixed(0)} MB at the start of the row)`);
  return row;
}

async function benchStepOnce(path: Path, build: () => Model, optimizer: (m: Model) => StepOptimizer, reps: number): Promise<StepRow> {
  await usePath(path);
  let model: Model | undefined;
  let opt: StepOptimizer | undefined;
  try {
    model = build();
    opt = optimizer(model);
    const [m, o] = [model, opt];
    const seconds = timeIt(() => {
      tf.tidy(() => {
        const loss = o.minimize(m.loss, true, m.variables);
        m.afterStep?.();
        loss?.dataSync();
      });
    }, reps, 60);
    const row: StepRow = { model: m.name, path, seconds, gflops: stepFlops(m) / seconds / 1e9 };
    console.log(`step ${path.padEnd(16)} ${m.name.padEnd(50)} ${seconds.toFixed(3)} s  ${row.gflops!.toFixed(1)} GFLOP/s`);
    return row;
  } catch (e) {
    const why = e instanceof Error ? e.message.split('\n')[0]!.slice(0, 100) : String(e);
    const name = model?.name ?? 'model (failed while building)';
    console.log(`step ${path.padEnd(16)} ${name.padEnd(50)} failed: ${why}`);
    return { model: name, path, seconds: `failed: ${why}` };
  } finally {
    model?.variables.forEach((v) => v.dispose());
    opt?.dispose();
  }
}

/**
 * A ratio of the same run: ours / PyTorch (e.g. resnet18-dense-vs-pytorch-2thr), or a sparse model / the
 * dense one on the same path (e.g. sparse-wide-90-vs-dense: `dense` instead of `pytorch`).
 */
interface Ratio { name: string; value: number; ours: number; pytorch?: number; dense?: number; path: Path }

interface InferenceRow { model: string; path: Path; seconds: number | string }

/**
 * Sparse Wide ResNet-18 (75 % and 90 %) on the sparse kernels (core's maskedConv2d: the native backend's
 * sparse kernels, or its dense ones on w ⊙ mask where a layer shape measured faster) against dense ResNet-18
 * at the same batch on the native backend, one after the other in this run: training step and inference
 * (forward) latency. Gives the ratios sparse-wide-{75,90}-vs-dense and sparse-wide-{75,90}-inference-vs-dense,
 * and which layer shapes ran sparse.
 */
async function benchSparse(batch: number, reps: number): Promise<{ steps: StepRow[]; inference: InferenceRow[]; ratios: Ratio[]; layers: SparseLayerReport[] }> {
  // Core's SGD (momentum 0.9, the trainer's optimizer) on both sides: one fused update kernel per variable.
  const sgd = (m: Model) => coreMomentum(0.01, m.variables);
  const configs = [
    { name: 'dense', opts: { batch, width: 64, sparsity: 0 } },
    ...[75, 90].map((pct) => ({ name: `sparse-wide-${pct}`, opts: { batch, width: sparseWideWidth(64, pct / 100), sparsity: pct / 100, kernels: 'sparse' as const } })),
  ];
  const steps: StepRow[] = [];
  const inference: InferenceRow[] = [];
  for (const c of configs) {
    steps.push(await benchStep('native', () => resnet18(c.opts), sgd, reps));
    await usePath('native');
    const m = resnet18(c.opts);
    try {
      const seconds = timeIt(() => tf.tidy(() => void m.forward!().dataSync()), reps + 2, 30);
      inference.push({ model: m.name, path: 'native', seconds });
      console.log(`inference native ${m.name.padEnd(50)} ${seconds.toFixed(3)} s`);
    } catch (e) {
      inference.push({ model: m.name, path: 'native', seconds: `failed: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}` });
    } finally {
      m.variables.forEach((v) => v.dispose());
    }
  }
  const ratios: Ratio[] = [];
  for (const [rows, kind] of [[steps, ''], [inference, '-inference']] as const) {
    const dense = rows[0]!.seconds;
    rows.slice(1).forEach((row, i) => {
      if (typeof dense === 'number' && typeof row.seconds === 'number') {
        ratios.push({ name: `${configs[i + 1]!.name}${kind}-vs-dense`, value: row.seconds / dense, ours: row.seconds, dense, path: 'native' });
      }
    });
  }
  return { steps, inference, ratios, layers: sparseKernelReport() };
}

/**
 * The fp32 peak of the machine two ways: the formula cores × FMA lanes × 2 × clock (the FMA lanes per
 * cycle are an assumption per microarchitecture: 32 for Intel with two AVX-512 FMA units, 16 for AMD Zen 4,
 * whose AVX-512 runs on 256-bit units, and for AVX2 machines; the clock is /proc/cpuinfo's, which in a VM
 * is the nominal one, not the boost), and measured: cores × one core's GFLOP/s on register-resident vector
 * FMAs (the addon's fmaPeak, timed on the thread's CPU clock so a loaded machine does not lower it).
 */
function fp32Peak(): { formula: string; theoreticalGflops: number; measuredGflops?: number } {
  const info = readFileSync('/proc/cpuinfo', 'utf8');
  const flags = new Set((/^flags\s*:(.*)$/m.exec(info)?.[1] ?? '').trim().split(/\s+/));
  const mhz = Number(/^cpu MHz\s*:\s*([\d.]+)/m.exec(info)?.[1] ?? 0);
  const vendor = /^vendor_id\s*:\s*(\S+)/m.exec(info)?.[1] ?? '?';
  const lanes = flags.has('avx512f') ? (vendor === 'AuthenticAMD' ? 16 : 32) : flags.has('fma') ? 16 : 4;
  const cores = cpus().length;
  const theoreticalGflops = (cores * lanes * 2 * mhz) / 1000;
  const formula = `${cores} cores × ${lanes} fp32 FMA lanes/cycle (${vendor}${flags.has('avx512f') ? ', AVX-512' : ''}) × 2 FLOP × ${mhz.toFixed(0)} MHz (/proc/cpuinfo) = ${theoreticalGflops.toFixed(0)} GFLOP/s`;
  if (!nativeBackend || !native.loaded) return { formula, theoreticalGflops };
  return { formula, theoreticalGflops, measuredGflops: cores * native.addon.tensors.fmaPeak() };
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const threads = args.includes('--threads') ? Number(option('--threads', '0')) : undefined;
  const wasmInfo: BackendInfo = await initBackend({ backend: 'wasm', training: true, threads });
  const info: BackendInfo = nativeBackend ? await initBackend({ backend: 'native', training: true, threads }) : wasmInfo;
  console.log(describeBackend(info));
  const load = loadavg();
  console.log(`machine: ${cpus().length} cores (${cpus()[0]?.model}), load average ${load.map((l) => l.toFixed(1)).join(' ')}`);
  const built: Path[] = ['wasm-shipped', 'wasm-sparse-ift', ...(native.loaded ? (['wasm+native'] as Path[]) : []), ...(nativeBackend ? (['native'] as Path[]) : []), 'cpu'];
  // --paths keeps a shorter run to some columns (PyTorch always runs).
  const asked = option('--paths', built.join(',')).split(',');
  const unknown = asked.filter((p) => !built.includes(p as Path));
  if (unknown.length > 0) throw new Error(`--paths: ${unknown.join(', ')} not among the paths built here (${built.join(', ')})`);
  const paths = built.filter((p) => asked.includes(p));

  const steps: StepRow[] = [];
  const torch: Record<string, TorchRun | string> = {};
  const resnetDense = { batch: 32, width: 64, sparsity: 0 };
  const gptOpts = { batch: 8, context: 256, dModel: 256, layers: 4, heads: 4, vocab: 512 };
  const swBatch = 8;
  const swWidth = sparseWideWidth(64, 0.9);
  const sw75Width = sparseWideWidth(64, 0.75);
  // The CIFAR recipe's batch (the reproductions' `short`/`paper` presets) for Sparse Wide 90 %: 10x the
  // weights of ResNet-18 and activations 3.2x wider; it cannot fit the wasm32 heap.
  const bigBatch = 128;
  const onlySparse = flag('--only-sparse');
  if (!flag('--skip-steps') && !onlySparse) {
    const reps = quick ? 1 : 3;
    const sgd = () => tf.train.momentum(0.01, 0.9);
    const adam = () => tf.train.adam(1e-3);
    // The native backend first: the wasm heap never shrinks, and would sit in every later row's RSS.
    // Sparse Wide on the fastest path, all in this one process (the wasm paths needed a fresh process
    // for 90 % at batch 8 and cannot hold it at batch 128).
    const best: Path = nativeBackend ? 'native' : native.loaded ? 'wasm+native' : 'wasm-sparse-ift';
    const stepPaths = [...(paths.includes(best) ? [best] : []), ...paths.filter((p) => p !== 'cpu' && p !== best).reverse()];
    for (const path of stepPaths) {
      steps.push(await benchStep(path, () => resnet18(resnetDense), sgd, reps));
      steps.push(await benchStep(path, () => gpt(gptOpts), adam, reps));
      if (path !== best) continue;
      steps.push(await benchStep(best, () => resnet18({ batch: swBatch, width: 64, sparsity: 0 }), sgd, reps));
      steps.push(await benchStep(best, () => resnet18({ batch: swBatch, width: sw75Width, sparsity: 0.75 }), sgd, quick ? 1 : 2));
      steps.push(await benchStep(best, () => resnet18({ batch: swBatch, width: swWidth, sparsity: 0.9 }), sgd, quick ? 1 : 2));
      if (nativeBackend && !flag('--skip-b128')) steps.push(await benchStep('native', () => resnet18({ batch: bigBatch, width: swWidth, sparsity: 0.9 }), sgd, 1));
    }
    const jobs: TorchJob[] = [
      { key: 'resnet', model: 'resnet18', ...resnetDense, reps },
      { key: 'gpt', model: 'gpt', ...gptOpts, reps },
      { key: 'resnet-b8', model: 'resnet18', batch: swBatch, width: 64, sparsity: 0, reps },
      { key: 'sw75-b8', model: 'resnet18', batch: swBatch, width: sw75Width, sparsity: 0.75, reps: quick ? 1 : 2 },
      { key: 'sw90-b8', model: 'resnet18', batch: swBatch, width: swWidth, sparsity: 0.9, reps: quick ? 1 : 2 },
    ];
    for (const t of torchThreads) {
      const r = runTorch(t, jobs);
      torch[`${t}`] = r;
      console.log(`torch ${t} thread(s):`, typeof r === 'string' ? r : JSON.stringify(r.results));
    }
  }
  const kernels = flag('--skip-kernels') || onlySparse ? [] : await benchKernels(paths);
  const ops = flag('--skip-kernels') || onlySparse ? [] : await benchOps(paths);
  const peak = fp32Peak();
  console.log(`fp32 peak: ${peak.formula}; measured ${peak.measuredGflops?.toFixed(0) ?? '-'} GFLOP/s`);

  const ratios: Ratio[] = [];
  const ratioPath: Path = nativeBackend ? 'native' : native.loaded ? 'wasm+native' : 'wasm-sparse-ift';
  for (const [t, run] of Object.entries(torch)) {
    if (typeof run === 'string') continue;
    for (const [name, key, model] of [['resnet18-dense', 'resnet', 'resnet18-cifar width 64 batch 32'], ['gpt-dense', 'gpt', 'gpt L4']] as const) {
      const row = steps.find((s) => s.path === ratioPath && s.model.startsWith(model));
      const theirs = run.results[key];
      if (row && typeof row.seconds === 'number' && theirs) {
        ratios.push({ name: `${name}-vs-pytorch-${t}thr`, value: row.seconds / theirs, ours: row.seconds, pytorch: theirs, path: ratioPath });
      }
    }
  }

  const sparse = nativeBackend && loadSparseKernels().kernels && !flag('--skip-sparse')
    ? await benchSparse(resnetDense.batch, quick ? 1 : 3)
    : undefined;
  if (sparse) {
    steps.push(...sparse.steps);
    ratios.push(...sparse.ratios);
    for (const r of sparse.ratios) console.log(`${r.name}: ${r.value.toFixed(2)}`);
  }

  const result = {
    startedAt: startedAt.toISOString(),
    command: `npx tsx tools/bench/run.ts ${args.join(' ')}`.trim(),
    backend: info,
    backendLine: describeBackend(info),
    wasmBackendLine: describeBackend(wasmInfo),
    machine: { cores: cpus().length, cpu: cpus()[0]?.model, loadAverageAtStart: load, loadAverageAtEnd: loadavg() },
    threads: { wasm: 1, native: native.loaded ? native.addon.threads() : 0, torch: torchThreads },
    env: Object.fromEntries(['OPENBLAS_CORETYPE', 'OMP_NUM_THREADS', 'OMP_WAIT_POLICY', 'GOMP_SPINCOUNT', 'SIFT_ISA', 'SIFT_SPARSE_ISA', 'SIFT_SPARSE', 'ONEDNN_MAX_CPU_ISA'].map((k) => [k, process.env[k] ?? null])),
    convLibrary: native.loaded ? native.addon.convLibrary() : null,
    peak,
    kernels,
    ops,
    steps,
    ratios,
    sparse: sparse ? { isa: loadSparseKernels().kernels?.sparseIsa(), inference: sparse.inference, layers: sparse.layers } : undefined,
    torch,
    models: { resnetDense, gpt: gptOpts, sparseWide: { sparsity: 0.9, width: swWidth, batch: swBatch, bigBatch } },
  };
  mkdirSync(outDir, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const jsonPath = join(outDir, `bench-${stamp}.json`);
  const mdPath = join(outDir, `bench-${stamp}.md`);
  writeFileSync(jsonPath, JSON.stringify(result, null, 2));
  writeFileSync(mdPath, markdown(result, paths));
  console.log(`wrote ${jsonPath} and ${mdPath}`);
}

function fmt(v: number | string | undefined): string {
  if (v === undefined) return '';
  return typeof v === 'number' ? (v >= 10 ? v.toFixed(1) : v.toPrecision(2)) : v.split(' (')[0]!;
}

function markdown(r: {
  startedAt: string; command: string; backendLine: string; wasmBackendLine: string; machine: { cores: number; cpu?: string; loadAverageAtStart: number[]; loadAverageAtEnd: number[] };
  threads: { wasm: number; native: number; torch: number[] }; kernels: KernelRow[]; ops: OpRow[]; steps: StepRow[]; torch: Record<string, TorchRun | string>;
  env: Record<string, string | null>; convLibrary: string | null; ratios: Ratio[];
  sparse?: { isa?: string; inference: InferenceRow[]; layers: SparseLayerReport[] };
  peak: { formula: string; theoreticalGflops: number; measuredGflops?: number };
  models: { sparseWide: { width: number; batch: number } };
}, paths: Path[]): string {
  const lines: string[] = [];
  lines.push(`# sparse-ift backend benchmark, ${r.startedAt}`, '');
  lines.push(`Command: \`${r.command}\``, '');
  lines.push(`${r.backendLine}`, '', `wasm paths: ${r.wasmBackendLine}`, '');
  lines.push(`Machine: ${r.machine.cores} cores (${r.machine.cpu}); load average ${r.machine.loadAverageAtStart.map((x) => x.toFixed(1)).join(' ')} at start, ${r.machine.loadAverageAtEnd.map((x) => x.toFixed(1)).join(' ')} at end (a loaded machine slows every column; compare ratios within one run).`, '');
  lines.push(`Threads: wasm ${r.threads.wasm}, native ${r.threads.native || 'not built'}, PyTorch ${r.threads.torch.join(' and ')}.`, '');
  lines.push(`fp32 peak: ${r.peak.formula}; measured (cores × one core's vector-FMA throughput): ${r.peak.measuredGflops?.toFixed(0) ?? '-'} GFLOP/s.`, '');
  lines.push(`Native convolutions (wasm+native): ${r.convLibrary ?? 'no addon'}. Environment (PyTorch inherits it): ${Object.entries(r.env).map(([k, v]) => `${k}=${v ?? 'unset'}`).join(', ')}.`, '');
  if (r.ratios.length > 0) {
    lines.push('## Ratios (same run: ours / PyTorch, or sparse / dense)', '', '| name | value | ours (s) | PyTorch or dense (s) | path |', '|---|---:|---:|---:|---|');
    for (const x of r.ratios) lines.push(`| ${x.name} | ${x.value.toFixed(2)} | ${x.ours.toFixed(3)} | ${(x.pytorch ?? x.dense ?? NaN).toFixed(3)} | ${x.path} |`);
    lines.push('');
  }
  if (r.kernels.length > 0) {
    lines.push('## Kernels (GFLOP/s; cpu measured on a smaller batch)', '');
    lines.push(`| kernel | ${paths.join(' | ')} |`, `|---|${paths.map(() => '---:').join('|')}|`);
    for (const k of r.kernels) lines.push(`| ${k.kernel} | ${paths.map((p) => fmt(k.gflops[p])).join(' | ')} |`);
  }
  if (r.ops.length > 0) {
    lines.push('', '## Fused ops between the GEMMs (ms, forward + backward)', '');
    lines.push(`| op | ${paths.join(' | ')} |`, `|---|${paths.map(() => '---:').join('|')}|`);
    for (const o of r.ops) lines.push(`| ${o.op} | ${paths.map((p) => fmt(o.ms[p])).join(' | ')} |`);
  }
  lines.push('', '## Training steps (forward + backward + optimizer)', '');
  const torchRun = (threads: string) => {
    const t = r.torch[threads];
    return typeof t === 'object' ? t : undefined;
  };
  const torchKey = (model: string) =>
    model.startsWith('gpt') ? 'gpt' : model.includes('masked 90') && model.endsWith('batch 8') ? 'sw90-b8' : model.includes('masked 75') ? 'sw75-b8' : model.endsWith('batch 8') ? 'resnet-b8' : model.endsWith('batch 32') ? 'resnet' : '';
  const threadsList = Object.keys(r.torch);
  lines.push('Peak RSS is the process\'s resident high-water mark during the row (Linux VmHWM, reset before each row), with the resident memory at the row\'s start in brackets: rows run in table order in one process, and the wasm heap, once grown, stays in every later row. PyTorch rows: its process, reset per job.', '');
  lines.push(`| model | path | seconds | GFLOP/s | peak RSS (MB) | ${threadsList.map((t) => `PyTorch ${t} thr (s) | peak RSS (MB) | ours/PyTorch ${t} thr`).join(' | ')} |`);
  lines.push(`|---|---|---:|---:|---:|${threadsList.map(() => '---:|---:|---:').join('|')}|`);
  for (const s of r.steps) {
    const cells = threadsList.map((t) => {
      const run = torchRun(t);
      const tr = run?.results[torchKey(s.model)];
      if (tr === undefined) return ` ${typeof r.torch[t] === 'string' ? r.torch[t] : ''} | | `;
      return `${tr.toFixed(3)} | ${run?.peakRssMB?.[torchKey(s.model)]?.toFixed(0) ?? ''} | ${typeof s.seconds === 'number' ? (s.seconds / tr).toFixed(2) + 'x' : ''}`;
    });
    const rss = s.peakRssMB === undefined ? '' : `${s.peakRssMB.toFixed(0)} (${s.startRssMB?.toFixed(0) ?? '?'})`;
    lines.push(`| ${s.model} | ${s.path} | ${typeof s.seconds === 'number' ? s.seconds.toFixed(3) : s.seconds} | ${s.gflops?.toFixed(1) ?? ''} | ${rss} | ${cells.join(' | ')} |`);
  }
  const resnet32 = r.steps.find((s) => s.path === 'native' && s.model === 'resnet18-cifar width 64 batch 32');
  if (resnet32?.gflops && r.peak.measuredGflops) {
    lines.push('', `ResNet-18 step on the native backend: ${resnet32.gflops.toFixed(0)} GFLOP/s = ${((100 * resnet32.gflops) / r.peak.measuredGflops).toFixed(0)} % of the measured peak (${((100 * resnet32.gflops) / r.peak.theoreticalGflops).toFixed(0)} % of the formula's, whose clock is the nominal one).`);
  }
  const dense = r.steps.find((s) => s.model.startsWith('resnet18') && s.model.endsWith('batch 8') && !s.model.includes('masked'));
  for (const sw of r.steps.filter((s) => s.model.includes('masked') && !s.model.includes('sparse kernels'))) {
    const width = Number(/width (\d+)/.exec(sw.model)?.[1] ?? 64);
    const pct = /masked (\d+)/.exec(sw.model)?.[1];
    const batch = /batch (\d+)/.exec(sw.model)?.[1];
    const last = torchRun(threadsList[threadsList.length - 1] ?? '');
    const torchDense = last?.results['resnet-b8'];
    const torchSw = last?.results[torchKey(sw.model)];
    const torchRatio = torchDense && torchSw ? `; PyTorch: ${(torchSw / torchDense).toFixed(2)}x` : '';
    if (batch === String(r.models.sparseWide.batch) && dense && typeof dense.seconds === 'number' && typeof sw.seconds === 'number') {
      lines.push('', `Sparse Wide ${pct} % (width ${width}, masked-dense) step / dense step at batch ${batch}: ${(sw.seconds / dense.seconds).toFixed(2)}x on ${sw.path}${torchRatio}. Masked-dense does the full dense FLOPs of the widened net (~${((width / 64) ** 2).toFixed(1)}x dense).`);
    } else {
      const seconds = typeof sw.seconds === 'number' ? `${sw.seconds.toFixed(3)} s` : sw.seconds;
      lines.push('', `Sparse Wide ${pct} % (width ${width}, masked-dense) at batch ${batch} on ${sw.path}: ${seconds}, peak RSS ${sw.peakRssMB?.toFixed(0) ?? '?'} MB, in the same process as every row above.`);
    }
  }
  if (r.sparse) {
    lines.push('', `## Sparse kernels (ISA ${r.sparse.isa ?? '?'}): inference (forward) and the path each layer shape took`, '');
    lines.push('| model | path | seconds |', '|---|---|---:|');
    for (const row of r.sparse.inference) lines.push(`| ${row.model} | ${row.path} | ${typeof row.seconds === 'number' ? row.seconds.toFixed(3) : row.seconds} |`);
    lines.push('', 'Per layer shape (auto: both paths timed once on the first call, best of two, ms):', '');
    lines.push('| op | shape | density | forward | backward (dx + dW) |', '|---|---|---:|---|---|');
    const dir = (d?: SparseLayerReport['forward']) => !d ? '' : `${d.path}${d.sparseMs !== undefined ? ` (sparse ${d.sparseMs.toFixed(1)} / dense ${d.denseMs!.toFixed(1)})` : d.why ? ` (${d.why})` : ''}`;
    for (const l of r.sparse.layers) lines.push(`| ${l.op} | ${l.shape} | ${l.density.toFixed(3)} | ${dir(l.forward)} | ${dir(l.backward)} |`);
  }
  lines.push('');
  return lines.join('\n');
}

await main();
