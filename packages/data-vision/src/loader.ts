// ImageNet-style loader: stream encoded samples (stream.ts; shards read and parsed in the worker threads)
// → decode + augment in the same workers (decode-pool.ts), kept in order → batches of NHWC float32 → a
// few batches prefetched ahead. The workers hold enough queued work for `prefetch` batches, so they go on
// while a training step keeps the main thread busy.
import type * as tfc from '@tensorflow/tfjs-core';
import { DecodePool } from './decode-pool.js';
import { DataError } from './errors.js';
import { SEED_STREAMS, deriveSeed } from '@sparse-ift/core/rng';
import { listShards, type EncodedSample, type ShardReadOptions } from './sources.js';
import { streamImageFolder, streamShards, type StreamOptions } from './stream.js';
import type { BadRecord } from '@sparse-ift/files';

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
  /**
   * Batches kept ahead of the consumer. Default 2. The decode jobs of that many batches are queued at the
   * workers, which work through them while the main thread is busy.
   */
  prefetch?: number;
  /**
   * Where shard records are read and parsed (CRCs, tf.Example, labels): 'workers' (default: the decode
   * pool's threads) or 'main' (this thread, the old way; the same samples in the same order).
   */
  parseIn?: 'workers' | 'main';
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

/** What a loader has delivered: batches and images, and how long its consumer waited for them. */
export interface LoaderThroughput {
  batches: number;
  images: number;
  /** Seconds the consumer spent waiting for a batch (the rest it spent between batches: training). */
  waitSeconds: number;
  /** Seconds from the first batch asked for to the last delivered. */
  seconds: number;
  imagesPerSecond: number;
  /** Decoding time of the workers, all together, and the records their shard readers parsed. */
  decodeSeconds: number;
  records: number;
}

export class VisionLoader {
  readonly options: VisionLoaderOptions;
  /** Bad records skipped so far (with skipBad), across epochs. */
  readonly skipped: BadRecord[] = [];
  private readonly delivered = { batches: 0, images: 0, waitSeconds: 0, first: 0, last: 0, decodeStart: { images: 0, decodeSeconds: 0, records: 0 } };
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
    if (o.format === 'folder') return streamImageFolder(this.shards[0]!, streamOpts);
    const format = o.format;
    const readOpts = { numClasses: o.numClasses, labelOffset: o.labelOffset, exampleKeys: o.exampleKeys, onBad };
    const reader = (o.parseIn ?? 'workers') === 'workers' ? (file: string) => this.getPool().readShard(file, format, readOpts) : undefined;
    return streamShards(this.shards, format, { ...streamOpts, reader });
  }

  /** Images delivered so far (all epochs), the consumer's waiting, and the workers' share. */
  throughput(): LoaderThroughput {
    const d = this.delivered;
    const pool = this.pool ?? this.options.pool;
    const now = pool?.stats ?? d.decodeStart;
    const seconds = d.batches > 0 ? (d.last - d.first) / 1000 : 0;
    return {
      batches: d.batches,
      images: d.images,
      waitSeconds: d.waitSeconds,
      seconds,
      imagesPerSecond: seconds > 0 ? d.images / seconds : 0,
      decodeSeconds: now.decodeSeconds - d.decodeStart.decodeSeconds,
      records: now.records - d.decodeStart.records,
    };
  }

  private skip(e: DataError): void {
    this.skipped.push({ file: e.file, record: e.record, reason: e.reason });
  }

  /** Batches of one epoch. Same (seed, epoch, rank, worldSize) → same batches, augmentations included. */
  batches(epoch = 0): AsyncGenerator<VisionBatch> {
    return this.counted(prefetch(this.decodedBatches(epoch), this.options.prefetch ?? 2));
  }

  /** Counts what is delivered and how long the consumer waits for it. */
  private async *counted(src: AsyncGenerator<VisionBatch>): AsyncGenerator<VisionBatch> {
    const d = this.delivered;
    try {
      for (;;) {
        const asked = performance.now();
        if (d.batches === 0 && d.first === 0) {
          d.first = asked;
          d.decodeStart = (this.pool ?? this.options.pool)?.stats ?? d.decodeStart;
        }
        const r = await src.next();
        d.last = performance.now();
        d.waitSeconds += (d.last - asked) / 1000;
        if (r.done) return;
        d.batches++;
        d.images += r.value.size;
        yield r.value;
      }
    } finally {
      await src.return(undefined);
    }
  }

  private async *decodedBatches(epoch: number): AsyncGenerator<VisionBatch> {
    const o = this.options;
    const pool = this.getPool();
    const size = o.imageSize ?? 224;
    const pixelsPer = size * size * 3;
    const mode = o.train ? 'train' : 'eval';
    const dropRemainder = o.dropRemainder ?? o.train;
    const reader = o.format === 'folder' ? 'main' : (o.parseIn ?? 'workers');
    // Jobs for `prefetch` batches in flight (at least four per worker): queued at the workers, they keep
    // decoding while the consumer's training step holds this thread.
    const inFlightMax = Math.max(pool.workerCount * 4, (o.prefetch ?? 2) * o.batchSize);
    // Workers write pixels straight into shared batch buffers, at the slot a sample will have if nothing
    // before it fails to decode. With skipBad a failure shifts the samples after it: those in flight are
    // copied to their place when taken, and until they are all taken new ones send their pixels back
    // (their slots could still be pending), then writing in place resumes.
    const buffers = new Map<number, Float32Array>();
    const bufferOf = (b: number): Float32Array => {
      let buf = buffers.get(b);
      if (!buf) buffers.set(b, (buf = new Float32Array(new SharedArrayBuffer(o.batchSize * pixelsPer * 4))));
      return buf;
    };
    const inFlight: { sample: EncodedSample; at: number | undefined; result: Promise<Settled<{ pixels?: Float32Array; width: number }>> }[] = [];
    let position = 0;
    let failed = 0;
    let lastAt = -1;
    let pendingInPlace = 0;
    let placed = 0;
    let labels = new Int32Array(o.batchSize);
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
          const slot = position - 1 - failed;
          // Images read in a worker own their bytes: handed over, not copied.
          const transferImage = reader === 'workers';
          if (pendingInPlace === 0 || slot > lastAt) {
            const into = { buffer: bufferOf(Math.floor(slot / o.batchSize)).buffer as SharedArrayBuffer, offset: (slot % o.batchSize) * pixelsPer };
            inFlight.push({ sample: r.value, at: slot, result: settle(pool.run(r.value.image, transform, { into, transferImage })) });
            lastAt = slot;
            pendingInPlace++;
          } else {
            inFlight.push({ sample: r.value, at: undefined, result: settle(pool.run(r.value.image, transform)) });
          }
        }
        if (inFlight.length === 0) break;
        const { sample, at, result } = inFlight.shift()!;
        const r = await result;
        if (at !== undefined) pendingInPlace--;
        if (!r.ok) {
          if (/decode worker \d+ (crashed|exited)/.test(r.error.message)) throw r.error;
          const e = new DataError(sample.file, sample.record, `undecodable image (${r.error.message})`);
          if (!o.skipBad) throw e;
          this.skip(e);
          failed++;
          continue;
        }
        const batchIndex = Math.floor(placed / o.batchSize);
        const slot = placed % o.batchSize;
        if (at === undefined) {
          bufferOf(batchIndex).set(r.value.pixels!, slot * pixelsPer);
        } else if (at !== placed) {
          const from = bufferOf(Math.floor(at / o.batchSize)).subarray((at % o.batchSize) * pixelsPer, (at % o.batchSize + 1) * pixelsPer);
          bufferOf(batchIndex).set(from, slot * pixelsPer);
        }
        labels[slot] = sample.label;
        placed++;
        if (slot === o.batchSize - 1) {
          yield { images: bufferOf(batchIndex), labels, size: o.batchSize, height: size, width: size, channels: 3 };
          buffers.delete(batchIndex);
          labels = new Int32Array(o.batchSize);
        }
      }
      const rest = placed % o.batchSize;
      if (rest > 0 && !dropRemainder) {
        const images = bufferOf(Math.floor(placed / o.batchSize)).slice(0, rest * pixelsPer);
        yield { images, labels: labels.slice(0, rest), size: rest, height: size, width: size, channels: 3 };
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
