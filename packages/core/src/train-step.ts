/**
 * One sparse training step, in the official order (docs/sparse-training.md#training-step):
 *   1. forward + backward (`tf.variableGrads`), once per micro-batch when the batch is accumulated;
 *   2. if the updater will update masks at this step, keep a copy of the *unmasked* gradient of each
 *      masked weight (RigL grows from it: same mini-batch, no weight decay, docs/sparse-training.md#rigl);
 *      Sparse layers compute with kernel ⊙ mask, which would mask the kernel's gradient too, so for
 *      that one backward the masks are set to all ones. The forward is unchanged, because masked
 *      weights are exactly 0 (the updater re-applies the masks after every step), and the kernel's
 *      gradient is then the dense one, dL/d(kernel ⊙ mask);
 *   3. multiply the masked weights' gradients by their masks (the official gradient hook);
 *   4. optionally clip all gradients to a global L2 norm (PyTorch `clip_grad_norm_`);
 *   5. optimiser step;
 *   6. updater step: t ← t + 1, maybe update masks from post-step |w| and the kept gradient, then
 *      multiply weights and optimiser slots by the masks (skipped where that is a no-op: the gradients
 *      of step 3 are masked, so an optimizer that keeps zeros left them 0 off the masks; see updaters.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core alone registers no gradient functions. tfjs-layers registers them, in plain Node too
// (tfjs-core's own `dist/register_all_gradients.js` is browser-ESM and fails to load in Node).
import '@tensorflow/tfjs-layers';
import type { MaskedParam } from './masked-param.js';
import type { SparseOptimizer } from './optimizers.js';
import type { MaskUpdater, MaskUpdateReport } from './updaters.js';
import type { FiniteGuard } from './finite-guard.js';

export interface SparseTrainStepArgs {
  /** Every trainable variable (masked weights included). */
  params: readonly tf.Variable[];
  maskedParams: readonly MaskedParam[];
  /** Forward pass returning the mean loss of micro-batch `i` (0 without accumulation), inside `tf.variableGrads`. */
  lossFn: (microBatch: number) => tf.Scalar;
  /**
   * Gradient accumulation: one weight per micro-batch (its share of the batch's samples). The micro-batches
   * are differentiated one after another, so only one micro-batch's activations are alive at a time; the
   * step's loss and gradients are their weighted sums, the whole batch's mean. Default [1]: one pass.
   */
  microBatchWeights?: readonly number[];
  optimizer: SparseOptimizer;
  updater: MaskUpdater;
  /** Clip the global gradient L2 norm to this value (after masking). */
  clipNorm?: number;
}

export interface SparseTrainStepResult {
  loss: number;
  /** Global L2 norm of the masked gradients before clipping (only computed when clipNorm is set). */
  gradNorm?: number;
  /** What the mask update did, when this step was one. */
  maskUpdate: MaskUpdateReport | null;
}

/** A NaN or infinite loss: the step was not applied, so the weights are those before it. */
export class NonFiniteLossError extends Error {
  constructor(
    readonly loss: number,
    readonly step?: number,
    readonly checkpointFile?: string,
  ) {
    super(
      `training stopped: the loss is ${loss}${step === undefined ? '' : ` at step ${step}`}. ` +
        (checkpointFile ? `The last good checkpoint is kept at ${checkpointFile}. ` : step === undefined ? '' : 'No checkpoint was written before it. ') +
        'Lower the learning rate or check the data.',
    );
    this.name = 'NonFiniteLossError';
  }
}

export function sparseTrainStep(args: SparseTrainStepArgs): SparseTrainStepResult {
  const { loss, gradNorm, maskUpdate } = runStep(args, undefined);
  return { loss: loss as number, gradNorm: gradNorm as number | undefined, maskUpdate };
}

export interface SparseTrainStepOnDeviceResult {
  /** The step's loss, left on the device: the caller reads it (batched, asynchronously) and disposes it. */
  loss: tf.Scalar;
  /** Global L2 norm of the masked gradients before clipping (with clipNorm), on the device; the caller disposes it. */
  gradNorm?: tf.Scalar;
  maskUpdate: MaskUpdateReport | null;
}

/**
 * `sparseTrainStep` without reading anything on the step path: the loss stays on the device and
 * `guard` decides there whether the step is applied (see ./finite-guard.ts for the guarantee). Mask
 * update steps read the guard, the masks' counts and the report (./mask-update-device.ts).
 */
export function sparseTrainStepOnDevice(args: SparseTrainStepArgs & { guard: FiniteGuard }): SparseTrainStepOnDeviceResult {
  const { loss, gradNorm, maskUpdate } = runStep(args, args.guard);
  return { loss: loss as tf.Scalar, gradNorm: gradNorm as tf.Scalar | undefined, maskUpdate };
}

function runStep(args: SparseTrainStepArgs, guard: FiniteGuard | undefined): { loss: number | tf.Scalar; gradNorm?: number | tf.Scalar; maskUpdate: MaskUpdateReport | null } {
  const { params, maskedParams, lossFn, optimizer, updater, clipNorm } = args;
  if (clipNorm !== undefined && !(clipNorm > 0)) throw new RangeError(`clipNorm must be > 0, got ${clipNorm}`);
  const trainable = new Set(params.map((v) => v.name));
  for (const mp of maskedParams) {
    if (!trainable.has(mp.weight.name)) {
      throw new Error(`masked weight '${mp.name}' (variable '${mp.weight.name}') is not in params; pass every trainable variable`);
    }
    if (trainable.has(mp.mask.name)) {
      throw new Error(`the mask of '${mp.name}' is in params; masks are not trainable, pass only the model's trainable weights`);
    }
  }

  const weights = args.microBatchWeights ?? [1];
  if (weights.length === 0) throw new RangeError('microBatchWeights needs one weight per micro-batch, got none');
  const backward = (): { value: tf.Scalar; grads: tf.NamedTensorMap } =>
    weights.length === 1 && weights[0] === 1 ? tf.variableGrads(() => lossFn(0), [...params]) : accumulatedGrads(lossFn, weights, params);
  const { value, grads, denseGrads } = maskedGradients({ maskedParams, backward, keepDense: updater.needsDenseGradient() });
  let gradNorm: number | tf.Scalar | undefined;
  let apply: tf.Scalar | undefined;
  let keepValue = false;
  try {
    // Check before anything is applied: a NaN would otherwise reach the optimiser state and the
    // mask ranking, and the caller's weights would no longer be those of the last good step. With a
    // guard the check is the device's: the step's writes are gated on it.
    let loss: number | undefined;
    if (guard) {
      apply = guard.admit(value);
    } else {
      loss = value.dataSync()[0]!;
      if (!Number.isFinite(loss)) throw new NonFiniteLossError(loss);
    }

    if (clipNorm !== undefined) {
      const all = Object.values(grads);
      const total = tf.tidy(() => tf.sqrt(tf.addN(all.map((g) => tf.sum(tf.square(g))))));
      // As torch.nn.utils.clip_grad_norm_, in float32 tensor arithmetic: × min(1, clipNorm / (norm + 1e-6)).
      const coefficient = tf.tidy(() => tf.minimum(tf.div(clipNorm, tf.add(total, 1e-6)), 1));
      if (guard) {
        gradNorm = total as tf.Scalar;
      } else {
        gradNorm = total.dataSync()[0]!;
        total.dispose();
      }
      for (const name of Object.keys(grads)) {
        const scaled = tf.mul(grads[name]!, coefficient);
        grads[name]!.dispose();
        grads[name] = scaled;
      }
      coefficient.dispose();
    }

    optimizer.applyGradients(grads, apply ? { onlyIf: apply } : {});
    const maskUpdate = updater.step(maskedParams, { denseGrads, optimizer, gradientsMasked: true, beforeMaskUpdate: guard ? () => guard.assertHealthy(value) : undefined });
    keepValue = guard !== undefined;
    return { loss: guard ? value : loss!, gradNorm, maskUpdate };
  } catch (e) {
    if (typeof gradNorm !== 'number') gradNorm?.dispose();
    throw e;
  } finally {
    if (!keepValue) value.dispose();
    apply?.dispose();
    for (const g of Object.values(grads)) g.dispose();
    for (const g of denseGrads.values()) g.dispose();
  }
}

export interface MaskedGradients {
  /** The loss. */
  value: tf.Scalar;
  /** Gradients by variable name, each masked weight's multiplied by its mask (the official gradient hook). */
  grads: tf.NamedTensorMap;
  /** Unmasked gradients by `MaskedParam.name`, when `keepDense` was set (RigL grows from them); else empty. */
  denseGrads: Map<string, tf.Tensor>;
}

/**
 * Steps 1–3 of the sparse step: `backward` (forward + backward, e.g. `tf.variableGrads`) with the
 * masks opened when the dense gradient is to be kept (see the top of this file), then the masked
 * weights' gradients multiplied by their masks. The caller owns and disposes every returned tensor.
 */
export function maskedGradients(args: {
  maskedParams: readonly MaskedParam[];
  backward: () => { value: tf.Scalar; grads: tf.NamedTensorMap };
  keepDense: boolean;
}): MaskedGradients {
  const { maskedParams, backward, keepDense } = args;
  const { value, grads } = keepDense ? withMasksOpen(maskedParams, backward) : backward();
  const denseGrads = new Map<string, tf.Tensor>();
  for (const mp of maskedParams) {
    const g = grads[mp.weight.name];
    if (!g) continue;
    if (keepDense) denseGrads.set(mp.name, g);
    grads[mp.weight.name] = tf.mul(g, mp.mask);
    if (!keepDense) g.dispose();
  }
  return { value, grads, denseGrads };
}

/** Σ_i w_i·loss_i and its gradients, differentiating one micro-batch at a time. */
function accumulatedGrads(lossFn: (microBatch: number) => tf.Scalar, weights: readonly number[], params: readonly tf.Variable[]): { value: tf.Scalar; grads: tf.NamedTensorMap } {
  let value: tf.Tensor | undefined;
  const grads: tf.NamedTensorMap = {};
  const addInto = (sum: tf.Tensor | undefined, term: tf.Tensor, weight: number): tf.Tensor => {
    const next = tf.tidy(() => (sum ? tf.add(sum, tf.mul(term, weight)) : tf.mul(term, weight)));
    sum?.dispose();
    term.dispose();
    return next;
  };
  for (let i = 0; i < weights.length; i++) {
    const micro = tf.variableGrads(() => lossFn(i), [...params]);
    value = addInto(value, micro.value, weights[i]!);
    for (const [name, grad] of Object.entries(micro.grads)) grads[name] = addInto(grads[name], grad, weights[i]!);
  }
  return { value: value as tf.Scalar, grads };
}

/** Run `fn` with every mask set to ones, then put the masks back (even if `fn` throws). */
function withMasksOpen<T>(maskedParams: readonly MaskedParam[], fn: () => T): T {
  const saved = maskedParams.map((mp) => {
    const copy = tf.clone(mp.mask);
    tf.tidy(() => mp.mask.assign(tf.onesLike(mp.mask)));
    return copy;
  });
  try {
    return fn();
  } finally {
    maskedParams.forEach((mp, i) => {
      mp.mask.assign(saved[i]);
      saved[i].dispose();
    });
  }
}
