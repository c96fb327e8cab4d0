// Device-resident training pieces, timed (not a test): dropout mask values/s, and one SET/RigL mask
// update of every masked tensor of the CIFAR ResNet-18 Sparse Wide 90 % model, host path vs device path.
//
//   npx tsx tools/bench/device-training.ts --backend cpu            # or webgpu (software adapter when no GPU)
//   npx tsx tools/bench/device-training.ts --backend webgpu --only masks --method set --scale 0.25
//
// --scale f keeps that fraction of each tensor's output channels (quick runs); 1 is the real model.
// Each figure is the median of --reps runs after one warm-up; GPU work is waited for (a read) before the
// clock stops. Prints one JSON line per figure. tools/gpu-check runs the same functions on a GPU.
import { execSync } from 'node:child_process';
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { initBackend, releaseWebGPU } from '@sparse-ift/backend';
import {
  MaskUpdateSchedule,
  RigLUpdater,
  Rng,
  SETUpdater,
  SGD,
  dropout,
  withDropoutContext,
  type MaskedParam,
  type MaskUpdater,
} from '@sparse-ift/core';
import { RESNET18_CIFAR, resnetOps, resolveResNet } from '@sparse-ift/resnet';
import { flag, option } from './args.js';

export type DeviceTrainingRow = Record<string, number | string>;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function timed(reps: number, fn: () => Promise<void> | void): Promise<number> {
  await fn(); // warm-up: shader compilation, allocation
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    times.push((performance.now() - t0) / 1000);
  }
  return median(times);
}

/** Dropout mask values per second on the current backend: core's Philox kernel, and tf.dropout when `stock`. */
export async function benchDropout(n: number, reps: number, stock: boolean): Promise<DeviceTrainingRow[]> {
  const backend = tf.getBackend();
  const rows: DeviceTrainingRow[] = [];
  const x = tf.ones([n]);
  const rate = 0.1;
  const core = await timed(reps, async () => {
    const y = withDropoutContext({ seed: 1, step: 0 }, () => dropout(x, rate, 'bench'));
    await y.data();
    y.dispose();
  });
  rows.push({ what: 'dropout', backend, impl: 'sparse-ift Philox kernel', values: n, seconds: core, valuesPerSecond: n / core });
  if (stock) {
    const seconds = await timed(reps, async () => {
      const y = tf.dropout(x, rate);
      await y.data();
      y.dispose();
    });
    rows.push({ what: 'dropout', backend, impl: 'tf.dropout (randomUniform in JS)', values: n, seconds, valuesPerSecond: n / seconds });
  }
  x.dispose();
  return rows;
}

/** The masked convs of CIFAR ResNet-18 Sparse Wide 90 % (shapes from @sparse-ift/resnet's plan). */
function sparseWideParams(rng: Rng, scale: number): MaskedParam[] {
  const resolved = resolveResNet(RESNET18_CIFAR, { family: 'sparse-wide', sparsity: 0.9 });
  const convs = resnetOps(resolved).filter((op) => op.kind === 'conv2d' && op.masked);
  return convs.map((op, i) => {
    if (op.kind !== 'conv2d') throw new Error('unreachable');
    const cout = Math.max(1, Math.round(op.outChannels * scale));
    const shape = [op.kernelSize[0], op.kernelSize[1], op.inChannels, cout];
    const n = shape.reduce((a, b) => a * b, 1);
    const sparsity = resolved.maskSparsity;
    const mask = new Float32Array(n);
    for (const j of rng.sampleIndices(n, Math.round((1 - sparsity) * n))) mask[j] = 1;
    const weight = Float32Array.from(mask, (m) => (m ? rng.normal() : 0));
    return {
      name: op.name, layerName: op.name, role: 'wide-weight', sparsity,
      weight: tf.variable(tf.tensor(weight, shape), true, `bench-w${i}`),
      mask: tf.variable(tf.tensor(mask, shape), false, `bench-m${i}`),
    };
  });
}

/** One SET/RigL update of every masked tensor of CIFAR ResNet-18 Sparse Wide 90 % (channels × scale), host vs device. */
export async function benchMaskUpdate(method: 'rigl' | 'set', scale: number, reps: number, placements: readonly ('host' | 'device')[] = ['host', 'device']): Promise<DeviceTrainingRow[]> {
  const backend = tf.getBackend();
  const rows: DeviceTrainingRow[] = [];
  const rng = Rng.fromSeed(1);
  const params = sparseWideParams(rng, scale);
  const numel = params.reduce((a, p) => a + p.mask.size, 0);
  const optimizer = new SGD(params.map((p) => p.weight), { learningRate: 0.1, momentum: 0.9 });
  const grads = new Map(params.map((p) => [p.name, tf.randomNormal(p.weight.shape, 0, 1, 'float32', 7)] as const));
  for (const placement of placements) {
    const schedule = new MaskUpdateSchedule({ totalSteps: 10_000, frequency: 1, dropFraction: 0.3 });
    const updater: MaskUpdater = method === 'set' ? new SETUpdater({ schedule, rng: Rng.fromSeed(2), placement }) : new RigLUpdater({ schedule, placement });
    const seconds = await timed(reps, async () => {
      updater.step(params, { denseGrads: grads, optimizer });
      await params.at(-1)!.mask.data(); // wait for the device's work
    });
    rows.push({ what: `${method} mask update`, backend, placement, tensors: params.length, elements: numel, seconds });
  }
  optimizer.dispose();
  for (const g of grads.values()) g.dispose();
  for (const p of params) tf.dispose([p.weight, p.mask]);
  return rows;
}

async function main(): Promise<void> {
  const backend = option('--backend', 'cpu');
  const only = option('--only', 'all');
  const method = option('--method', 'rigl') as 'rigl' | 'set';
  const scale = Number(option('--scale', '1'));
  const reps = Number(option('--reps', '3'));
  const info = await initBackend({ backend: backend as 'cpu' | 'webgpu', allowCpuTraining: true, allowSoftwareAdapter: true });
  const cpu = execSync("lscpu | sed -n 's/^Model name: *//p'").toString().trim();
  console.log(`# backend ${info.name}${info.adapter ? ` (${info.adapter.description || info.adapter.vendor}${info.adapter.software ? ', software' : ''})` : ''}; CPU ${cpu}; load ${loadavg()[0]!.toFixed(2)}; scale ${scale}`);
  const rows: DeviceTrainingRow[] = [];
  if (only === 'all' || only === 'dropout') rows.push(...(await benchDropout(Number(option('--dropout-size', String(1 << 22))), reps, backend === 'cpu' || flag('--stock-dropout'))));
  if (only === 'all' || only === 'masks') rows.push(...(await benchMaskUpdate(method, scale, reps)));
  for (const row of rows) console.log(JSON.stringify(row));
  console.log(`# load at end ${loadavg()[0]!.toFixed(2)}`);
  releaseWebGPU();
}

// Run as a script only (tools/gpu-check bundles these functions into its own file).
if (/device-training\.[cm]?[jt]s$/.test(process.argv[1] ?? '')) await main();
