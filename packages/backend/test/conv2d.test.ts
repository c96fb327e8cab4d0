import { describe, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { checkGradients, randInt, randn, rng, TRAINING_BACKENDS } from './helpers.js';

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

for (const backend of TRAINING_BACKENDS) describe(`conv2d gradients on ${backend} (Conv2DBackpropInput replaced, Conv2DBackpropFilter added)`, () => {
  const r = rng(2024);
  const cases: { n: number; h: number; w: number; c: number; o: number; kh: number; kw: number; s: [number, number]; pad: Pad }[] = [
    // The ResNet shapes in miniature: 3x3 same, 3x3 stride 2, 1x1 stride-2 shortcut.
    { n: 2, h: 8, w: 8, c: 4, o: 6, kh: 3, kw: 3, s: [1, 1], pad: 'same' },
    { n: 3, h: 9, w: 9, c: 5, o: 4, kh: 3, kw: 3, s: [2, 2], pad: 'same' },
    { n: 1, h: 7, w: 6, c: 3, o: 5, kh: 1, kw: 1, s: [2, 2], pad: 'valid' },
    { n: 2, h: 10, w: 7, c: 2, o: 3, kh: 3, kw: 2, s: [3, 2], pad: 'valid' }, // leftover rows never read
    { n: 1, h: 6, w: 8, c: 3, o: 2, kh: 2, kw: 3, s: [1, 2], pad: [[0, 0], [1, 2], [0, 1], [0, 0]] },
    // tfjs-backend-wasm's own forward returns zeros here ('same' passed to XNNPACK as its SAME flag).
    { n: 2, h: 9, w: 10, c: 4, o: 2, kh: 2, kw: 1, s: [2, 2], pad: 'same' },
  ];
  for (let i = 0; i < 4; i++) {
    const kh = randInt(r, 1, 4);
    const kw = randInt(r, 1, 4);
    cases.push({
      n: randInt(r, 1, 3), h: randInt(r, kh, 11), w: randInt(r, kw, 11), c: randInt(r, 1, 5), o: randInt(r, 1, 5),
      kh, kw, s: [randInt(r, 1, 3), randInt(r, 1, 3)], pad: r() < 0.5 ? 'same' : 'valid',
    });
  }
  // Strided convs in depth (the polyphase dx on wasm: kernels smaller than the stride leave phases with
  // no taps; explicit pads shift which taps reach which phase; 'valid' leaves the last rows unread).
  for (let i = 0; i < 10; i++) {
    const kh = randInt(r, 1, 5);
    const kw = randInt(r, 1, 5);
    const h = randInt(r, kh, 12);
    const w = randInt(r, kw, 12);
    const pads = [[0, 0], [randInt(r, 0, kh - 1), randInt(r, 0, kh - 1)], [randInt(r, 0, kw - 1), randInt(r, 0, kw - 1)], [0, 0]];
    cases.push({
      n: randInt(r, 1, 2), h, w, c: randInt(r, 1, 4), o: randInt(r, 1, 4),
      kh, kw, s: [randInt(r, 2, 3), randInt(r, 1, 3)], pad: i % 3 === 0 ? 'same' : i % 3 === 1 ? 'valid' : pads,
    });
  }
  for (const [i, k] of cases.entries()) {
    const name = `conv2d #${i} x[${k.n},${k.h},${k.w},${k.c}] w[${k.kh},${k.kw},${k.c},${k.o}] strides ${k.s} pad ${JSON.stringify(k.pad)}`;
    it(name, async () => {
      const rr = rng(100 + i);
      await checkGradients(name, (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, k.s, k.pad), [
        { shape: [k.n, k.h, k.w, k.c], values: randn(rr, k.n * k.h * k.w * k.c) },
        { shape: [k.kh, k.kw, k.c, k.o], values: randn(rr, k.kh * k.kw * k.c * k.o) },
      ], { backend });
    });
  }

  it('conv2dTranspose (runs Conv2DBackpropInput forward, Conv2D + Conv2DBackpropFilter backward)', async () => {
    const rr = rng(9);
    await checkGradients('conv2dTranspose', (x, w) => tf.conv2dTranspose(x as tf.Tensor4D, w as tf.Tensor4D, [2, 9, 9, 3], 2, 'same'), [
      { shape: [2, 5, 5, 4], values: randn(rr, 2 * 5 * 5 * 4) },
      { shape: [3, 3, 3, 4], values: randn(rr, 3 * 3 * 3 * 4) },
    ], { backend });
  });

  it('fused conv2d with bias + relu (the layers path)', async () => {
    const rr = rng(11);
    await checkGradients('fused conv2d', (x, w, b) => tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, strides: 1, pad: 'same', bias: b, activation: 'relu' }), [
      { shape: [3, 6, 5, 3], values: randn(rr, 3 * 6 * 5 * 3) },
      { shape: [3, 3, 3, 4], values: randn(rr, 3 * 3 * 3 * 4) },
      { shape: [4], values: randn(rr, 4) },
    ], { backend, probes: 4 });
  });
});
