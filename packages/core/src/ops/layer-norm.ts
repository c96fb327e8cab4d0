/**
 * LayerNorm over the last axis, y = (x − mean) / sqrt(var + ε) · γ + β (biased variance, as PyTorch's
 * nn.LayerNorm), as one op with its own gradient.
 *
 * Why: composed from tf.js ops it runs ~9 kernels forward and ~15 backward per norm, and a transformer has
 * two per block; a backend may register the two kernels below (`@sparse-ift/backend` does for wasm, on its
 * native addon when built). Elsewhere the op falls back on the composed ops (same values and gradients).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NamedAttrMap, Tensor } from '@tensorflow/tfjs-core';

/** Kernel: inputs {x, gamma, beta}, attrs LayerNormAttrs, outputs [y, mean, rstd] (mean, rstd: one per row). */
export const LAYER_NORM = 'SparseIftLayerNorm';
/** Kernel: inputs {dy, x, gamma, mean, rstd}, same attrs, outputs [dx, dgamma, dbeta]. */
export const LAYER_NORM_GRAD = 'SparseIftLayerNormGrad';

export interface LayerNormAttrs {
  epsilon: number;
}

function composed(x: Tensor, gamma: Tensor, beta: Tensor, epsilon: number): Tensor {
  const axis = x.rank - 1;
  const mean = tf.mean(x, axis, true);
  const centered = tf.sub(x, mean);
  const variance = tf.mean(tf.square(centered), axis, true);
  return tf.add(tf.mul(tf.mul(centered, tf.rsqrt(tf.add(variance, epsilon))), gamma), beta);
}

export function hasFusedLayerNorm(backendName = tf.getBackend()): boolean {
  return tf.getKernel(LAYER_NORM, backendName) != null && tf.getKernel(LAYER_NORM_GRAD, backendName) != null;
}

export function layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, epsilon = 1e-5): Tensor {
  const size = x.shape[x.rank - 1];
  if (x.rank < 1) throw new Error('layerNorm: x must have rank >= 1');
  for (const [name, t] of [['gamma', gamma], ['beta', beta]] as const) {
    if (t.rank !== 1 || t.shape[0] !== size) throw new Error(`layerNorm: ${name} must have shape [${size}] (x's last axis), got [${t.shape.join(',')}]`);
  }
  if (!(epsilon > 0)) throw new RangeError(`layerNorm: epsilon must be > 0, got ${epsilon}`);
  if (x.dtype !== 'float32' || !hasFusedLayerNorm()) return composed(x, gamma, beta, epsilon);
  const attrs: LayerNormAttrs = { epsilon };
  const [y] = tf.engine().runKernel(LAYER_NORM, { x, gamma, beta }, attrs as unknown as NamedAttrMap) as Tensor[];
  return y!;
}

let gradientRegistered = false;

/** Registers the fused kernel's gradient (all backends); done on import, idempotent. */
export function registerLayerNormGradient(): void {
  if (gradientRegistered) return;
  gradientRegistered = true;
  tf.registerGradient({
    kernelName: LAYER_NORM,
    inputsToSave: ['x', 'gamma'],
    outputsToSave: [false, true, true],
    gradFunc: (dys: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
      const dy = Array.isArray(dys) ? dys[0]! : dys;
      const [x, gamma, mean, rstd] = saved as [Tensor, Tensor, Tensor, Tensor];
      const [dx, dgamma, dbeta] = tf.engine().runKernel(LAYER_NORM_GRAD, { dy, x, gamma, mean, rstd }, attrs) as Tensor[];
      return { x: () => dx!, gamma: () => dgamma!, beta: () => dbeta! };
    },
  });
}

registerLayerNormGradient();

/** Reference kernels on plain arrays (float64 accumulation); x is [rows, size] row-major. */
export function layerNormReference(
  x: Float32Array, gamma: Float32Array, beta: Float32Array, epsilon: number,
): { y: Float32Array; mean: Float32Array; rstd: Float32Array } {
  const size = gamma.length;
  const rows = x.length / size;
  const y = new Float32Array(x.length), mean = new Float32Array(rows), rstd = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const o = r * size;
    let s = 0;
    for (let j = 0; j < size; j++) s += x[o + j]!;
    const m = s / size;
    let q = 0;
    for (let j = 0; j < size; j++) q += (x[o + j]! - m) ** 2;
    const inv = 1 / Math.sqrt(q / size + epsilon);
    mean[r] = m;
    rstd[r] = inv;
    for (let j = 0; j < size; j++) y[o + j] = (x[o + j]! - m) * inv * gamma[j]! + beta[j]!;
  }
  return { y, mean, rstd };
}

export function layerNormGradReference(
  dy: Float32Array, x: Float32Array, gamma: Float32Array, mean: Float32Array, rstd: Float32Array,
): { dx: Float32Array; dgamma: Float32Array; dbeta: Float32Array } {
  const size = gamma.length;
  const rows = x.length / size;
  const dx = new Float32Array(x.length);
  const dgamma = new Float64Array(size), dbeta = new Float64Array(size);
  for (let r = 0; r < rows; r++) {
    const o = r * size;
    const m = mean[r]!, inv = rstd[r]!;
    // dx = inv · (g − mean(g) − x̂ · mean(g · x̂)), g = dy · γ
    let sg = 0, sgx = 0;
    for (let j = 0; j < size; j++) {
      const xh = (x[o + j]! - m) * inv;
      const g = dy[o + j]! * gamma[j]!;
      sg += g;
      sgx += g * xh;
      dgamma[j]! += dy[o + j]! * xh;
      dbeta[j]! += dy[o + j]!;
    }
    for (let j = 0; j < size; j++) {
      const xh = (x[o + j]! - m) * inv;
      dx[o + j] = inv * (dy[o + j]! * gamma[j]! - sg / size - xh * (sgx / size));
    }
  }
  return { dx, dgamma: Float32Array.from(dgamma), dbeta: Float32Array.from(dbeta) };
}
