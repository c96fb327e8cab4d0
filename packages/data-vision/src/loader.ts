// ImageNet-style loader: stream encoded samples (stream.ts) → decode + augment in worker threads
// (decode-pool.ts), kept in order → batches of NHWC float32 → a few batches prefetched ahead.
import type * as tfc from '@tensorflow/tfjs-core';
import { DecodePool } from './decode-pool.js';
import { DataError } from './errors.js';
import { SEED_STREAMS, deriveSeed } from '@sparse-ift/core/rng';
import { listShards, type EncodedSample, type ShardReadOptions } from './sources.js';
import { streamImageFolder, streamShards, type StreamOptions } from './stream.js';
import type { BadRecord } from './verify-report.js';

export interface VisionBatch {
  /** size × height × width × 3, normalized with the loader's mean/std. */
  images: Float32Array;
  labels: Int32Array;
  size: number;
  height: number;
  width: number;
  channels: 3;
}

export interface VisionLoaderOptions extends StreamOptions, Omit<ShardReadOptions, 'onBad'> {
  format: 'tfrecord' | 'wds' | 'folder';
  /** A shard file, a folder of shards, a list of shard files, or (format 'folder') the image folder root. */
  path: string | string[];
  batchSize: number;
  /** true: random-resized-crop + flip (training); false: resize 256 + centre crop 224 (evaluation). */
  train: boolean;
  /** Decode worker threads. Default CPU count − 1. */
  workers?: number;
  /** Use this pool (e.g. shared by the train and eval loaders) instead of starting one; close() leaves it running. */
  pool?: DecodePool;
  /** Ready batches kept ahead of the consumer. Default 2. */
  prefetch?: number;
  /** Drop the last, smaller batch. Default: same as `train`. */
  dropRemainder?: boolean;
  /** Skip bad records (bad CRC, truncation, bad label, undecodable image) and count them, instead of throwing. */
  skipBad?: boolean;
  /** Output side. Default 224. */
  imageSize?: number;
  /** Eval: shorter side before the centre crop. Default 256. */
  resizeSize?: number;
  mean?: readonly number[];
  std?: readonly number[];
}

/** Settled promise, so a rejection waiting in a queue is never "unhandled". */
type Settled<T> = { ok: true; value: T } | { ok: false; error: Error };
function settle<T>(p: Promise<T>): Promise<Settled<T>> {
  return p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error: error instanceof Error ? error : new Error(String(error)) }),
  );
}

/** Runs `src` up to `n` items ahead of the consumer. */
export async function* prefetch<T>(src: AsyncGenerator<T>, n: number): AsyncGenerator<T> {
  const ahead: Promise<Settled<IteratorResult<T>>>[] = [];
  try {
    for (let i = 0; i < Math.max(1, n); i++) ahead.push(settle(src.next()));
    for (;;) {
      const r = await ahead.shift()!;
      if (!r.ok) throw r.error;
      if (r.value.done) return;
      ahead.push(settle(src.next()));
      yield r.value.value;
    }
  } finally {
    await src.return(undefined);
  }
}

export class VisionLoader {
  readonly options: VisionLoaderOptions;
  /** Bad records skipped so far (with skipBad), across epochs. */
  readonly skipped: BadRecord[] = [];
  private pool: DecodePool | undefined;
  private readonly shards: string[];

  constructor(options: VisionLoaderOptions) {
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
      throw new Error(`batchSize must be a positive integer, got ${options.batchSize}`);
    }
    this.options = options;
    if (options.format === 'folder') {
      if (typeof options.path !== 'string') throw new Error(`format 'folder' takes one folder path, got a list`);
      this.shards = [options.path];
    } else {
      this.shards = typeof options.path === 'string' ? listShards(options.path, options.format) : [...options.path];
    }
  }

  private getPool(): DecodePool {
    if (this.options.pool) return this.options.pool;
    this.pool ??= new DecodePool({ workers: this.options.workers });
    return this.pool;
  }

  /** Encoded samples of this process for `epoch`, in order (no decoding). */
  samples(epoch: number): AsyncGenerator<EncodedSample> {
    const o = this.options;
    const onBad = o.skipBad ? (e: DataError) => this.skip(e) : undefined;
    const streamOpts = { shuffle: o.train, ...o, epoch, onBad };
    return o.format === 'folder'
      ? streamImageFolder(this.shards[0]!, streamOpts)
      : streamShards(this.shards, o.format, streamOpts);
  }

  private skip(e: DataError): void {
    this.skipped.push({ file: e.file, record: e.record, reason: e.reason });
  }

  /** Batches of one epoch. Same (seed, epoch, rank, worldSize) → same batches, augmentations included. */
  batches(epoch = 0): AsyncGenerator<VisionBatch> {
    return prefetch(this.decodedBatches(epoch), this.options.prefetch ?? 2);
  }

  private async *decodedBatches(epoch: number): AsyncGenerator<VisionBatch> {
    const o = this.options;
    const pool = this.getPool();
    const size = o.imageSize ?? 224;
    const pixelsPer = size * size * 3;
    const mode = o.train ? 'train' : 'eval';
    const dropRemainder = o.dropRemainder ?? o.train;
    // Enough jobs in flight to keep every worker busy while results are consumed in order.
    const inFlightMax = pool.workerCount * 4;
    const inFlight: { sample: EncodedSample; result: Promise<Settled<{ pixels: Float32Array }>> }[] = [];
    let position = 0;
    let batch = newBatch(o.batchSize, size);
    const samples = this.samples(epoch);
    try {
      let sourceDone = false;
      while (!sourceDone || inFlight.length > 0) {
        while (!sourceDone && inFlight.length < inFlightMax) {
          const r = await samples.next();
          if (r.done) {
            sourceDone = true;
            break;
          }
          const seed = deriveSeed(o.seed ?? 0, SEED_STREAMS.augment, epoch, o.rank ?? 0, position++);
          const transform = { mode, seed, size, resize: o.resizeSize, mean: o.mean, std: o.std } as const;
          inFlight.push({ sample: r.value, result: settle(pool.run(r.value.image, transform)) });
        }
        if (inFlight.length === 0) break;
        const { sample, result } = inFlight.shift()!;
        const r = await result;
        if (!r.ok) {
          if (/decode worker \d+ (crashed|exited)/.test(r.error.message)) throw r.error;
          const e = new DataError(sample.file, sample.record, `undecodable image (${r.error.message})`);
          if (!o.skipBad) throw e;
          this.skip(e);
          continue;
        }
        batch.images.set(r.value.pixels, batch.size * pixelsPer);
        batch.labels[batch.size++] = sample.label;
        if (batch.size === o.batchSize) {
          yield batch;
          batch = newBatch(o.batchSize, size);
        }
      }
      if (batch.size > 0 && !dropRemainder) {
        yield { ...batch, images: batch.images.slice(0, batch.size * pixelsPer), labels: batch.labels.slice(0, batch.size) };
      }
    } finally {
      await samples.return(undefined);
    }
  }

  /** Stops the decode workers. */
  async close(): Promise<void> {
    await this.pool?.close();
    this.pool = undefined;
  }
}

function newBatch(batchSize: number, size: number): VisionBatch {
  return {
    images: new Float32Array(batchSize * size * size * 3),
    labels: new Int32Array(batchSize),
    size: 0,
    height: size,
    width: size,
    channels: 3,
  };
}

/** A batch as tf.js tensors (x: [n, h, w, 3] float32, y: [n] int32). Pass your tf (tfjs-core is a peer dependency). */
export function batchToTensors(
  batch: VisionBatch,
  tf: Pick<typeof tfc, 'tensor4d' | 'tensor1d'>,
): { x: tfc.Tensor4D; y: tfc.Tensor1D } {
  return {
    x: tf.tensor4d(batch.images, [batch.size, batch.height, batch.width, batch.channels]),
    y: tf.tensor1d(batch.labels, 'int32'),
  };
}
