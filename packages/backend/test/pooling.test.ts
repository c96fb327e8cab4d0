import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { checkGradients, randInt, rng, useBackend, TRAINING_BACKENDS } from './helpers.js';

/** Distinct values (no ties, gaps of 1/size) shifted so that every one is negative. */
function distinctNegative(r: () => number, size: number): Float32Array {
  const v = Array.from({ length: size }, (_, i) => i);
  for (let i = size - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [v[i], v[j]] = [v[j]!, v[i]!];
  }
  return Float32Array.from(v, (x) => -1 - x / size);
}

for (const backend of TRAINING_BACKENDS) describe(`pooling gradients on ${backend}`, () => {
  it('max-pool gradient with all-negative 2x2 windows goes to each window maximum (hand-computed)', async () => {
    await useBackend(backend);
    // One 4x4 channel, 2x2 windows, stride 2. The maxima are -1 (pos 5), -2 (pos 2), -3 (pos 8), -0.5 (pos 15).
    const x = tf.tensor4d([-9, -9, -2, -9, -9, -1, -9, -9, -3, -9, -9, -9, -9, -9, -9, -0.5], [1, 4, 4, 1]);
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(t as tf.Tensor4D, 2, 2, 'valid'), tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]))))(x);
    const expected = new Array(16).fill(0);
    expected[5] = 1;
    expected[2] = 2;
    expected[8] = 3;
    expected[15] = 4;
    expect(Array.from(g.dataSync())).toEqual(expected);
  });

  const r = rng(31);
  for (let i = 0; i < 6; i++) {
    const f = randInt(r, 1, 3);
    const s = randInt(r, 1, 3);
    const n = randInt(r, 1, 3);
    const h = randInt(r, f, 9);
    const w = randInt(r, f, 9);
    const c = randInt(r, 1, 4);
    const pad = i % 2 === 0 ? 'same' : 'valid';
    const name = `maxPool x[${n},${h},${w},${c}] filter ${f} stride ${s} pad ${pad} (negative inputs)`;
    it(name, async () => {
      const size = n * h * w * c;
      await checkGradients(name, (x) => tf.maxPool(x as tf.Tensor4D, f, s, pad), [
        { shape: [n, h, w, c], values: distinctNegative(rng(i), size) },
      ], { backend, eps: 0.1 / size, fdRtol: 1e-2 });
    });
    const nameAvg = `avgPool x[${n},${h},${w},${c}] filter ${f} stride ${s} pad ${pad}`;
    it(nameAvg, async () => {
      const size = n * h * w * c;
      await checkGradients(nameAvg, (x) => tf.avgPool(x as tf.Tensor4D, f, s, pad), [
        { shape: [n, h, w, c], values: distinctNegative(rng(50 + i), size) },
      ], { backend });
    });
  }
});
