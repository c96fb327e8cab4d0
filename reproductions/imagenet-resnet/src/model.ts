/**
 * One row's ResNet (`@sparse-ift/resnet`, docs/recipes.md#imagenet-resnet) as the trainer's `TrainableModel`. Streamed
 * batches arrive augmented and normalised (`inputs: 'normalized'`). In-memory presets keep images raw in
 * [0, 1] (`inputs: 'raw'`): the wrapper then flips training images (p = 0.5, seeded per batch) and
 * normalises with the ImageNet mean and std before the forward pass.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { SEED_STREAMS, rngFor, type Family } from '@sparse-ift/core';
import { IMAGENET_MEAN, IMAGENET_STD } from '@sparse-ift/data-vision';
import { buildResolvedResNet, resolveResNet, type ResNetArch, type ResolvedResNet } from '@sparse-ift/resnet';
import { layersTrainable, type ForwardContext, type TrainableModel } from '@sparse-ift/train';

export interface ImageNetNet {
  resolved: ResolvedResNet;
  model: LayersModel;
  trainable: TrainableModel;
}

export function buildImageNetNet(arch: ResNetArch, family: Family, sparsity: number, seed: number, inputs: 'raw' | 'normalized'): ImageNetNet {
  const resolved = resolveResNet(arch, { family, sparsity, seed, flopBudgetSearch: true });
  const model = buildResolvedResNet(resolved);
  return { resolved, model, trainable: imageNetTrainable(model, seed, inputs) };
}

/** An ImageNet ResNet (built here, or loaded from an export) as the trainer's model, normalising raw inputs first. */
export function imageNetTrainable(model: LayersModel, seed: number, inputs: 'raw' | 'normalized'): TrainableModel {
  let batchesSeen = 0;
  const forward = (images: tf.Tensor, training: boolean, context?: ForwardContext): tf.Tensor2D => {
    if (inputs === 'normalized') return model.apply(images, { training }) as tf.Tensor2D;
    let x = images as tf.Tensor4D;
    if (training) {
      // Keyed by the trainer's step when given, so a resumed run flips as an uninterrupted one.
      const rng = rngFor(seed, SEED_STREAMS.augment, (context?.step ?? batchesSeen++) + 1);
      const flips = Array.from({ length: x.shape[0] }, () => (rng.uniform() < 0.5 ? 1 : 0));
      const flipped = tf.reverse(x, 2);
      const choose = tf.reshape(tf.tensor1d(flips, 'bool'), [-1, 1, 1, 1]);
      x = tf.where(tf.broadcastTo(choose, x.shape), flipped, x) as tf.Tensor4D;
    }
    // Constants made per call: the caller's tidy (trainer step, evaluation) disposes of them.
    const normalized = tf.div(tf.sub(x, tf.tensor1d([...IMAGENET_MEAN])), tf.tensor1d([...IMAGENET_STD]));
    return model.apply(normalized, { training }) as tf.Tensor2D;
  };
  return layersTrainable(model, forward);
}
