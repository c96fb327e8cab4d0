// Training on the native backend's sparse kernels equals masked-dense training: per Sparse-IFT family at
// s = 0.75 and 0.9, RigL training of a small CIFAR ResNet (@sparse-ift/resnet: dense stem, the family's
// blocks, masked shortcut; base width 4, two stages of one block, 8×8 inputs) and of a small transformer MLP block
// (LayerNorm → family linear → GELU → family linear, residual) runs on the native backend with the sparse
// kernels forced on (setSparseMode('sparse'): every masked product, the masks-open dense-gradient steps of
// RigL included), on the native backend's dense kernels with kernel ⊙ mask ('dense'), and on the cpu
// backend (tf.js' conv2d / matMul of kernel ⊙ mask), from identical weights and batches. Checks: the sparse
// run's masks identical to a masked-dense run's after every step, and RigL changed them; every step's loss
// with the sparse kernels within 1e-4 relative of a masked-dense run's (native or cpu: float32 rounding of a
// different summation order grows over the steps, and the two masked-dense runs drift apart; the printed
// line gives the worst of each pair).
//
// Cost on 2 shared cores: STEPS (30) steps per case, RigL every 5 steps (updates at 5, 10, 15, 20), batch
// 2; the 50 steps are `SIFT_EXACTNESS_STEPS=50`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  Gelu,
  LayerNorm,
  SGD,
  collectMaskedParams,
  createMaskUpdater,
  sparseIftDense,
  sparseTrainStep,
  sparseWideWidth,
  type Family,
} from '@sparse-ift/core';
import { initBackend, loadNativeAddon, setSparseMode, sparseKernelReport, sparseMode, resetSparseChoices, type SparseMode } from '@sparse-ift/backend';
import { buildResNet, type ResNetArch } from '@sparse-ift/resnet';

const STEPS = Number(process.env['SIFT_EXACTNESS_STEPS'] ?? 30);
const FREQUENCY = STEPS >= 50 ? 10 : 5;
const BATCH = 2;
const CLASSES = 4;
/** Loss agreement, relative: all runs are float32 from bitwise-equal weights (measured: the printed worst). */
const LOSS_RTOL = 1e-4;
const LEARNING_RATE = 0.01;
const FAMILIES: Family[] = ['sparse-wide', 'sparse-parallel', 'sparse-factorized', 'sparse-doped'];
const SPARSITIES = [0.75, 0.9];

const NATIVE = (() => {
  const s = loadNativeAddon();
  return s.loaded && typeof s.addon.tensors === 'object' && typeof (s.addon as unknown as Record<string, unknown>)['sparseConvCreate'] === 'function';
})();

/** Two stages (3×3 stride 1 and 2, the 1×1 stride-2 shortcut) on 8×8 inputs: the CIFAR head pools 4×4 to 1×1. */
const TINY_RESNET: ResNetArch = { name: 'resnet-tiny-cifar', stem: 'cifar', blocksPerStage: [1, 1], baseWidth: 4, inputShape: [8, 8, 3], numClasses: CLASSES };
const TOKENS = 8;
const D_MODEL = 16;

function mlpBlock(family: Family, s: number): tfl.LayersModel {
  const input = tfl.input({ shape: [TOKENS, D_MODEL] });
  const common = { family, sparsity: s, maskSeed: 3, weightSeed: 4 };
  let h = new LayerNorm({ name: 'ln' }).apply(input) as tfl.SymbolicTensor;
  const hidden = family === 'sparse-wide' ? sparseWideWidth(4 * D_MODEL, s) : 4 * D_MODEL;
  h = sparseIftDense(h, { name: 'fc1', units: hidden, ...common });
  h = new Gelu({ name: 'gelu' }).apply(h) as tfl.SymbolicTensor;
  h = sparseIftDense(h, { name: 'fc2', units: D_MODEL, ...common, weightSeed: 5 });
  h = tfl.layers.add({ name: 'residual' }).apply([input, h]) as tfl.SymbolicTensor;
  h = tfl.layers.flatten().apply(h) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ name: 'head', units: CLASSES, kernelInitializer: tfl.initializers.glorotUniform({ seed: 6 }) }).apply(h) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out });
}

/** Seeded batches (mulberry32), the same arrays on both backends. */
function batches(sampleShape: number[], seed: number): { x: Float32Array; y: Int32Array }[] {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const size = BATCH * sampleShape.reduce((p, q) => p * q, 1);
  return Array.from({ length: STEPS }, () => ({
    x: Float32Array.from({ length: size }, () => Math.sqrt(-2 * Math.log(next() + 1e-12)) * Math.cos(2 * Math.PI * next())),
    y: Int32Array.from({ length: BATCH }, () => Math.floor(next() * CLASSES)),
  }));
}

interface Run {
  init: Float32Array[];
  losses: number[];
  /** Every masked tensor's mask after each step. */
  masks: Float32Array[][];
}

function train(build: () => tfl.LayersModel, data: { x: Float32Array; y: Int32Array }[], init?: Float32Array[]): Run {
  const model = build();
  if (init) {
    const ts = init.map((v, i) => tf.tensor(v, model.weights[i]!.read().shape));
    model.setWeights(ts);
    tf.dispose(ts);
  }
  const initial = model.weights.map((w) => w.read().dataSync().slice() as Float32Array);
  const maskedParams = collectMaskedParams(model);
  const params = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const optimizer = new SGD(params, { learningRate: LEARNING_RATE, momentum: 0.9, weightDecay: 5e-4 });
  const updater = createMaskUpdater({ method: 'rigl', schedule: { totalSteps: STEPS, frequency: FREQUENCY } });
  const sampleShape = model.inputs[0]!.shape.slice(1) as number[];
  const losses: number[] = [];
  const masks: Float32Array[][] = [];
  for (const batch of data) {
    const x = tf.tensor(batch.x, [BATCH, ...sampleShape]);
    const y = tf.oneHot(tf.tensor1d(batch.y, 'int32'), CLASSES);
    const lossFn = () => tf.tidy(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar);
    losses.push(sparseTrainStep({ params, maskedParams, lossFn, optimizer, updater }).loss);
    masks.push(maskedParams.map((mp) => mp.mask.dataSync().slice() as Float32Array));
    tf.dispose([x, y]);
  }
  optimizer.dispose();
  model.dispose();
  return { init: initial, losses, masks };
}

interface Case {
  name: string;
  build: () => tfl.LayersModel;
  sampleShape: number[];
}

const CASES: Case[] = FAMILIES.flatMap((family) =>
  SPARSITIES.flatMap((s) => [
    { name: `ResNet ${family} s=${s}`, build: () => buildResNet(TINY_RESNET, { family, sparsity: s, seed: 11 }), sampleShape: [8, 8, 3] },
    { name: `MLP block ${family} s=${s}`, build: () => mlpBlock(family, s), sampleShape: [TOKENS, D_MODEL] },
  ]),
);

describe.skipIf(!NATIVE)('training on the sparse kernels equals masked-dense training (RigL)', () => {
  let saved: SparseMode;
  const worst = { cpu: 0, dense: 0, denseVsCpu: 0, denseVsCpuAt: '' };
  beforeAll(async () => {
    saved = sparseMode();
    await initBackend({ backend: 'native' });
  });
  afterAll(() => {
    setSparseMode(saved);
    const e = (v: number) => v.toExponential(2);
    console.log(`${STEPS} RigL steps, worst relative loss differences: sparse vs native masked-dense ${e(worst.dense)}, sparse vs cpu ${e(worst.cpu)}, native masked-dense vs cpu ${e(worst.denseVsCpu)} (${worst.denseVsCpuAt})`);
  });

  for (const c of CASES) {
    it(c.name, async () => {
      const data = batches(c.sampleShape, c.name.length * 7 + 1);
      await tf.setBackend('cpu');
      const cpu = train(c.build, data);
      await tf.setBackend('native');
      const runs = {} as Record<'sparse' | 'dense', Run>;
      for (const mode of ['sparse', 'dense'] as const) {
        setSparseMode(mode);
        resetSparseChoices();
        runs[mode] = train(c.build, data, cpu.init);
        const report = sparseKernelReport();
        expect(report.length, `${c.name}: masked products ran on the native kernels`).toBeGreaterThan(0);
        for (const r of report) expect([r.forward?.path, r.backward?.path], `${c.name} ${r.shape}`).toEqual([mode, mode]);
      }
      const { sparse, dense } = runs;

      let changed = 0;
      for (let t = 0; t < STEPS; t++) {
        const at = `${c.name}: step ${t + 1} loss sparse ${sparse.losses[t]}, native dense ${dense.losses[t]}, cpu ${cpu.losses[t]}`;
        const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
        const vsDense = rel(sparse.losses[t]!, dense.losses[t]!);
        const vsCpu = rel(sparse.losses[t]!, cpu.losses[t]!);
        const denseVsCpu = rel(dense.losses[t]!, cpu.losses[t]!);
        if (vsCpu > worst.cpu) worst.cpu = vsCpu;
        if (vsDense > worst.dense) worst.dense = vsDense;
        if (denseVsCpu > worst.denseVsCpu) Object.assign(worst, { denseVsCpu, denseVsCpuAt: `${c.name}, step ${t + 1}` });
        // Two float32 implementations of masked-dense training (tf.js' cpu kernels, the native oneDNN ones)
        // drift apart over the steps, so the sparse run must equal one of them within LOSS_RTOL at every step.
        // Measured at 50 steps: on ResNet sparse-factorized 0.9 the native dense run drifted 1.3e-4 from cpu by
        // step 27, broke a RigL near-tie at step 30 and ended 1.5e-2 away, while the sparse run stayed within
        // 8e-6 of cpu with cpu's masks.
        expect(Math.min(vsDense, vsCpu), `${at}: sparse vs the nearer masked-dense run`).toBeLessThanOrEqual(LOSS_RTOL);
        cpu.masks[t]!.forEach((m, i) => {
          // The sparse run's masks equal a masked-dense run's: cpu's, or native dense's where that run has
          // drifted from cpu's far enough to break a RigL near-tie (seen once, at 50 steps, in the case above).
          const same = (a: Float32Array, b: Float32Array) => a.every((v, j) => v === b[j]);
          const sparseMask = sparse.masks[t]![i]!;
          expect(same(sparseMask, m) || same(sparseMask, dense.masks[t]![i]!), `${c.name}: mask ${i} after step ${t + 1}, sparse equals cpu's or native dense's`).toBe(true);
          if (t > 0 && !same(m, cpu.masks[t - 1]![i]!)) changed++;
        });
      }
      expect(changed, `${c.name}: RigL changed some mask`).toBeGreaterThan(0);
    }, 300_000);
  }
});
