/**
 * A tf.js LayersModel as the trainer's `TrainableModel`: every trainable weight by its layer-qualified
 * name (stable across processes, so checkpoints can use it), the masks core's sparse layers carry, and
 * every other non-trainable weight (BatchNorm moving mean/variance) as a buffer a checkpoint must hold.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { collectMaskedParams } from './core.js';
import type { ForwardContext, NamedVariable, TrainableModel } from './model.js';

export function layersTrainable(
  model: LayersModel,
  forward: (x: tf.Tensor, training: boolean, context?: ForwardContext) => tf.Tensor,
): TrainableModel {
  // LayerVariable.read() is typed Tensor but returns the tf.Variable it owns.
  const named = (w: LayersModel['weights'][number]): NamedVariable => ({ name: w.originalName, variable: w.read() as tf.Variable });
  const maskedParams = collectMaskedParams(model);
  const masks = new Set(maskedParams.map((mp) => mp.mask.name));
  const params = model.trainableWeights.map(named);
  const buffers = model.weights.filter((w) => !w.trainable).map(named).filter((b) => !masks.has(b.variable.name));
  return { params, maskedParams, buffers, logits: forward };
}
