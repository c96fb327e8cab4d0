// Core's device-training kernels in WGSL on whatever adapter starts (the software one in CI): dropout's
// Philox mask bit for bit against core's JavaScript reference, the mask selections against the host
// reference on tensors with many ties, subnormals and signed zeros across many blocks, and whole SET/RigL
// updates on webgpu against the host path (core's parity helper).
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import {
  DROPOUT,
  Rng,
  dropoutReference,
  selectByRank,
  selectByRankReference,
  topKByMagnitude,
  topKByMagnitudeReference,
  type DropoutAttrs,
} from '@sparse-ift/core';
import { compareHostAndDevice } from '../../core/test/helpers/mask-update-parity.js';
import { useBackend, webgpuUnavailable } from './helpers.js';

let skip: string | undefined;

beforeAll(async () => {
  skip = await webgpuUnavailable();
  if (skip) console.warn(`webgpu device-training tests skipped: ${skip}`);
});

const gpuIt = (name: string, fn: () => Promise<void>) => it(name, async (ctx) => {
  if (skip) ctx.skip();
  await useBackend('webgpu');
  await fn();
});

describe('webgpu: dropout (Philox 4x32-10 in WGSL)', () => {
  for (const [n, rate] of [[1, 0.5], [37, 0.1], [4 * 64 * 3 + 5, 0.3], [100_003, 0.9]] as const) {
    gpuIt(`n=${n} rate=${rate}: the mask and scale of core's reference, bit for bit; the gradient replays it`, async () => {
      const attrs: DropoutAttrs = { rate, key: [123456789, 0xfeedf00d], counter: [7, 2, 1] };
      const values = Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 3);
      const x = tf.tensor1d(values);
      const y = tf.engine().runKernel(DROPOUT, { x }, attrs as never) as tf.Tensor;
      expect(tf.getBackend()).toBe('webgpu');
      const got = await y.data();
      const want = dropoutReference(values, attrs);
      let mismatches = 0;
      for (let i = 0; i < n; i++) if (got[i] !== want[i]) mismatches++;
      expect(mismatches).toBe(0);
      const dy = tf.grad((t: tf.Tensor) => tf.sum(tf.engine().runKernel(DROPOUT, { x: t }, attrs as never) as tf.Tensor))(x);
      const ones = dropoutReference(new Float32Array(n).fill(1), attrs);
      expect(Array.from(await dy.data())).toEqual(Array.from(ones));
      tf.dispose([x, y, dy]);
    });
  }
});

describe('webgpu: mask selections', () => {
  const levels = [0, -0, 0.25, -0.25, 1e-40, -1e-40, 3e-39, 1, -1, 7];
  for (const n of [1, 5, 1023, 1025, 5000, 70_001]) {
    gpuIt(`topKByMagnitude and selectByRank, n=${n}: the host reference's picks`, async () => {
      const rng = Rng.fromSeed(n);
      for (let trial = 0; trial < 3; trial++) {
        const values = Float32Array.from({ length: n }, () => levels[rng.uniformInt(levels.length)]!);
        const candidates = Float32Array.from({ length: n }, () => (rng.uniform() < [0.1, 0.5, 1][trial]! ? 1 : 0));
        const m = candidates.reduce((a, b) => a + b, 0);
        for (const k of [0, 1, Math.floor(m / 3), m - 1, m].filter((v) => v >= 0 && v <= m)) {
          const got = topKByMagnitude(tf.tensor1d(values), tf.tensor1d(candidates), k);
          expect(Array.from(await got.data()), `trial ${trial} k=${k}`).toEqual(Array.from(topKByMagnitudeReference(values, candidates, k)));
          got.dispose();
        }
        const ranks = rng.sampleIndices(m, Math.floor(m / 2));
        const selected = selectByRank(tf.tensor1d(candidates), ranks);
        expect(Array.from(await selected.data())).toEqual(Array.from(selectByRankReference(candidates, ranks)));
        selected.dispose();
      }
    });
  }

  for (const method of ['rigl', 'set'] as const) {
    gpuIt(`${method} updates on webgpu equal the host path`, async () => {
      compareHostAndDevice(method, { seed: 5, shapes: [[9, 7], [3, 3, 16, 24], [2000], [1, 1]], updates: 3 });
    });
  }
});
