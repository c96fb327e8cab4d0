/**
 * Training-mode batch normalisation over every axis but the last (NHWC / channels-last), fused with an
 * optional residual add and ReLU, as one op with its own gradient:
 *
 *   y = relu?((x − mean) / sqrt(var + ε) · γ + β + residual?)     mean, var over N·H·W (biased var)
 *
 * Why one op: composed from tf.moments + tf.batchNorm + add + relu, a ResNet-18 training step spends more
 * time in the ~20 small kernels of their gradients (Multiply, Sum, Tile, Mean, RealDiv…) than in its
 * convolutions. A backend may register the two kernels below (`@sparse-ift/backend` does for wasm, on
 * its native addon when built); on any other backend the op falls back on the composed tf.js ops, with
 * the same values and gradients.
 *
 * `mean` and `variance` are returned for running statistics (as buffers, the way PyTorch treats them):
 * the fused kernels' gradient ignores any gradient arriving through them; the fallback's autodiff would
 * not, so differentiate through y only.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NamedAttrMap, NamedTensorMap, Tensor, TensorInfo } from '@tensorflow/tfjs-core';

/** Kernel: inputs {x, gamma, beta, residual?}, attrs BatchNormTrainAttrs, outputs [y, mean, variance]. */
export const BATCH_NORM_TRAIN = 'SparseIftBatchNormTrain';
/**
 * Kernel: inputs {dy, x, gamma, mean, variance, y}, same attrs, outputs [dx, dgamma, dbeta] plus
 * dresidual when attrs.residual (dy through the ReLU, or dy itself without one).
 */
export const BATCH_NORM_TRAIN_GRAD = 'SparseIftBatchNormTrainGrad';

export interface BatchNormTrainAttrs {
  epsilon: number;
  relu: boolean;
  residual: boolean;
}

export interface BatchNormTrainOptions {
  /** ε added to the variance; PyTorch's and this project's default 1e-5. */
  epsilon?: number;
  /** Apply ReLU after the (residual) add. */
  relu?: boolean;
  /** Added after the affine transform and before the ReLU; x's shape. */
  residual?: Tensor;
}

export interface BatchNormTrainResult {
  y: Tensor;
  /** Per-channel batch mean, shape [C]. */
  mean: Tensor;
  /** Per-channel biased batch variance, shape [C]. */
  variance: Tensor;
}

function checkShapes(x: Tensor, gamma: Tensor, beta: Tensor, residual: Tensor | undefined): void {
  const channels = x.shape[x.rank - 1];
  if (x.rank < 2) throw new Error(`batchNormTrain: x must have rank >= 2 (channels last), got shape [${x.shape.join(',')}]`);
  for (const [name, t] of [['gamma', gamma], ['beta', beta]] as const) {
    if (t.rank !== 1 || t.shape[0] !== channels) {
      throw new Error(`batchNormTrain: ${name} must have shape [${channels}] (x's channels), got [${t.shape.join(',')}]`);
    }
  }
  if (residual && !tf.util.arraysEqual(residual.shape, x.shape)) {
    throw new Error(`batchNormTrain: residual must have x's shape [${x.shape.join(',')}], got [${residual.shape.join(',')}]`);
  }
}

/** The same op from stock tf.js ops (any backend); its gradient comes from tf.js autodiff. */
function composed(x: Tensor, gamma: Tensor, beta: Tensor, attrs: BatchNormTrainAttrs, residual?: Tensor): BatchNormTrainResult {
  const axes = [...Array(x.rank - 1).keys()];
  const { mean, variance } = tf.moments(x, axes);
  let y: Tensor = tf.batchNorm(x, mean, variance, beta, gamma, attrs.epsilon);
  if (residual) y = tf.add(y, residual);
  if (attrs.relu) y = tf.relu(y);
  return { y, mean, variance };
}

/** Whether the current backend has the fused kernels (else the composed fallback runs). */
export function hasFusedBatchNorm(backendName = tf.getBackend()): boolean {
  return tf.getKernel(BATCH_NORM_TRAIN, backendName) != null && tf.getKernel(BATCH_NORM_TRAIN_GRAD, backendName) != null;
}

export function batchNormTrain(x: Tensor, gamma: Tensor, beta: Tensor, options: BatchNormTrainOptions = {}): BatchNormTrainResult {
  const attrs: BatchNormTrainAttrs = { epsilon: options.epsilon ?? 1e-5, relu: options.relu ?? false, residual: options.residual != null };
  if (!(attrs.epsilon > 0)) throw new RangeError(`batchNormTrain: epsilon must be > 0, got ${attrs.epsilon}`);
  checkShapes(x, gamma, beta, options.residual);
  if (!hasFusedBatchNorm()) return composed(x, gamma, beta, attrs, options.residual);
  const inputs: NamedTensorMap = { x, gamma, beta };
  if (options.residual) inputs['residual'] = options.residual;
  const [y, mean, variance] = tf.engine().runKernel(BATCH_NORM_TRAIN, inputs, attrs as unknown as NamedAttrMap) as Tensor[];
  return { y: y!, mean: mean!, variance: variance! };
}

let gradientRegistered = false;

/** Registers the fused kernel's gradient (all backends); done on import, idempotent. */
export function registerBatchNormTrainGradient(): void {
  if (gradientRegistered) return;
  gradientRegistered = true;
  tf.registerGradient({
    kernelName: BATCH_NORM_TRAIN,
    inputsToSave: ['x', 'gamma'],
    outputsToSave: [true, true, true],
    gradFunc: (dys: Tensor | Tensor[], saved: Tensor[], rawAttrs: NamedAttrMap) => {
      const attrs = rawAttrs as unknown as BatchNormTrainAttrs;
      const dy = Array.isArray(dys) ? dys[0]! : dys;
      const [x, gamma, y, mean, variance] = saved as [Tensor, Tensor, Tensor, Tensor, Tensor];
      const outs = tf.engine().runKernel(
        BATCH_NORM_TRAIN_GRAD,
        { dy, x, gamma, mean, variance, y },
        rawAttrs,
      ) as Tensor[];
      const [dx, dgamma, dbeta, dresidual] = outs as [Tensor, Tensor, Tensor, Tensor | undefined];
      const grads: Record<string, () => Tensor> = { x: () => dx, gamma: () => dgamma, beta: () => dbeta };
      if (attrs.residual) grads['residual'] = () => dresidual!;
      return grads;
    },
  });
}

registerBatchNormTrainGradient();

/**
 * Reference implementation of both kernels on plain arrays (float64 accumulation), for backends that
 * want a portable kernel and for tests. x is [M, C] row-major (channels last).
 */
export function batchNormTrainReference(
  x: Float32Array, gamma: Float32Array, beta: Float32Array, residual: Float32Array | undefined, attrs: BatchNormTrainAttrs,
): { y: Float32Array; mean: Float32Array; variance: Float32Array } {
  const C = gamma.length;
  const M = x.length / C;
  const mean = new Float32Array(C), variance = new Float32Array(C), y = new Float32Array(x.length);
  const sum = new Float64Array(C), sq = new Float64Array(C);
  for (let r = 0; r < M; r++) for (let c = 0; c < C; c++) sum[c]! += x[r * C + c]!;
  for (let c = 0; c < C; c++) mean[c] = sum[c]! / M;
  for (let r = 0; r < M; r++) for (let c = 0; c < C; c++) { const d = x[r * C + c]! - mean[c]!; sq[c]! += d * d; }
  for (let c = 0; c < C; c++) variance[c] = sq[c]! / M;
  for (let c = 0; c < C; c++) {
    const scale = gamma[c]! / Math.sqrt(variance[c]! + attrs.epsilon);
    const shift = beta[c]! - mean[c]! * scale;
    for (let r = 0; r < M; r++) {
      const i = r * C + c;
      let v = x[i]! * scale + shift + (residual ? residual[i]! : 0);
      if (attrs.relu && v < 0) v = 0;
      y[i] = v;
    }
  }
  return { y, mean, variance };
}

export function batchNormTrainGradReference(
  dy: Float32Array, x: Float32Array, gamma: Float32Array, mean: Float32Array, variance: Float32Array, y: Float32Array,
  attrs: BatchNormTrainAttrs,
): { dx: Float32Array; dgamma: Float32Array; dbeta: Float32Array; dresidual?: Float32Array } {
  const C = gamma.length;
  const M = x.length / C;
  const g = attrs.relu ? dy.map((d, i) => (y[i]! > 0 ? d : 0)) : dy.slice();
  const dgamma = new Float32Array(C), dbeta = new Float32Array(C), dx = new Float32Array(x.length);
  for (let c = 0; c < C; c++) {
    const inv = 1 / Math.sqrt(variance[c]! + attrs.epsilon);
    let sb = 0, sg = 0;
    for (let r = 0; r < M; r++) { const i = r * C + c; sb += g[i]!; sg += g[i]! * (x[i]! - mean[c]!) * inv; }
    dbeta[c] = sb;
    dgamma[c] = sg;
    const k = gamma[c]! * inv;
    for (let r = 0; r < M; r++) {
      const i = r * C + c;
      dx[i] = k * (g[i]! - sb / M - (x[i]! - mean[c]!) * inv * (sg / M));
    }
  }
  return attrs.residual ? { dx, dgamma, dbeta, dresidual: g } : { dx, dgamma, dbeta };
}

/** Kernel helper for backends: the [M, C] view of an input shape. */
export function batchNormRows(x: TensorInfo): { rows: number; channels: number } {
  const channels = x.shape[x.shape.length - 1]!;
  return { rows: tf.util.sizeFromShape(x.shape) / channels, channels };
}
