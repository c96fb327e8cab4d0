/**
 * Training from the shard stream, for the `paper` preset (docs/recipes.md#imagenet-resnet): every epoch re-reads the train
 * shards through `@sparse-ift/data-vision`'s `VisionLoader` (shuffle, random-resized-crop 224 + flip,
 * normalise, decoded in worker threads), and evaluates on the validation shards (resize 256 + centre
 * crop 224). The loaders are handed to `@sparse-ift/train`'s `train()` as batch sources, so the step,
 * the schedule, checkpoints (BatchNorm statistics included) and exact resume are the trainer's.
 */
import type { SparseMethod } from '@sparse-ift/core';
import { DecodePool, VisionLoader, type VisionBatch, type VisionLoaderOptions } from '@sparse-ift/data-vision';
import { recipeTrainConfig, train, type Batch, type BatchSource, type BatchStream, type TrainConfig, type TrainResult } from '@sparse-ift/train';
import type { ImageNetShards } from './data.js';
import type { ImageNetNet } from './model.js';
import type { ImageNetConfig } from './presets.js';

async function* asBatches(batches: AsyncIterable<VisionBatch>): AsyncGenerator<Batch> {
  for await (const b of batches) yield { inputs: b.images, targets: b.labels, shape: [b.size, b.height, b.width, 3] };
}

export async function trainFromStream(
  args: {
    net: ImageNetNet;
    method: SparseMethod;
    seed: number;
    config: ImageNetConfig;
    shards: ImageNetShards;
    /** Train images per epoch (1,281,167 for ImageNet); counted from the shards when not given. */
    trainImages: number;
  } & Pick<TrainConfig, 'checkpointFile' | 'checkpointEvery' | 'resume' | 'stopAfterStep' | 'tensorboardDir' | 'progress' | 'label' | 'log'>,
): Promise<TrainResult> {
  const { net, method, seed, config, shards, trainImages, ...options } = args;
  const { recipe, mask } = config;
  const batchesPerEpoch = Math.floor(trainImages / recipe.batchSize); // the last partial batch is dropped
  if (batchesPerEpoch < 1) throw new Error(`${trainImages} train images make no batch of ${recipe.batchSize}`);
  // One decode pool for both loaders.
  const pool = new DecodePool({});
  const common: Omit<VisionLoaderOptions, 'path' | 'train'> = { format: shards.format, batchSize: recipe.batchSize, pool, labelOffset: shards.labelOffset, imageSize: config.imageSize, resizeSize: config.resizeSize, seed };
  const trainLoader = new VisionLoader({ ...common, path: shards.train, train: true, dropRemainder: true });
  const validLoader = new VisionLoader({ ...common, path: shards.validation, train: false, dropRemainder: false });
  // Same (seed, epoch) → same batches, augmentations included: a resumed epoch skips the ones trained on.
  const trainSource: BatchSource = {
    count: trainImages,
    batchesPerEpoch,
    batches: (epoch) => asBatches(trainLoader.batches(epoch)),
    fingerprint: JSON.stringify({ imageSize: config.imageSize, resizeSize: config.resizeSize }),
  };
  const validSource: BatchStream = { batches: () => asBatches(validLoader.batches(0)) };
  try {
    return await train(net.trainable, { train: trainSource, test: validSource }, { ...recipeTrainConfig(recipe, mask, method, seed), ...options });
  } finally {
    await trainLoader.close();
    await validLoader.close();
    await pool.close();
  }
}
