/**
 * One optimizer update of one variable as one kernel: SGD (momentum, dampening, Nesterov, coupled weight
 * decay) and AdamW (decoupled decay, bias correction, amsgrad) with PyTorch's equations, each element's
 * new weight and slots from its weight, gradient and slots in one pass.
 *
 * Why: composed from tf.js ops an update is 5–11 elementwise kernels per variable (and a `tf.where` per
 * write when gated), each a full pass over the weights: a Sparse Wide ResNet-18 has ~10× the dense model's
 * parameters, so those passes cost a tenth of its training step on the native backend. A backend may
 * register the two kernels below (`@sparse-ift/backend` does for `native`); elsewhere the update runs
 * the composed ops, which define the values: a kernel computes the same float32 operations in the same
 * order (no fused multiply-adds), so it gives the same bits.
 *
 * Outputs are new tensors (tf.js data is immutable); the optimizer assigns them to the weight and slots.
 * `onlyIf` (a bool scalar) gates every output: where it is false, each output equals its input.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NamedAttrMap, Tensor } from '@tensorflow/tfjs-core';

/** Kernel: inputs {w, g, momentum?, onlyIf?}, attrs SgdUpdateAttrs; outputs [w', momentum'] (momentum' only with a buffer). */
export const SGD_UPDATE = 'SparseIftSgdUpdate';
/** Kernel: inputs {w, g, expAvg, expAvgSq, maxExpAvgSq?, onlyIf?}, attrs AdamWUpdateAttrs; outputs [w', expAvg', expAvgSq', maxExpAvgSq'?]. */
export const ADAMW_UPDATE = 'SparseIftAdamWUpdate';

/**
 * g ← g + weightDecay·w (when weightDecay ≠ 0); with a buffer b: b ← g when firstStep, else
 * b ← momentum·b + (1 − dampening)·g, then g ← g + momentum·b (nesterov) or g ← b; w ← w − learningRate·g.
 */
export interface SgdUpdateAttrs {
  learningRate: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
  /** PyTorch's first step of a variable: the buffer becomes the gradient itself. */
  firstStep: boolean;
}

/**
 * The coefficients of PyTorch's AdamW at step t (computed in double by the caller, rounded to float32
 * like any tf.js scalar): w ← w·decayFactor; m ← β1·m + (1 − β1)·g; v ← β2·v + (1 − β2)·g²;
 * (amsgrad: v̂ ← max(v̂, v), used for v); w ← w − stepSize · m / (sqrt(v) / biasCorrection2Sqrt + ε).
 */
export interface AdamWUpdateAttrs {
  /** 1 − lr·wd (1: no decay). */
  decayFactor: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** lr / (1 − β1^t). */
  stepSize: number;
  /** sqrt(1 − β2^t). */
  biasCorrection2Sqrt: number;
  amsgrad: boolean;
}

export interface SgdUpdateInputs {
  w: Tensor;
  g: Tensor;
  /** The momentum buffer (absent when momentum is 0). */
  momentum?: Tensor;
  onlyIf?: Tensor;
}

export interface AdamWUpdateInputs {
  w: Tensor;
  g: Tensor;
  expAvg: Tensor;
  expAvgSq: Tensor;
  /** amsgrad's running maximum of expAvgSq. */
  maxExpAvgSq?: Tensor;
  onlyIf?: Tensor;
}

/** Does the backend run the fused updates (else the composed ops do)? */
export function hasFusedOptimizerUpdates(backendName = tf.getBackend()): boolean {
  return tf.getKernel(SGD_UPDATE, backendName) != null && tf.getKernel(ADAMW_UPDATE, backendName) != null;
}

/** The backend's kernel on these inputs; undefined where it has none (or an input is not float32 / a bool scalar). */
function fused(kernelName: string, inputs: Record<string, Tensor | undefined>, attrs: object): Tensor[] | undefined {
  if (!hasFusedOptimizerUpdates()) return undefined;
  const present = Object.entries(inputs).filter((e): e is [string, Tensor] => e[1] !== undefined);
  if (!present.every(([name, t]) => (name === 'onlyIf' ? t.dtype === 'bool' && t.size === 1 : t.dtype === 'float32'))) return undefined;
  const out = tf.engine().runKernel(kernelName, Object.fromEntries(present), attrs as NamedAttrMap) as Tensor | Tensor[];
  return Array.isArray(out) ? out : [out]; // tf.js returns a lone output unwrapped
}

function gated(onlyIf: Tensor | undefined, next: Tensor, previous: Tensor): Tensor {
  return onlyIf ? tf.where(onlyIf, next, previous) : next;
}

/** One SGD update: [w', momentum'] (momentum' only when a buffer is given). */
export function sgdUpdate(inputs: SgdUpdateInputs, attrs: SgdUpdateAttrs): Tensor[] {
  if ((inputs.momentum === undefined) !== (attrs.momentum === 0)) {
    throw new Error(`sgdUpdate: a momentum buffer goes with momentum ≠ 0 (got momentum ${attrs.momentum} and ${inputs.momentum ? 'a' : 'no'} buffer)`);
  }
  const out = fused(SGD_UPDATE, { ...inputs }, attrs);
  if (out) return out;
  const { w, momentum: buffer, onlyIf } = inputs;
  let g = inputs.g;
  if (attrs.weightDecay !== 0) g = tf.add(g, tf.mul(w, attrs.weightDecay));
  const outputs: Tensor[] = [];
  if (buffer) {
    const next = attrs.firstStep ? g : tf.add(tf.mul(buffer, attrs.momentum), tf.mul(g, 1 - attrs.dampening));
    g = attrs.nesterov ? tf.add(g, tf.mul(next, attrs.momentum)) : next;
    outputs.push(gated(onlyIf, next, buffer));
  }
  return [gated(onlyIf, tf.sub(w, tf.mul(g, attrs.learningRate)), w), ...outputs];
}

/** One AdamW update: [w', expAvg', expAvgSq', maxExpAvgSq'] (the last only with amsgrad). */
export function adamWUpdate(inputs: AdamWUpdateInputs, attrs: AdamWUpdateAttrs): Tensor[] {
  if ((inputs.maxExpAvgSq !== undefined) !== attrs.amsgrad) {
    throw new Error(`adamWUpdate: maxExpAvgSq goes with amsgrad (got amsgrad ${attrs.amsgrad} and ${inputs.maxExpAvgSq ? 'a' : 'no'} maxExpAvgSq)`);
  }
  const out = fused(ADAMW_UPDATE, { ...inputs }, attrs);
  if (out) return out;
  const { w, g, expAvg, expAvgSq, maxExpAvgSq, onlyIf } = inputs;
  const decayed = attrs.decayFactor !== 1 ? tf.mul(w, attrs.decayFactor) : w;
  const m = tf.add(tf.mul(expAvg, attrs.beta1), tf.mul(g, 1 - attrs.beta1));
  const v = tf.add(tf.mul(expAvgSq, attrs.beta2), tf.mul(tf.square(g), 1 - attrs.beta2));
  const vMax = maxExpAvgSq ? tf.maximum(maxExpAvgSq, v) : undefined;
  const denom = tf.add(tf.div(tf.sqrt(vMax ?? v), attrs.biasCorrection2Sqrt), attrs.epsilon);
  const next = tf.sub(decayed, tf.mul(tf.div(m, denom), attrs.stepSize));
  const outputs = [gated(onlyIf, next, w), gated(onlyIf, m, expAvg), gated(onlyIf, v, expAvgSq)];
  if (vMax) outputs.push(gated(onlyIf, vMax, maxExpAvgSq!));
  return outputs;
}
