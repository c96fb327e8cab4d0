// Test helpers: run the same gradient on a training backend (wasm with this package's kernels, or the
// native backend) and on the cpu backend, and check both against central finite differences computed in
// float64 on the host.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { expect } from 'vitest';
import { initBackend, loadNativeAddon } from '@sparse-ift/backend';

export type TrainingBackend = 'wasm' | 'native';

/** Whether the addon is built with the native backend's kernels. */
export const NATIVE_BACKEND_BUILT = (() => {
  const s = loadNativeAddon();
  return s.loaded && typeof s.addon.tensors === 'object';
})();

/**
 * The backends whose training kernels the suite checks against cpu: wasm always, the native backend when
 * its addon is built. The SPARSE_IFT_TEST_NATIVE=1 rerun (CI) re-checks wasm on the addon's heap kernels and
 * leaves the native backend to the first run.
 */
export const TRAINING_BACKENDS: readonly TrainingBackend[] =
  NATIVE_BACKEND_BUILT && process.env['SPARSE_IFT_TEST_NATIVE'] !== '1' ? ['wasm', 'native'] : ['wasm'];

/** Small seeded PRNG (mulberry32) so failures reproduce. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randInt(r: () => number, lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}

export function randn(r: () => number, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
  return out;
}

export interface Input {
  shape: number[];
  values: Float32Array | Int32Array;
  dtype?: 'float32' | 'int32';
  /** Take gradients with respect to this input (default: float32 inputs). */
  differentiable?: boolean;
}

let wasmReady = false;
let nativeReady = false;
export async function useBackend(name: TrainingBackend | 'cpu' | 'webgpu'): Promise<void> {
  if (name === 'wasm' && !wasmReady) {
    await initBackend({ backend: 'wasm', useNative: process.env['SPARSE_IFT_TEST_NATIVE'] === '1' });
    wasmReady = true;
  }
  if (name === 'native' && !nativeReady) {
    await initBackend({ backend: 'native' });
    nativeReady = true;
  }
  if (name === 'webgpu' && tf.findBackend('webgpu') == null) {
    await initBackend({ backend: 'webgpu', allowSoftwareAdapter: true });
  }
  const ok = await tf.setBackend(name);
  if (!ok || tf.getBackend() !== name) throw new Error(`could not switch to ${name}`);
}

type Fn = (...xs: tf.Tensor[]) => tf.Tensor;

function makeTensors(inputs: Input[]): tf.Tensor[] {
  return inputs.map((i) => tf.tensor(i.values, i.shape, i.dtype ?? 'float32'));
}

/** Forward output and gradients of sum(f(xs) * R) on the current backend. */
export function forwardAndGrads(f: Fn, inputs: Input[], weights: Float32Array): { y: Float32Array; grads: Float32Array[] } {
  return tf.tidy(() => {
    const xs = makeTensors(inputs);
    const diff = inputs.map((i, k) => ({ i, k })).filter(({ i }) => i.differentiable ?? (i.dtype ?? 'float32') === 'float32');
    const y = f(...xs);
    const lossOf = (...d: tf.Tensor[]): tf.Scalar => {
      const all = xs.slice();
      diff.forEach(({ k }, j) => (all[k] = d[j]!));
      const out = f(...all);
      return tf.sum(tf.mul(out, tf.tensor(weights, out.shape))) as tf.Scalar;
    };
    const grads = tf.grads(lossOf)(diff.map(({ k }) => xs[k]!));
    return { y: y.dataSync() as Float32Array, grads: grads.map((g) => g.dataSync() as Float32Array) };
  });
}

function lossF64(f: Fn, inputs: Input[], weights: Float32Array): number {
  return tf.tidy(() => {
    const y = f(...makeTensors(inputs)).dataSync();
    let s = 0;
    for (let i = 0; i < y.length; i++) s += y[i]! * weights[i]!;
    return s;
  });
}

export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let scale = 1e-6;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!));
  let worst = 0;
  let worstAt = -1;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.abs(actual[i]! - expected[i]!);
    if (!(e <= worst)) {
      worst = e;
      worstAt = i;
    }
  }
  expect(worst / scale, `${what}: max |diff| ${worst} at ${worstAt} (actual ${actual[worstAt]}, expected ${expected[worstAt]}, scale ${scale})`).toBeLessThanOrEqual(rtol);
}

export interface GradCheckOptions {
  /** Finite-difference step. */
  eps?: number;
  /** Coordinates per input checked by finite differences. */
  probes?: number;
  rtol?: number;
  fdRtol?: number;
  seed?: number;
  /** The backend checked against cpu (default wasm). */
  backend?: TrainingBackend | 'webgpu';
}

/**
 * The op's forward and gradients on wasm (or `opts.backend`) match the cpu backend, and its gradients
 * match central finite differences of its forward at random coordinates.
 */
export async function checkGradients(name: string, f: Fn, inputs: Input[], opts: GradCheckOptions = {}): Promise<void> {
  const r = rng(opts.seed ?? 7);
  const backend = opts.backend ?? 'wasm';
  await useBackend(backend);
  const outShape = tf.tidy(() => f(...makeTensors(inputs)).shape);
  const weights = randn(r, tf.util.sizeFromShape(outShape));
  const onBackend = forwardAndGrads(f, inputs, weights);
  await useBackend('cpu');
  const onCpu = forwardAndGrads(f, inputs, weights);
  await useBackend(backend);
  const rtol = opts.rtol ?? 1e-4;
  expectClose(onBackend.y, onCpu.y, rtol, `${name}: forward ${backend} vs cpu`);
  onBackend.grads.forEach((g, j) => expectClose(g, onCpu.grads[j]!, rtol, `${name}: grad ${j} ${backend} vs cpu`));
  const eps = opts.eps ?? 1e-2;
  const probes = opts.probes ?? 6;
  let gradIndex = 0;
  for (let k = 0; k < inputs.length; k++) {
    const input = inputs[k]!;
    if (!(input.differentiable ?? (input.dtype ?? 'float32') === 'float32')) continue;
    const g = onBackend.grads[gradIndex++]!;
    for (let p = 0; p < probes; p++) {
      const i = Math.floor(r() * input.values.length);
      const plus = inputs.slice();
      const minus = inputs.slice();
      const vp = Float32Array.from(input.values);
      const vm = Float32Array.from(input.values);
      vp[i] = vp[i]! + eps;
      vm[i] = vm[i]! - eps;
      plus[k] = { ...input, values: vp };
      minus[k] = { ...input, values: vm };
      const fd = (lossF64(f, plus, weights) - lossF64(f, minus, weights)) / (2 * eps);
      let gScale = 1e-3;
      for (let j = 0; j < g.length; j++) gScale = Math.max(gScale, Math.abs(g[j]!));
      expect(
        Math.abs(fd - g[i]!) / gScale,
        `${name}: input ${k} coordinate ${i}: finite difference ${fd} vs gradient ${g[i]} on ${backend} (scale ${gScale})`,
      ).toBeLessThanOrEqual(opts.fdRtol ?? 5e-3);
    }
  }
}

let webgpuProbe: Promise<string | undefined> | undefined;

/**
 * Undefined when a webgpu adapter (a software one counts) starts here, else why not. Under CI (where
 * tools/setup.sh installs the software adapter's libraries) a missing adapter fails instead of skipping.
 */
export function webgpuUnavailable(): Promise<string | undefined> {
  webgpuProbe ??= (async () => {
    const before = tf.getBackend();
    try {
      await initBackend({ backend: 'webgpu', allowSoftwareAdapter: true });
      return undefined;
    } catch (e) {
      const why = (e as Error).message;
      if (process.env['CI']) throw new Error(`CI: no webgpu adapter (tools/setup.sh installs the software one): ${why}`);
      return why;
    } finally {
      if (before) await tf.setBackend(before);
    }
  })();
  return webgpuProbe;
}
