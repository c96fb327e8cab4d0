/**
 * core's batchNormTrain on the cpu backend: the composed fallback against a float64 computation
 * written here, the fused path (kernels registered here for 'cpu' around core's reference kernels)
 * against the fallback's tf.js autodiff and against central finite differences of that float64
 * computation, and input validation.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// tfjs-core alone registers no gradient functions (the composed path's autodiff needs them); tfjs-layers
// does, as it does for every user of @sparse-ift/core (whose index imports it).
import '@tensorflow/tfjs-layers';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  BATCH_NORM_TRAIN,
  BATCH_NORM_TRAIN_GRAD,
  batchNormTrain,
  batchNormTrainGradReference,
  batchNormTrainReference,
  hasFusedBatchNorm,
  type BatchNormTrainAttrs,
} from '../src/ops/batch-norm.js';
import { rng, randInt } from './helpers/random.js';

function randn(r: () => number, n: number, mean = 0, std = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = mean + std * Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
  return out;
}

/**
 * The op in float64, written out independently of the code under test: per channel c of the last axis,
 * mean and biased variance over all rows, then relu?((x − mean)/√(var + ε)·γ + β + residual?).
 */
function batchNormF64(
  x: ArrayLike<number>, channels: number, gamma: ArrayLike<number>, beta: ArrayLike<number>,
  residual: ArrayLike<number> | undefined, relu: boolean, epsilon: number,
): { y: Float64Array; mean: Float64Array; variance: Float64Array } {
  const rows = x.length / channels;
  const mean = new Float64Array(channels);
  const variance = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    let s = 0;
    for (let r = 0; r < rows; r++) s += x[r * channels + c]!;
    mean[c] = s / rows;
    let q = 0;
    for (let r = 0; r < rows; r++) q += (x[r * channels + c]! - mean[c]!) ** 2;
    variance[c] = q / rows;
  }
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const c = i % channels;
    let v = ((x[i]! - mean[c]!) / Math.sqrt(variance[c]! + epsilon)) * gamma[c]! + beta[c]! + (residual ? residual[i]! : 0);
    if (relu && v < 0) v = 0;
    y[i] = v;
  }
  return { y, mean, variance };
}

/** max |a − b| / max(1, max |b|) ≤ rtol, with the worst index in the message. */
function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let scale = 1;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!));
  let worst = 0;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.abs(actual[i]! - expected[i]!);
    if (!(e <= worst)) [worst, at] = [e, i];
  }
  expect(worst / scale, `${what}: max |diff| ${worst} at ${at} (actual ${actual[at]}, expected ${expected[at]}, scale ${scale})`).toBeLessThanOrEqual(rtol);
}

interface Problem {
  shape: number[];
  channels: number;
  x: Float32Array;
  gamma: Float32Array;
  beta: Float32Array;
  residual: Float32Array;
  weights: Float32Array;
}

function problem(shape: number[], seed: number): Problem {
  const r = rng(seed);
  const channels = shape[shape.length - 1]!;
  const size = shape.reduce((a, b) => a * b, 1);
  return {
    shape,
    channels,
    // An offset and a spread per channel, so the mean and variance are not ~0 and ~1 already.
    x: randn(r, size, 0.7, 2.5),
    gamma: randn(r, channels, 1, 0.5),
    beta: randn(r, channels),
    residual: randn(r, size),
    weights: randn(r, size),
  };
}

/** Random shapes: rank 2 and rank 4, odd sizes, channels 1..7. */
function randomShapes(seed: number, count: number): number[][] {
  const r = rng(seed);
  const odd = (lo: number, hi: number) => randInt(r, lo, hi) * 2 + 1;
  const shapes: number[][] = [];
  for (let i = 0; i < count; i++) {
    const channels = (i % 7) + 1;
    shapes.push(i % 2 === 0 ? [odd(1, 12), channels] : [odd(0, 2), odd(0, 3), odd(1, 3), channels]);
  }
  return shapes;
}

async function useCpu(): Promise<void> {
  expect(await tf.setBackend('cpu')).toBe(true);
  await tf.ready();
}

type Variant = { relu: boolean; residual: boolean };
const VARIANTS: Variant[] = [
  { relu: false, residual: false },
  { relu: true, residual: false },
  { relu: false, residual: true },
  { relu: true, residual: true },
];
const label = (v: Variant) => `${v.relu ? 'relu' : 'no relu'}, ${v.residual ? 'residual' : 'no residual'}`;

/** y, mean, variance and the gradients of sum(y·R) w.r.t. x, γ, β (and the residual) on the current path. */
function valuesAndGrads(p: Problem, v: Variant, epsilon: number) {
  return tf.tidy(() => {
    const x = tf.tensor(p.x, p.shape);
    const gamma = tf.tensor1d(p.gamma);
    const beta = tf.tensor1d(p.beta);
    const residual = tf.tensor(p.residual, p.shape);
    const R = tf.tensor(p.weights, p.shape);
    const run = (xs: tf.Tensor, g: tf.Tensor, b: tf.Tensor, res?: tf.Tensor) =>
      batchNormTrain(xs, g, b, { epsilon, relu: v.relu, ...(res ? { residual: res } : {}) });
    const out = run(x, gamma, beta, v.residual ? residual : undefined);
    const loss = (...args: tf.Tensor[]) => tf.sum(tf.mul(run(args[0]!, args[1]!, args[2]!, args[3]).y, R)) as tf.Scalar;
    const grads = tf.grads(loss)(v.residual ? [x, gamma, beta, residual] : [x, gamma, beta]);
    return {
      y: out.y.dataSync() as Float32Array,
      yShape: out.y.shape,
      mean: out.mean.dataSync() as Float32Array,
      meanShape: out.mean.shape,
      variance: out.variance.dataSync() as Float32Array,
      grads: grads.map((g) => g.dataSync() as Float32Array),
      gradShapes: grads.map((g) => g.shape),
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Fused kernels for 'cpu', around core's reference kernels (registered only inside the fused tests).
// ---------------------------------------------------------------------------------------------

let forwardCalls = 0;
let backwardCalls = 0;

const read = (backend: MathBackendCPU, t: TensorInfo): Float32Array => backend.readSync(t.dataId) as Float32Array;

const cpuForward: KernelFunc = ({ inputs, attrs, backend }) => {
  forwardCalls++;
  const cpu = backend as MathBackendCPU;
  const { x, gamma, beta, residual } = inputs as { x: TensorInfo; gamma: TensorInfo; beta: TensorInfo; residual?: TensorInfo };
  const r = batchNormTrainReference(read(cpu, x), read(cpu, gamma), read(cpu, beta), residual ? read(cpu, residual) : undefined, attrs as unknown as BatchNormTrainAttrs);
  const channels = x.shape[x.shape.length - 1]!;
  return [cpu.makeTensorInfo(x.shape, 'float32', r.y), cpu.makeTensorInfo([channels], 'float32', r.mean), cpu.makeTensorInfo([channels], 'float32', r.variance)];
};

const cpuBackward: KernelFunc = ({ inputs, attrs, backend }) => {
  backwardCalls++;
  const cpu = backend as MathBackendCPU;
  const { dy, x, gamma, mean, variance, y } = inputs as Record<'dy' | 'x' | 'gamma' | 'mean' | 'variance' | 'y', TensorInfo>;
  const a = attrs as unknown as BatchNormTrainAttrs;
  const r = batchNormTrainGradReference(read(cpu, dy), read(cpu, x), read(cpu, gamma), read(cpu, mean), read(cpu, variance), read(cpu, y), a);
  const channels = x.shape[x.shape.length - 1]!;
  const outs = [cpu.makeTensorInfo(x.shape, 'float32', r.dx), cpu.makeTensorInfo([channels], 'float32', r.dgamma), cpu.makeTensorInfo([channels], 'float32', r.dbeta)];
  if (a.residual) outs.push(cpu.makeTensorInfo(x.shape, 'float32', r.dresidual!));
  return outs;
};

const fusedConfigs: KernelConfig[] = [
  { kernelName: BATCH_NORM_TRAIN, backendName: 'cpu', kernelFunc: cpuForward },
  { kernelName: BATCH_NORM_TRAIN_GRAD, backendName: 'cpu', kernelFunc: cpuBackward },
];

function registerFused(): void {
  for (const k of fusedConfigs) tf.registerKernel(k);
}
function unregisterFused(): void {
  for (const k of fusedConfigs) if (tf.getKernel(k.kernelName, 'cpu') != null) tf.unregisterKernel(k.kernelName, 'cpu');
}

// ---------------------------------------------------------------------------------------------

describe('batchNormTrain, composed fallback (cpu has no fused kernels)', () => {
  beforeAll(useCpu);

  it('the cpu backend has no fused kernels', () => {
    expect(hasFusedBatchNorm()).toBe(false);
    expect(hasFusedBatchNorm('cpu')).toBe(false);
  });

  const shapes = randomShapes(2024, 14);
  shapes.forEach((shape, i) => {
    for (const v of VARIANTS) {
      it(`x [${shape.join(',')}], ${label(v)}: y, mean, variance = float64 computation`, () => {
        const p = problem(shape, 100 + i);
        const epsilon = i % 3 === 0 ? 1e-3 : 1e-5;
        const want = batchNormF64(p.x, p.channels, p.gamma, p.beta, v.residual ? p.residual : undefined, v.relu, epsilon);
        const got = tf.tidy(() => {
          const out = batchNormTrain(tf.tensor(p.x, shape), tf.tensor1d(p.gamma), tf.tensor1d(p.beta), {
            epsilon,
            relu: v.relu,
            ...(v.residual ? { residual: tf.tensor(p.residual, shape) } : {}),
          });
          return { y: out.y.dataSync(), yShape: out.y.shape, mean: out.mean.dataSync(), meanShape: out.mean.shape, variance: out.variance.dataSync(), varShape: out.variance.shape };
        });
        expect(got.yShape).toEqual(shape);
        expect(got.meanShape).toEqual([p.channels]);
        expect(got.varShape).toEqual([p.channels]);
        expectClose(got.mean, want.mean, 1e-5, 'mean');
        expectClose(got.variance, want.variance, 2e-5, 'variance');
        expectClose(got.y, want.y, 1e-4, 'y');
        if (v.relu) expect(Math.min(...got.y)).toBeGreaterThanOrEqual(0);
      });
    }
  });

  it('default epsilon is 1e-5 and relu/residual are off by default', () => {
    const p = problem([9, 3], 5);
    const want = batchNormF64(p.x, 3, p.gamma, p.beta, undefined, false, 1e-5);
    const y = tf.tidy(() => batchNormTrain(tf.tensor(p.x, p.shape), tf.tensor1d(p.gamma), tf.tensor1d(p.beta)).y.dataSync());
    expectClose(y, want.y, 1e-4, 'y with defaults');
    // A tiny-variance channel shows which epsilon was used: x̂ = d/√(var + ε) depends on ε there.
    const xs = new Float32Array([0, 1e-3, 0, -1e-3]); // var = 5e-7 on one channel
    const want2 = batchNormF64(xs, 1, [1], [0], undefined, false, 1e-5);
    const y2 = tf.tidy(() => batchNormTrain(tf.tensor(xs, [4, 1]), tf.tensor1d([1]), tf.tensor1d([0])).y.dataSync());
    expectClose(y2, want2.y, 1e-3, 'y with a tiny variance');
    expect(Math.abs(y2[1]! - 1e-3 / Math.sqrt(5e-7 + 1e-5))).toBeLessThan(1e-3);
  });
});

describe('batchNormTrain, fused path (kernels registered for cpu around the reference kernels)', () => {
  beforeAll(useCpu);
  afterEach(unregisterFused);
  afterAll(() => {
    unregisterFused();
    expect(hasFusedBatchNorm('cpu')).toBe(false);
  });

  it('hasFusedBatchNorm() toggles with the kernels registered and unregistered', () => {
    expect(hasFusedBatchNorm()).toBe(false);
    tf.registerKernel(fusedConfigs[0]!);
    expect(hasFusedBatchNorm(), 'forward kernel alone is not enough').toBe(false);
    tf.registerKernel(fusedConfigs[1]!);
    expect(hasFusedBatchNorm()).toBe(true);
    expect(hasFusedBatchNorm('cpu')).toBe(true);
    unregisterFused();
    expect(hasFusedBatchNorm()).toBe(false);
  });

  const shapes = [[7, 3], [3, 5, 3, 4], [1, 3, 5, 1], [2, 3, 3, 7], [25, 6], [3, 3, 3, 5]];
  shapes.forEach((shape, i) => {
    for (const v of VARIANTS) {
      it(`x [${shape.join(',')}], ${label(v)}: values and gradients of sum(y·R) = the composed path's autodiff`, () => {
        const p = problem(shape, 300 + i);
        const epsilon = 1e-5;
        expect(hasFusedBatchNorm()).toBe(false);
        const composed = valuesAndGrads(p, v, epsilon);
        registerFused();
        expect(hasFusedBatchNorm()).toBe(true);
        const [f0, b0] = [forwardCalls, backwardCalls];
        const fused = valuesAndGrads(p, v, epsilon);
        expect(forwardCalls - f0, 'the fused forward kernel ran').toBeGreaterThan(0);
        expect(backwardCalls - b0, 'the fused gradient kernel ran').toBe(1);
        unregisterFused();
        expect(hasFusedBatchNorm()).toBe(false);

        expect(fused.yShape).toEqual(shape);
        expect(fused.meanShape).toEqual([p.channels]);
        expectClose(fused.y, composed.y, 1e-4, 'y fused vs composed');
        expectClose(fused.mean, composed.mean, 1e-5, 'mean fused vs composed');
        expectClose(fused.variance, composed.variance, 1e-4, 'variance fused vs composed');
        const names = ['x', 'gamma', 'beta', 'residual'];
        expect(fused.grads.length).toBe(v.residual ? 4 : 3);
        fused.grads.forEach((g, j) => {
          expect(fused.gradShapes[j]).toEqual(composed.gradShapes[j]);
          expectClose(g, composed.grads[j]!, 1e-4, `d/d${names[j]} fused vs composed`);
        });
        // Independent check of the values too.
        const want = batchNormF64(p.x, p.channels, p.gamma, p.beta, v.residual ? p.residual : undefined, v.relu, epsilon);
        expectClose(fused.y, want.y, 1e-4, 'y fused vs float64');
        expectClose(fused.variance, want.variance, 2e-5, 'variance fused vs float64');
      });
    }
  });

  for (const v of VARIANTS) {
    it(`x [2,3,2,3], ${label(v)}: gradients w.r.t. x, γ, β, residual = central finite differences of the float64 loss`, () => {
      const shape = [2, 3, 2, 3];
      const p = problem(shape, 77);
      const epsilon = 1e-5;
      registerFused();
      const fused = valuesAndGrads(p, v, epsilon);
      unregisterFused();
      const lossF64 = (x: ArrayLike<number>, gamma: ArrayLike<number>, beta: ArrayLike<number>, residual: ArrayLike<number>) => {
        const { y } = batchNormF64(x, p.channels, gamma, beta, v.residual ? residual : undefined, v.relu, epsilon);
        let s = 0;
        for (let i = 0; i < y.length; i++) s += y[i]! * p.weights[i]!;
        return s;
      };
      const h = 1e-6;
      const inputs = [Float64Array.from(p.x), Float64Array.from(p.gamma), Float64Array.from(p.beta), Float64Array.from(p.residual)];
      const names = ['x', 'gamma', 'beta', 'residual'];
      for (let k = 0; k < (v.residual ? 4 : 3); k++) {
        const fd = new Float64Array(inputs[k]!.length);
        for (let i = 0; i < fd.length; i++) {
          const plus = inputs.map((a) => a.slice());
          const minus = inputs.map((a) => a.slice());
          plus[k]![i]! += h;
          minus[k]![i]! -= h;
          fd[i] = (lossF64(plus[0]!, plus[1]!, plus[2]!, plus[3]!) - lossF64(minus[0]!, minus[1]!, minus[2]!, minus[3]!)) / (2 * h);
        }
        expectClose(fused.grads[k]!, fd, 1e-4, `d/d${names[k]} fused vs finite differences`);
      }
    });
  }

  it('the BatchNorm-style gradient identities hold: Σ_rows dx = 0 without relu, dβ = Σ R', () => {
    const p = problem([5, 3, 3, 4], 9);
    registerFused();
    const fused = valuesAndGrads(p, { relu: false, residual: false }, 1e-5);
    unregisterFused();
    const [dx, , dbeta] = fused.grads as [Float32Array, Float32Array, Float32Array];
    for (let c = 0; c < p.channels; c++) {
      let sdx = 0;
      let sr = 0;
      for (let i = c; i < dx.length; i += p.channels) {
        sdx += dx[i]!;
        sr += p.weights[i]!;
      }
      expect(Math.abs(sdx)).toBeLessThan(1e-4);
      expect(dbeta[c]!).toBeCloseTo(sr, 4);
    }
  });
});

describe('batchNormTrain input validation', () => {
  beforeAll(useCpu);
  const x = () => tf.zeros([4, 3]);

  it('gamma or beta of the wrong shape', () => {
    expect(() => batchNormTrain(x(), tf.ones([4]), tf.zeros([3]))).toThrow(/gamma must have shape \[3\].*got \[4\]/);
    expect(() => batchNormTrain(x(), tf.ones([1, 3]), tf.zeros([3]))).toThrow(/gamma must have shape \[3\]/);
    expect(() => batchNormTrain(x(), tf.ones([3]), tf.zeros([2]))).toThrow(/beta must have shape \[3\].*got \[2\]/);
  });

  it('residual of a different shape', () => {
    expect(() => batchNormTrain(x(), tf.ones([3]), tf.zeros([3]), { residual: tf.zeros([3, 4]) })).toThrow(/residual must have x's shape \[4,3\], got \[3,4\]/);
    expect(() => batchNormTrain(x(), tf.ones([3]), tf.zeros([3]), { residual: tf.zeros([3]) })).toThrow(/residual/);
  });

  it('epsilon <= 0 (or NaN)', () => {
    for (const epsilon of [0, -1e-5, Number.NaN]) {
      expect(() => batchNormTrain(x(), tf.ones([3]), tf.zeros([3]), { epsilon })).toThrow(/epsilon must be > 0/);
    }
    expect(() => batchNormTrain(x(), tf.ones([3]), tf.zeros([3]), { epsilon: 0 })).toThrow(RangeError);
  });

  it('x of rank < 2', () => {
    expect(() => batchNormTrain(tf.zeros([3]), tf.ones([3]), tf.zeros([3]))).toThrow(/rank >= 2/);
  });

  it('validation also applies with fused kernels registered', () => {
    registerFused();
    try {
      expect(() => batchNormTrain(x(), tf.ones([2]), tf.zeros([3]))).toThrow(/gamma must have shape/);
      expect(() => batchNormTrain(x(), tf.ones([3]), tf.zeros([3]), { residual: tf.zeros([4, 2]) })).toThrow(/residual/);
      expect(() => batchNormTrain(x(), tf.ones([3]), tf.zeros([3]), { epsilon: 0 })).toThrow(/epsilon/);
    } finally {
      unregisterFused();
    }
  });
});
