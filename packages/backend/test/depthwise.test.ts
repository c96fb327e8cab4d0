import { describe, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { checkGradients, randInt, randn, rng, TRAINING_BACKENDS } from './helpers.js';

for (const backend of TRAINING_BACKENDS) describe(`depthwise conv gradients on ${backend} (both backprops added)`, () => {
  const r = rng(12);
  for (let i = 0; i < 6; i++) {
    const k = randInt(r, 1, 3);
    const n = randInt(r, 1, 3);
    const h = randInt(r, k + 1, 9);
    const w = randInt(r, k + 1, 9);
    const c = randInt(r, 1, 4);
    const mult = randInt(r, 1, 2);
    const dilated = false; // tf.js 4.22 has no gradient for dilated depthwise convs (any backend)
    const s = dilated ? 1 : randInt(r, 1, 2);
    const pad = i % 2 === 0 ? 'same' : 'valid';
    const name = `depthwise x[${n},${h},${w},${c}] k ${k} mult ${mult} stride ${s} pad ${pad}${dilated ? ' dilation 2' : ''}`;
    it(name, async () => {
      const rr = rng(i + 40);
      await checkGradients(name, (x, f) => tf.depthwiseConv2d(x as tf.Tensor4D, f as tf.Tensor4D, s, pad, 'NHWC', dilated ? 2 : 1), [
        { shape: [n, h, w, c], values: randn(rr, n * h * w * c) },
        { shape: [k, k, c, mult], values: randn(rr, k * k * c * mult) },
      ], { backend });
    });
  }
});
