/**
 * Training from the shard stream, for the `paper` preset (spec §4.2): every epoch re-reads the train
 * shards through `@sparse-ift/data-vision`'s `VisionLoader` (shuffle, random-resized-crop 224 + flip,
 * normalise, decoded in worker threads), and evaluates on the validation shards (resize 256 + centre
 * crop 224). The loaders are handed to `@sparse-ift/train`'s `train()` as batch sources, so the step,
 * the schedule, checkpoints (BatchNorm statistics included) and exact resume are the trainer's.
 */
import { DecodePool, VisionLoader, type VisionBatch, type VisionLoaderOptions } from '@sparse-ift/data-vision';
import { recipeTrainConfig } from '@sparse-ift/reproduce';
import { train, type Batch, type BatchSource, type BatchStream, type MaskMethod } from '@sparse-ift/train';
import type { ImageNetShards } from './data.js';
import type { ImageNetNet } from './model.js';
import type { ImageNetConfig } from './presets.js';

export interface StreamEpoch {
  epoch: number;
  step: number;
  trainLoss: number;
  topOne: number;
  lr: number;
}

export interface StreamTrainResult {
  history: StreamEpoch[];
  steps: number;
  stoppedEarly: boolean;
  resumedFromStep: number;
  wallSeconds: number;
}

async function* asBatches(batches: AsyncIterable<VisionBatch>): AsyncGenerator<Batch> {
  for await (const b of batches) yield { images: b.images, labels: b.labels, shape: [b.size, b.height, b.width, 3] };
}

export async function trainFromStream(args: {
  net: ImageNetNet;
  method: MaskMethod;
  seed: number;
  config: ImageNetConfig;
  shards: ImageNetShards;
  /** Train images per epoch (1,281,167 for ImageNet); counted from the shards when not given. */
  trainImages: number;
  checkpointFile?: string;
  checkpointEvery?: number;
  resume?: boolean;
  stopAfterStep?: number;
  tensorboardDir?: string;
  label: string;
  log: (line: string) => void;
}): Promise<StreamTrainResult> {
  const { net, method, seed, config, shards } = args;
  const { recipe, mask } = config;
  const batchesPerEpoch = Math.floor(args.trainImages / recipe.batchSize); // the last partial batch is dropped
  if (batchesPerEpoch < 1) throw new Error(`${args.trainImages} train images make no batch of ${recipe.batchSize}`);
  // One decode pool for both loaders.
  const pool = new DecodePool({});
  const common: Omit<VisionLoaderOptions, 'path' | 'train'> = { format: shards.format, batchSize: recipe.batchSize, pool, labelOffset: shards.labelOffset, imageSize: config.imageSize, resizeSize: config.resizeSize, seed };
  const trainLoader = new VisionLoader({ ...common, path: shards.train, train: true, dropRemainder: true });
  const validLoader = new VisionLoader({ ...common, path: shards.validation, train: false, dropRemainder: false });
  // Same (seed, epoch) → same batches, augmentations included: a resumed epoch skips the ones trained on.
  const trainSource: BatchSource = {
    count: args.trainImages,
    batchesPerEpoch,
    batches: (epoch) => asBatches(trainLoader.batches(epoch)),
    fingerprint: JSON.stringify({ imageSize: config.imageSize, resizeSize: config.resizeSize }),
  };
  const validSource: BatchStream = { batches: () => asBatches(validLoader.batches(0)) };
  try {
    const result = await train(net.trainable, { train: trainSource, test: validSource }, {
      ...recipeTrainConfig(recipe, mask, method, seed),
      checkpointFile: args.checkpointFile,
      checkpointEvery: args.checkpointEvery,
      resume: args.resume,
      stopAfterStep: args.stopAfterStep,
      tensorboardDir: args.tensorboardDir,
      label: args.label,
      log: args.log,
    });
    return {
      history: result.history.map((h) => ({ epoch: h.epoch, step: h.step, trainLoss: h.trainLoss, topOne: h.testAccuracy, lr: h.lr })),
      steps: result.steps,
      stoppedEarly: result.stoppedEarly,
      resumedFromStep: result.resumedFromStep,
      wallSeconds: result.wallSeconds,
    };
  } finally {
    await trainLoader.close();
    await validLoader.close();
    await pool.close();
  }
}

/** Counts the train records without decoding (one pass over the shards). */
export async function countTrainImages(shards: ImageNetShards): Promise<number> {
  const loader = new VisionLoader({ format: shards.format, path: shards.train, batchSize: 1, train: false, shuffle: false, labelOffset: shards.labelOffset });
  let n = 0;
  for await (const _ of loader.samples(0)) n++;
  await loader.close();
  return n;
}
