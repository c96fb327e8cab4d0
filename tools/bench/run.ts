// Benchmark (not a test) of the training backend. One command:
//   npx tsx tools/bench/run.ts [--quick] [--out runs/bench] [--torch-threads 1,2] [--skip-steps]
//                              [--skip-kernels] [--only-sparse-wide]
// Writes runs/bench/bench-<time>.json and .md: per-kernel GFLOP/s for wasm as shipped, this project's
// wasm kernels, the native addon (if built) and the cpu backend; one training step (forward + backward
// + optimizer) of CIFAR ResNet-18 (batch 32) and a small GPT (4 layers, d 256, ctx 256, batch 8) against
// the same models in PyTorch (Debian python3-torch) in the same run; Sparse Wide 90 % masked-dense vs
// dense. Machine load is recorded: on a shared machine, compare ratios taken in the same run.
import * as tf from '@tensorflow/tfjs-core';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import {
  describeBackend,
  initBackend,
  loadNativeAddon,
  registerWasmTrainingKernels,
  setNativeKernels,
  unregisterWasmTrainingKernels,
  type BackendInfo,
} from '../../packages/backend/src/index.js';
import { sparseWideWidth } from '../../packages/core/src/isoflop.js';
import { batchNormTrain } from '../../packages/core/src/ops/batch-norm.js';
import { gelu } from '../../packages/core/src/ops/gelu.js';
import { layerNorm } from '../../packages/core/src/ops/layer-norm.js';
import { gpt, resnet18, type Model } from './models.js';
import { argv as args, flag, option } from './args.js';

const quick = flag('--quick');
const outDir = option('--out', 'runs/bench');
const torchThreads = option('--torch-threads', '2').split(',').map(Number);

type Path = 'wasm-shipped' | 'wasm-sparse-ift' | 'native' | 'cpu';
const native = loadNativeAddon();

async function usePath(path: Path): Promise<void> {
  if (path === 'cpu') {
    await tf.setBackend('cpu');
    return;
  }
  await tf.setBackend('wasm');
  if (path === 'wasm-shipped') {
    unregisterWasmTrainingKernels();
    setNativeKernels(undefined);
  } else {
    registerWasmTrainingKernels();
    setNativeKernels(path === 'native' && native.loaded ? native.addon : undefined);
  }
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

interface StepRow { model: string; path: Path | `torch ${number} thread(s)`; seconds: number | string; gflops?: number }

function stepFlops(m: Model): number {
  return 3 * 2 * m.forwardMacs;
}

async function benchStep(path: Path, build: () => Model, optimizer: () => tf.Optimizer, reps: number): Promise<StepRow> {
  await usePath(path);
  let model: Model | undefined;
  let opt: tf.Optimizer | undefined;
  try {
    model = build();
    opt = optimizer();
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

interface TorchJob { key: string; model: 'resnet18' | 'gpt'; [k: string]: unknown }

function runTorch(threads: number, jobs: TorchJob[]): { version: string; threads: number; results: Record<string, number> } | string {
  const python = '/usr/bin/python3';
  if (!existsSync(python)) return 'skipped: /usr/bin/python3 not found';
  try {
    execFileSync(python, ['-c', 'import torch'], { stdio: 'ignore' });
  } catch {
    return 'skipped: python3-torch not installed (apt install python3-torch)';
  }
  const out = execFileSync(python, [join(import.meta.dirname, 'torch_models.py'), String(threads), JSON.stringify(jobs)], {
    encoding: 'utf8', maxBuffer: 1 << 20,
  });
  const parsed = JSON.parse(out.trim().split('\n').pop()!) as { torch: string; threads: number; results: Record<string, number> };
  return { version: parsed.torch, threads: parsed.threads, results: parsed.results };
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const info: BackendInfo = await initBackend({ backend: 'wasm', training: true });
  console.log(describeBackend(info));
  const load = loadavg();
  console.log(`machine: ${cpus().length} cores (${cpus()[0]?.model}), load average ${load.map((l) => l.toFixed(1)).join(' ')}`);
  const paths: Path[] = ['wasm-shipped', 'wasm-sparse-ift', ...(native.loaded ? (['native'] as Path[]) : []), 'cpu'];
  const kernels = flag('--skip-kernels') || flag('--only-sparse-wide') ? [] : await benchKernels(paths);
  const ops = flag('--skip-kernels') || flag('--only-sparse-wide') ? [] : await benchOps(paths);

  const steps: StepRow[] = [];
  const torch: Record<string, unknown> = {};
  const resnetDense = { batch: 32, width: 64, sparsity: 0 };
  const gptOpts = { batch: 8, context: 256, dModel: 256, layers: 4, heads: 4, vocab: 512 };
  const swBatch = 8;
  const swWidth = sparseWideWidth(64, 0.9);
  // 90 %: weights + masks + grads + momentum of a 10x-parameter ResNet-18 nearly fill the wasm32 heap
  // (4 GB), so 75 % is measured too.
  const sw75Width = sparseWideWidth(64, 0.75);
  if (!flag('--skip-steps')) {
    const reps = quick ? 1 : 3;
    const sgd = () => tf.train.momentum(0.01, 0.9);
    const adam = () => tf.train.adam(1e-3);
    const stepPaths: Path[] = ['wasm-shipped', 'wasm-sparse-ift', ...(native.loaded ? (['native'] as Path[]) : [])];
    const onlySw = flag('--only-sparse-wide');
    // Sparse Wide last: its weights nearly fill the wasm32 heap (which never shrinks); after the other
    // steps 90 % overflows it, which can leave the wasm module unusable. It fits in a fresh process: for a
    // clean Sparse Wide measurement run `--only-sparse-wide` separately.
    const best: Path = native.loaded ? 'native' : 'wasm-sparse-ift';
    if (!onlySw) {
      for (const path of stepPaths) {
        steps.push(await benchStep(path, () => resnet18(resnetDense), sgd, reps));
        steps.push(await benchStep(path, () => gpt(gptOpts), adam, reps));
      }
    }
    steps.push(await benchStep(best, () => resnet18({ batch: swBatch, width: 64, sparsity: 0 }), sgd, reps));
    steps.push(await benchStep(best, () => resnet18({ batch: swBatch, width: sw75Width, sparsity: 0.75 }), sgd, quick ? 1 : 2));
    steps.push(await benchStep(best, () => resnet18({ batch: swBatch, width: swWidth, sparsity: 0.9 }), sgd, quick ? 1 : 2));
    const jobs: TorchJob[] = [
      ...(onlySw ? [] : [
        { key: 'resnet', model: 'resnet18', ...resnetDense, reps } as TorchJob,
        { key: 'gpt', model: 'gpt', ...gptOpts, reps } as TorchJob,
      ]),
      { key: 'resnet-b8', model: 'resnet18', batch: swBatch, width: 64, sparsity: 0, reps },
      { key: 'sw75-b8', model: 'resnet18', batch: swBatch, width: sw75Width, sparsity: 0.75, reps: quick ? 1 : 2 },
      { key: 'sw90-b8', model: 'resnet18', batch: swBatch, width: swWidth, sparsity: 0.9, reps: quick ? 1 : 2 },
    ];
    for (const threads of torchThreads) {
      const t = runTorch(threads, jobs);
      torch[`${threads}`] = t;
      console.log(`torch ${threads} thread(s):`, typeof t === 'string' ? t : JSON.stringify(t.results));
    }
  }

  const result = {
    startedAt: startedAt.toISOString(),
    command: `npx tsx tools/bench/run.ts ${args.join(' ')}`.trim(),
    backend: info,
    backendLine: describeBackend(info),
    machine: { cores: cpus().length, cpu: cpus()[0]?.model, loadAverageAtStart: load, loadAverageAtEnd: loadavg() },
    threads: { wasm: 1, native: native.loaded ? native.addon.threads() : 0, torch: torchThreads },
    env: { OPENBLAS_CORETYPE: process.env['OPENBLAS_CORETYPE'] ?? null, OMP_NUM_THREADS: process.env['OMP_NUM_THREADS'] ?? null },
    convLibrary: native.loaded ? native.addon.convLibrary() : null,
    kernels,
    ops,
    steps,
    torch,
    models: { resnetDense, gpt: gptOpts, sparseWide: { sparsity: 0.9, width: swWidth, batch: swBatch } },
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
  startedAt: string; command: string; backendLine: string; machine: { cores: number; cpu?: string; loadAverageAtStart: number[]; loadAverageAtEnd: number[] };
  threads: { wasm: number; native: number; torch: number[] }; kernels: KernelRow[]; ops: OpRow[]; steps: StepRow[]; torch: Record<string, unknown>;
  env: Record<string, string | null>; convLibrary: string | null;
  models: { sparseWide: { width: number; batch: number } };
}, paths: Path[]): string {
  const lines: string[] = [];
  lines.push(`# sparse-ift backend benchmark, ${r.startedAt}`, '');
  lines.push(`Command: \`${r.command}\``, '');
  lines.push(`${r.backendLine}`, '');
  lines.push(`Machine: ${r.machine.cores} cores (${r.machine.cpu}); load average ${r.machine.loadAverageAtStart.map((x) => x.toFixed(1)).join(' ')} at start, ${r.machine.loadAverageAtEnd.map((x) => x.toFixed(1)).join(' ')} at end (a loaded machine slows every column; compare ratios within one run).`, '');
  lines.push(`Threads: wasm ${r.threads.wasm}, native ${r.threads.native || 'not built'}, PyTorch ${r.threads.torch.join(' and ')}.`, '');
  lines.push(`Native convolutions: ${r.convLibrary ?? 'no addon'}. Environment (PyTorch inherits it): OPENBLAS_CORETYPE=${r.env['OPENBLAS_CORETYPE'] ?? 'unset'}, OMP_NUM_THREADS=${r.env['OMP_NUM_THREADS'] ?? 'unset'}.`, '');
  lines.push('## Kernels (GFLOP/s; cpu measured on a smaller batch)', '');
  lines.push(`| kernel | ${paths.join(' | ')} |`, `|---|${paths.map(() => '---:').join('|')}|`);
  for (const k of r.kernels) lines.push(`| ${k.kernel} | ${paths.map((p) => fmt(k.gflops[p])).join(' | ')} |`);
  if (r.ops.length > 0) {
    lines.push('', '## Fused ops between the GEMMs (ms, forward + backward)', '');
    lines.push(`| op | ${paths.join(' | ')} |`, `|---|${paths.map(() => '---:').join('|')}|`);
    for (const o of r.ops) lines.push(`| ${o.op} | ${paths.map((p) => fmt(o.ms[p])).join(' | ')} |`);
  }
  lines.push('', '## Training steps (forward + backward + optimizer)', '');
  const torchResults = (threads: string) => {
    const t = r.torch[threads];
    return typeof t === 'object' && t ? (t as { results: Record<string, number> }).results : undefined;
  };
  const torchKey = (model: string) =>
    model.startsWith('gpt') ? 'gpt' : model.includes('masked 90') ? 'sw90-b8' : model.includes('masked 75') ? 'sw75-b8' : model.includes('batch 8') ? 'resnet-b8' : 'resnet';
  const threadsList = Object.keys(r.torch);
  lines.push(`| model | path | seconds | GFLOP/s | ${threadsList.map((t) => `PyTorch ${t} thr (s) | ratio ours/PyTorch ${t} thr`).join(' | ')} |`);
  lines.push(`|---|---|---:|---:|${threadsList.map(() => '---:|---:').join('|')}|`);
  for (const s of r.steps) {
    const cells = threadsList.map((t) => {
      const tr = torchResults(t)?.[torchKey(s.model)];
      if (tr === undefined) return ` ${typeof r.torch[t] === 'string' ? r.torch[t] : ''} | `;
      return `${tr.toFixed(3)} | ${typeof s.seconds === 'number' ? (s.seconds / tr).toFixed(2) + 'x' : ''}`;
    });
    lines.push(`| ${s.model} | ${s.path} | ${typeof s.seconds === 'number' ? s.seconds.toFixed(3) : s.seconds} | ${s.gflops?.toFixed(1) ?? ''} | ${cells.join(' | ')} |`);
  }
  const dense = r.steps.find((s) => s.model.startsWith('resnet18') && s.model.includes('batch 8') && !s.model.includes('masked'));
  for (const sw of r.steps.filter((s) => s.model.includes('masked'))) {
    const width = Number(/width (\d+)/.exec(sw.model)?.[1] ?? 64);
    const pct = /masked (\d+)/.exec(sw.model)?.[1];
    const torchDense = torchResults(threadsList[threadsList.length - 1] ?? '')?.['resnet-b8'];
    const torchSw = torchResults(threadsList[threadsList.length - 1] ?? '')?.[torchKey(sw.model)];
    const torchRatio = torchDense && torchSw ? `; PyTorch: ${(torchSw / torchDense).toFixed(2)}x` : '';
    if (dense && typeof dense.seconds === 'number' && typeof sw.seconds === 'number') {
      lines.push('', `Sparse Wide ${pct} % (width ${width}, masked-dense) step / dense step at batch ${r.models.sparseWide.batch}: ${(sw.seconds / dense.seconds).toFixed(2)}x on ${sw.path}${torchRatio}. Masked-dense does the full dense FLOPs of the widened net (~${((width / 64) ** 2).toFixed(1)}x dense).`);
    } else {
      const seconds = typeof sw.seconds === 'number' ? `${sw.seconds.toFixed(3)} s` : sw.seconds;
      lines.push('', `Sparse Wide ${pct} % (width ${width}, masked-dense) on ${sw.path}: ${seconds}${torchRatio}.`);
    }
  }
  lines.push('');
  return lines.join('\n');
}

await main();
