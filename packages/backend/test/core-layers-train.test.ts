// One sparse training step (core's SGD + sparseTrainStep + StaticUpdater) of a tiny model around each
// layer type of @sparse-ift/core, on wasm (this package's kernels, plus the native addon under
// SPARSE_IFT_TEST_NATIVE=1), on the native backend (when its addon is built), on webgpu (tfjs-backend-webgpu
// + this package's WGSL kernels, on whatever adapter starts: in CI the software one tools/setup.sh installs)
// and on tfjs' plain-JS cpu backend, from
// bitwise-identical weights. Checks: the step on each equals the step on cpu, the loss on the fixed batch
// went down, and every masked weight is still exactly 0.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import {
  BatchNorm,
  Dropout,
  LayerNorm,
  MaskedConv2D,
  MaskedDense,
  SGD,
  StaticUpdater,
  collectMaskedParams,
  seededInitializer,
  sparseIftConv2D,
  sparseIftDense,
  sparseTrainStep,
  sparseWideWidth,
  withDropoutContext,
} from '@sparse-ift/core';
import { randn, rng, useBackend, webgpuUnavailable, TRAINING_BACKENDS, type TrainingBackend } from './helpers.js';

/**
 * Tolerance of the step on wasm vs cpu, relative to the largest |step| of the tensor on cpu.
 * Both start from bitwise-identical float32 weights, so the steps differ only by float32 rounding:
 * of the gradients (reductions of at most 216 terms here: ~√n·2⁻²⁴ ≈ 1e-6 typical, n·2⁻²⁴ ≈ 1.3e-5
 * worst case, plus the mean-subtraction of the BatchNorm / LayerNorm backward), and of w − lr·g
 * (2⁻²⁴·|w| on a step that is ~1% of |w|: ~6e-6 of the step). Measured: at most 5e-6 on wasm and
 * on wasm + native. 1e-4 leaves a 20× margin and flags any kernel error above 0.01% of the step.
 * webgpu sums in other orders (workgroup trees) and uses the GPU's exp/sqrt: the same bound holds.
 */
const STEP_RTOL = 1e-4;
/** Non-trainable buffers (BatchNorm moving mean/variance): one forward's rounding, relative to max |v|. */
const BUFFER_RTOL = 1e-5;
const LEARNING_RATE = 0.01;

interface Case {
  name: string;
  /** Input shape without the batch axis. */
  inputShape: number[];
  /** The layer (or block) under test on the model input. */
  body: (x: SymbolicTensor) => SymbolicTensor;
}

const OUT = 3;
const BATCH = 4;

function buildModel(c: Case): tfl.LayersModel {
  const input = tfl.input({ shape: c.inputShape });
  let h = c.body(input);
  if (h.shape.length > 2) h = tfl.layers.flatten().apply(h) as SymbolicTensor;
  const out = tfl.layers
    .dense({ name: 'head', units: OUT, kernelInitializer: tfl.initializers.glorotUniform({ seed: 11 }) })
    .apply(h) as SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out });
}

interface StepResult {
  names: string[];
  trainable: boolean[];
  before: Float32Array[];
  after: Float32Array[];
  masks: { weightIndex: number; mask: Float32Array }[];
  lossBefore: number;
  lossAfter: number;
}

const snapshot = (model: tfl.LayersModel) => model.weights.map((w) => w.read().dataSync().slice() as Float32Array);

type Accelerated = TrainingBackend | 'webgpu';
const accelerated: Accelerated[] = [...TRAINING_BACKENDS];
/** Worst step and buffer errors per backend (relative to cpu's largest |step|), printed at the end. */
const worst: Record<string, { step: number; stepAbs: number; buffer: number; case: string }> = {};

beforeAll(async () => {
  const why = await webgpuUnavailable();
  if (why === undefined) accelerated.push('webgpu');
  else console.warn(`core-layers-train: webgpu skipped (${why})`);
});

afterAll(() => {
  for (const [backend, w] of Object.entries(worst)) {
    console.log(`one-step training vs cpu on ${backend}: worst step error ${w.step.toExponential(2)} of max |step| (abs ${w.stepAbs.toExponential(2)}, ${w.case}); worst buffer error ${w.buffer.toExponential(2)}`);
  }
});

async function stepOn(backend: Accelerated | 'cpu', c: Case, init: Float32Array[] | undefined, xs: Float32Array, ys: Float32Array): Promise<StepResult> {
  await useBackend(backend);
  const model = buildModel(c);
  const seeded = snapshot(model);
  if (init) {
    // The seeds (maskSeed, weightSeed, head seed) should already give the same weights and masks on
    // both backends; copy cpu's anyway, so a seeding difference cannot pass for a kernel difference.
    seeded.forEach((v, i) => expect.soft(Array.from(v), `${c.name}: seeded initial ${model.weights[i]!.originalName} on ${backend} equals cpu`).toEqual(Array.from(init[i]!)));
    const initial = init.map((v, i) => tf.tensor(v, model.weights[i]!.read().shape));
    model.setWeights(initial);
    initial.forEach((t) => t.dispose());
  }
  const x = tf.tensor(xs, [BATCH, ...c.inputShape]);
  const y = tf.tensor(ys, [BATCH, OUT]);
  // One dropout context: the same masks on every backend (core's Philox draws the same bits everywhere).
  const lossFn = () => withDropoutContext({ seed: 3, step: 0 }, () => tf.tidy(() => tf.mean(tf.square(tf.sub(model.apply(x, { training: true }) as tf.Tensor, y))) as tf.Scalar));

  const maskedParams = collectMaskedParams(model);
  const params = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const optimizer = new SGD(params, { learningRate: LEARNING_RATE });
  const before = snapshot(model);
  const { loss: lossBefore } = sparseTrainStep({ params, maskedParams, lossFn, optimizer, updater: new StaticUpdater() });
  const after = snapshot(model);
  const lossAfterT = lossFn();
  const lossAfter = lossAfterT.dataSync()[0]!;

  const variableNames = model.weights.map((w) => (w.read() as tf.Variable).name);
  const masks = maskedParams.map((mp) => ({ weightIndex: variableNames.indexOf(mp.weight.name), mask: mp.mask.dataSync().slice() as Float32Array }));
  const result: StepResult = {
    names: model.weights.map((w) => w.originalName),
    trainable: model.weights.map((w) => w.trainable),
    before,
    after,
    masks,
    lossBefore,
    lossAfter,
  };
  lossAfterT.dispose();
  x.dispose();
  y.dispose();
  optimizer.dispose();
  model.dispose();
  return result;
}

function maxAbs(v: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i]!));
  return m;
}

async function checkOneStep(c: Case, expectMaskedParams: number): Promise<void> {
  const r = rng(c.name.length * 7919 + 1);
  const size = c.inputShape.reduce((a, b) => a * b, 1);
  const xs = randn(r, BATCH * size);
  const ys = randn(r, BATCH * OUT);
  const cpu = await stepOn('cpu', c, undefined, xs, ys);
  expect(cpu.masks.length, `${c.name}: masked params found`).toBe(expectMaskedParams);
  checkRun(c, cpu, 'cpu');
  for (const backend of accelerated) {
    const run = await stepOn(backend, c, cpu.before, xs, ys);
    checkRun(c, run, backend);
    compareWithCpu(c, run, cpu, backend);
  }
}

function checkRun(c: Case, run: StepResult, on: string): void {
  expect(run.lossAfter, `${c.name} on ${on}: loss after one step (${run.lossAfter}) < before (${run.lossBefore})`).toBeLessThan(run.lossBefore);
  for (const { weightIndex, mask } of run.masks) {
    const w = run.after[weightIndex]!;
    let zeros = 0;
    let nonzeroMasked = 0;
    for (let i = 0; i < mask.length; i++) {
      if (mask[i] !== 0) continue;
      zeros++;
      if (w[i] !== 0) nonzeroMasked++;
    }
    expect(zeros, `${c.name} on ${on}: ${run.names[weightIndex]} has masked entries`).toBeGreaterThan(0);
    expect(nonzeroMasked, `${c.name} on ${on}: masked entries of ${run.names[weightIndex]} that are not exactly 0 after the step`).toBe(0);
  }
}

function compareWithCpu(c: Case, run: StepResult, cpu: StepResult, on: Accelerated): void {
  const w = (worst[on] ??= { step: 0, stepAbs: 0, buffer: 0, case: '' });
  expect(run.names).toEqual(cpu.names);
  run.masks.forEach((m, i) => expect(Array.from(m.mask), `${c.name}: mask ${i} same on ${on} and cpu`).toEqual(Array.from(cpu.masks[i]!.mask)));
  expect(Math.abs(run.lossBefore - cpu.lossBefore), `${c.name}: loss ${on} ${run.lossBefore} vs cpu ${cpu.lossBefore}`).toBeLessThanOrEqual(1e-5 * Math.abs(cpu.lossBefore));

  cpu.after.forEach((cpuAfter, k) => {
    const what = `${c.name}: ${cpu.names[k]}`;
    const after = run.after[k]!;
    const before = cpu.before[k]!;
    if (!cpu.trainable[k]) {
      const scale = Math.max(maxAbs(cpuAfter), 1e-6);
      let err = 0;
      for (let i = 0; i < cpuAfter.length; i++) err = Math.max(err, Math.abs(after[i]! - cpuAfter[i]!));
      w.buffer = Math.max(w.buffer, err / scale);
      expect(err / scale, `${what} (buffer) after the step: max |${on} − cpu| ${err}, scale ${scale}`).toBeLessThanOrEqual(BUFFER_RTOL);
      return;
    }
    const cpuStep = cpuAfter.map((v, i) => v - before[i]!);
    const step = after.map((v, i) => v - before[i]!);
    const scale = maxAbs(cpuStep);
    expect(scale, `${what}: the step moved it on cpu`).toBeGreaterThan(0);
    let err = 0;
    let at = -1;
    for (let i = 0; i < cpuStep.length; i++) {
      const e = Math.abs(step[i]! - cpuStep[i]!);
      if (e > err) [err, at] = [e, i];
    }
    if (err / scale > w.step) Object.assign(w, { step: err / scale, stepAbs: err, case: what });
    expect(
      err / scale,
      `${what}: step on ${on} vs cpu differs by ${err} at ${at} (${on} ${step[at]}, cpu ${cpuStep[at]}, max |step| ${scale})`,
    ).toBeLessThanOrEqual(STEP_RTOL);
  });
}

const s = 0.5;
const seeds = { maskSeed: 101, weightSeed: 202 };

describe('one sparse training step of each core layer type: wasm, native and webgpu equal cpu, loss falls, masked weights stay 0', () => {
  it('MaskedDense (rank-3 input)', async () => {
    await checkOneStep({
      name: 'MaskedDense',
      inputShape: [3, 10],
      body: (x) =>
        new MaskedDense({ name: 'md', units: 7, sparsity: s, role: 'wide-weight', maskSeed: 5, kernelInitializer: seededInitializer('glorotUniform', 21), activation: 'relu' }).apply(x) as SymbolicTensor,
    }, 1);
  });

  for (const [strides, padding] of [[1, 'same'], [2, 'same'], [1, 'valid'], [2, 'valid']] as const) {
    it(`MaskedConv2D 3×3 stride ${strides} '${padding}'`, async () => {
      await checkOneStep({
        name: `MaskedConv2D s${strides} ${padding}`,
        inputShape: [7, 7, 3],
        body: (x) =>
          new MaskedConv2D({ name: 'mc', filters: 5, kernelSize: 3, strides, padding, sparsity: s, role: 'wide-weight', maskSeed: 6, kernelInitializer: seededInitializer('kaimingNormal', 22), useBias: true, activation: 'relu' }).apply(x) as SymbolicTensor,
      }, 1);
    });
  }

  it('Dropout (mask drawn by the kernel, replayed by the gradient)', async () => {
    await checkOneStep({
      name: 'Dropout',
      inputShape: [3, 4],
      body: (x) => {
        const h = new MaskedDense({ name: 'drop_in', units: 6, sparsity: s, role: 'wide-weight', maskSeed: 8, kernelInitializer: seededInitializer('glorotUniform', 24) }).apply(x) as SymbolicTensor;
        return new Dropout({ name: 'drop', rate: 0.4 }).apply(h) as SymbolicTensor;
      },
    }, 1);
  });

  it('LayerNorm (fast, broadcasting)', async () => {
    await checkOneStep({
      name: 'LayerNorm',
      inputShape: [5, 6],
      body: (x) => {
        // A sparse layer in front so gamma/beta get a non-trivial input and the test has a mask.
        const h = new MaskedDense({ name: 'ln_in', units: 6, sparsity: s, role: 'wide-weight', maskSeed: 7, kernelInitializer: seededInitializer('glorotUniform', 23) }).apply(x) as SymbolicTensor;
        return new LayerNorm({ name: 'ln' }).apply(h) as SymbolicTensor;
      },
    }, 1);
  });

  // BatchNorm (core's fused training batch norm: the wasm kernels, on the native addon under
  // SPARSE_IFT_TEST_NATIVE=1; tf.js' composed ops on cpu). A masked conv in front gives γ/β a
  // non-trivial input and the test a mask; the moving statistics are compared as buffers. No bias in
  // front of a BN (as in a ResNet): its gradient is exactly 0 in exact arithmetic (the BN removes any
  // per-channel shift), so its "step" would be rounding noise on both backends.
  const bnConv = (name: string) =>
    new MaskedConv2D({ name, filters: 3, kernelSize: 3, padding: 'same', useBias: false, sparsity: s, role: 'wide-weight', maskSeed: 8, kernelInitializer: seededInitializer('kaimingNormal', 24) });
  const bnCases: [string, (x: SymbolicTensor) => SymbolicTensor][] = [
    ['BatchNorm', (x) => new BatchNorm({ name: 'bn' }).apply(bnConv('bn_in').apply(x) as SymbolicTensor) as SymbolicTensor],
    ['BatchNorm relu', (x) => new BatchNorm({ name: 'bn', relu: true }).apply(bnConv('bn_in').apply(x) as SymbolicTensor) as SymbolicTensor],
    // [x, residual]: the block input is the shortcut (same shape as the conv output), as in a ResNet block.
    ['BatchNorm relu + residual', (x) => new BatchNorm({ name: 'bn', relu: true }).apply([bnConv('bn_in').apply(x) as SymbolicTensor, x]) as SymbolicTensor],
    ['BatchNorm + residual (no relu)', (x) => new BatchNorm({ name: 'bn' }).apply([bnConv('bn_in').apply(x) as SymbolicTensor, x]) as SymbolicTensor],
  ];
  for (const [label, body] of bnCases) {
    it(`${label} (NHWC, fused training kernels on wasm and webgpu)`, async () => {
      await checkOneStep({ name: label, inputShape: [5, 5, 3], body }, 1);
    });
  }

  it('BatchNorm on a rank-2 input (dense features)', async () => {
    await checkOneStep({
      name: 'BatchNorm rank-2',
      inputShape: [10],
      body: (x) => {
        const h = new MaskedDense({ name: 'bn_in', units: 6, useBias: false, sparsity: s, role: 'wide-weight', maskSeed: 9, kernelInitializer: seededInitializer('glorotUniform', 25) }).apply(x) as SymbolicTensor;
        return new BatchNorm({ name: 'bn', relu: true }).apply(h) as SymbolicTensor;
      },
    }, 1);
  });

  const denseBlocks: [string, Parameters<typeof sparseIftDense>[1], number][] = [
    ['sparse-wide', { family: 'sparse-wide', sparsity: s, units: sparseWideWidth(8, s), name: 'blk', ...seeds }, 1],
    ['sparse-parallel', { family: 'sparse-parallel', sparsity: s, units: 8, name: 'blk', ...seeds }, 2],
    ['sparse-factorized (LayerNorm middle)', { family: 'sparse-factorized', sparsity: s, units: 8, name: 'blk', ...seeds }, 2],
    ['sparse-doped', { family: 'sparse-doped', sparsity: s, units: 8, name: 'blk', ...seeds }, 1],
  ];
  for (const [label, options, masked] of denseBlocks) {
    it(`sparseIftDense ${label}`, async () => {
      await checkOneStep({ name: `sparseIftDense ${label}`, inputShape: [12], body: (x) => sparseIftDense(x, options) }, masked);
    });
  }

  const convBlocks: [string, Parameters<typeof sparseIftConv2D>[1], number][] = [
    ['sparse-wide', { family: 'sparse-wide', sparsity: s, filters: sparseWideWidth(6, s), kernelSize: 3, name: 'blk', ...seeds }, 1],
    ['sparse-parallel bn', { family: 'sparse-parallel', sparsity: s, filters: 6, kernelSize: 3, parallelSigma: 'bn', name: 'blk', ...seeds }, 2],
    ['sparse-parallel bn-relu', { family: 'sparse-parallel', sparsity: s, filters: 6, kernelSize: 3, parallelSigma: 'bn-relu', name: 'blk', ...seeds }, 2],
    ['sparse-factorized nonlinear_relu, stride 2', { family: 'sparse-factorized', sparsity: s, filters: 6, kernelSize: 3, strides: 2, factorizedMiddle: 'nonlinear_relu', name: 'blk', ...seeds }, 2],
    ['sparse-doped, stride 2', { family: 'sparse-doped', sparsity: s, filters: 6, kernelSize: 3, strides: 2, name: 'blk', ...seeds }, 1],
  ];
  for (const [label, options, masked] of convBlocks) {
    it(`sparseIftConv2D ${label}`, async () => {
      await checkOneStep({ name: `sparseIftConv2D ${label}`, inputShape: [6, 6, 3], body: (x) => sparseIftConv2D(x, options) }, masked);
    });
  }
});
