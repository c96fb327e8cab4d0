// Shards read and parsed in the worker threads: the same samples, batches and skipped records as reading on
// the main thread; errors that name file and record; workers that keep decoding while the main thread is
// blocked (a training step); and the loader's throughput report.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataError, DecodePool, VisionLoader, type VisionBatch, type VisionLoaderOptions } from '@sparse-ift/data-vision';
import { allBatches as all, encodeExampleByHand, frameByHand, sampleJpeg, tempDir, writeTfRecordShards, writeWdsShards } from './fixtures.js';

/** When each image was finished in its worker (Date.now()), in the order the replies arrived. */
const finishedAt: number[] = [];
const pool = new DecodePool({ workers: 2, onDecoded: ({ doneAt }) => finishedAt.push(doneAt) });
const loaders: VisionLoader[] = [];
afterAll(async () => {
  await Promise.all(loaders.map((l) => l.close()));
  await pool.close();
});

function loader(opts: Partial<VisionLoaderOptions> & Pick<VisionLoaderOptions, 'path' | 'format'>): VisionLoader {
  const l = new VisionLoader({ batchSize: 4, train: true, pool, numClasses: 10, imageSize: 16, resizeSize: 20, seed: 5, shuffleBuffer: 8, ...opts });
  loaders.push(l);
  return l;
}


const summary = (batches: VisionBatch[]) => batches.map((b) => ({ labels: Array.from(b.labels), pixels: Array.from(b.images.subarray(0, 48)) }));

describe('VisionLoader with shards parsed in the workers', () => {
  for (const format of ['tfrecord', 'wds'] as const) {
    it(`${format}: the same samples and batches as parsing on the main thread`, async () => {
      const dir = tempDir(`workers-${format}`);
      if (format === 'tfrecord') writeTfRecordShards(dir, 3, 7);
      else writeWdsShards(dir, 3, 7);
      const inWorkers = loader({ path: dir, format });
      const onMain = loader({ path: dir, format, parseIn: 'main' });
      const samples = async (l: VisionLoader) => {
        const out: string[] = [];
        for await (const s of l.samples(1)) out.push(`${s.file}#${s.record}:${s.label}:${s.image.length}`);
        return out;
      };
      expect(await samples(inWorkers)).toEqual(await samples(onMain));
      expect(summary(await all(inWorkers, 1))).toEqual(summary(await all(onMain, 1)));
    });
  }

  it('bad records: the same skipped list with skipBad, and without it the DataError naming file and record', async () => {
    const dir = tempDir('workers-bad');
    const { files } = writeTfRecordShards(dir, 2, 6);
    // Shard 0: record 2's data CRC broken; shard 1: record 4's label out of range.
    const bytes = readFileSync(files[0]!);
    let offset = 0;
    for (let r = 0; r < 2; r++) offset += 16 + Number(bytes.readBigUInt64LE(offset));
    bytes[offset + 12 + 5] = bytes[offset + 12 + 5]! ^ 0xff;
    writeFileSync(files[0]!, bytes);
    const frames = Array.from({ length: 6 }, (_, r) => frameByHand(encodeExampleByHand({ 'image/encoded': { bytes: sampleJpeg(100 + r) }, 'image/class/label': { int64: r === 4 ? 42 : r } })));
    writeFileSync(files[1]!, Buffer.concat(frames));
    const skipping = [loader({ path: dir, format: 'tfrecord', skipBad: true, train: false }), loader({ path: dir, format: 'tfrecord', skipBad: true, train: false, parseIn: 'main' })];
    const [a, b] = [await all(skipping[0]!), await all(skipping[1]!)];
    expect(summary(a)).toEqual(summary(b));
    expect(skipping[0]!.skipped).toEqual(skipping[1]!.skipped);
    expect(skipping[0]!.skipped.map((s) => [s.file, s.record])).toEqual([[files[0], 2], [files[1], 4]]);
    const strict = loader({ path: dir, format: 'tfrecord', train: false });
    const error = await all(strict).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    expect((error as DataError).message).toMatch(new RegExp(`${files[0]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: record 2: bad data CRC`));
  });

  it('undecodable images skipped: the images after them, written in place by the workers, move up into the right slots', async () => {
    const dir = tempDir('workers-undecodable');
    // 14 records in one shard, 3 undecodable (a truncated JPEG): the rest shift by 1, 2, 3 slots across batches.
    const bad = new Set([1, 6, 7]);
    const frames = Array.from({ length: 14 }, (_, r) =>
      frameByHand(encodeExampleByHand({ 'image/encoded': { bytes: bad.has(r) ? sampleJpeg(r).subarray(0, 200) : sampleJpeg(r) }, 'image/class/label': { int64: r % 10 } })),
    );
    writeFileSync(join(dir, 'train-00000-of-00001'), Buffer.concat(frames));
    const l = loader({ path: dir, format: 'tfrecord', train: false, skipBad: true, batchSize: 3, prefetch: 4 });
    const batches = await all(l);
    const good = Array.from({ length: 14 }, (_, r) => r).filter((r) => !bad.has(r));
    expect(batches.flatMap((b) => Array.from(b.labels))).toEqual(good.map((r) => r % 10));
    // Each sample is a solid palette colour (index r mod 4): the first pixel of each slot says which sample sits there.
    const colourOf = (b: VisionBatch, i: number) => [0, 1, 2].map((c) => b.images[i * 16 * 16 * 3 + c]!);
    const reference = loader({ path: dir, format: 'tfrecord', train: false, skipBad: true, batchSize: 1 });
    const singles = await all(reference); // one image per batch: nothing to move
    let k = 0;
    for (const b of batches) for (let i = 0; i < b.size; i++, k++) expect(colourOf(b, i), `sample ${good[k]}`).toEqual(colourOf(singles[k]!, 0));
    expect(l.skipped.map((s) => s.record)).toEqual([1, 6, 7]);
  });

  it('keeps decoding while the main thread is blocked, and reports its throughput', async () => {
    const dir = tempDir('workers-busy');
    writeTfRecordShards(dir, 2, 16);
    const l = loader({ path: dir, format: 'tfrecord', batchSize: 4, prefetch: 4 });
    const batches = l.batches(0);
    await batches.next(); // running: the decode jobs of the batches ahead go to the workers
    const deadline = Date.now() + 20_000;
    while (pool.queuedAtWorkers < 8 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    const queued = pool.queuedAtWorkers;
    expect(queued).toBeGreaterThanOrEqual(8); // (the old loader kept two per worker)
    const before = finishedAt.length;
    const until = Date.now() + 2000;
    while (Date.now() < until); // a 2 s training step holding the main thread
    // Take in what the workers sent meanwhile: every queued job was finished while this thread was blocked.
    while (finishedAt.length - before < queued && Date.now() < until + 20_000) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(finishedAt.slice(before).filter((t) => t < until).length).toBeGreaterThanOrEqual(queued);
    let rest = 0;
    for await (const b of batches) rest += b.size;
    const t = l.throughput();
    expect(t.images).toBe(4 + rest);
    expect(t.batches).toBe(8);
    expect(t.imagesPerSecond).toBeGreaterThan(0);
    expect(t.waitSeconds).toBeLessThan(t.seconds);
    expect(t.decodeSeconds).toBeGreaterThan(0);
    expect(t.records).toBeGreaterThanOrEqual(32);
  });
});
