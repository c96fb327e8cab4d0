// The native addon's kernels against the wasm ones (skipped when the addon is not built:
// `npm run build:native -w @sparse-ift/backend`).
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, loadNativeAddon, setNativeKernels } from '@sparse-ift/backend';
import { expectClose, forwardAndGrads, randInt, randn, rng, type Input } from './helpers.js';

const status = loadNativeAddon();

describe.skipIf(!status.loaded)('native addon kernels match the wasm kernels', () => {
  const addon = status.loaded ? status.addon : undefined;

  async function compare(name: string, f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: Input[]): Promise<void> {
    const info = await initBackend({ backend: 'wasm', training: true });
    expect(info.native).toBe(true);
    const outSize = tf.tidy(() => f(...inputs.map((i) => tf.tensor(i.values, i.shape, i.dtype ?? 'float32'))).size);
    const weights = randn(rng(1), outSize);
    setNativeKernels(addon);
    const native = forwardAndGrads(f, inputs, weights);
    setNativeKernels(undefined);
    const wasm = forwardAndGrads(f, inputs, weights);
    setNativeKernels(addon);
    expectClose(native.y, wasm.y, 1e-4, `${name}: forward native vs wasm`);
    native.grads.forEach((g, j) => expectClose(g, wasm.grads[j]!, 1e-4, `${name}: grad ${j} native vs wasm`));
  }

  it('reports the library and a thread count', () => {
    expect(addon!.library()).toMatch(/openblas/i);
    expect(addon!.threads()).toBeGreaterThanOrEqual(1);
  });

  const r = rng(99);
  for (let i = 0; i < 6; i++) {
    const kh = randInt(r, 1, 3);
    const kw = randInt(r, 1, 3);
    const s: [number, number] = [randInt(r, 1, 2), randInt(r, 1, 2)];
    const n = randInt(r, 1, 3);
    const h = randInt(r, 3, 10);
    const w = randInt(r, 3, 10);
    const c = randInt(r, 1, 6);
    const o = randInt(r, 1, 6);
    const pad = i % 2 === 0 ? 'same' : 'valid';
    const name = `fused conv2d x[${n},${h},${w},${c}] w[${kh},${kw},${c},${o}] strides ${s} ${pad}`;
    it(name, async () => {
      const rr = rng(i);
      await compare(name, (x, f, b) => tf.fused.conv2d({ x: x as tf.Tensor4D, filter: f as tf.Tensor4D, bias: b, strides: s, pad, activation: 'relu' }), [
        { shape: [n, h, w, c], values: randn(rr, n * h * w * c) },
        { shape: [kh, kw, c, o], values: randn(rr, kh * kw * c * o) },
        { shape: [o], values: randn(rr, o) },
      ]);
    });
  }

  it('dilated conv2d forward', async () => {
    const rr = rng(3);
    const x = tf.tensor(randn(rr, 2 * 9 * 9 * 3), [2, 9, 9, 3]) as tf.Tensor4D;
    const f = tf.tensor(randn(rr, 3 * 3 * 3 * 4), [3, 3, 3, 4]) as tf.Tensor4D;
    setNativeKernels(addon);
    const native = tf.conv2d(x, f, 1, 'same', 'NHWC', 2).dataSync();
    setNativeKernels(undefined);
    const wasm = tf.conv2d(x, f, 1, 'same', 'NHWC', 2).dataSync();
    setNativeKernels(addon);
    expectClose(native, wasm, 1e-4, 'dilated conv2d');
  });

  for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
    const name = `batched matMul transposeA=${tA} transposeB=${tB}`;
    it(name, async () => {
      const rr = rng(7);
      await compare(name, (a, b) => tf.matMul(a, b, tA, tB), [
        { shape: tA ? [3, 37, 33] : [3, 33, 37], values: randn(rr, 3 * 33 * 37) },
        { shape: tB ? [3, 35, 37] : [3, 37, 35], values: randn(rr, 3 * 37 * 35) },
      ]);
    });
  }

  it('dense layer path: fused matMul + bias + relu', async () => {
    const rr = rng(8);
    await compare('fused matMul', (a, b, bias) => tf.fused.matMul({ a, b, bias, activation: 'relu' }), [
      { shape: [41, 40], values: randn(rr, 41 * 40) },
      { shape: [40, 39], values: randn(rr, 40 * 39) },
      { shape: [39], values: randn(rr, 39) },
    ]);
  });
});
