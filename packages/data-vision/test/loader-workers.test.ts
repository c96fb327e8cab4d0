// Shards read and parsed in the worker threads: the same samples, batches and skipped records as reading on
// the main thread; errors that name file and record; workers that keep decoding while the main thread is
// blocked (a training step); and the loader's throughput report.
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { DataError, DecodePool, VisionLoader, type VisionBatch, type VisionLoaderOptions } from '@sparse-ift/data-vision';
import { allBatches as all, encodeExampleByHand, frameByHand, sampleJpeg, tempDir, writeTfRecordShards, writeWdsShards } from './fixtures.js';

const pool = new DecodePool({ workers: 2 });
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

  it('keeps decoding while the main thread is blocked, and reports its throughput', async () => {
    const dir = tempDir('workers-busy');
    writeTfRecordShards(dir, 2, 16);
    const l = loader({ path: dir, format: 'tfrecord', batchSize: 4, prefetch: 4 });
    const batches = l.batches(0);
    await batches.next(); // running: jobs for 4 batches ahead are queued at the workers
    const before = pool.stats.images;
    const until = Date.now() + 2000;
    while (Date.now() < until); // a 2 s training step holding the main thread
    await new Promise((resolve) => setImmediate(resolve)); // take in what the workers sent meanwhile
    expect(pool.stats.images - before).toBeGreaterThanOrEqual(8);
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
