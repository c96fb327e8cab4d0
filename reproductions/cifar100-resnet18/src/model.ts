/**
 * The ResNet of one grid row, built by `@sparse-ift/resnet` (docs/recipes.md#cifar-100-resnet-18), wrapped as the trainer's
 * `TrainableModel`. The wrapper applies the official CIFAR input pipeline per batch (docs/recipes.md#cifar-100-resnet-18:
 * RandomCrop 32 pad 4 with zero fill, flip p = 0.5, Normalize; test: Normalize only) with
 * `@sparse-ift/data-vision`'s `cifarAugmentInto`, before the network's forward pass.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { SEED_STREAMS, rngFor, type Family } from '@sparse-ift/core';
import { cifarAugmentInto } from '@sparse-ift/data-vision';
import { buildResolvedResNet, resolveResNet, type ResNetArch, type ResolvedResNet } from '@sparse-ift/resnet';
import { layersTrainable, type ForwardContext, type TrainableModel } from '@sparse-ift/train';
import type { CifarConfig } from './presets.js';

export interface CifarNet {
  resolved: ResolvedResNet;
  model: LayersModel;
  trainable: TrainableModel;
}

export function buildCifarNet(arch: ResNetArch, config: CifarConfig, family: Family, sparsity: number, seed: number): CifarNet {
  const resolved = resolveResNet(arch, {
    family,
    sparsity,
    seed,
    factorizedMiddle: config.model.factorizedMiddle,
    dopedMaskLowRank: config.model.dopedMaskLowRank,
    flopBudgetSearch: config.model.flopBudgetSearch,
  });
  const model = buildResolvedResNet(resolved);
  return { resolved, model, trainable: cifarTrainable(model, arch, seed) };
}

/** A CIFAR ResNet (built here, or loaded from an export) as the trainer's model: the official input pipeline, then the network. */
export function cifarTrainable(model: LayersModel, arch: ResNetArch, seed: number): TrainableModel {
  const [h, w, c] = arch.inputShape;
  const per = h * w * c;
  let batchesSeen = 0;
  const forward = (images: tf.Tensor, training: boolean, context?: ForwardContext): tf.Tensor2D => {
    const n = images.shape[0]!;
    const raw = images.dataSync() as Float32Array;
    const out = new Float32Array(raw.length);
    // One stream per training batch, keyed by (seed, batch index): crops and flips never repeat across
    // epochs. The index is the trainer's step when given, so a resumed run augments as an uninterrupted one.
    const batch = training ? (context?.step ?? batchesSeen++) + 1 : 0;
    const rng = rngFor(seed, SEED_STREAMS.augment, batch);
    for (let i = 0; i < n; i++) cifarAugmentInto(raw, i * per, h, c, rng, out, i * per, { train: training });
    const x = tf.tensor4d(out, [n, h, w, c]);
    return model.apply(x, { training }) as tf.Tensor2D;
  };
  return layersTrainable(model, forward);
}
