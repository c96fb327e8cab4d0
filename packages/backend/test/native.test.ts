// The native addon's kernels against the wasm ones (skipped when the addon is not built:
// `npm rebuild @sparse-ift/backend --foreground-scripts`).
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, loadNativeAddon, setNativeKernels } from '@sparse-ift/backend';
import { batchNormTrain, hasFusedBatchNorm } from '@sparse-ift/core';
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

  // Both native convolution paths (oneDNN when built with it; im2col + OpenBLAS) against wasm.
  const convLibraries = ['openblas', ...(addon?.library().includes('oneDNN') ? ['onednn'] : [])] as const;
  const r = rng(99);
  for (let i = 0; i < 8; i++) {
    const kh = randInt(r, 1, 3);
    const kw = randInt(r, 1, 3);
    const s: [number, number] = [randInt(r, 1, 2), randInt(r, 1, 2)];
    const n = randInt(r, 1, 3);
    const h = randInt(r, 3, 10);
    const w = randInt(r, 3, 10);
    const c = randInt(r, 1, 6);
    const o = randInt(r, 1, 6);
    const pad = i % 2 === 0 ? 'same' : 'valid';
    for (const library of convLibraries) {
      const name = `fused conv2d (${library}) x[${n},${h},${w},${c}] w[${kh},${kw},${c},${o}] strides ${s} ${pad}`;
      it(name, async () => {
        const rr = rng(i);
        addon!.setConvLibrary(library);
        try {
          await compare(name, (x, f, b) => tf.fused.conv2d({ x: x as tf.Tensor4D, filter: f as tf.Tensor4D, bias: b, strides: s, pad, activation: 'relu' }), [
            { shape: [n, h, w, c], values: randn(rr, n * h * w * c) },
            { shape: [kh, kw, c, o], values: randn(rr, kh * kw * c * o) },
            { shape: [o], values: randn(rr, o) },
          ]);
        } finally {
          addon!.setConvLibrary(convLibraries[convLibraries.length - 1]!);
        }
      });
    }
  }

  it('setConvLibrary refuses an unknown library', () => {
    expect(() => addon!.setConvLibrary('mkl' as 'onednn')).toThrow(/onednn.*openblas/);
  });

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

  // Fused training batch norm (+ residual add + ReLU): the addon's OpenMP kernels against core's JS
  // reference kernels, both as the wasm backend's BATCH_NORM_TRAIN(_GRAD). Odd row counts, channels
  // 1, 3, 64 and 130 (not a multiple of any vector width), and one ResNet-sized case.
  const bnShapes: number[][] = [
    [7, 1],
    [3, 5, 5, 3],
    [1, 3, 3, 1],
    [5, 64],
    [3, 3, 5, 64],
    [2, 7, 3, 130],
    [129, 130],
    [8, 16, 16, 64],
  ];
  for (const [k, shape] of bnShapes.entries()) {
    const channels = shape[shape.length - 1]!;
    const size = shape.reduce((a, b) => a * b, 1);
    for (const relu of [false, true]) {
      for (const withResidual of [false, true]) {
        const name = `batchNormTrain x[${shape.join(',')}] relu=${relu} residual=${withResidual}`;
        it(name, async () => {
          const rr = rng(1000 + k);
          // Per-channel-ish offset and spread so the statistics are not ~0 and ~1 already.
          const xs = randn(rr, size).map((v, i) => 0.5 + (i % channels) * 0.01 + 2 * v);
          const inputs: Input[] = [
            { shape, values: xs },
            { shape: [channels], values: randn(rr, channels).map((v) => 1 + 0.5 * v) },
            { shape: [channels], values: randn(rr, channels) },
          ];
          if (withResidual) inputs.push({ shape, values: randn(rr, size) });
          const epsilon = 1e-5;
          const f = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, r?: tf.Tensor) =>
            batchNormTrain(x, g, b, { epsilon, relu, ...(r ? { residual: r } : {}) }).y;
          await compare(name, f as (...xs: tf.Tensor[]) => tf.Tensor, inputs);
          expect(hasFusedBatchNorm(), 'the wasm backend runs the fused kernels').toBe(true);

          // mean and variance outputs, directly.
          const stats = () =>
            tf.tidy(() => {
              const t = inputs.map((i) => tf.tensor(i.values, i.shape));
              const out = batchNormTrain(t[0]!, t[1]!, t[2]!, { epsilon, relu, ...(t[3] ? { residual: t[3] } : {}) });
              return { mean: out.mean.dataSync().slice(), variance: out.variance.dataSync().slice() };
            });
          setNativeKernels(addon);
          const native = stats();
          setNativeKernels(undefined);
          const js = stats();
          setNativeKernels(addon);
          expectClose(native.mean, js.mean, 1e-5, `${name}: mean native vs wasm`);
          expectClose(native.variance, js.variance, 1e-5, `${name}: variance native vs wasm`);
          // And against a float64 computation here, so the two do not agree only by sharing a mistake.
          const M = size / channels;
          const mean = new Float64Array(channels);
          const variance = new Float64Array(channels);
          for (let i = 0; i < size; i++) mean[i % channels]! += xs[i]! / M;
          for (let i = 0; i < size; i++) variance[i % channels]! += (xs[i]! - mean[i % channels]!) ** 2 / M;
          expectClose(native.mean, mean, 1e-5, `${name}: mean native vs float64`);
          expectClose(native.variance, variance, 1e-5, `${name}: variance native vs float64`);
        });
      }
    }
  }
});
