// A pool of worker threads that decode + augment images (see decode-worker.ts). A job that cannot be decoded
// rejects with the decoder's message; a worker that dies rejects every pending job and makes the pool unusable.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { IMAGENET_MEAN, IMAGENET_STD } from './augment.js';

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
}

export type DecodeReply =
  | { id: number; ok: true; pixels: Float32Array; width: number; height: number }
  | { id: number; ok: false; error: string };

export interface DecodePoolOptions {
  /** Worker threads. Default: CPU count − 1 (at least 1); never more than the CPU count. */
  workers?: number;
  /** Jobs sent to one worker before its first reply comes back (hides messaging latency). Default 2. */
  jobsPerWorker?: number;
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
  resolve: (r: { pixels: Float32Array; width: number; height: number }) => void;
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
  private readonly queue: { job: DecodeJob; p: Omit<Pending, 'worker'> }[] = [];
  private readonly jobsPerWorker: number;
  private nextId = 0;
  private failure: Error | undefined;
  private closed = false;

  constructor(opts: DecodePoolOptions = {}) {
    // More threads than cores only compete for them (and each holds a decoder's memory): capped at the cores.
    const n = Math.min(availableParallelism(), Math.max(1, opts.workers ?? availableParallelism() - 1));
    this.jobsPerWorker = Math.max(1, opts.jobsPerWorker ?? 2);
    for (let w = 0; w < n; w++) {
      const worker = startWorker();
      worker.on('message', (reply: DecodeReply) => this.onReply(w, reply));
      worker.on('error', (err) => this.fail(new Error(`decode worker ${w} crashed: ${err.message}`)));
      worker.on('exit', (code) => {
        if (!this.closed) this.fail(new Error(`decode worker ${w} exited unexpectedly with code ${code}`));
      });
      this.workers.push(worker);
      this.busy.push(0);
    }
  }

  get workerCount(): number {
    return this.workers.length;
  }

  /** Decodes + transforms one image; resolves to NHWC float pixels (size×size×3) and the source size. */
  run(image: Uint8Array, t: DecodeTransform): Promise<{ pixels: Float32Array; width: number; height: number }> {
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
    };
    return new Promise((resolve, reject) => {
      this.queue.push({ job, p: { resolve, reject } });
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
      const { job, p } = this.queue.shift()!;
      this.busy[best]!++;
      this.pending.set(job.id, { ...p, worker: best });
      this.workers[best]!.postMessage(job);
    }
  }

  private onReply(w: number, reply: DecodeReply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    this.busy[w]!--;
    if (reply.ok) p.resolve({ pixels: reply.pixels, width: reply.width, height: reply.height });
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
    void this.close();
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
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
