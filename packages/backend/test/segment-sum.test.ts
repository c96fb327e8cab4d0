import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { checkGradients, randn, rng, useBackend, TRAINING_BACKENDS } from './helpers.js';

for (const backend of TRAINING_BACKENDS) describe(`UnsortedSegmentSum on ${backend} (added) and the embedding (gather) gradient`, () => {
  it('sums rows into segments and drops out-of-range ids (hand-computed)', async () => {
    await useBackend(backend);
    const x = tf.tensor2d([[1, 2], [3, 4], [5, 6], [7, 8]]);
    const out = tf.unsortedSegmentSum(x, tf.tensor1d([2, 0, 2, 5], 'int32'), 3);
    expect(out.shape).toEqual([3, 2]);
    expect(Array.from(out.dataSync())).toEqual([3, 4, 0, 0, 6, 8]);
  });

  it('int32 values', async () => {
    await useBackend(backend);
    const out = tf.unsortedSegmentSum(tf.tensor1d([1, 2, 3, 4], 'int32'), tf.tensor1d([1, 1, 0, 1], 'int32'), 2);
    expect(out.dtype).toBe('int32');
    expect(Array.from(out.dataSync())).toEqual([3, 7]);
  });

  it('embedding lookup gradient (gather with repeated ids) matches cpu and finite differences', async () => {
    const r = rng(3);
    const vocab = 11;
    const dim = 5;
    const ids = Int32Array.from({ length: 2 * 7 }, () => Math.floor(r() * vocab));
    ids[3] = ids[0]!; // a repeated token
    await checkGradients('gather', (table, idx) => tf.gather(table, idx), [
      { shape: [vocab, dim], values: randn(r, vocab * dim) },
      { shape: [2, 7], values: ids, dtype: 'int32' },
    ], { backend });
  });

  it('gather along axis 1 with batch dims 0', async () => {
    const r = rng(4);
    await checkGradients('gather axis 1', (x, idx) => tf.gather(x, idx, 1), [
      { shape: [3, 6, 2], values: randn(r, 36) },
      { shape: [4], values: Int32Array.from([5, 0, 5, 2]), dtype: 'int32' },
    ], { backend });
  });
});
