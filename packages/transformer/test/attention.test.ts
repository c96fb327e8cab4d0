// DotProductAttention against a plain-JS reference and finite differences, on cpu and wasm; serialization.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { DotProductAttention } from '@sparse-ift/transformer';
import { roundTrip, useBackend } from './helpers.js';

/** Multi-head attention by loops: x[t][c], heads split the width in contiguous chunks. */
function referenceAttention(q: number[][], k: number[][], v: number[][], heads: number, causal: boolean): number[][] {
  const t = q.length;
  const d = q[0]!.length;
  const dh = d / heads;
  const out = q.map(() => new Array<number>(d).fill(0));
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < t; i++) {
      const scores: number[] = [];
      for (let j = 0; j < t; j++) {
        if (causal && j > i) continue;
        let s = 0;
        for (let c = 0; c < dh; c++) s += q[i]![h * dh + c]! * k[j]![h * dh + c]!;
        scores.push(s / Math.sqrt(dh));
      }
      const max = Math.max(...scores);
      const e = scores.map((s) => Math.exp(s - max));
      const z = e.reduce((a, b) => a + b, 0);
      e.forEach((w, j) => {
        for (let c = 0; c < dh; c++) out[i]![h * dh + c]! += (w / z) * v[j]![h * dh + c]!;
      });
    }
  }
  return out;
}

function randomMatrix(rows: number, cols: number, seed: number): number[][] {
  let x = seed;
  const next = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  return Array.from({ length: rows }, () => Array.from({ length: cols }, next));
}

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`DotProductAttention on ${backend}`, () => {
    it('matches the loop reference (causal and not, 2 heads, T=4, d=6)', async () => {
      await useBackend(backend);
      const [q, k, v] = [randomMatrix(4, 6, 1), randomMatrix(4, 6, 2), randomMatrix(4, 6, 3)];
      for (const causal of [true, false]) {
        const layer = new DotProductAttention({ heads: 2, causal });
        const out = layer.apply([tf.tensor3d([q]), tf.tensor3d([k]), tf.tensor3d([v])]) as tf.Tensor;
        const expected = referenceAttention(q, k, v, 2, causal);
        const got = (out.arraySync() as number[][][])[0]!;
        got.forEach((row, i) => row.forEach((x, c) => expect(x).toBeCloseTo(expected[i]![c]!, 5)));
      }
    });

    it('the gradient w.r.t. q matches central finite differences', async () => {
      await useBackend(backend);
      const layer = new DotProductAttention({ heads: 2, causal: true });
      const [q0, k, v] = [randomMatrix(3, 4, 5), randomMatrix(3, 4, 6), randomMatrix(3, 4, 7)];
      const w = randomMatrix(3, 4, 8); // loss = Σ w ⊙ out
      const lossOf = (q: number[][]) => referenceAttention(q, k, v, 2, true).reduce((s, row, i) => s + row.reduce((a, x, c) => a + x * w[i]![c]!, 0), 0);
      const grad = tf.grad((q: tf.Tensor) => tf.sum(tf.mul(layer.apply([q, tf.tensor3d([k]), tf.tensor3d([v])]) as tf.Tensor, tf.tensor3d([w]))));
      const g = (grad(tf.tensor3d([q0])).arraySync() as number[][][])[0]!;
      const eps = 1e-4;
      for (const [i, c] of [[0, 0], [1, 3], [2, 1]] as const) {
        const plus = q0.map((r) => r.slice());
        const minus = q0.map((r) => r.slice());
        plus[i]![c]! += eps;
        minus[i]![c]! -= eps;
        expect(g[i]![c]!).toBeCloseTo((lossOf(plus) - lossOf(minus)) / (2 * eps), 3);
      }
    });
  });
}

describe('DotProductAttention serialization', () => {
  it('DotProductAttention serializes (causal flag, heads, dropout)', async () => {
    await useBackend('cpu');
    const q = tfl.input({ shape: [5, 8] });
    const out = new DotProductAttention({ name: 'att', heads: 4, causal: true, dropout: 0.1 }).apply([q, q, q]) as tfl.SymbolicTensor;
    const m = tfl.model({ inputs: q, outputs: out });
    const loaded = await roundTrip(m);
    expect(loaded.getLayer('att').getConfig()).toMatchObject({ heads: 4, causal: true, dropout: 0.1 });
    const x = tf.randomNormal([2, 5, 8], 0, 1, 'float32', 1);
    expect(Array.from((loaded.predict(x) as tf.Tensor).dataSync())).toEqual(Array.from((m.predict(x) as tf.Tensor).dataSync()));
  });
});
