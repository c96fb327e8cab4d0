// Patchify + Dense is the p×p stride-p patch conv (checked against tf.conv2d and a JS loop).
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ClassToken, Patchify, SelectClassToken } from '@sparse-ift/vit';
import { useBackend } from '../../transformer/test/helpers.js';

describe('Patchify', () => {
  it('flattens each p×p patch in (row, column, channel) order: Dense on it = conv2d stride p', async () => {
    await useBackend('cpu');
    const [b, h, w, c, p, d] = [2, 8, 12, 3, 4, 5];
    const x = tf.randomNormal([b, h, w, c], 0, 1, 'float32', 1);
    const kernel = tf.randomNormal([p, p, c, d], 0, 1, 'float32', 2);
    const patches = new Patchify({ patchSize: p }).apply(x) as tf.Tensor3D;
    expect(patches.shape).toEqual([b, (h / p) * (w / p), p * p * c]);
    const viaDense = tf.reshape(tf.matMul(tf.reshape(patches, [-1, p * p * c]), tf.reshape(kernel, [p * p * c, d])), [b, h / p, w / p, d]);
    const viaConv = tf.conv2d(x as tf.Tensor4D, kernel as tf.Tensor4D, p, 'valid');
    const diff = tf.max(tf.abs(tf.sub(viaDense, viaConv))).dataSync()[0]!;
    expect(diff).toBeLessThan(1e-4);
    // Patch (1, 2) of image 1, element (row 3, col 1, channel 2) by index arithmetic.
    const xs = x.arraySync() as number[][][][];
    const ps = patches.arraySync() as number[][][];
    expect(ps[1]![1 * (w / p) + 2]![(3 * p + 1) * c + 2]).toBe(xs[1]![1 * p + 3]![2 * p + 1]![2]);
  });

  it('ClassToken prepends one learned token; SelectClassToken reads it back', async () => {
    await useBackend('cpu');
    const layer = new ClassToken({ initStd: 1 });
    const x = tf.ones([3, 4, 6]);
    const y = layer.apply(x) as tf.Tensor;
    expect(y.shape).toEqual([3, 5, 6]);
    const token = layer.getWeights()[0]!.dataSync();
    const first = new SelectClassToken({}).apply(y) as tf.Tensor;
    expect(first.shape).toEqual([3, 6]);
    expect(Array.from(first.dataSync())).toEqual([...token, ...token, ...token]);
  });
});
