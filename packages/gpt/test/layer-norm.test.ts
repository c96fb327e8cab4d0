// LayerNorm against tfjs-layers' LayerNormalization (an independent implementation) and a JS loop.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { LayerNorm } from '@sparse-ift/gpt';
import { useBackend } from './helpers.js';

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`LayerNorm on ${backend}`, () => {
    it('forward = (x − mean)/√(var + eps) per row (biased variance), gradient = tf LayerNormalization', async () => {
      await useBackend(backend);
      const x = tf.randomNormal([2, 3, 5], 1, 2, 'float32', 7);
      const mine = new LayerNorm({ epsilon: 1e-5 });
      const ref = tfl.layers.layerNormalization({ epsilon: 1e-5 });
      const y = mine.apply(x) as tf.Tensor;
      const rows = (x.arraySync() as number[][][]).flat();
      const out = (y.arraySync() as number[][][]).flat();
      rows.forEach((row, i) => {
        const mean = row.reduce((a, b) => a + b, 0) / row.length;
        const variance = row.reduce((a, b) => a + (b - mean) ** 2, 0) / row.length;
        row.forEach((v, j) => expect(out[i]![j]!).toBeCloseTo((v - mean) / Math.sqrt(variance + 1e-5), 4));
      });
      const weights = tf.randomNormal([5], 0, 1, 'float32', 8);
      const loss = (layer: { apply(t: tf.Tensor): unknown }) => (t: tf.Tensor) => tf.sum(tf.mul(layer.apply(t) as tf.Tensor, weights));
      const gMine = tf.grad(loss(mine))(x).dataSync();
      const gRef = tf.grad(loss(ref))(x).dataSync();
      gMine.forEach((g, i) => expect(g).toBeCloseTo(gRef[i]!, 4));
    });
  });
}
