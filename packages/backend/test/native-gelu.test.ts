// The native addon's GELU kernels (packages/backend/native/gelu.cc: OpenMP + SIMD, -ffast-math, glibc's
// vector tanhf/erff/expf) against @sparse-ift/core's JS reference kernels, both run as the wasm backend's
// GELU / GELU_GRAD kernels (setNativeKernels(addon) vs setNativeKernels(undefined)). Skipped when the
// addon is not built (`npm rebuild @sparse-ift/backend --foreground-scripts`).
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { gelu, hasFusedGelu, type GeluApproximation } from '@sparse-ift/core';
import { loadNativeAddon, setNativeKernels } from '@sparse-ift/backend';
import { randn, rng, useBackend } from './helpers.js';

const status = loadNativeAddon();
const APPROXIMATIONS: GeluApproximation[] = ['erf', 'tanh'];

interface Run {
  y: Float32Array;
  dx: Float32Array;
}

/** gelu(x) and its gradient for upstream dy, on the wasm backend's fused kernels. */
function run(x: Float32Array, dy: Float32Array, approximate: GeluApproximation): Run {
  return tf.tidy(() => {
    const xt = tf.tensor1d(x);
    const y = gelu(xt, approximate).dataSync() as Float32Array;
    const dx = tf.grad((t: tf.Tensor) => gelu(t, approximate))(xt, tf.tensor1d(dy)).dataSync() as Float32Array;
    return { y: Float32Array.from(y), dx: Float32Array.from(dx) };
  });
}

/**
 * Every |a − b| ≤ atol·scale + rtol·|b| (NaN only where b is NaN; infinities equal). For gradients scale
 * is |dy|: the tolerance is on gelu'(x), per unit of upstream gradient. (The tanh form's 1 − t² cancels
 * where tanh saturates, |x| ≈ 4.5–6: a correctly rounded float32 evaluation of the formula is off by up
 * to 5.6e-7 per unit dy there, the native kernel, on glibc's vector tanhf, by up to 1.2e-6.)
 */
function expectWithin(actual: Float32Array, expected: Float32Array, x: Float32Array, atol: number, rtol: number, what: string, scale?: Float32Array): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let worst = 0;
  let worstAt = -1;
  let mismatch = -1;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const b = expected[i]!;
    if (!Number.isFinite(b) || !Number.isFinite(a)) {
      if (!Object.is(a, b) && !(Number.isNaN(a) && Number.isNaN(b))) mismatch = mismatch < 0 ? i : mismatch;
      continue;
    }
    const ratio = Math.abs(a - b) / (atol * (scale ? Math.abs(scale[i]!) : 1) + rtol * Math.abs(b));
    if (ratio > worst) {
      worst = ratio;
      worstAt = i;
    }
  }
  expect(mismatch, `${what}: non-finite mismatch at x = ${x[mismatch]}: ${actual[mismatch]} vs ${expected[mismatch]}`).toBe(-1);
  expect(worst, `${what}: worst at x = ${x[worstAt]}: native ${actual[worstAt]}, reference ${expected[worstAt]}`).toBeLessThanOrEqual(1);
}

describe.skipIf(!status.loaded)('native gelu kernels match the JS reference kernels on wasm', () => {
  const addon = status.loaded ? status.addon : undefined;

  function both(x: Float32Array, dy: Float32Array, approximate: GeluApproximation): { native: Run; reference: Run } {
    setNativeKernels(addon);
    const native = run(x, dy, approximate);
    setNativeKernels(undefined);
    const reference = run(x, dy, approximate);
    return { native, reference };
  }

  afterAll(() => {
    // Leave the kernels as helpers' useBackend set them up.
    setNativeKernels(process.env['SPARSE_IFT_TEST_NATIVE'] === '1' ? addon : undefined);
  });

  it('the wasm backend has the fused kernels', async () => {
    await useBackend('wasm');
    expect(hasFusedGelu()).toBe(true);
    expect(typeof addon!.gelu).toBe('function');
  });

  const grid = Float32Array.from({ length: 2401 }, (_, i) => -12 + i * 0.01);
  for (const approximate of APPROXIMATIONS) {
    it(`'${approximate}' on a grid over [-12, 12]: forward within 2e-6 + 1e-5·|y|, gradient likewise`, async () => {
      await useBackend('wasm');
      const dy = randn(rng(1), grid.length);
      const { native, reference } = both(grid, dy, approximate);
      expectWithin(native.y, reference.y, grid, 2e-6, 1e-5, `${approximate} forward`);
      expectWithin(native.dx, reference.dx, grid, 2e-6, 1e-5, `${approximate} gradient`, dy);
      // And the kernels really differ in implementation (not the same path twice): not bitwise equal.
      expect(native.y.some((v, i) => v !== reference.y[i])).toBe(true);
    });

    for (const n of [1, 7, 1000, 2 ** 20 + 3]) {
      it(`'${approximate}' random x, n = ${n}`, async () => {
        await useBackend('wasm');
        const r = rng(n);
        const normals = randn(r, n);
        // Half uniform on [-12, 12], half normal with σ = 3.
        const x = Float32Array.from(normals, (v, i) => (i % 2 === 0 ? -12 + 24 * r() : 3 * v));
        const dy = randn(r, n);
        const { native, reference } = both(x, dy, approximate);
        expectWithin(native.y, reference.y, x, 2e-6, 1e-5, `${approximate} forward n=${n}`);
        expectWithin(native.dx, reference.dx, x, 2e-6, 1e-5, `${approximate} gradient n=${n}`, dy);
      });
    }

    it(`'${approximate}' NaN and ±Infinity`, async () => {
      await useBackend('wasm');
      // Padded with ordinary values so the vectorised loop body (not only its tail) sees the specials.
      const x = Float32Array.from([NaN, Infinity, -Infinity, 0, -0, 1, -1, 2, NaN, Infinity, -Infinity, 3, 4, 5, 6, 7, NaN]);
      const dy = new Float32Array(x.length).fill(1);
      const { native, reference } = both(x, dy, approximate);
      console.info(`gelu '${approximate}': x ${Array.from(x.slice(0, 3))} → native y ${Array.from(native.y.slice(0, 3))}, dx ${Array.from(native.dx.slice(0, 3))}; reference y ${Array.from(reference.y.slice(0, 3))}, dx ${Array.from(reference.dx.slice(0, 3))}`);
      for (const [k, { y, dx }] of [['native', native], ['reference', reference]] as const) {
        for (const i of [0, 8, 16]) {
          expect(y[i], `${k}: gelu(NaN)`).toBeNaN();
          expect(dx[i], `${k}: gelu'(NaN)`).toBeNaN();
        }
        for (const i of [1, 9]) expect(y[i], `${k}: gelu(+inf)`).toBe(Infinity);
        // x·Φ(x) at −∞ is −∞·0: the formula gives NaN (the limit is 0).
        for (const i of [2, 10]) expect(y[i], `${k}: gelu(-inf)`).toBeNaN();
        expect(Math.abs(y[3]!), `${k}: gelu(0)`).toBe(0);
        expect(Math.abs(y[4]!), `${k}: gelu(-0)`).toBe(0);
      }
      // The ordinary values around them are unaffected.
      expectWithin(native.y.subarray(3, 8), reference.y.subarray(3, 8), x.subarray(3, 8), 2e-6, 1e-5, `${approximate} forward next to specials`);
      expectWithin(native.dx.subarray(3, 8), reference.dx.subarray(3, 8), x.subarray(3, 8), 2e-6, 1e-5, `${approximate} gradient next to specials`);
      expectWithin(native.y.subarray(11, 16), reference.y.subarray(11, 16), x.subarray(11, 16), 2e-6, 1e-5, `${approximate} forward after specials`);
      // Gradients at ±inf: native and reference agree (NaN or the same infinity or value).
      for (const i of [1, 2, 9, 10]) {
        const a = native.dx[i]!;
        const b = reference.dx[i]!;
        expect(Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b)), `gelu'(${x[i]}): native ${a} vs reference ${b}`).toBe(true);
      }
    });
  }
});
