/**
 * One sparse training step, in the official order (spec §3.4):
 *   1. forward + backward (`tf.variableGrads`);
 *   2. if the updater will update masks at this step, keep a copy of the *unmasked* gradient of each
 *      masked weight (RigL grows from it: same mini-batch, no weight decay, spec §3.7);
 *      Sparse layers compute with kernel ⊙ mask, which would mask the kernel's gradient too, so for
 *      that one backward the masks are set to all ones. The forward is unchanged, because masked
 *      weights are exactly 0 (the updater re-applies the masks after every step), and the kernel's
 *      gradient is then the dense one, dL/d(kernel ⊙ mask);
 *   3. multiply the masked weights' gradients by their masks (the official gradient hook);
 *   4. optionally clip all gradients to a global L2 norm (PyTorch `clip_grad_norm_`);
 *   5. optimiser step;
 *   6. updater step: t ← t + 1, maybe update masks from post-step |w| and the kept gradient, then
 *      multiply weights and optimiser slots by the masks.
 */
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core alone registers no gradient functions. tfjs-layers registers them, in plain Node too
// (tfjs-core's own `dist/register_all_gradients.js` is browser-ESM and fails to load in Node).
import '@tensorflow/tfjs-layers';
import type { MaskedParam } from './masked-param.js';
import type { SparseOptimizer } from './optimizers.js';
import type { MaskUpdater, MaskUpdateReport } from './updaters.js';

export interface SparseTrainStepArgs {
  /** Every trainable variable (masked weights included). */
  params: readonly tf.Variable[];
  maskedParams: readonly MaskedParam[];
  /** Forward pass returning the mini-batch loss; called once, inside `tf.variableGrads`. */
  lossFn: () => tf.Scalar;
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

  const { value, grads, denseGrads } = maskedGradients({ params, maskedParams, lossFn, keepDense: updater.needsDenseGradient() });
  let gradNorm: number | undefined;
  try {
    // Check before anything is applied: a NaN would otherwise reach the optimiser state and the
    // mask ranking, and the caller's weights would no longer be those of the last good step.
    const loss = value.dataSync()[0];
    if (!Number.isFinite(loss)) throw new NonFiniteLossError(loss);

    if (clipNorm !== undefined) {
      const all = Object.values(grads);
      const total = tf.tidy(() => tf.sqrt(tf.addN(all.map((g) => tf.sum(tf.square(g))))));
      gradNorm = total.dataSync()[0];
      total.dispose();
      const coefficient = clipNorm / (gradNorm + 1e-6); // as torch.nn.utils.clip_grad_norm_
      if (coefficient < 1) {
        for (const name of Object.keys(grads)) {
          const scaled = tf.mul(grads[name], coefficient);
          grads[name].dispose();
          grads[name] = scaled;
        }
      }
    }

    optimizer.applyGradients(grads);
    const maskUpdate = updater.step(maskedParams, { denseGrads, optimizer });
    return { loss, gradNorm, maskUpdate };
  } finally {
    value.dispose();
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
 * Steps 1–3 of the sparse step: forward + backward, the dense gradient of each masked weight kept
 * when asked (masks opened for that backward, see the top of this file), then the gradients masked.
 * The caller owns and disposes every returned tensor.
 */
export function maskedGradients(args: {
  params: readonly tf.Variable[];
  maskedParams: readonly MaskedParam[];
  lossFn: () => tf.Scalar;
  keepDense: boolean;
}): MaskedGradients {
  const { params, maskedParams, lossFn, keepDense } = args;
  const { value, grads } = keepDense
    ? withMasksOpen(maskedParams, () => tf.variableGrads(lossFn, [...params]))
    : tf.variableGrads(lossFn, [...params]);
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
