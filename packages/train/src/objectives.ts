/**
 * What a batch costs a model and how the model is judged on held-out data. Classification and language
 * modelling are two objectives handed to one training loop, not two loops.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Batch } from './batches.js';
import { crossEntropy } from './loss.js';
import type { ForwardContext, TrainableModel } from './model.js';

/** Held-out metrics of a model: means over the samples of the set (and what derives from them). */
export interface Metrics {
  loss: number;
  [name: string]: number;
}

export interface Objective {
  /** The objective and its settings in words: part of a checkpoint's fingerprint. */
  readonly name: string;
  /** The mean training loss over `batch`: what the optimiser step differentiates. */
  loss(model: TrainableModel, batch: Batch, context: ForwardContext): tf.Scalar;
  /**
   * Each held-out metric summed over the batch's samples (`loss` among them); the trainer divides the sums
   * over a whole set by its number of samples.
   */
  metricSums(model: TrainableModel, batch: Batch): { loss: tf.Scalar; [name: string]: tf.Scalar };
  /** Metrics that are not means over samples, from the means (language modelling: perplexity). */
  summarise?(means: Metrics): Metrics;
  /**
   * The training loss of a uniform guess (ln C over C classes, as last seen by `loss`), or undefined
   * before the first batch: a run whose loss stays there learned nothing, and the trainer says so.
   */
  chanceLoss?(): number | undefined;
}

/** ln C of the logits' last dimension seen last: a uniform guess's cross-entropy. */
function chanceOf(): { see(logits: tf.Tensor): tf.Tensor; loss(): number | undefined } {
  let classes = 0;
  return {
    see(logits) {
      classes = logits.shape.at(-1)!;
      return logits;
    },
    loss: () => (classes > 1 ? Math.log(classes) : undefined),
  };
}

function forward(model: TrainableModel, batch: Batch, training: boolean, context?: ForwardContext): tf.Tensor {
  return model.logits(tf.tensor(batch.inputs, batch.shape), training, context);
}

/**
 * Softmax cross-entropy over [N, classes] logits and one label per row, with PyTorch's label smoothing in
 * training only (held-out loss unsmoothed, as timm validates); held-out metrics: loss and top-1 accuracy.
 */
export function classification(options: { labelSmoothing?: number } = {}): Objective {
  const labelSmoothing = options.labelSmoothing ?? 0;
  const chance = chanceOf();
  return {
    name: `classification, label smoothing ${labelSmoothing}`,
    loss: (model, batch, context) => crossEntropy(chance.see(forward(model, batch, true, context)) as tf.Tensor2D, tf.tensor1d(batch.targets, 'int32'), labelSmoothing),
    chanceLoss: chance.loss,
    metricSums(model, batch) {
      const logits = forward(model, batch, false) as tf.Tensor2D;
      const labels = tf.tensor1d(batch.targets, 'int32');
      return {
        loss: tf.mul(crossEntropy(logits, labels), batch.shape[0]!),
        accuracy: tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'int32')),
      };
    },
  };
}

/**
 * Next-token cross-entropy over [N, T, vocabulary] logits, the mean over every position (GPT); held-out
 * metrics: that loss and its perplexity exp(loss).
 */
export function languageModelling(): Objective {
  const chance = chanceOf();
  const tokenLoss = (model: TrainableModel, batch: Batch, training: boolean, context?: ForwardContext): tf.Scalar => {
    const logits = chance.see(forward(model, batch, training, context));
    return crossEntropy(tf.reshape(logits, [-1, logits.shape.at(-1)!]), tf.tensor1d(batch.targets, 'int32'));
  };
  return {
    name: 'language modelling, next-token cross-entropy',
    loss: (model, batch, context) => tokenLoss(model, batch, true, context),
    chanceLoss: chance.loss,
    // Every row has the same number of positions, so the mean over rows of the row means is the token mean.
    metricSums: (model, batch) => ({ loss: tf.mul(tokenLoss(model, batch, false), batch.shape[0]!) }),
    summarise: (means) => ({ ...means, perplexity: Math.exp(means.loss) }),
  };
}
