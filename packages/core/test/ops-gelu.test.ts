/**
 * Core's gelu op on the cpu backend: errorFunction against known erf values and a float64 series;
 * the composed path ('erf' and 'tanh') against float64 formulas written here, its gradient against
 * central finite differences of those formulas; then, with cpu kernels registered here around the JS
 * reference kernels, the fused path's values and gradients against the composed path's.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// tfjs-core alone registers no gradients; tfjs-layers does (in plain Node too).
import '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GELU,
  GELU_GRAD,
  errorFunction,
  gelu,
  geluGradReference,
  geluReference,
  hasFusedGelu,
  type GeluApproximation,
  type GeluAttrs,
} from '../src/ops/gelu.js';
import { rng } from './helpers/random.js';

const APPROXIMATIONS: GeluApproximation[] = ['erf', 'tanh'];

/** erf in float64: 2/√π·e^(−x²)·Σ 2ⁿx^(2n+1)/(1·3·…·(2n+1)) (all terms positive: no cancellation). */
function erf64(x: number): number {
  const z = Math.abs(x);
  if (z > 6) return Math.sign(x);
  let term = z;
  let sum = z;
  for (let n = 1; n < 400 && term > 1e-17 * sum; n++) {
    term *= (2 * z * z) / (2 * n + 1);
    sum += term;
  }
  return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * Math.exp(-z * z) * sum;
}

function gelu64(x: number, approximate: GeluApproximation): number {
  if (approximate === 'tanh') return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
  return 0.5 * x * (1 + erf64(x / Math.SQRT2));
}

/** Central finite difference of gelu64 (float64, h = 1e-5: error ~1e-10). */
function geluDerivative64(x: number, approximate: GeluApproximation): number {
  const h = 1e-5;
  return (gelu64(x + h, approximate) - gelu64(x - h, approximate)) / (2 * h);
}


function randn(r: () => number, n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => scale * Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r()));
}

/** Test inputs: a grid over [-8, 8], zero, and random normals at two scales. */
function inputs(): Float32Array {
  const grid = Array.from({ length: 321 }, (_, i) => -8 + i * 0.05);
  return Float32Array.from([...grid, 0, -0, 1e-6, -1e-6, ...randn(rng(1), 200), ...randn(rng(2), 100, 4)]);
}

/** max |a − b| / (atol + rtol·|b|) ≤ 1, reporting the worst element. */
function expectWithin(actual: ArrayLike<number>, expected: ArrayLike<number>, atol: number, rtol: number, what: string, at?: ArrayLike<number>): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let worst = 0;
  let worstAt = -1;
  for (let i = 0; i < expected.length; i++) {
    const ratio = Math.abs(actual[i]! - expected[i]!) / (atol + rtol * Math.abs(expected[i]!));
    if (!(ratio <= worst)) {
      worst = ratio;
      worstAt = i;
    }
  }
  const where = at ? ` (x = ${at[worstAt]})` : '';
  expect(worst, `${what}: worst at ${worstAt}${where}: actual ${actual[worstAt]}, expected ${expected[worstAt]}`).toBeLessThanOrEqual(1);
}

beforeAll(async () => {
  expect(await tf.setBackend('cpu')).toBe(true);
});

describe('errorFunction', () => {
  it('known values within 2e-7', () => {
    const known: [number, number][] = [
      [0, 0],
      [0.5, 0.5204998778],
      [1, 0.8427007929],
      [2, 0.995322265],
      [3, 0.9999779095],
      [0.1, 0.1124629160],
    ];
    for (const [x, want] of known) {
      expect(Math.abs(errorFunction(x) - want), `erf(${x}) = ${errorFunction(x)}`).toBeLessThanOrEqual(2e-7);
      expect(Math.abs(errorFunction(-x) + want), `erf(${-x}) = ${errorFunction(-x)}`).toBeLessThanOrEqual(2e-7);
    }
  });

  it('odd: erf(−x) = −erf(x) exactly', () => {
    for (const x of [1e-8, 0.01, 0.3, 0.5, 1, 1.7, 2, 3.3, 5, 10, 30]) expect(errorFunction(-x)).toBe(-errorFunction(x));
  });

  it('|error| < 1.2e-7 against a float64 series on [-7, 7]; limits ±1', () => {
    let worst = 0;
    for (let i = 0; i <= 14000; i++) {
      const x = -7 + i * 1e-3;
      worst = Math.max(worst, Math.abs(errorFunction(x) - erf64(x)));
    }
    expect(worst).toBeLessThan(1.2e-7);
    expect(errorFunction(Infinity)).toBe(1);
    expect(errorFunction(-Infinity)).toBe(-1);
    expect(errorFunction(NaN)).toBeNaN();
  });
});

describe('gelu on cpu: the composed path (no fused kernels registered)', () => {
  it('cpu has no fused kernels', () => {
    expect(hasFusedGelu()).toBe(false);
    expect(hasFusedGelu('cpu')).toBe(false);
  });

  for (const approximate of APPROXIMATIONS) {
    it(`'${approximate}' forward matches the float64 formula`, () => {
      const x = inputs();
      const y = tf.tidy(() => gelu(tf.tensor1d(x), approximate).dataSync());
      // tf.erf on cpu is an approximation (|error| ~1e-7) and the ops run in float32.
      expectWithin(y, Array.from(x, (v) => gelu64(v, approximate)), 1e-6, 1e-6, `composed ${approximate}`, x);
    });

    it(`'${approximate}' gradient matches central finite differences of the float64 formula`, () => {
      const x = inputs();
      const dy = randn(rng(3), x.length);
      const dx = tf.tidy(() => {
        const g = tf.grad((t: tf.Tensor) => gelu(t, approximate))(tf.tensor1d(x), tf.tensor1d(dy));
        return g.dataSync();
      });
      expectWithin(dx, Array.from(x, (v, i) => dy[i]! * geluDerivative64(v, approximate)), 1e-5, 1e-5, `composed ${approximate} gradient`, x);
    });
  }

  it('the default approximation is erf; shapes are kept', () => {
    const x = tf.tensor2d([[-1, 0.5], [2, -3]]);
    const a = gelu(x);
    const b = gelu(x, 'erf');
    expect(a.shape).toEqual([2, 2]);
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    tf.dispose([x, a, b]);
  });

  it('an invalid approximation throws', () => {
    const x = tf.tensor1d([1, 2]);
    expect(() => gelu(x, 'sigmoid' as GeluApproximation)).toThrow(/approximate must be 'erf' or 'tanh'/);
    expect(() => gelu(x, undefined as unknown as GeluApproximation)).not.toThrow();
    x.dispose();
  });
});

describe('the JS reference kernels', () => {
  for (const approximate of APPROXIMATIONS) {
    it(`geluReference and geluGradReference ('${approximate}') match the float64 formulas`, () => {
      const x = inputs();
      const dy = randn(rng(4), x.length);
      expectWithin(geluReference(x, approximate), Array.from(x, (v) => gelu64(v, approximate)), 1e-6, 1e-6, `reference ${approximate}`, x);
      expectWithin(geluGradReference(dy, x, approximate), Array.from(x, (v, i) => dy[i]! * geluDerivative64(v, approximate)), 1e-5, 1e-5, `reference ${approximate} gradient`, x);
    });
  }
});

describe('gelu on cpu with test-registered fused kernels wrapping the reference kernels', () => {
  type CpuBackend = { readSync(dataId: object): Float32Array; makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): tf.TensorInfo };
  let calls = { forward: 0, backward: 0 };

  const composedRuns = new Map<GeluApproximation, { y: Float32Array; dx: Float32Array }>();
  const x = inputs();
  const dy = randn(rng(5), x.length);
  const run = (approximate: GeluApproximation) =>
    tf.tidy(() => {
      const xt = tf.tensor2d(x, [1, x.length]);
      const y = gelu(xt, approximate).dataSync() as Float32Array;
      const dx = tf.grad((t: tf.Tensor) => gelu(t, approximate))(xt, tf.tensor2d(dy, [1, x.length])).dataSync() as Float32Array;
      return { y, dx };
    });

  const forwardKernel: tf.KernelConfig = {
    kernelName: GELU,
    backendName: 'cpu',
    kernelFunc: ({ inputs: ins, attrs, backend }) => {
      calls.forward++;
      const cpu = backend as unknown as CpuBackend;
      const { x: xi } = ins as { x: tf.TensorInfo };
      const y = geluReference(cpu.readSync(xi.dataId), (attrs as unknown as GeluAttrs).approximate);
      return cpu.makeTensorInfo(xi.shape, 'float32', y);
    },
  };
  const gradientKernel: tf.KernelConfig = {
    kernelName: GELU_GRAD,
    backendName: 'cpu',
    kernelFunc: ({ inputs: ins, attrs, backend }) => {
      calls.backward++;
      const cpu = backend as unknown as CpuBackend;
      const { dy: dyi, x: xi } = ins as { dy: tf.TensorInfo; x: tf.TensorInfo };
      const dx = geluGradReference(cpu.readSync(dyi.dataId), cpu.readSync(xi.dataId), (attrs as unknown as GeluAttrs).approximate);
      return cpu.makeTensorInfo(xi.shape, 'float32', dx);
    },
  };

  beforeAll(() => {
    for (const approximate of APPROXIMATIONS) composedRuns.set(approximate, run(approximate));
    tf.registerKernel(forwardKernel);
    tf.registerKernel(gradientKernel);
  });

  afterAll(() => {
    tf.unregisterKernel(GELU, 'cpu');
    tf.unregisterKernel(GELU_GRAD, 'cpu');
    expect(hasFusedGelu('cpu')).toBe(false);
  });

  it('hasFusedGelu toggles (both kernels needed)', () => {
    expect(hasFusedGelu()).toBe(true);
    expect(hasFusedGelu('cpu')).toBe(true);
    tf.unregisterKernel(GELU_GRAD, 'cpu');
    expect(hasFusedGelu('cpu')).toBe(false);
    tf.registerKernel(gradientKernel);
    expect(hasFusedGelu('cpu')).toBe(true);
    tf.unregisterKernel(GELU, 'cpu');
    expect(hasFusedGelu('cpu')).toBe(false);
    tf.registerKernel(forwardKernel);
    expect(hasFusedGelu('cpu')).toBe(true);
  });

  for (const approximate of APPROXIMATIONS) {
    it(`'${approximate}': fused values and tf.grads equal the composed path's within 1e-5 relative`, () => {
      calls = { forward: 0, backward: 0 };
      const fused = run(approximate);
      expect(calls.forward, 'fused forward kernel ran').toBeGreaterThan(0);
      expect(calls.backward, 'fused gradient kernel ran').toBe(1);
      const composed = composedRuns.get(approximate)!;
      expectWithin(fused.y, composed.y, 1e-6, 1e-5, `fused vs composed ${approximate}`, x);
      expectWithin(fused.dx, composed.dx, 1e-6, 1e-5, `fused vs composed ${approximate} gradient`, x);
    });
  }

  it('tf.grads through a product with the fused op, both approximations', () => {
    const xs = tf.tensor1d([-2, -0.5, 0, 0.7, 3]);
    const w = tf.tensor1d([1, 2, 3, 4, 5]);
    for (const approximate of APPROXIMATIONS) {
      const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(gelu(a, approximate), b)))([xs, w]);
      const xv = xs.dataSync();
      expectWithin(gx!.dataSync(), Array.from(xv, (v, i) => (i + 1) * geluDerivative64(v, approximate)), 1e-5, 1e-5, `grads x ${approximate}`);
      expectWithin(gw!.dataSync(), Array.from(xv, (v) => gelu64(v, approximate)), 1e-6, 1e-6, `grads w ${approximate}`);
      tf.dispose([gx!, gw!]);
    }
    tf.dispose([xs, w]);
  });

  it('a non-float32 input takes the composed path', () => {
    calls = { forward: 0, backward: 0 };
    const y = tf.tidy(() => gelu(tf.tensor1d([-1, 0, 2], 'int32')).dataSync());
    expect(calls.forward).toBe(0);
    expectWithin(y, [-1, 0, 2].map((v) => gelu64(v, 'erf')), 1e-6, 1e-6, 'int32 input');
  });

  it('an invalid approximation still throws', () => {
    const t = tf.tensor1d([1]);
    expect(() => gelu(t, 'exact' as GeluApproximation)).toThrow();
    t.dispose();
  });
});
