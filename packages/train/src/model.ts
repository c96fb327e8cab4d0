/** What the trainer needs from a model: its parameters, its masks, its other state and a forward pass. */
import type * as tf from '@tensorflow/tfjs-core';
import type { MaskedParam } from './core.js';

/** A trainable parameter with a name that is stable across processes (checkpoints use it). */
export interface NamedVariable {
  name: string;
  variable: tf.Variable;
}

/** Where a training forward pass sits in the run: lets seeded augmentation survive a resume. */
export interface ForwardContext {
  /** 0-based index of the optimiser step this batch is for (the same in a resumed run). */
  step: number;
}

export interface TrainableModel {
  params: NamedVariable[];
  /** Masked weights; each `weight` is one of `params`' variables. */
  maskedParams: MaskedParam[];
  /**
   * Non-trainable state the forward pass changes, e.g. BatchNorm moving mean/variance: checkpointed and
   * restored on resume. A mask or parameter listed here too is saved once, under its own name.
   */
  buffers?: NamedVariable[];
  /**
   * The forward pass: [N, classes] for a classifier, [N, T, vocabulary] for a language model. The
   * objective turns the logits into the loss. `context` is given for training batches only.
   */
  logits(inputs: tf.Tensor, training: boolean, context?: ForwardContext): tf.Tensor;
}
