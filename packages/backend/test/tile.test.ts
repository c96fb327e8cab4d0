import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { checkGradients, randn, rng, useBackend } from './helpers.js';

describe('Tile on wasm (replaced): the gradient path of every mean', () => {
  it('hand-computed 2-D tile', async () => {
    await useBackend('wasm');
    const out = tf.tile(tf.tensor2d([[1, 2], [3, 4]]), [2, 3]);
    expect(out.shape).toEqual([4, 6]);
    expect(Array.from(out.dataSync())).toEqual([
      1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4,
      1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4,
    ]);
  });

  it('int32 and bool, inner dimension 1 (fill path)', async () => {
    await useBackend('wasm');
    expect(Array.from(tf.tile(tf.tensor2d([[5], [6]], [2, 1], 'int32'), [1, 3]).dataSync())).toEqual([5, 5, 5, 6, 6, 6]);
    expect(Array.from(tf.tile(tf.tensor1d([true, false], 'bool'), [2]).dataSync())).toEqual([1, 0, 1, 0]);
  });

  for (const [shape, reps] of [[[1, 1, 1, 5], [3, 4, 2, 1]], [[2, 3, 1], [2, 1, 4]], [[3], [4]], [[2, 1, 3, 1], [1, 3, 2, 2]]] as const) {
    const name = `tile x[${shape}] reps [${reps}]`;
    it(name, async () => {
      const n = shape.reduce((a: number, b: number) => a * b, 1);
      await checkGradients(name, (x) => tf.tile(x, [...reps]), [{ shape: [...shape], values: randn(rng(n), n) }]);
    });
  }

  it('batch-norm statistics gradient (moments over N, H, W) through tile', async () => {
    await checkGradients('moments', (x) => {
      const { mean, variance } = tf.moments(x, [0, 1, 2]);
      return tf.concat([mean, variance]);
    }, [{ shape: [3, 4, 5, 2], values: randn(rng(9), 120) }], { eps: 1e-3 });
  });
});
