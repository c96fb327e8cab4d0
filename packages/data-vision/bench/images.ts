// Benchmark (not a test): JPEG decode + augmentation throughput of the worker pool, on ImageNet-sized
// JPEGs (500×375, quality 90, textured so they weigh ~ImageNet's ~110 kB) generated here with sharp.
//   npx tsx packages/data-vision/bench/images.ts [--images 200] [--workers 1,2] [--step 250]
// Prints images/s for: one worker with one image in flight (≈ one core), each worker count with two
// images in flight per worker, the main thread's record parsing cost, and the whole loader over TFRecord
// shards (train transform, batch 64) per worker count, parsing in the workers or on the main thread, with
// the main thread free or held for --step ms per batch (a training step).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { frameTfRecord } from '@sparse-ift/files';
import { DecodePool, VisionLoader, encodeExample, type DecodeMode } from '../src/index.js';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : dflt;
};
const N = Number(arg('images', '200'));
const workerCounts = arg('workers', `1,${Math.min(2, availableParallelism())}`).split(',').map(Number);

async function makeJpegs(n: number): Promise<Buffer[]> {
  const distinct = 20;
  const base: Buffer[] = [];
  for (let i = 0; i < distinct; i++) {
    base.push(
      await sharp({ create: { width: 500, height: 375, channels: 3, background: { r: 40 * (i % 6), g: 120, b: 200 - 9 * i }, noise: { type: 'gaussian', mean: 128, sigma: 40 } } })
        .blur(0.8)
        .jpeg({ quality: 90 })
        .toBuffer(),
    );
  }
  return Array.from({ length: n }, (_, i) => base[i % distinct]!);
}

/** CPU time of this process (all threads: main, workers, libuv pool), in seconds. */
const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/**
 * Images per wall-clock second, and images per CPU-second (the rate one fully available core would give; it does
 * not depend on what else the machine runs, so it is the "per core" number on a shared machine).
 */
async function throughput(pool: DecodePool, jpegs: Buffer[], mode: DecodeMode, inFlight: number): Promise<{ wall: number; perCpu: number }> {
  let next = 0;
  const c0 = cpuSeconds();
  const t0 = performance.now();
  const lane = async () => {
    while (next < jpegs.length) {
      const i = next++;
      await pool.run(jpegs[i]!, { mode, seed: i });
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  return { wall: (jpegs.length / (performance.now() - t0)) * 1000, perCpu: jpegs.length / (cpuSeconds() - c0) };
}
const fmt = (r: { wall: number; perCpu: number }) => `${r.wall.toFixed(0)} img/s (${r.perCpu.toFixed(0)} img per CPU-second)`;

const jpegs = await makeJpegs(N);
const meanKb = jpegs.slice(0, 20).reduce((s, b) => s + b.length, 0) / 20 / 1024;
console.log(`${N} JPEGs, 500×375, mean ${meanKb.toFixed(0)} kB; ${availableParallelism()} cores; sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips}`);

const rows: string[] = [];
for (const workers of workerCounts) {
  for (const jobsPerWorker of workers === 1 ? [1, 2] : [2]) {
    const pool = new DecodePool({ workers, jobsPerWorker });
    await throughput(pool, jpegs.slice(0, 10 * workers), 'train', workers * jobsPerWorker); // warm up (boot workers)
    const train = await throughput(pool, jpegs, 'train', workers * jobsPerWorker);
    const evalRate = await throughput(pool, jpegs, 'eval', workers * jobsPerWorker);
    await pool.close();
    rows.push(`workers=${workers} inFlight/worker=${jobsPerWorker}: train (RRC 224 + flip + normalize) ${fmt(train)}; eval (resize 256 + crop 224 + normalize) ${fmt(evalRate)}`);
    console.log(rows.at(-1));
  }
}

// Whole loader: 4 TFRecord shards, interleave + shuffle buffer + decode workers + batching + prefetch.
const dir = mkdtempSync(join(tmpdir(), 'dv-bench-'));
const perShard = Math.ceil(N / 4);
for (let s = 0; s < 4; s++) {
  const frames = jpegs.slice(s * perShard, (s + 1) * perShard).map((img, i) =>
    frameTfRecord(encodeExample({ 'image/encoded': { kind: 'bytes', value: [img] }, 'image/class/label': { kind: 'int64', value: [i % 1000] } })),
  );
  writeFileSync(join(dir, `train-${String(s).padStart(5, '0')}-of-00004`), Buffer.concat(frames));
}
/** The main thread's cost of reading and parsing records (what parseIn 'main' spends per record on it). */
{
  const { readShard } = await import('../src/index.js');
  const files = (await import('node:fs')).readdirSync(dir).map((f) => join(dir, f));
  const t0 = performance.now();
  let records = 0;
  for (const f of files) for await (const _ of readShard(f, 'tfrecord')) records++;
  console.log(`readShard on the main thread: ${((performance.now() - t0) / records).toFixed(3)} ms per record (${records} records)`);
}

/**
 * The whole loader (4 TFRecord shards, interleave + shuffle buffer + read/parse + decode + batching +
 * prefetch) at each worker count, parsing in the workers or on the main thread, with the main thread
 * free or busy for `--step` ms per batch (a stand-in for a training step that holds it).
 */
const stepMs = Number(arg('step', '0'));
for (const workers of workerCounts) {
  for (const parseIn of ['workers', 'main'] as const) {
    for (const step of stepMs > 0 ? [0, stepMs] : [0]) {
      const loader = new VisionLoader({ format: 'tfrecord', path: dir, batchSize: 64, train: true, workers, shuffleBuffer: 256, seed: 0, parseIn });
      for await (const _ of loader.batches(0)) break; // boot workers
      const wait0 = loader.throughput().waitSeconds;
      const c0 = cpuSeconds();
      const t0 = performance.now();
      let images = 0;
      for await (const b of loader.batches(1)) {
        images += b.size;
        const until = performance.now() + step;
        while (performance.now() < until); // the step holds the main thread
      }
      const seconds = (performance.now() - t0) / 1000;
      const rate = { wall: images / seconds, perCpu: images / (cpuSeconds() - c0) };
      const wait = loader.throughput().waitSeconds - wait0;
      await loader.close();
      console.log(
        `VisionLoader (tfrecord, train 224, batch 64, workers=${workers}, parse in ${parseIn}${step ? `, ${step} ms step per batch` : ''}): ${fmt(rate)} over ${images} images` +
          (step ? `; the consumer waited ${wait.toFixed(2)} s of ${seconds.toFixed(2)} s` : ''),
      );
    }
  }
}
console.log(`load average during the run: ${(await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ')}`);
