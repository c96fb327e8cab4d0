/**
 * GELU, y = x·Φ(x), as one op with its own gradient: exact (`'erf'`, tf.js' 'gelu' activation, PyTorch's
 * F.gelu default) or GPT-2's tanh approximation (`'tanh'`, tf.js 'gelu_new', F.gelu(approximate='tanh')).
 *
 * Why: composed from tf.js ops it runs ~10 kernels forward and ~20 backward over the MLP's widest
 * activation (plus a scalar tanh/erf kernel); a backend may register the two kernels below
 * (`@sparse-ift/backend` does for wasm, vectorised on its native addon when built). Elsewhere the op falls
 * back on the composed ops, with the same values and gradients.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NamedAttrMap, Tensor } from '@tensorflow/tfjs-core';

/** Kernel: inputs {x}, attrs GeluAttrs, output y. */
export const GELU = 'SparseIftGelu';
/** Kernel: inputs {dy, x}, attrs GeluAttrs, output dx. */
export const GELU_GRAD = 'SparseIftGeluGrad';

export type GeluApproximation = 'erf' | 'tanh';

export interface GeluAttrs {
  approximate: GeluApproximation;
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const CUBIC = 0.044715;

function composed(x: Tensor, approximate: GeluApproximation): Tensor {
  if (approximate === 'tanh') {
    const inner = tf.mul(SQRT_2_OVER_PI, tf.add(x, tf.mul(CUBIC, tf.pow(x, 3))));
    return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner)));
  }
  return tf.mul(tf.mul(0.5, x), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
}

export function hasFusedGelu(backendName = tf.getBackend()): boolean {
  return tf.getKernel(GELU, backendName) != null && tf.getKernel(GELU_GRAD, backendName) != null;
}

export function gelu(x: Tensor, approximate: GeluApproximation = 'erf'): Tensor {
  if (approximate !== 'erf' && approximate !== 'tanh') throw new Error(`gelu: approximate must be 'erf' or 'tanh', got '${String(approximate)}'`);
  if (x.dtype !== 'float32' || !hasFusedGelu()) return composed(x, approximate);
  const attrs: GeluAttrs = { approximate };
  return tf.engine().runKernel(GELU, { x }, attrs as unknown as NamedAttrMap) as Tensor;
}

let gradientRegistered = false;

/** Registers the fused kernel's gradient (all backends); done on import, idempotent. */
export function registerGeluGradient(): void {
  if (gradientRegistered) return;
  gradientRegistered = true;
  tf.registerGradient({
    kernelName: GELU,
    inputsToSave: ['x'],
    gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
      const [x] = saved as [Tensor];
      const g = Array.isArray(dy) ? dy[0]! : dy;
      return { x: () => tf.engine().runKernel(GELU_GRAD, { dy: g, x }, attrs) as Tensor };
    },
  });
}

registerGeluGradient();

/** Error function, |error| < 1.2e-7 (Numerical Recipes' erfc Chebyshev fit): JS has no Math.erf. */
export function errorFunction(v: number): number {
  const z = Math.abs(v);
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return v >= 0 ? 1 - r : r - 1;
}

/**
 * Reference kernels on plain arrays, for backends that want a portable kernel and for tests; `out` lets a
 * backend write straight into its own memory.
 */
export function geluReference(x: Float32Array, approximate: GeluApproximation, out: Float32Array = new Float32Array(x.length)): Float32Array {
  const n = x.length;
  if (approximate === 'tanh') {
    for (let i = 0; i < n; i++) {
      const v = x[i]!;
      out[i] = 0.5 * v * (1 + Math.tanh(SQRT_2_OVER_PI * (v + CUBIC * v * v * v)));
    }
  } else {
    for (let i = 0; i < n; i++) {
      const v = x[i]!;
      out[i] = 0.5 * v * (1 + errorFunction(v * Math.SQRT1_2));
    }
  }
  return out;
}

const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

export function geluGradReference(
  dy: Float32Array, x: Float32Array, approximate: GeluApproximation, out: Float32Array = new Float32Array(x.length),
): Float32Array {
  const n = x.length;
  if (approximate === 'tanh') {
    for (let i = 0; i < n; i++) {
      const v = x[i]!;
      const t = Math.tanh(SQRT_2_OVER_PI * (v + CUBIC * v * v * v));
      out[i] = dy[i]! * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * CUBIC * v * v));
    }
  } else {
    for (let i = 0; i < n; i++) {
      const v = x[i]!;
      out[i] = dy[i]! * (0.5 * (1 + errorFunction(v * Math.SQRT1_2)) + v * Math.exp(-0.5 * v * v) * INV_SQRT_2PI);
    }
  }
  return out;
}
