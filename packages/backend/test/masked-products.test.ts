// Core's masked products (maskedConv2d, maskedMatMul) on the native backend's kernels, forced sparse,
// forced dense and measured (auto), against the cpu backend's composed ops (conv2d / matMul of w ⊙ m,
// checked against float64 in core's tests): y, dx and dw, dw exactly 0 off the mask; a reassigned mask
// variable gets a plan of its own (the new mask is used); the report says which path each shape took.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { maskedConv2d, maskedMatMul } from '@sparse-ift/core';
import { DENSE_ABOVE, SparseConv, resetSparseChoices, setSparseMode, sparseKernelReport, sparseMode, type SparseMode } from '@sparse-ift/backend';
import { NATIVE_BACKEND_BUILT, expectClose, forwardAndGrads, randn, rng, useBackend, type Input } from './helpers.js';

/** float32 sums in other orders (blocked, vectorised) vs the JS loops: rounding only. */
const RTOL = 2e-5;

interface Case {
  name: string;
  x: number[];
  w: number[];
  strides?: number;
  pad?: 'same' | 'valid';
  density: number;
}

const CONVS: Case[] = [
  { name: '3x3/1 same', x: [4, 6, 7, 5], w: [3, 3, 5, 9], density: 0.2 },
  { name: '3x3/2 same, odd sizes', x: [3, 9, 7, 6], w: [3, 3, 6, 10], strides: 2, density: 0.1 },
  { name: '1x1/2 valid', x: [5, 6, 6, 8], w: [1, 1, 8, 12], strides: 2, pad: 'valid', density: 0.25 },
  { name: '3x3/1 valid, all-ones mask', x: [2, 5, 5, 3], w: [3, 3, 3, 4], pad: 'valid', density: 1 },
];
const MATMULS: Case[] = [
  { name: 'linear 13x20 · 20x17', x: [13, 20], w: [20, 17], density: 0.1 },
  { name: 'linear 8x33 · 33x24', x: [8, 33], w: [33, 24], density: 0.75 },
];

function inputs(c: Case): Input[] {
  const r = rng(c.name.length * 17 + 3);
  const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
  const mask = Float32Array.from({ length: size(c.w) }, () => (r() < c.density ? 1 : 0));
  return [
    { shape: c.x, values: randn(r, size(c.x)) },
    { shape: c.w, values: randn(r, size(c.w)) },
    { shape: c.w, values: mask, differentiable: false },
  ];
}

const apply = (c: Case) => (x: tf.Tensor, w: tf.Tensor, m: tf.Tensor) =>
  c.x.length === 4 ? maskedConv2d(x, w, m, c.strides ?? 1, c.pad ?? 'same') : maskedMatMul(x, w, m);

function weightsFor(c: Case, yShape: number[]): Float32Array {
  return randn(rng(c.name.length + 101), yShape.reduce((a, b) => a * b, 1));
}

describe.skipIf(!NATIVE_BACKEND_BUILT)('masked products on the native backend', () => {
  let saved: SparseMode;
  beforeAll(() => {
    saved = sparseMode();
  });
  afterAll(() => setSparseMode(saved));

  for (const c of [...CONVS, ...MATMULS]) {
    it(`${c.name}: sparse, dense and auto equal cpu's masked-dense`, async () => {
      const ins = inputs(c);
      await useBackend('cpu');
      const yShape = tf.tidy(() => apply(c)(...(ins.map((i) => tf.tensor(i.values, i.shape)) as [tf.Tensor, tf.Tensor, tf.Tensor])).shape);
      const g = weightsFor(c, yShape);
      const cpu = forwardAndGrads(apply(c) as never, ins, g);
      await useBackend('native');
      for (const mode of ['sparse', 'dense', 'auto'] as const) {
        setSparseMode(mode);
        resetSparseChoices();
        const before = tf.memory().numTensors;
        const got = forwardAndGrads(apply(c) as never, ins, g);
        expect(tf.memory().numTensors, `${c.name} ${mode}: tensors leaked`).toBe(before);
        expectClose(got.y, cpu.y, RTOL, `${c.name} ${mode}: y`);
        expectClose(got.grads[0]!, cpu.grads[0]!, RTOL, `${c.name} ${mode}: dx`);
        expectClose(got.grads[1]!, cpu.grads[1]!, RTOL, `${c.name} ${mode}: dw`);
        const mask = ins[2]!.values;
        const offMask = got.grads[1]!.filter((v, i) => mask[i] === 0 && v !== 0).length;
        expect(offMask, `${c.name} ${mode}: dw entries off the mask that are not exactly 0`).toBe(0);
        const [layer] = sparseKernelReport();
        expect(layer?.op).toBe(c.x.length === 4 ? 'conv2d' : 'matmul');
        expect(layer?.density).toBeCloseTo(mask.reduce((a, b) => a + b, 0) / mask.length, 10);
        for (const d of [layer!.forward!, layer!.backward!]) {
          if (mode !== 'auto') expect(d.path).toBe(mode);
          else if (layer!.density > DENSE_ABOVE) expect(d.path, 'auto goes dense above DENSE_ABOVE without timing').toBe('dense');
          else expect(d.sparseMs! >= 0 && d.denseMs! >= 0, `${c.name}: auto measured both paths`).toBe(true);
          expect(d.calls.sparse + d.calls.dense).toBeGreaterThan(0);
        }
      }
    });
  }

  it("a forced path does not stand for auto's choice: forced dense, then auto, in one process, measures auto", async () => {
    const c = CONVS[0]!;
    const ins = inputs(c);
    await useBackend('native');
    resetSparseChoices();
    const g = weightsFor(c, [4, 6, 7, 9]);
    setSparseMode('dense');
    forwardAndGrads(apply(c) as never, ins, g);
    setSparseMode('auto');
    forwardAndGrads(apply(c) as never, ins, g);
    const byMode = new Map(sparseKernelReport().map((l) => [l.mode, l]));
    expect([...byMode.keys()].sort()).toEqual(['auto', 'dense']);
    expect(byMode.get('dense')!.forward!.why).toBe('forced dense');
    for (const d of [byMode.get('auto')!.forward!, byMode.get('auto')!.backward!]) {
      expect(d.why, 'auto must not reuse the forced-dense entry').toBeUndefined();
      expect(d.sparseMs! >= 0 && d.denseMs! >= 0, 'auto timed both paths (the choice cache is off in tests)').toBe(true);
    }
  });

  it('a reassigned mask variable is used at once (its plan is built from the new mask)', async () => {
    await useBackend('native');
    setSparseMode('sparse');
    const r = rng(5);
    const x = tf.tensor(randn(r, 2 * 5 * 5 * 4), [2, 5, 5, 4]);
    const w = tf.tensor(randn(r, 3 * 3 * 4 * 6), [3, 3, 4, 6]);
    const first = Float32Array.from({ length: w.size }, () => (r() < 0.3 ? 1 : 0));
    const second = Float32Array.from({ length: w.size }, () => (r() < 0.3 ? 1 : 0));
    const mask = tf.variable(tf.tensor(first, w.shape), false);
    const ySparse = (m: Float32Array) => {
      mask.assign(tf.tensor(m, w.shape));
      return tf.tidy(() => maskedConv2d(x, w, mask).dataSync().slice());
    };
    const yCpu = async (m: Float32Array) => {
      await useBackend('cpu');
      const y = tf.tidy(() => tf.conv2d(tf.tensor4d(x.dataSync(), [2, 5, 5, 4]), tf.mul(tf.tensor4d(w.dataSync(), [3, 3, 4, 6]), tf.tensor(m, w.shape)) as tf.Tensor4D, 1, 'same').dataSync().slice());
      await useBackend('native');
      return y;
    };
    const a = ySparse(first);
    const b = ySparse(second);
    expectClose(a, await yCpu(first), RTOL, 'first mask');
    expectClose(b, await yCpu(second), RTOL, 'second mask');
    tf.dispose([x, w, mask]);
  });

  it("a mask's plan is freed when the mask's data goes, not left to the garbage collector", async () => {
    await useBackend('native');
    setSparseMode('sparse');
    const released: unknown[] = [];
    const original = SparseConv.prototype.release;
    SparseConv.prototype.release = function (this: SparseConv) {
      released.push(this);
      original.call(this);
    };
    try {
      const r = rng(6);
      const x = tf.tensor(randn(r, 2 * 5 * 5 * 4), [2, 5, 5, 4]);
      const w = tf.tensor(randn(r, 3 * 3 * 4 * 6), [3, 3, 4, 6]);
      const initial = tf.tensor(Float32Array.from({ length: w.size }, () => (r() < 0.3 ? 1 : 0)), w.shape);
      const mask = tf.variable(initial, false);
      initial.dispose(); // else it keeps the variable's first data alive
      tf.tidy(() => maskedConv2d(x, w, mask).dataSync());
      expect(released).toHaveLength(0);
      mask.assign(tf.onesLike(w)); // a RigL update gives the mask new data: the old plan goes with the old data
      expect(released).toHaveLength(1);
      tf.dispose([x, w, mask]);
    } finally {
      SparseConv.prototype.release = original;
    }
  });
});
