/**
 * Core's BatchNorm layer on the cpu backend: training-mode output and moving-statistics update against
 * numbers worked out by hand (PyTorch's rule: unbiased variance into the running variance), inference
 * from the moving statistics, the fused residual add and ReLU in both modes, a save/load round trip,
 * and the FLOP walker.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { opFlops } from '../src/flops.js';
import { BatchNorm, batchNorm } from '../src/layers/index.js';
import { modelFlopOps, modelParamCount, planModel } from '../src/model-flops.js';
import { saveAndLoad, seededNormal, useCpu } from './helpers/tf-helpers.js';

const EPS = 1e-5;

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what = '') => {
  expect(a.length, `${what} length`).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!), `${what} [${i}]: ${a[i]} vs ${b[i]}`).toBeLessThanOrEqual(tol);
};

/**
 * The hand-made batch, shape [4, 2]:
 *   channel 0: 1, 3, 5, 7    mean 4, Σ(x − mean)² = 9 + 1 + 1 + 9 = 20: biased var 5, unbiased 20/3
 *   channel 1: 2, 6, 10, −2  mean 4, Σ(x − mean)² = 4 + 4 + 36 + 36 = 80: biased var 20, unbiased 80/3
 */
const X = [
  [1, 2],
  [3, 6],
  [5, 10],
  [7, -2],
];
const GAMMA = [2, 0.5];
const BETA = [1, -1];
const BATCH_MEAN = [4, 4];
const BATCH_VAR = [5, 20];
/** After one training call from moving_mean 0, moving_variance 1, momentum 0.9 (PyTorch momentum 0.1):
 *  mean: 0 − 0.1·(0 − 4) = 0.4;  variance: 1 − 0.1·(1 − 20/3) = 0.9 + 2/3, and 1 − 0.1·(1 − 80/3) = 0.9 + 8/3. */
const MOVING_MEAN_AFTER = [0.4, 0.4];
const MOVING_VAR_AFTER = [0.9 + 2 / 3, 0.9 + 8 / 3];

/** (x − mean)/√(var + ε)·γ + β per channel, row by row. */
function normalise(x: number[][], mean: number[], variance: number[], gamma = GAMMA, beta = BETA): number[][] {
  return x.map((row) => row.map((v, c) => ((v - mean[c]!) / Math.sqrt(variance[c]! + EPS)) * gamma[c]! + beta[c]!));
}

/** A one-layer model on [2] features, with γ = GAMMA, β = BETA and fresh moving statistics (0, 1). */
function singleLayer(args: ConstructorParameters<typeof BatchNorm>[0] = {}) {
  const input = tfl.input({ shape: [2] });
  const layer = new BatchNorm({ name: 'bn', ...args });
  const model = tfl.model({ inputs: input, outputs: layer.apply(input) as tfl.SymbolicTensor });
  const [, , mm, mv] = layer.getWeights();
  layer.setWeights([tf.tensor1d(GAMMA), tf.tensor1d(BETA), mm!, mv!]);
  return { model, layer };
}

const weightNamed = (layer: tfl.layers.Layer, short: string) => {
  const w = layer.weights.find((v) => v.originalName.endsWith(short));
  if (!w) throw new Error(`no weight ${short} in ${layer.weights.map((v) => v.originalName).join(', ')}`);
  return Array.from(w.read().dataSync());
};

describe('BatchNorm layer (cpu)', () => {
  beforeAll(useCpu);

  it('defaults: axis −1, momentum 0.9, epsilon 1e-5, relu off; axis other than −1 and epsilon ≤ 0 are refused', () => {
    const layer = new BatchNorm();
    const cfg = layer.getConfig();
    expect(cfg['axis']).toBe(-1);
    expect(cfg['momentum']).toBe(0.9);
    expect(cfg['epsilon']).toBe(1e-5);
    expect(cfg['relu']).toBe(false);
    expect(layer.relu).toBe(false);
    expect(batchNorm({ relu: true }).relu).toBe(true);
    expect(BatchNorm.className).toBe('SparseIftBatchNorm');
    expect(layer.getClassName()).toBe('SparseIftBatchNorm');
    expect(() => new BatchNorm({ axis: 1 })).toThrow(/axis -1/);
    expect(() => new BatchNorm({ epsilon: 0 })).toThrow(/epsilon must be > 0/);
  });

  it('training call: output = batch normalisation; moving mean/variance updated with momentum 0.9 and the UNBIASED variance', () => {
    const { layer } = singleLayer();
    expect(weightNamed(layer, 'moving_mean')).toEqual([0, 0]);
    expect(weightNamed(layer, 'moving_variance')).toEqual([1, 1]);
    const y = layer.apply(tf.tensor2d(X), { training: true }) as tf.Tensor;
    expect(y.shape).toEqual([4, 2]);
    // By hand, channel 0 row 0: (1 − 4)/√5·2 + 1 = −1.6833; channel 1 row 2: (10 − 4)/√20·0.5 − 1 = −0.3292.
    const out = y.arraySync() as number[][];
    expect(out[0]![0]!).toBeCloseTo(1 - 6 / Math.sqrt(5), 4);
    expect(out[2]![1]!).toBeCloseTo(-1 + 3 / Math.sqrt(20), 4);
    close(out.flat(), normalise(X, BATCH_MEAN, BATCH_VAR).flat(), 1e-5, 'training output');
    close(weightNamed(layer, 'moving_mean'), MOVING_MEAN_AFTER, 1e-6, 'moving_mean');
    close(weightNamed(layer, 'moving_variance'), MOVING_VAR_AFTER, 1e-5, 'moving_variance');
    // γ, β untouched by the forward pass.
    close(weightNamed(layer, 'gamma'), GAMMA, 0, 'gamma');
    close(weightNamed(layer, 'beta'), BETA, 0, 'beta');
  });

  it('two training calls: the running update compounds (running ← running − 0.1·(running − batch))', () => {
    const { layer } = singleLayer();
    layer.apply(tf.tensor2d(X), { training: true });
    layer.apply(tf.tensor2d(X), { training: true });
    // mean: 0.4 − 0.1·(0.4 − 4) = 0.76; variance: v1 − 0.1·(v1 − unbiased).
    close(weightNamed(layer, 'moving_mean'), [0.76, 0.76], 1e-6, 'moving_mean');
    close(weightNamed(layer, 'moving_variance'), [0.9 * MOVING_VAR_AFTER[0]! + 0.1 * (20 / 3), 0.9 * MOVING_VAR_AFTER[1]! + 0.1 * (80 / 3)], 1e-5, 'moving_variance');
  });

  it('a custom momentum is the tf.js one: 0.8 moves the running stats by 0.2 of the gap', () => {
    const { layer } = singleLayer({ momentum: 0.8 });
    layer.apply(tf.tensor2d(X), { training: true });
    close(weightNamed(layer, 'moving_mean'), [0.8, 0.8], 1e-6, 'moving_mean');
    close(weightNamed(layer, 'moving_variance'), [0.8 + 0.2 * (20 / 3), 0.8 + 0.2 * (80 / 3)], 1e-5, 'moving_variance');
  });

  it('inference call (default and predict) uses the moving statistics and leaves them unchanged', () => {
    const { model, layer } = singleLayer();
    layer.apply(tf.tensor2d(X), { training: true });
    const expected = normalise(X, MOVING_MEAN_AFTER, MOVING_VAR_AFTER).flat();
    close((layer.apply(tf.tensor2d(X)) as tf.Tensor).dataSync(), expected, 1e-5, 'apply without training');
    close((layer.apply(tf.tensor2d(X), { training: false }) as tf.Tensor).dataSync(), expected, 1e-5, 'apply training: false');
    close((model.predict(tf.tensor2d(X)) as tf.Tensor).dataSync(), expected, 1e-5, 'predict');
    close(weightNamed(layer, 'moving_mean'), MOVING_MEAN_AFTER, 1e-6, 'moving_mean after inference');
    close(weightNamed(layer, 'moving_variance'), MOVING_VAR_AFTER, 1e-5, 'moving_variance after inference');
  });

  it('rank-4 input: statistics over N, H, W per channel', () => {
    // [2, 1, 1, 2] holds rows (1, 2) and (3, 6): channel 0 mean 2, var 1 (unbiased 2); channel 1 mean 4, var 4 (unbiased 8).
    const input = tfl.input({ shape: [1, 1, 2] });
    const layer = new BatchNorm({ name: 'bn4' });
    tfl.model({ inputs: input, outputs: layer.apply(input) as tfl.SymbolicTensor });
    const y = layer.apply(tf.tensor4d([1, 2, 3, 6], [2, 1, 1, 2]), { training: true }) as tf.Tensor;
    expect(y.shape).toEqual([2, 1, 1, 2]);
    close(y.dataSync(), [-1 / Math.sqrt(1 + EPS), -2 / Math.sqrt(4 + EPS), 1 / Math.sqrt(1 + EPS), 2 / Math.sqrt(4 + EPS)], 1e-5, 'rank-4 output');
    close(weightNamed(layer, 'moving_mean'), [0.2, 0.4], 1e-6, 'moving_mean');
    close(weightNamed(layer, 'moving_variance'), [0.9 + 0.2, 0.9 + 0.8], 1e-6, 'moving_variance');
  });

  describe('relu and residual: y = relu(bn(x) + residual)', () => {
    const R = [
      [0.5, -3],
      [2, 0.25],
      [-1, 4],
      [0, -0.5],
    ];
    const MOVING_MEAN = [1.5, -2];
    const MOVING_VAR = [3, 0.5];

    function residualModel(relu: boolean) {
      const x = tfl.input({ shape: [2] });
      const r = tfl.input({ shape: [2] });
      const layer = new BatchNorm({ name: 'bnr', relu });
      const model = tfl.model({ inputs: [x, r], outputs: layer.apply([x, r]) as tfl.SymbolicTensor });
      layer.setWeights([tf.tensor1d(GAMMA), tf.tensor1d(BETA), tf.tensor1d(MOVING_MEAN), tf.tensor1d(MOVING_VAR)]);
      return { model, layer };
    }
    const combine = (bn: number[][], residual: number[][] | undefined, relu: boolean) =>
      bn.flatMap((row, i) => row.map((v, c) => {
        const s = v + (residual ? residual[i]![c]! : 0);
        return relu ? Math.max(0, s) : s;
      }));

    for (const relu of [false, true]) {
      it(`${relu ? 'relu' : 'no relu'}, [x, residual]: training and inference`, () => {
        const { model, layer } = residualModel(relu);
        const inference = combine(normalise(X, MOVING_MEAN, MOVING_VAR), R, relu);
        close((model.predict([tf.tensor2d(X), tf.tensor2d(R)]) as tf.Tensor).dataSync(), inference, 1e-5, 'inference');
        const training = combine(normalise(X, BATCH_MEAN, BATCH_VAR), R, relu);
        const y = layer.apply([tf.tensor2d(X), tf.tensor2d(R)], { training: true }) as tf.Tensor;
        close(y.dataSync(), training, 1e-5, 'training');
        if (relu) {
          expect(training.some((v) => v === 0), 'the case has clipped entries').toBe(true);
          expect(Math.min(...y.dataSync())).toBe(0);
        }
        // The residual does not enter the statistics.
        close(weightNamed(layer, 'moving_mean'), MOVING_MEAN.map((m, c) => m - 0.1 * (m - BATCH_MEAN[c]!)), 1e-6, 'moving_mean');
        close(weightNamed(layer, 'moving_variance'), MOVING_VAR.map((v, c) => v - 0.1 * (v - (BATCH_VAR[c]! * 4) / 3)), 1e-5, 'moving_variance');
      });
    }

    it('relu without residual: training and inference', () => {
      const { layer } = singleLayer({ relu: true });
      layer.setWeights([tf.tensor1d(GAMMA), tf.tensor1d(BETA), tf.tensor1d(MOVING_MEAN), tf.tensor1d(MOVING_VAR)]);
      close((layer.apply(tf.tensor2d(X)) as tf.Tensor).dataSync(), combine(normalise(X, MOVING_MEAN, MOVING_VAR), undefined, true), 1e-5, 'inference');
      const training = combine(normalise(X, BATCH_MEAN, BATCH_VAR), undefined, true);
      expect(training.some((v) => v === 0)).toBe(true);
      close((layer.apply(tf.tensor2d(X), { training: true }) as tf.Tensor).dataSync(), training, 1e-5, 'training');
    });

    it('a residual of another shape is refused in both modes', () => {
      const layer = new BatchNorm({ name: 'bad' });
      layer.apply([tf.tensor2d(X), tf.tensor2d(R)]);
      expect(() => layer.apply([tf.tensor2d(X), tf.zeros([4, 3])], { training: true })).toThrow(/residual/);
      expect(() => layer.apply([tf.tensor2d(X), tf.zeros([2, 2])])).toThrow(/residual/);
    });
  });

  it('gradients in training mode flow to x, γ, β and the residual (= tf.js autodiff of the same function from stock ops)', () => {
    const { layer } = singleLayer({ relu: true });
    const x = tf.tensor2d(X);
    const r = tf.tensor2d([[0.5, -3], [2, 0.25], [-1, 4], [0, -0.5]]);
    const w = tf.tensor2d([[1, -2], [0.5, 3], [-1, 1], [2, -0.5]]);
    const [gx, gr] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(layer.apply([a, b], { training: true }) as tf.Tensor, w)) as tf.Scalar)([x, r]);
    // The same function from stock ops (moments + batchNorm + add + relu), differentiated by tf.js.
    const [ex, er] = tf.grads((a: tf.Tensor, b: tf.Tensor) => {
      const { mean, variance } = tf.moments(a, [0]);
      const y = tf.relu(tf.add(tf.batchNorm(a, mean, variance, tf.tensor1d(BETA), tf.tensor1d(GAMMA), EPS), b));
      return tf.sum(tf.mul(y, w)) as tf.Scalar;
    })([x, r]);
    close(gx!.dataSync(), ex!.dataSync(), 1e-4, 'd/dx');
    close(gr!.dataSync(), er!.dataSync(), 1e-6, 'd/dresidual');
    const vars = layer.trainableWeights.map((v) => v.read() as tf.Variable);
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(layer.apply([x, r], { training: true }) as tf.Tensor, w)) as tf.Scalar, vars);
    expect(vars.length).toBe(2);
    for (const v of vars) expect(Array.from(grads[v.name]!.dataSync()).some((g) => g !== 0), `${v.name} gets a gradient`).toBe(true);
  });
});

describe('BatchNorm serialization and FLOP walker', () => {
  beforeAll(useCpu);

  it('save/load round trip: className SparseIftBatchNorm, relu in the config, same weights and outputs', async () => {
    const input = tfl.input({ shape: [3, 3, 4] });
    const layer = new BatchNorm({ name: 'bn', relu: true, epsilon: 1e-3, momentum: 0.8 });
    const model = tfl.model({ inputs: input, outputs: layer.apply(input) as tfl.SymbolicTensor });
    layer.setWeights([seededNormal([4], 1), seededNormal([4], 2), seededNormal([4], 3), tf.add(tf.abs(seededNormal([4], 4)), 0.5)]);
    const topology = model.toJSON(null, false) as { config: { layers: { class_name: string; config: Record<string, unknown> }[] } };
    const saved = topology.config.layers.find((l) => l.config['name'] === 'bn')!;
    expect(saved.class_name).toBe('SparseIftBatchNorm');
    expect(saved.config['relu']).toBe(true);

    const loaded = await saveAndLoad(model);
    const l = loaded.getLayer('bn');
    expect(l).toBeInstanceOf(BatchNorm);
    expect(l.getClassName()).toBe('SparseIftBatchNorm');
    expect((l as BatchNorm).relu).toBe(true);
    expect(l.getConfig()['relu']).toBe(true);
    expect(l.getConfig()['epsilon']).toBe(1e-3);
    expect(l.getConfig()['momentum']).toBe(0.8);
    l.getWeights().forEach((w, i) => expect(Array.from(w.dataSync())).toEqual(Array.from(layer.getWeights()[i]!.dataSync())));
    const x = seededNormal([5, 3, 3, 4], 9, 2);
    const before = (model.predict(x) as tf.Tensor).dataSync();
    expect(Array.from((loaded.predict(x) as tf.Tensor).dataSync())).toEqual(Array.from(before));
    expect(Math.min(...before)).toBe(0); // the relu is there in inference
    // Training mode as well.
    const yt = (model.apply(x, { training: true }) as tf.Tensor).dataSync();
    const ylt = (loaded.apply(x, { training: true }) as tf.Tensor).dataSync();
    close(ylt, yt, 1e-6, 'training output after load');
  });

  it('a model using [x, residual] round-trips too', async () => {
    const input = tfl.input({ shape: [3, 3, 4] });
    const conv = tfl.layers.conv2d({ name: 'conv', filters: 4, kernelSize: 3, padding: 'same', kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }) });
    const h = conv.apply(input) as tfl.SymbolicTensor;
    const layer = new BatchNorm({ name: 'bn', relu: true });
    const model = tfl.model({ inputs: input, outputs: layer.apply([h, input]) as tfl.SymbolicTensor });
    layer.setWeights([seededNormal([4], 1), seededNormal([4], 2), seededNormal([4], 3), tf.add(tf.abs(seededNormal([4], 4)), 0.5)]);
    const loaded = await saveAndLoad(model);
    const l = loaded.getLayer('bn') as BatchNorm;
    expect(l).toBeInstanceOf(BatchNorm);
    expect(l.relu).toBe(true);
    expect(l.inboundNodes[0]!.inboundLayers.map((x) => x.name)).toEqual(['conv', model.layers[0]!.name]);
    const x = seededNormal([2, 3, 3, 4], 5);
    expect(Array.from((loaded.predict(x) as tf.Tensor).dataSync())).toEqual(Array.from((model.predict(x) as tf.Tensor).dataSync()));
    close((loaded.apply(x, { training: true }) as tf.Tensor).dataSync(), (model.apply(x, { training: true }) as tf.Tensor).dataSync(), 1e-6, 'training');
  });

  it('flopOps: one batchnorm op (channels, spatial); _add and _relu listed and uncounted; params 2·C counted once', () => {
    const x = tfl.input({ shape: [5, 6, 3] });
    const r = tfl.input({ shape: [5, 6, 3] });
    const model = tfl.model({ inputs: [x, r], outputs: new BatchNorm({ name: 'bn', relu: true }).apply([x, r]) as tfl.SymbolicTensor });
    const ops = modelFlopOps(model);
    expect(ops).toEqual([
      { kind: 'batchnorm', name: 'bn', channels: 3, spatial: 30, affine: true, role: 'bn' },
      { kind: 'add', name: 'bn_add', numel: 90, counted: false, role: 'add' },
      { kind: 'relu', name: 'bn_relu', numel: 90, counted: false, role: 'activation' },
    ]);
    const official = (i: number) => opFlops(ops[i]!, 'official').dense;
    expect(official(0)).toBeGreaterThan(0);
    expect(official(1)).toBe(0);
    expect(official(2)).toBe(0);
    expect(modelParamCount(model)).toBe(6);
    const plan = planModel(model);
    expect(plan.totals.params).toBe(6);
    expect(plan.rows.map((row) => [row.name, row.params])).toEqual([['bn', 6], ['bn_add', 0], ['bn_relu', 0]]);
    expect(plan.rows.find((row) => row.name === 'bn_add')!.denseFlops).toBe(0);
    expect(plan.rows.find((row) => row.name === 'bn_relu')!.denseFlops).toBe(0);
  });

  it('flopOps without residual or relu: the batchnorm op alone', () => {
    const x = tfl.input({ shape: [7] });
    const model = tfl.model({ inputs: x, outputs: new BatchNorm({ name: 'bn' }).apply(x) as tfl.SymbolicTensor });
    expect(modelFlopOps(model)).toEqual([{ kind: 'batchnorm', name: 'bn', channels: 7, spatial: 1, affine: true, role: 'bn' }]);
    expect(modelParamCount(model)).toBe(14);
    expect(planModel(model).totals.params).toBe(14);
  });
});
