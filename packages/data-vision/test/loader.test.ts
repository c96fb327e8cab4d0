import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { DecodePool, VisionLoader, batchToTensors, type VisionBatch, type VisionLoaderOptions } from '@sparse-ift/data-vision';
import {
  PALETTE, allBatches as all, decodeJpegIndependently, encodeExampleByHand, frameByHand, makeJpeg, sampleJpeg, tempDir, writeTfRecordShards, writeWdsShards,
} from './fixtures.js';

const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];
const dir = tempDir('loader');
const shards = writeTfRecordShards(dir, 3, 5); // 15 samples, labels i % 10, colours PALETTE[i % 4]
const loaders: VisionLoader[] = [];
// One worker thread shared by the loaders (starting a worker costs a second or two on a busy machine).
const pool = new DecodePool({ workers: 1 });
afterAll(async () => {
  await Promise.all(loaders.map((l) => l.close()));
  await pool.close();
});

function loader(opts: Partial<VisionLoaderOptions>): VisionLoader {
  const l = new VisionLoader({ format: 'tfrecord', path: dir, batchSize: 4, train: false, pool, numClasses: 10, imageSize: 16, resizeSize: 20, ...opts });
  loaders.push(l);
  return l;
}


describe('VisionLoader', () => {
  it('eval: batches of normalized pixels equal to an independent decode, labels in stream order', async () => {
    const l = loader({ train: false });
    const batches = await all(l);
    expect(batches.map((b) => b.size)).toEqual([4, 4, 4, 3]); // eval keeps the remainder
    const order: number[] = [];
    for await (const s of l.samples(0)) order.push(s.label);
    expect(batches.flatMap((b) => Array.from(b.labels))).toEqual(order);
    // Every sample is a solid colour: each output pixel is ≈ (decoded colour / 255 − mean) / std.
    const sampleIndex = (file: string, record: number) => shards.files.indexOf(file) * 5 + record;
    const samples: { file: string; record: number }[] = [];
    for await (const s of l.samples(0)) samples.push(s);
    let k = 0;
    for (const b of batches) {
      expect([b.height, b.width, b.channels]).toEqual([16, 16, 3]);
      for (let i = 0; i < b.size; i++, k++) {
        const idx = sampleIndex(samples[k]!.file, samples[k]!.record);
        const ref = decodeJpegIndependently(sampleJpeg(idx));
        for (const p of [0, 100, 255]) {
          for (let c = 0; c < 3; c++) {
            const want = (ref.data[c]! / 255 - MEAN[c]!) / STD[c]!;
            expect(b.images[(i * 256 + p) * 3 + c]).toBeCloseTo(want, 1);
          }
        }
      }
    }
    expect(k).toBe(15);
  });

  it('eval keeps orientation; train flips about half the images and crops, same seed → identical batches', async () => {
    const d = tempDir('flip');
    // Left half red, right half blue; 64×48.
    const img = makeJpeg(64, 48, (x) => (x < 32 ? [255, 0, 0] : [0, 0, 255]));
    const frames = Array.from({ length: 24 }, () => frameByHand(encodeExampleByHand({ 'image/encoded': { bytes: img }, 'image/class/label': { int64: 1 } })));
    writeFileSync(join(d, 'x.tfrecord'), Buffer.concat(frames));
    const red = (b: VisionBatch, i: number, x: number) => b.images[(i * 256 + 8 * 16 + x) * 3]! > 0; // red channel above mean
    const evalB = (await all(loader({ path: d, train: false, batchSize: 24 })))[0]!;
    for (let i = 0; i < 24; i++) expect([red(evalB, i, 0), red(evalB, i, 15)]).toEqual([true, false]);
    const trainL = loader({ path: d, train: true, batchSize: 24, seed: 11 });
    const [t1] = await all(trainL);
    let flipped = 0;
    for (let i = 0; i < 24; i++) if (!red(t1!, i, 0) && red(t1!, i, 15)) flipped++;
    expect(flipped).toBeGreaterThan(3);
    expect(flipped).toBeLessThan(21);
    const [t2] = await all(loader({ path: d, train: true, batchSize: 24, seed: 11 }));
    expect(Buffer.from(t2!.images.buffer).equals(Buffer.from(t1!.images.buffer))).toBe(true);
    const [t3] = await all(loader({ path: d, train: true, batchSize: 24, seed: 12 }));
    expect(Buffer.from(t3!.images.buffer).equals(Buffer.from(t1!.images.buffer))).toBe(false);
    const [t4] = await all(trainL, 1); // next epoch, other crops
    expect(Buffer.from(t4!.images.buffer).equals(Buffer.from(t1!.images.buffer))).toBe(false);
  });

  it('default output is 224×224×3 and converts to tf tensors', async () => {
    const [b] = await all(loader({ batchSize: 2, imageSize: undefined, resizeSize: undefined, train: true, seed: 0 }));
    expect(b!.images.length).toBe(2 * 224 * 224 * 3);
    const { x, y } = batchToTensors(b!, tf);
    expect(x.shape).toEqual([2, 224, 224, 3]);
    expect(y.dtype).toBe('int32');
    expect(Array.from(await y.data())).toEqual(Array.from(b!.labels));
    tf.dispose([x, y]);
  });

  it('an undecodable JPEG: error naming file and record, or skipped and counted with skipBad', async () => {
    const d = tempDir('badjpeg');
    const good = sampleJpeg(0);
    const frames = [0, 1, 2, 3].map((i) =>
      frameByHand(encodeExampleByHand({ 'image/encoded': { bytes: i === 2 ? good.subarray(0, 200) : sampleJpeg(i) }, 'image/class/label': { int64: i } })),
    );
    writeFileSync(join(d, 'bad.tfrecord'), Buffer.concat(frames));
    await expect(all(loader({ path: d }))).rejects.toThrow(/bad\.tfrecord: record 2: undecodable image/);
    const l = loader({ path: d, skipBad: true, batchSize: 8 });
    const [b] = await all(l);
    expect(Array.from(b!.labels)).toEqual([0, 1, 3]);
    expect(l.skipped).toEqual([{ file: join(d, 'bad.tfrecord'), record: 2, reason: expect.stringMatching(/undecodable image/) }]);
  });

  it('a worker thread that crashes reaches the caller as an error', async () => {
    const run = DecodePool.prototype.run;
    let calls = 0;
    const spy = vi.spyOn(DecodePool.prototype, 'run').mockImplementation(function (this: DecodePool, image, t) {
      return run.call(this, image, ++calls === 6 ? { mode: 'crash-for-test' } : t);
    });
    try {
      // Its own pool of 2 workers (a crash ends a pool), not the shared one.
      await expect(all(loader({ batchSize: 2, pool: undefined, workers: 2 }))).rejects.toThrow(/decode worker \d crashed/);
    } finally {
      spy.mockRestore();
    }
  });

  it('WebDataset tars and image folders go through the same pipeline', async () => {
    const w = tempDir('wdsload');
    writeWdsShards(w, 2, 3);
    const wb = await all(loader({ format: 'wds', path: w, batchSize: 10, seed: 4, train: true, dropRemainder: false }));
    expect(wb.map((b) => b.size)).toEqual([6]);
    expect(Array.from(wb[0]!.labels).sort()).toEqual([0, 1, 2, 3, 4, 5]);
    const root = tempDir('folderload');
    for (const [cls, n] of [['b_cat', 2], ['a_dog', 1]] as const) {
      mkdirSync(join(root, cls));
      for (let i = 0; i < n; i++) writeFileSync(join(root, cls, `${i}.jpg`), sampleJpeg(i));
    }
    const fb = await all(loader({ format: 'folder', path: root, batchSize: 3, train: false }));
    expect(Array.from(fb[0]!.labels)).toEqual([0, 1, 1]); // a_dog = 0, b_cat = 1, in file order when not shuffled
  });

  it('palette sanity: fixture colours are what the test thinks', () => {
    expect(decodeJpegIndependently(sampleJpeg(1)).data[1]).toBeGreaterThan(PALETTE[1]![1]! - 5);
  });
});
