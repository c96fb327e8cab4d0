/**
 * Core's masked products on the cpu backend, against the float64 reference kernels (plain loops):
 * - the composed path (no backend kernel): y = conv2d(x, w ⊙ m) / x · (w ⊙ m), dx through w ⊙ m, dw =
 *   dense dw ⊙ m (exactly 0 off the mask), and with an all-ones mask (the trainer's "masks open" step for
 *   RigL) the dense dw;
 * - the kernel path: with cpu kernels registered here around the reference kernels, the registered gradient
 *   gives the same dx / dw through tf.variableGrads, and nothing to the mask;
 * - bad input names the argument.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import {
  MASKED_CONV2D,
  MASKED_CONV2D_GRAD,
  MASKED_MATMUL,
  MASKED_MATMUL_GRAD,
  hasMaskedKernels,
  maskedConv2d,
  maskedConv2dGradReference,
  maskedConv2dReference,
  maskedMatMul,
  type MaskedConv2DAttrs,
} from '../src/ops/masked.js';
import { rng } from './helpers/random.js';
import { maxAbsDiff } from './helpers/reference.js';

type Shape4 = [number, number, number, number];

function randn(r: () => number, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r()));
}

function bernoulli(r: () => number, n: number, density: number): Float32Array {
  return Float32Array.from({ length: n }, () => (r() < density ? 1 : 0));
}

const masked = (w: Float32Array, m: Float32Array) => w.map((v, i) => v * m[i]!);

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, rtol = 1e-5): void {
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!));
  expect(maxAbsDiff(actual, expected), `${what}: max |actual − float64| (scale ${scale})`).toBeLessThanOrEqual(rtol * Math.max(scale, 1e-6));
}

function expectZeroOffMask(dw: ArrayLike<number>, m: Float32Array, what: string): void {
  let bad = 0;
  for (let i = 0; i < m.length; i++) if (m[i] === 0 && dw[i] !== 0) bad++;
  expect(bad, `${what}: gradient entries off the mask that are not exactly 0`).toBe(0);
}

interface ConvCase {
  name: string;
  x: Shape4;
  w: Shape4;
  strides: [number, number];
  pad: 'same' | 'valid';
  density: number;
}

const CONV_CASES: ConvCase[] = [
  { name: '3x3 same s1', x: [2, 5, 6, 3], w: [3, 3, 3, 4], strides: [1, 1], pad: 'same', density: 0.3 },
  { name: '3x3 same s2 (odd size)', x: [2, 7, 5, 4], w: [3, 3, 4, 5], strides: [2, 2], pad: 'same', density: 0.5 },
  { name: '1x1 valid s2', x: [3, 4, 4, 6], w: [1, 1, 6, 3], strides: [2, 2], pad: 'valid', density: 0.25 },
  { name: '3x3 valid s1, all-ones mask', x: [1, 5, 5, 2], w: [3, 3, 2, 3], strides: [1, 1], pad: 'valid', density: 1 },
];

/** dx and dw of Σ maskedConv2d(x, w, m) ⊙ g, through tf.variableGrads (as the trainer takes them). */
function convGrads(c: ConvCase, xv: Float32Array, wv: Float32Array, mv: Float32Array, g: Float32Array) {
  const x = tf.variable(tf.tensor4d(xv, c.x), true, `x_${c.name}`);
  const w = tf.variable(tf.tensor4d(wv, c.w), true, `w_${c.name}`);
  const m = tf.variable(tf.tensor4d(mv, c.w), false, `m_${c.name}`);
  const y = maskedConv2d(x, w, m, c.strides, c.pad);
  const yv = y.dataSync().slice();
  const { grads } = tf.variableGrads(() => tf.sum(tf.mul(maskedConv2d(x, w, m, c.strides, c.pad), tf.tensor(g, y.shape))) as tf.Scalar, [x, w]);
  const out = { y: yv, yShape: y.shape, dx: grads[x.name]!.dataSync().slice(), dw: grads[w.name]!.dataSync().slice() };
  tf.dispose([x, w, m, y, ...Object.values(grads)]);
  return out;
}

function checkConv(c: ConvCase): void {
  const r = rng(c.name.length * 31 + 7);
  const xv = randn(r, tf.util.sizeFromShape(c.x));
  const wv = randn(r, tf.util.sizeFromShape(c.w));
  const mv = bernoulli(r, wv.length, c.density);
  const attrs: MaskedConv2DAttrs = { strides: c.strides, pad: c.pad, dilations: [1, 1] };
  const ref = maskedConv2dReference(xv, c.x, wv, mv, c.w, attrs);
  const g = randn(r, ref.y.length);
  const grad = maskedConv2dGradReference(g, xv, c.x, wv, mv, c.w, attrs);
  const got = convGrads(c, xv, wv, mv, g);
  expect(got.yShape).toEqual(ref.yShape);
  expectClose(got.y, ref.y, `${c.name}: y`);
  expectClose(got.dx, grad.dx, `${c.name}: dx`);
  expectClose(got.dw, grad.dkernel, `${c.name}: dw = dense dw ⊙ mask`);
  expectZeroOffMask(got.dw, mv, c.name);
}

function checkMatMul(): void {
  const r = rng(99);
  const [M, K, N] = [5, 7, 6];
  const xv = randn(r, M * K), wv = randn(r, K * N), mv = bernoulli(r, K * N, 0.4), g = randn(r, M * N);
  const wm = masked(wv, mv);
  const y = new Float64Array(M * N), dx = new Float64Array(M * K), dw = new Float64Array(K * N);
  for (let i = 0; i < M; i++)
    for (let k = 0; k < K; k++)
      for (let j = 0; j < N; j++) {
        y[i * N + j] += xv[i * K + k]! * wm[k * N + j]!;
        dx[i * K + k] += wm[k * N + j]! * g[i * N + j]!;
        dw[k * N + j] += xv[i * K + k]! * g[i * N + j]!;
      }
  const x = tf.variable(tf.tensor2d(xv, [M, K]), true, 'mm_x');
  const w = tf.variable(tf.tensor2d(wv, [K, N]), true, 'mm_w');
  const m = tf.variable(tf.tensor2d(mv, [K, N]), false, 'mm_m');
  const yt = maskedMatMul(x, w, m);
  const { grads } = tf.variableGrads(() => tf.sum(tf.mul(maskedMatMul(x, w, m), tf.tensor2d(g, [M, N]))) as tf.Scalar, [x, w]);
  expectClose(yt.dataSync(), y, 'matmul y');
  expectClose(grads[x.name]!.dataSync(), dx, 'matmul dx');
  expectClose(grads[w.name]!.dataSync(), masked(Float32Array.from(dw), mv), 'matmul dw = dense dw ⊙ mask');
  expectZeroOffMask(grads[w.name]!.dataSync(), mv, 'matmul');
  tf.dispose([x, w, m, yt, ...Object.values(grads)]);
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('masked products, composed path (no backend kernel)', () => {
  it('the cpu backend has no masked kernels of its own', () => {
    expect(hasMaskedKernels('cpu')).toBe(false);
  });
  for (const c of CONV_CASES) it(`maskedConv2d ${c.name}: y, dx, dw against float64`, () => checkConv(c));
  it('maskedMatMul: y, dx, dw against float64', () => checkMatMul());
});

describe('masked products, backend kernel path', () => {
  const floats = (backend: unknown, t: TensorInfo) => (backend as { readSync(id: unknown): Float32Array }).readSync(t.dataId);
  const make = (backend: unknown, values: ArrayLike<number>, shape: number[]): TensorInfo =>
    (backend as { makeTensorInfo(s: number[], d: string, v: Float32Array): TensorInfo }).makeTensorInfo(shape, 'float32', Float32Array.from(values));
  // The kernels below are core's float64 reference kernels: what is checked is the op → kernel → registered
  // gradient wiring.
  const convKernel: KernelFunc = ({ inputs, backend, attrs }) => {
    const { x, kernel, mask } = inputs as Record<string, TensorInfo>;
    const ref = maskedConv2dReference(floats(backend, x!), x!.shape as Shape4, floats(backend, kernel!), floats(backend, mask!), kernel!.shape as Shape4, attrs as unknown as MaskedConv2DAttrs);
    return make(backend, ref.y, ref.yShape);
  };
  const convGradKernel: KernelFunc = ({ inputs, backend, attrs }) => {
    const { dy, x, kernel, mask } = inputs as Record<string, TensorInfo>;
    const v = (t: TensorInfo | undefined) => floats(backend, t!);
    const ref = maskedConv2dGradReference(v(dy), v(x), x!.shape as Shape4, v(kernel), v(mask), kernel!.shape as Shape4, attrs as unknown as MaskedConv2DAttrs);
    return [make(backend, ref.dx, x!.shape), make(backend, ref.dkernel, kernel!.shape)];
  };
  // matmul as a 1×1 conv over rows: x [M, K] = [M, 1, 1, K]
  const asConv = (t: TensorInfo): TensorInfo => ({ ...t, shape: [t.shape[0]!, 1, 1, t.shape[1]!] });
  const asFilter = (t: TensorInfo): TensorInfo => ({ ...t, shape: [1, 1, t.shape[0]!, t.shape[1]!] });
  const one: MaskedConv2DAttrs = { strides: [1, 1], pad: 'valid', dilations: [1, 1] };
  const matMulKernel: KernelFunc = ({ inputs, backend }) => {
    const { x, kernel, mask } = inputs as Record<string, TensorInfo>;
    const y = convKernel({ inputs: { x: asConv(x!), kernel: asFilter(kernel!), mask: asFilter(mask!) }, backend, attrs: one as never }) as TensorInfo;
    return { ...y, shape: [x!.shape[0]!, kernel!.shape[1]!] };
  };
  const matMulGradKernel: KernelFunc = ({ inputs, backend }) => {
    const { dy, x, kernel, mask } = inputs as Record<string, TensorInfo>;
    const [dx, dw] = convGradKernel({
      inputs: { dy: { ...dy!, shape: [dy!.shape[0]!, 1, 1, dy!.shape[1]!] }, x: asConv(x!), kernel: asFilter(kernel!), mask: asFilter(mask!) },
      backend, attrs: one as never,
    }) as TensorInfo[];
    return [{ ...dx!, shape: x!.shape }, { ...dw!, shape: kernel!.shape }];
  };
  const KERNELS: [string, KernelFunc][] = [[MASKED_CONV2D, convKernel], [MASKED_CONV2D_GRAD, convGradKernel], [MASKED_MATMUL, matMulKernel], [MASKED_MATMUL_GRAD, matMulGradKernel]];

  beforeAll(() => {
    for (const [kernelName, kernelFunc] of KERNELS) tf.registerKernel({ kernelName, backendName: 'cpu', kernelFunc });
  });
  afterAll(() => {
    for (const [kernelName] of KERNELS) tf.unregisterKernel(kernelName, 'cpu');
  });

  it('the ops run the registered kernels', () => {
    expect(hasMaskedKernels('cpu')).toBe(true);
    const before = tf.memory().numTensors;
    const x = tf.ones([1, 3, 3, 1]), w = tf.ones([3, 3, 1, 1]), m = tf.zeros([3, 3, 1, 1]);
    const y = maskedConv2d(x, w, m, 1, 'same');
    expect(Array.from(y.dataSync())).toEqual(new Array(9).fill(0));
    tf.dispose([x, w, m, y]);
    expect(tf.memory().numTensors).toBe(before);
  });
  for (const c of CONV_CASES) it(`maskedConv2d ${c.name}: the registered gradient gives float64's dx and dw ⊙ mask`, () => checkConv(c));
  it('maskedMatMul: the registered gradient gives float64\'s dx and dw ⊙ mask', () => checkMatMul());
  it('the mask gets a zero gradient', () => {
    const x = tf.tensor2d([1, 2], [1, 2]), w = tf.tensor2d([3, 4], [2, 1]), m = tf.tensor2d([1, 0], [2, 1]);
    const [dm] = tf.grads((mask: tf.Tensor) => tf.sum(maskedMatMul(x, w, mask)))([m]);
    expect(Array.from(dm!.dataSync())).toEqual([0, 0]);
    tf.dispose([x, w, m, dm!]);
  });
});

describe('masked products, bad input', () => {
  it('a mask of another shape names both shapes', () => {
    const x = tf.zeros([1, 4, 4, 2]), w = tf.zeros([3, 3, 2, 2]), m = tf.zeros([3, 3, 2, 1]);
    expect(() => maskedConv2d(x, w, m)).toThrow(/maskedConv2d: mask shape \[3,3,2,1\] differs from the kernel's \[3,3,2,2\]/);
    const a = tf.zeros([2, 3]), b = tf.zeros([4, 2]);
    expect(() => maskedMatMul(a, b, b)).toThrow(/maskedMatMul: x has 3 columns, the kernel 4 rows/);
    tf.dispose([x, w, m, a, b]);
  });
});
