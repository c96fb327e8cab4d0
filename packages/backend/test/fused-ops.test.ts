// Core's fused ops (batchNormTrain, layerNorm, gelu) through this package's wasm kernels (core's JS
// reference kernels, or the native addon under SPARSE_IFT_TEST_NATIVE=1) and the native backend's
// kernels against the cpu backend, where
// the same ops run as composed tf.js ops differentiated by tf.js (an independent implementation), and
// against central finite differences. Random shapes, odd sizes, relu/residual on and off.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { batchNormTrain, gelu, hasFusedBatchNorm, hasFusedGelu, hasFusedLayerNorm, layerNorm } from '@sparse-ift/core';
import { checkGradients, randInt, randn, rng, useBackend, type Input, TRAINING_BACKENDS } from './helpers.js';

for (const backend of TRAINING_BACKENDS) describe(`fused ops: ${backend} kernels vs composed tf.js ops on cpu, and finite differences`, () => {
  it(`the ${backend} backend has the fused kernels and cpu has not (so the comparison is independent)`, async () => {
    await useBackend(backend);
    expect([hasFusedBatchNorm(), hasFusedLayerNorm(), hasFusedGelu()]).toEqual([true, true, true]);
    expect([hasFusedBatchNorm('cpu'), hasFusedLayerNorm('cpu'), hasFusedGelu('cpu')]).toEqual([false, false, false]);
  });

  const r = rng(2024);
  for (let i = 0; i < 6; i++) {
    const shape = i % 2 === 0
      ? [randInt(r, 1, 3), randInt(r, 1, 5), randInt(r, 1, 5), randInt(r, 1, 7)]
      : [randInt(r, 2, 9), randInt(r, 1, 9)];
    const relu = i % 3 !== 1;
    const residual = i % 2 === 1 || i === 4;
    const name = `batchNormTrain x[${shape.join(',')}] relu=${relu} residual=${residual}`;
    it(name, async () => {
      const rr = rng(100 + i);
      const size = tf.util.sizeFromShape(shape);
      const c = shape[shape.length - 1]!;
      const inputs: Input[] = [
        { shape, values: randn(rr, size) },
        { shape: [c], values: randn(rr, c) },
        { shape: [c], values: randn(rr, c) },
      ];
      if (residual) inputs.push({ shape, values: randn(rr, size) });
      await checkGradients(name, (x, g, b, res) => batchNormTrain(x, g, b, { epsilon: 1e-3, relu, residual: res }).y, inputs, {
        backend, eps: 1e-3, fdRtol: 2e-2, seed: i,
      });
    });
  }

  it('batchNormTrain returns the batch mean and biased variance', async () => {
    await useBackend(backend);
    const x = tf.tensor2d([[1, -2], [3, 4], [5, 0]]);
    const { mean, variance } = batchNormTrain(x, tf.ones([2]), tf.zeros([2]));
    const m = mean.dataSync();
    expect(m[0]).toBeCloseTo(3, 6);
    expect(m[1]).toBeCloseTo(2 / 3, 6);
    const v = variance.dataSync();
    expect(v[0]).toBeCloseTo(8 / 3, 5); // ((−2)² + 0² + 2²) / 3
    expect(v[1]).toBeCloseTo(((-2 - 2 / 3) ** 2 + (4 - 2 / 3) ** 2 + (2 / 3) ** 2) / 3, 5);
  });

  for (let i = 0; i < 4; i++) {
    const shape = [randInt(r, 1, 4), randInt(r, 1, 6), randInt(r, 1, 33)];
    const name = `layerNorm x[${shape.join(',')}]`;
    it(name, async () => {
      const rr = rng(200 + i);
      const d = shape[2]!;
      await checkGradients(name, (x, g, b) => layerNorm(x, g, b, 1e-5), [
        { shape, values: randn(rr, tf.util.sizeFromShape(shape)) },
        { shape: [d], values: randn(rr, d) },
        { shape: [d], values: randn(rr, d) },
      ], { backend, eps: 1e-3, fdRtol: 2e-2, seed: i });
    });
  }

  for (const approximate of ['erf', 'tanh'] as const) {
    it(`gelu '${approximate}' over [-6, 6] and random values`, async () => {
      const rr = rng(approximate === 'erf' ? 5 : 6);
      const values = new Float32Array(97);
      for (let j = 0; j < values.length; j++) values[j] = j < 49 ? -6 + j * 0.25 : 3 * randn(rr, 1)[0]!;
      await checkGradients(`gelu ${approximate}`, (x) => gelu(x, approximate), [{ shape: [97], values }], { backend, eps: 1e-3, fdRtol: 1e-2 });
    });
  }
});
