import { describe, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { checkGradients, randInt, randn, rng, TRAINING_BACKENDS } from './helpers.js';

for (const backend of TRAINING_BACKENDS) describe(`matMul on ${backend} (BatchMatMul replaced): all transpose modes, batches, broadcasting`, () => {
  const r = rng(77);
  for (const transposeA of [false, true]) {
    for (const transposeB of [false, true]) {
      const m = randInt(r, 1, 13);
      const k = randInt(r, 1, 17);
      const n = randInt(r, 1, 11);
      const name = `2-D m=${m} k=${k} n=${n} transposeA=${transposeA} transposeB=${transposeB}`;
      it(name, async () => {
        const rr = rng(m * 1000 + k * 10 + n);
        await checkGradients(name, (a, b) => tf.matMul(a, b, transposeA, transposeB), [
          { shape: transposeA ? [k, m] : [m, k], values: randn(rr, m * k) },
          { shape: transposeB ? [n, k] : [k, n], values: randn(rr, k * n) },
        ], { backend });
      });
    }
  }
  const batched: { a: number[]; b: number[]; tA: boolean; tB: boolean }[] = [
    { a: [3, 5, 7], b: [3, 7, 4], tA: false, tB: false }, // attention scores/values
    { a: [2, 3, 6, 5], b: [2, 3, 4, 5], tA: false, tB: true }, // q k^T with heads
    { a: [5, 7, 3], b: [5, 7, 2], tA: true, tB: false },
    { a: [4, 6, 5], b: [1, 5, 3], tA: false, tB: false }, // shared right operand (broadcast)
    { a: [1, 6, 5], b: [3, 5, 2], tA: false, tB: false }, // shared left operand
    { a: [2, 4, 3], b: [2, 5, 4], tA: true, tB: true },
  ];
  for (const c of batched) {
    const name = `batched a[${c.a}] b[${c.b}] transposeA=${c.tA} transposeB=${c.tB}`;
    it(name, async () => {
      const rr = rng(c.a.reduce((x, y) => x * 7 + y, 1));
      await checkGradients(name, (a, b) => tf.matMul(a, b, c.tA, c.tB), [
        { shape: c.a, values: randn(rr, tf.util.sizeFromShape(c.a)) },
        { shape: c.b, values: randn(rr, tf.util.sizeFromShape(c.b)) },
      ], { backend });
    });
  }
  it('fused matMul with bias + relu (tfjs-layers Dense path)', async () => {
    const rr = rng(5);
    await checkGradients('fused matMul', (a, b, bias) => tf.fused.matMul({ a, b, bias, activation: 'relu' }), [
      { shape: [9, 6], values: randn(rr, 54) },
      { shape: [6, 5], values: randn(rr, 30) },
      { shape: [5], values: randn(rr, 5) },
    ], { backend, eps: 1e-3, fdRtol: 1e-2 }); // small step: relu kinks
  });
});
