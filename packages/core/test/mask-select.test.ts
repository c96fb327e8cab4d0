import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, selectByRank, topKByMagnitude } from '../src/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** The expectation by a full stable sort: candidates by |value| descending, then index ascending. */
function bySort(values: ArrayLike<number>, candidates: ArrayLike<number>, k: number): number[] {
  const idx = Array.from({ length: values.length }, (_, i) => i).filter((i) => candidates[i] !== 0);
  const picked = idx.sort((i, j) => Math.abs(values[j]!) - Math.abs(values[i]!) || i - j).slice(0, k);
  return Array.from({ length: values.length }, (_, i) => (picked.includes(i) ? 1 : 0));
}

describe('topKByMagnitude', () => {
  it('keeps the k largest |values| among the candidates, ties to the lower index, ±0 equal, subnormals ordered', () => {
    const values = [0.5, -0.5, 0, -0, 1e-40, -2e-40, 3, 0.5, -3, 0];
    const candidates = [1, 1, 1, 1, 1, 1, 0, 1, 1, 1];
    for (let k = 0; k <= 9; k++) {
      const got = topKByMagnitude(tf.tensor1d(values), tf.tensor1d(candidates), k);
      expect(Array.from(got.dataSync()), `k=${k}`).toEqual(bySort(Float32Array.from(values), candidates, k));
    }
    // by hand: k = 5 keeps -3 (8), the three 0.5s (0, 1, 7) and -2e-40 (5)
    expect(Array.from(topKByMagnitude(tf.tensor1d(values), tf.tensor1d(candidates), 5).dataSync())).toEqual([1, 1, 0, 0, 0, 1, 0, 1, 1, 0]);
  });

  it('agrees with a stable sort on random tensors with many ties', () => {
    const rng = Rng.fromSeed(3);
    for (let trial = 0; trial < 30; trial++) {
      const n = 1 + rng.uniformInt(3000);
      const values = Float32Array.from({ length: n }, () => (rng.uniformInt(9) - 4) / 4);
      const candidates = Float32Array.from({ length: n }, () => (rng.uniform() < 0.6 ? 1 : 0));
      const m = candidates.reduce((a, b) => a + b, 0);
      const k = rng.uniformInt(m + 1);
      const got = topKByMagnitude(tf.tensor1d(values), tf.tensor1d(candidates), k).dataSync();
      expect(Array.from(got)).toEqual(bySort(values, candidates, k));
    }
  });

  it('refuses mismatched shapes and k outside [0, size]', () => {
    expect(() => topKByMagnitude(tf.zeros([3]), tf.zeros([4]), 1)).toThrow(/shape/);
    expect(() => topKByMagnitude(tf.zeros([3]), tf.zeros([3]), 4)).toThrow(/k must/);
  });
});

describe('selectByRank', () => {
  it('marks the candidates whose rank among the candidates is listed', () => {
    const candidates = tf.tensor1d([0, 1, 1, 0, 1, 1, 0, 1]); // candidate ranks 0..4 at positions 1, 2, 4, 5, 7
    expect(Array.from(selectByRank(candidates, Int32Array.from([0, 3, 4])).dataSync())).toEqual([0, 1, 0, 0, 0, 1, 0, 1]);
    expect(Array.from(selectByRank(candidates, new Int32Array(0)).dataSync())).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(() => selectByRank(candidates, Int32Array.from([3, 1]))).toThrow(/ascending/);
    expect(() => selectByRank(candidates, Int32Array.from([5]))).toThrow(/not that of a candidate/);
  });
});

describe('Rng.sampleIndices', () => {
  /** The textbook partial Fisher–Yates on a full array (what sampleWithoutReplacement did before). */
  function partialFisherYates(rng: Rng, n: number, k: number): number[] {
    const work = Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < k; i++) {
      const j = i + rng.uniformInt(n - i);
      [work[i], work[j]] = [work[j]!, work[i]!];
    }
    return work.slice(0, k).sort((a, b) => a - b);
  }

  it('draws the same positions, and leaves the generator in the same state, as a full partial Fisher–Yates', () => {
    for (const [n, k] of [[10, 0], [10, 10], [10, 3], [1000, 900], [100_000, 37], [100_000, 5000], [1, 1]] as const) {
      const a = Rng.fromSeed(n + k);
      const b = Rng.fromSeed(n + k);
      expect(Array.from(a.sampleIndices(n, k)), `n=${n} k=${k}`).toEqual(partialFisherYates(b, n, k));
      expect(a.getState()).toEqual(b.getState());
    }
  });

  it('sampleWithoutReplacement maps the positions through the pool', () => {
    const pool = Int32Array.from([40, 3, 17, 8, 99, 5]);
    const a = Rng.fromSeed(5).sampleWithoutReplacement(pool, 3);
    const positions = Rng.fromSeed(5).sampleIndices(6, 3);
    expect(Array.from(a)).toEqual(Array.from(positions, (p) => pool[p]!).sort((x, y) => x - y));
    expect(() => Rng.fromSeed(1).sampleIndices(3, 4)).toThrow(/cannot sample/);
  });
});
