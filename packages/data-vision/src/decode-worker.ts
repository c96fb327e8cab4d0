// Worker thread: decodes an encoded image with sharp (libvips), applies the ImageNet train or eval
// transform, normalizes, and sends back NHWC float32 pixels (one job = one image); and reads shards
// (`readShard`: framing, CRCs, tf.Example, labels), streaming their samples to the main thread a window
// ahead of it, so the main thread never parses records.
import { parentPort } from 'node:worker_threads';
import sharp, { type Sharp } from 'sharp';
import { centerCropBox, jpegSize, normalizeInto, randomResizedCropBox, resizeShorterSide } from './augment.js';
import { Rng } from '@sparse-ift/core/rng';
import type { DataErrorMessage, DecodeJob, DecodeReply, ReadShardJob, StreamControl, StreamReply } from './decode-pool.js';
import { DataError } from './errors.js';
import { readShard } from './sources.js';

// One libvips thread per worker, so N workers use about N cores and per-thread numbers mean something.
sharp.concurrency(1);
sharp.cache(false);

async function decode(job: DecodeJob): Promise<{ pixels: Float32Array; width: number; height: number }> {
  // failOn 'error': a truncated or corrupt JPEG is an error, not a silently grey image.
  const input = Buffer.from(job.image.buffer, job.image.byteOffset, job.image.byteLength);
  const opts = { failOn: 'error' as const };
  // JPEG: read the size from its header in JS; other formats (PNG, WebP): ask libvips.
  const size = jpegSize(input) ?? (await sharp(input, opts).metadata());
  const width = size.width;
  const height = size.height;
  if (!width || !height) throw new Error('image has no size');
  let pipeline: Sharp;
  if (job.mode === 'check') {
    // Verify: a full decode (not just the header), nothing else.
    await sharp(input, opts).raw().toBuffer();
    return { pixels: new Float32Array(0), width, height };
  } else if (job.mode === 'train') {
    const rng = Rng.fromSeed(job.seed);
    const box = randomResizedCropBox(width, height, rng);
    pipeline = sharp(input, opts).extract(box).resize(job.size, job.size, { fit: 'fill', kernel: 'linear' });
    if (rng.uniform() < 0.5) pipeline = pipeline.flop(); // horizontal flip, p = 0.5
  } else {
    const r = resizeShorterSide(width, height, job.resize);
    pipeline = sharp(input, opts)
      .resize(r.width, r.height, { fit: 'fill', kernel: 'linear' })
      .extract(centerCropBox(r.width, r.height, job.size));
  }
  const { data, info } = await pipeline
    .removeAlpha()
    .toColourspace('srgb')
    .raw({ depth: 'uchar' }) // 16-bit PNGs too: one byte per channel
    .toBuffer({ resolveWithObject: true });
  let rgb: Uint8Array = data;
  if (info.channels === 1) {
    rgb = new Uint8Array(data.length * 3);
    for (let i = 0; i < data.length; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = data[i]!;
  } else if (info.channels !== 3) {
    throw new Error(`decoded to ${info.channels} channels, expected 3`);
  }
  const n = job.size * job.size * 3;
  // Straight into the caller's shared batch buffer when it gave one: no pixels cross threads.
  const pixels = job.into ? new Float32Array(job.into.buffer, job.into.offset * 4, n) : new Float32Array(n);
  normalizeInto(rgb, 3, job.mean, job.std, pixels);
  return { pixels, width, height };
}

function dataErrorMessage(e: DataError): DataErrorMessage {
  return { file: e.file, record: e.record, reason: e.reason, fatalForFile: e.fatalForFile };
}

/** Samples per message: few messages, small latency. */
const CHUNK = 16;
const streams = new Map<number, { credits: number; cancelled: boolean; wake?: () => void }>();

async function readStream(job: ReadShardJob): Promise<void> {
  const state: { credits: number; cancelled: boolean; wake?: () => void } = { credits: job.window, cancelled: false };
  streams.set(job.stream, state);
  const post = (reply: StreamReply, transfer: ArrayBuffer[] = []) => parentPort!.postMessage(reply, transfer);
  let chunk: { record: number; image: Uint8Array; label: number }[] = [];
  const flush = () => {
    if (chunk.length === 0) return;
    post({ kind: 'samples', stream: job.stream, samples: chunk }, chunk.map((s) => s.image.buffer as ArrayBuffer));
    chunk = [];
  };
  const { skipBad, ...options } = job.options;
  const onBad = skipBad
    ? (e: DataError) => {
        flush(); // bad records keep their place among the samples
        post({ kind: 'bad', stream: job.stream, bad: dataErrorMessage(e) });
      }
    : undefined;
  try {
    for await (const sample of readShard(job.file, job.format, { ...options, onBad })) {
      if (state.cancelled) break;
      // Its own buffer (a record's bytes are a view into the read buffer), handed over without a copy.
      chunk.push({ record: sample.record, image: sample.image.slice(), label: sample.label });
      state.credits--;
      if (chunk.length >= CHUNK || state.credits <= 0) flush();
      while (state.credits <= 0 && !state.cancelled) await new Promise<void>((resolve) => (state.wake = resolve));
    }
    flush();
    if (!state.cancelled) post({ kind: 'end', stream: job.stream });
  } catch (err) {
    flush();
    post({ kind: 'error', stream: job.stream, error: err instanceof DataError ? dataErrorMessage(err) : { message: String((err as Error).message ?? err) } });
  } finally {
    streams.delete(job.stream);
  }
}

function onControl(message: StreamControl): void {
  const state = streams.get(message.stream);
  if (!state) return;
  if (message.kind === 'cancel') state.cancelled = true;
  else state.credits += message.count;
  state.wake?.();
  state.wake = undefined;
}

parentPort!.on('message', (message: DecodeJob | ReadShardJob | StreamControl) => {
  if ('kind' in message) {
    if (message.kind === 'read') void readStream(message);
    else onControl(message);
    return;
  }
  const job = message;
  if (job.mode === 'crash-for-test') {
    // Simulates a worker dying (uncaught exception) so tests can check the pool reports it.
    setImmediate(() => {
      throw new Error('decode worker crashed on purpose (test)');
    });
    return;
  }
  jobs.push(job);
  if (jobs.length === 1) void decodeQueued();
});

/**
 * Jobs are decoded one after another: libvips runs on Node's shared thread pool, so decoding every queued
 * job at once would use up to its 4 threads whatever the worker count. One at a time, a worker is a core.
 */
const jobs: DecodeJob[] = [];

async function decodeQueued(): Promise<void> {
  while (jobs.length > 0) {
    const job = jobs[0]!;
    const started = performance.now();
    try {
      const r = await decode(job);
      const seconds = (performance.now() - started) / 1000;
      const doneAt = Date.now();
      if (job.into) {
        parentPort!.postMessage({ id: job.id, ok: true, width: r.width, height: r.height, seconds, doneAt } satisfies DecodeReply);
      } else {
        parentPort!.postMessage({ id: job.id, ok: true, pixels: r.pixels, width: r.width, height: r.height, seconds, doneAt } satisfies DecodeReply, [r.pixels.buffer as ArrayBuffer]);
      }
    } catch (err) {
      // libvips repeats its messages over several lines: keep each distinct line once.
      const lines = String((err as Error).message ?? err).split('\n').map((l) => l.trim()).filter(Boolean);
      const reply: DecodeReply = { id: job.id, ok: false, error: [...new Set(lines)].join('; ') };
      parentPort!.postMessage(reply);
    }
    jobs.shift();
  }
}
