// Worker thread: decodes an encoded image with sharp (libvips), applies the ImageNet train or eval
// transform, normalizes, and sends back NHWC float32 pixels. One job = one image.
import { parentPort } from 'node:worker_threads';
import sharp, { type Sharp } from 'sharp';
import { centerCropBox, jpegSize, normalizeInto, randomResizedCropBox, resizeShorterSide } from './augment.js';
import { Rng } from '@sparse-ift/core/rng';
import type { DecodeJob, DecodeReply } from './decode-pool.js';

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
  const pixels = new Float32Array(job.size * job.size * 3);
  normalizeInto(rgb, 3, job.mean, job.std, pixels);
  return { pixels, width, height };
}

parentPort!.on('message', (job: DecodeJob) => {
  if (job.mode === 'crash-for-test') {
    // Simulates a worker dying (uncaught exception) so tests can check the pool reports it.
    setImmediate(() => {
      throw new Error('decode worker crashed on purpose (test)');
    });
    return;
  }
  decode(job).then(
    (r) => {
      const reply: DecodeReply = { id: job.id, ok: true, pixels: r.pixels, width: r.width, height: r.height };
      parentPort!.postMessage(reply, [r.pixels.buffer as ArrayBuffer]);
    },
    (err: unknown) => {
      // libvips repeats its messages over several lines: keep each distinct line once.
      const lines = String((err as Error).message ?? err).split('\n').map((l) => l.trim()).filter(Boolean);
      const reply: DecodeReply = { id: job.id, ok: false, error: [...new Set(lines)].join('; ') };
      parentPort!.postMessage(reply);
    },
  );
});
