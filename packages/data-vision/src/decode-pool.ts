// A pool of worker threads that read shards and decode + augment images (see decode-worker.ts), so neither
// record parsing nor decoding runs on the main thread, where a training step would stall them. A job that
// cannot be decoded rejects with the decoder's message; a worker that dies rejects every pending job and
// stream and makes the pool unusable.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { IMAGENET_MEAN, IMAGENET_STD } from './augment.js';
import { DataError } from './errors.js';
import type { EncodedSample, ShardReadOptions } from './sources.js';

export type DecodeMode = 'train' | 'eval' | 'check' | 'crash-for-test';

export interface DecodeJob {
  id: number;
  image: Uint8Array;
  mode: DecodeMode;
  /** Output side (224). */
  size: number;
  /** Eval: shorter side before the centre crop (256). */
  resize: number;
  /** Seed of this image's random crop/flip. */
  seed: number;
  mean: readonly number[];
  std: readonly number[];
  /** Write the pixels here (float32 index `offset` of a shared batch buffer) instead of sending them back. */
  into?: { buffer: SharedArrayBuffer; offset: number };
}

export type DecodeReply =
  | { id: number; ok: true; pixels?: Float32Array; width: number; height: number; seconds: number; doneAt: number }
  | { id: number; ok: false; error: string };

/** A DataError as it crosses threads. */
export interface DataErrorMessage {
  file: string;
  record: number;
  reason: string;
  fatalForFile: boolean;
}

/** Read a shard in the worker and stream its samples back, at most `window` not yet acknowledged. */
export interface ReadShardJob {
  kind: 'read';
  stream: number;
  file: string;
  format: 'tfrecord' | 'wds';
  options: Omit<ShardReadOptions, 'onBad'> & { skipBad: boolean };
  window: number;
}

/** Main → worker: `count` more samples of `stream` consumed; or stop reading it. */
export type StreamControl = { kind: 'ack'; stream: number; count: number } | { kind: 'cancel'; stream: number };

/** Worker → main, for a stream: samples in file order, a skipped bad record, the end, or the error that ended it. */
export type StreamReply =
  | { kind: 'samples'; stream: number; samples: { record: number; image: Uint8Array; label: number }[] }
  | { kind: 'bad'; stream: number; bad: DataErrorMessage }
  | { kind: 'end'; stream: number }
  | { kind: 'error'; stream: number; error: DataErrorMessage | { message: string } };

function toDataError(e: DataErrorMessage): DataError {
  return new DataError(e.file, e.record, e.reason, e.fatalForFile);
}

interface Stream {
  worker: number;
  file: string;
  /** Samples and skipped bad records, in file order, not yet taken by the consumer. */
  items: ({ sample: EncodedSample } | { bad: DataError })[];
  done: boolean;
  error?: Error;
  wake?: () => void;
}

/** Samples a worker reads ahead of the consumer per stream, and how many are acknowledged at once. */
const READ_WINDOW = 64;
const ACK_EVERY = 16;

/** What the pool's workers did, for throughput reports. */
export interface PoolStats {
  /** Images decoded, and the seconds the workers spent decoding them (all workers together). */
  images: number;
  decodeSeconds: number;
  /** Records read by the workers' shard streams. */
  records: number;
}

export interface DecodePoolOptions {
  /** Worker threads. Default: CPU count − 1 (at least 1); never more than the CPU count. */
  workers?: number;
  /**
   * Jobs queued at one worker. Default 64: deep queues keep workers decoding while the main thread is busy
   * (a training step) and cannot hand out more.
   */
  jobsPerWorker?: number;
  /** Called as each image's reply arrives: its decode seconds, and when (Date.now()) its worker finished it. */
  onDecoded?: (image: { seconds: number; doneAt: number }) => void;
}

/** What to do to one image. Defaults: ImageNet (224 output, 256 eval resize, ImageNet mean/std). */
export interface DecodeTransform {
  mode: DecodeMode;
  /** Seed of this image's random crop and flip (mode 'train'). */
  seed?: number;
  size?: number;
  resize?: number;
  mean?: readonly number[];
  std?: readonly number[];
}

interface Pending {
  resolve: (r: { pixels?: Float32Array; width: number; height: number }) => void;
  reject: (e: Error) => void;
  worker: number;
}

/** Where the worker's code is: compiled JS next to this file, else (running from sources) the .ts through tsx. */
function startWorker(): Worker {
  const js = new URL('./decode-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(js))) return new Worker(js);
  // Sources only (tests, tsx): register tsx's loader inside the worker, then import the TypeScript worker.
  const ts = new URL('./decode-worker.ts', import.meta.url);
  const tsxDir = dirname(createRequire(import.meta.url).resolve('tsx/package.json'));
  const tsxApi = pathToFileURL(join(tsxDir, 'dist/esm/api/index.mjs')).href;
  const boot = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(ts.href)}); })`;
  return new Worker(boot, { eval: true });
}

export class DecodePool {
  private readonly workers: Worker[] = [];
  private readonly busy: number[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly queue: { job: DecodeJob; transfer: ArrayBuffer[]; p: Omit<Pending, 'worker'> }[] = [];
  private readonly jobsPerWorker: number;
  private readonly streams = new Map<number, Stream>();
  private readonly streamsPerWorker: number[] = [];
  private nextStream = 0;
  private nextId = 0;
  private readonly counters: PoolStats = { images: 0, decodeSeconds: 0, records: 0 };
  private readonly onDecoded: DecodePoolOptions['onDecoded'];
  private failure: Error | undefined;
  private closed = false;

  constructor(opts: DecodePoolOptions = {}) {
    // More threads than cores only compete for them (and each holds a decoder's memory): capped at the cores.
    const n = Math.min(availableParallelism(), Math.max(1, opts.workers ?? availableParallelism() - 1));
    this.jobsPerWorker = Math.max(1, opts.jobsPerWorker ?? 64);
    this.onDecoded = opts.onDecoded;
    for (let w = 0; w < n; w++) {
      const worker = startWorker();
      worker.on('message', (reply: DecodeReply | StreamReply) => ('kind' in reply ? this.onStreamReply(reply) : this.onReply(w, reply)));
      worker.on('error', (err) => this.fail(new Error(`decode worker ${w} crashed: ${err.message}`)));
      worker.on('exit', (code) => {
        if (!this.closed) this.fail(new Error(`decode worker ${w} exited unexpectedly with code ${code}`));
      });
      this.workers.push(worker);
      this.busy.push(0);
      this.streamsPerWorker.push(0);
    }
  }

  /** Decode jobs sent to the workers and not answered yet: what they go on with while this thread is busy. */
  get queuedAtWorkers(): number {
    return this.busy.reduce((a, b) => a + b, 0);
  }

  /** Images decoded and records read so far, and the workers' decode seconds. */
  get stats(): PoolStats {
    return { ...this.counters };
  }

  /**
   * The samples of one shard, read and checked (CRCs, tf.Example, labels: `readShard`) in a worker and
   * handed over in file order; the worker reads ahead of the consumer by a window. With `onBad`, bad
   * records are reported to it where they fall in the file, and reading goes on; without, the first
   * one ends the stream with its DataError.
   */
  async *readShard(file: string, format: 'tfrecord' | 'wds', opts: ShardReadOptions = {}): AsyncGenerator<EncodedSample> {
    if (this.failure) throw this.failure;
    if (this.closed) throw new Error('DecodePool is closed');
    const id = this.nextStream++;
    let worker = 0;
    for (let w = 1; w < this.workers.length; w++) if (this.streamsPerWorker[w]! < this.streamsPerWorker[worker]!) worker = w;
    const stream: Stream = { worker, file, items: [], done: false };
    this.streams.set(id, stream);
    this.streamsPerWorker[worker]!++;
    const { onBad, ...options } = opts;
    const job: ReadShardJob = { kind: 'read', stream: id, file, format, options: { ...options, skipBad: onBad !== undefined }, window: READ_WINDOW };
    this.workers[worker]!.postMessage(job);
    let consumed = 0;
    try {
      for (;;) {
        const item = stream.items.shift();
        if (item) {
          if ('bad' in item) {
            onBad!(item.bad);
            continue;
          }
          if (++consumed % ACK_EVERY === 0) this.control(stream, { kind: 'ack', stream: id, count: ACK_EVERY });
          yield item.sample;
          continue;
        }
        if (stream.error) throw stream.error;
        if (stream.done) return;
        await new Promise<void>((resolve) => (stream.wake = resolve));
      }
    } finally {
      if (!stream.done && !stream.error) this.control(stream, { kind: 'cancel', stream: id });
      this.streams.delete(id);
      this.streamsPerWorker[worker]!--;
    }
  }

  private control(stream: Stream, message: StreamControl): void {
    if (!this.closed && !this.failure) this.workers[stream.worker]!.postMessage(message);
  }

  private onStreamReply(reply: StreamReply): void {
    const stream = this.streams.get(reply.stream);
    if (!stream) return;
    if (reply.kind === 'samples') {
      for (const s of reply.samples) stream.items.push({ sample: { file: stream.file, record: s.record, image: s.image, label: s.label } });
      this.counters.records += reply.samples.length;
    } else if (reply.kind === 'bad') {
      stream.items.push({ bad: toDataError(reply.bad) });
    } else if (reply.kind === 'end') {
      stream.done = true;
    } else {
      stream.error = 'file' in reply.error ? toDataError(reply.error) : new Error(reply.error.message);
    }
    stream.wake?.();
    stream.wake = undefined;
  }

  get workerCount(): number {
    return this.workers.length;
  }

  /** Decodes + transforms one image; resolves to NHWC float pixels (size×size×3) and the source size. */
  run(image: Uint8Array, t: DecodeTransform): Promise<{ pixels: Float32Array; width: number; height: number }>;
  /**
   * Decodes + transforms one image into `into` (a shared buffer, from float32 index `offset`): no pixels
   * cross threads. With `transferImage` the image's bytes are handed over, not copied (the caller's
   * `image` is then detached; only for an image that owns its whole ArrayBuffer).
   */
  run(image: Uint8Array, t: DecodeTransform, output: { into: { buffer: SharedArrayBuffer; offset: number }; transferImage?: boolean }): Promise<{ width: number; height: number }>;
  run(image: Uint8Array, t: DecodeTransform, output?: { into: { buffer: SharedArrayBuffer; offset: number }; transferImage?: boolean }): Promise<{ pixels?: Float32Array; width: number; height: number }> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error('DecodePool is closed'));
    const job: DecodeJob = {
      id: this.nextId++,
      image,
      mode: t.mode,
      size: t.size ?? 224,
      resize: t.resize ?? 256,
      seed: t.seed ?? 0,
      mean: t.mean ?? IMAGENET_MEAN,
      std: t.std ?? IMAGENET_STD,
      ...(output ? { into: output.into } : {}),
    };
    const transfer = output?.transferImage && image.byteOffset === 0 && image.byteLength === image.buffer.byteLength ? [image.buffer as ArrayBuffer] : [];
    return new Promise((resolve, reject) => {
      this.queue.push({ job, transfer, p: { resolve, reject } });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let best = -1;
      for (let w = 0; w < this.workers.length; w++) {
        if (this.busy[w]! < this.jobsPerWorker && (best < 0 || this.busy[w]! < this.busy[best]!)) best = w;
      }
      if (best < 0) return;
      const { job, transfer, p } = this.queue.shift()!;
      this.busy[best]!++;
      this.pending.set(job.id, { ...p, worker: best });
      this.workers[best]!.postMessage(job, transfer);
    }
  }

  private onReply(w: number, reply: DecodeReply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    this.busy[w]!--;
    if (reply.ok) {
      this.counters.images++;
      this.counters.decodeSeconds += reply.seconds;
      this.onDecoded?.({ seconds: reply.seconds, doneAt: reply.doneAt });
      p.resolve({ ...(reply.pixels ? { pixels: reply.pixels } : {}), width: reply.width, height: reply.height });
    }
    else p.reject(new Error(reply.error));
    this.dispatch();
  }

  private fail(err: Error): void {
    if (this.failure || this.closed) return;
    this.failure = err;
    for (const p of this.pending.values()) p.reject(err);
    for (const q of this.queue) q.p.reject(err);
    this.pending.clear();
    this.queue.length = 0;
    this.endStreams(err);
    void this.close();
  }

  private endStreams(err: Error): void {
    for (const stream of this.streams.values()) {
      stream.error ??= err;
      stream.wake?.();
    }
  }

  /** Stops the workers. Pending jobs are rejected. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const err = this.failure ?? new Error('DecodePool closed while a job was pending');
    for (const p of this.pending.values()) p.reject(err);
    for (const q of this.queue) q.p.reject(err);
    this.pending.clear();
    this.queue.length = 0;
    this.endStreams(new Error('DecodePool closed while a shard was being read'));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
