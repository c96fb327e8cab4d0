/**
 * ImageNet shards (TFRecord or WebDataset) via `@sparse-ift/data-vision`: finding the train and
 * validation shards of a --data folder, and (in-memory presets) decoding a subset once; or, for the
 * streamed presets, counting the train images of an epoch.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { VisionLoader, type VisionLoaderOptions } from '@sparse-ift/data-vision';
import type { LabelledData } from '@sparse-ift/train';
import type { ImageNetConfig } from './presets.js';

export const DATA_CARD = 'datasets/imagenet.md';

export interface ImageNetShards {
  format: 'tfrecord' | 'wds';
  train: string[];
  validation: string[];
  /** −1 for TF-slim shards (classes 1..1000), 0 otherwise. */
  labelOffset: number;
  layout: 'tf-slim' | 'tfds' | 'webdataset';
}

export function missingDataError(dataDir: string | undefined, detail?: string): Error {
  return new Error(
    `imagenet-resnet needs ImageNet (ILSVRC 2012) shards: pass --data DIR where DIR (or DIR/train and DIR/validation) holds ` +
      `TF-slim TFRecords (train-00000-of-01024 …, validation-00000-of-00128 …), TFDS TFRecords (imagenet2012-train.tfrecord-00000-of-01024 …, imagenet2012-validation.tfrecord-…) ` +
      `or WebDataset tars with 'train' / 'val' in their names` +
      `${dataDir ? `; looked in ${dataDir}` : '; no --data was given'}${detail ? ` (${detail})` : ''}. See ${DATA_CARD}.`,
  );
}

const isTfRecord = (f: string): boolean => /\.tfrecords?(-\d{5}-of-\d{5})?$/.test(f) || /-\d{5}-of-\d{5}$/.test(f);

function filesIn(dir: string): string[] {
  return existsSync(dir) && statSync(dir).isDirectory() ? readdirSync(dir).sort().map((f) => join(dir, f)) : [];
}

/** Finds the shards of both splits: by file name in DIR, or every shard of DIR/train and DIR/validation (or DIR/val). */
export function findImageNetShards(dataDir: string | undefined): ImageNetShards {
  if (!dataDir || !existsSync(dataDir)) throw missingDataError(dataDir);
  const all = [...filesIn(dataDir), ...filesIn(join(dataDir, 'train')), ...filesIn(join(dataDir, 'validation')), ...filesIn(join(dataDir, 'val'))];
  const split = (file: string): 'train' | 'validation' | undefined => {
    const words = file.slice(dataDir.length).split(/[\\/._-]+/);
    if (words.includes('train')) return 'train';
    if (words.includes('validation') || words.includes('val')) return 'validation';
    return undefined;
  };
  for (const format of ['tfrecord', 'wds'] as const) {
    const shards = all.filter((f) => (format === 'wds' ? f.endsWith('.tar') : isTfRecord(basename(f))));
    const train = shards.filter((f) => split(f) === 'train');
    const validation = shards.filter((f) => split(f) === 'validation');
    if (train.length === 0 && validation.length === 0) continue;
    if (train.length === 0 || validation.length === 0) throw missingDataError(dataDir, `found ${train.length} train and ${validation.length} validation ${format} shards; both splits are needed`);
    const tfds = train.some((f) => basename(f).includes('.tfrecord'));
    return {
      format,
      train,
      validation,
      labelOffset: format === 'tfrecord' && !tfds ? -1 : 0,
      layout: format === 'wds' ? 'webdataset' : tfds ? 'tfds' : 'tf-slim',
    };
  }
  throw missingDataError(dataDir);
}

/**
 * Decodes the first `limit` images of a split (resize to `resizeSize`, centre crop `imageSize`), kept
 * raw in [0, 1]: normalisation and the flip happen per batch (model.ts).
 */
export async function decodeIntoMemory(shards: ImageNetShards, split: 'train' | 'validation', opts: { imageSize: number; resizeSize: number; limit: number; workers?: number }): Promise<LabelledData> {
  const options: VisionLoaderOptions = {
    format: shards.format,
    path: shards[split],
    batchSize: 64,
    train: false,
    shuffle: false,
    imageSize: opts.imageSize,
    resizeSize: opts.resizeSize,
    labelOffset: shards.labelOffset,
    mean: [0, 0, 0],
    std: [1, 1, 1],
    dropRemainder: false,
    ...(opts.workers ? { workers: opts.workers } : {}),
  };
  const loader = new VisionLoader(options);
  const per = opts.imageSize * opts.imageSize * 3;
  const chunks: { images: Float32Array; labels: Int32Array }[] = [];
  let count = 0;
  try {
    for await (const batch of loader.batches(0)) {
      const take = opts.limit > 0 ? Math.min(batch.size, opts.limit - count) : batch.size;
      chunks.push({ images: batch.images.slice(0, take * per), labels: batch.labels.slice(0, take) });
      count += take;
      if (opts.limit > 0 && count >= opts.limit) break;
    }
  } finally {
    await loader.close();
  }
  const images = new Float32Array(count * per);
  const labels = new Int32Array(count);
  let at = 0;
  for (const c of chunks) {
    images.set(c.images, at * per);
    labels.set(c.labels, at);
    at += c.labels.length;
  }
  return { images, labels, count, sampleShape: [opts.imageSize, opts.imageSize, 3] };
}

/** Counts the train records without decoding (one pass over the shards). */
export async function countTrainImages(shards: ImageNetShards): Promise<number> {
  const loader = new VisionLoader({ format: shards.format, path: shards.train, batchSize: 1, train: false, shuffle: false, labelOffset: shards.labelOffset });
  let n = 0;
  for await (const _ of loader.samples(0)) n++;
  await loader.close();
  return n;
}

/** A subset decoded into memory (short presets), or the shards streamed every epoch (paper). */
export type ImageNetData = { source: string; shards: ImageNetShards } & ({ kind: 'memory'; train: LabelledData; test: LabelledData } | { kind: 'stream'; trainImages: number });

export async function loadImageNet(config: ImageNetConfig, dataDir: string | undefined, log: (line: string) => void): Promise<ImageNetData> {
  const shards = findImageNetShards(dataDir);
  log(`data: ImageNet ${shards.layout} ${shards.format} shards: ${shards.train.length} train, ${shards.validation.length} validation`);
  if (config.inMemory) {
    const decode = { imageSize: config.imageSize, resizeSize: config.resizeSize };
    const train = await decodeIntoMemory(shards, 'train', { ...decode, limit: config.trainSubset });
    const test = await decodeIntoMemory(shards, 'validation', { ...decode, limit: config.validationSubset });
    return { source: dataDir!, shards, kind: 'memory', train, test };
  }
  return { source: dataDir!, shards, kind: 'stream', trainImages: config.trainImages ?? (await countTrainImages(shards)) };
}
