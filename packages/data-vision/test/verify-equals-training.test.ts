// `sift data verify` says OK exactly when training accepts the data: both read through the same check per
// format (checkIdxPair, readShard, readCifar100Bin), so every planted problem is refused by both, and a
// clean set passes both. Also: FIFOs refused at once, mixed folders verified file by file, workers capped.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DecodePool, VisionLoader, loadIdxImageSet, readCifar100Bin, verifyVisionDataset } from '@sparse-ift/data-vision';
import { runDataVerify } from '../../cli/src/commands/data.js';
import { encodeExampleByHand, frameByHand, sampleJpeg, tempDir } from './fixtures.js';

/** IDX bytes written by hand: big-endian magic and dims, then the body. */
function idx(magic: number, dims: number[], body: number[]): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(body)]);
}

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

/** Verify's verdict and the loader's, for one IDX folder holding train-images/train-labels. */
async function idxVerdicts(dir: string): Promise<{ verifyBad: string[]; trainError: string | undefined }> {
  const report = await verifyVisionDataset(dir, { format: 'idx' });
  let trainError: string | undefined;
  try {
    loadIdxImageSet(join(dir, 'train-images-idx3-ubyte'), join(dir, 'train-labels-idx1-ubyte'), 10);
  } catch (error) {
    trainError = (error as Error).message;
  }
  return { verifyBad: report.bad.map((b) => b.reason), trainError };
}

describe('IDX: verify OK ⇔ the loader accepts', () => {
  const pixels = (n: number) => Array.from({ length: n * 4 }, (_, i) => i % 256);
  const cases: [string, Buffer, Buffer, RegExp | undefined][] = [
    ['a clean pair', idx(2051, [3, 2, 2], pixels(3)), idx(2049, [3], [0, 9, 4]), undefined],
    ['fewer labels than images (59,900 for 60,000, scaled down)', idx(2051, [3, 2, 2], pixels(3)), idx(2049, [2], [0, 1]), /has 3 images but .* has 2 labels/],
    ['a label of 200 with 10 classes', idx(2051, [3, 2, 2], pixels(3)), idx(2049, [3], [0, 200, 1]), /label 200 outside \[0, 10\)/],
    ['0×0 images', idx(2051, [3, 0, 0], []), idx(2049, [3], [0, 1, 2]), /images of 0×0 pixels; images need at least 1×1/],
    ['an empty split', idx(2051, [0, 2, 2], []), idx(2049, [0], []), /holds no images \(its header says 0\)/],
    ['truncated images', idx(2051, [3, 2, 2], pixels(2)), idx(2049, [3], [0, 1, 2]), /truncated/],
  ];
  for (const [what, images, labels, problem] of cases) {
    it(what, async () => {
      const dir = tempDir('veq');
      writeFileSync(join(dir, 'train-images-idx3-ubyte'), images);
      writeFileSync(join(dir, 'train-labels-idx1-ubyte'), labels);
      const { verifyBad, trainError } = await idxVerdicts(dir);
      if (problem === undefined) {
        expect(verifyBad).toEqual([]);
        expect(trainError).toBeUndefined();
      } else {
        expect(verifyBad.some((r) => problem.test(r)), verifyBad.join(' | ')).toBe(true);
        expect(trainError).toMatch(problem);
      }
    });
  }

  it('a FIFO named like an IDX file is refused at once by both (nothing blocks)', async () => {
    const dir = tempDir('veq');
    writeFileSync(join(dir, 'train-images-idx3-ubyte'), idx(2051, [1, 1, 1], [5]));
    execFileSync('mkfifo', [join(dir, 'train-labels-idx1-ubyte')]);
    const { verifyBad, trainError } = await idxVerdicts(dir);
    expect(verifyBad).toEqual([`IDX file ${join(dir, 'train-labels-idx1-ubyte')} cannot be read: it is a FIFO (named pipe), not a regular file`]);
    expect(trainError).toMatch(/train-labels-idx1-ubyte cannot be read: it is a FIFO/);
  });

  it('an images file without its labels file is bad', async () => {
    const dir = tempDir('veq');
    writeFileSync(join(dir, 't10k-images-idx3-ubyte.gz'), idx(2051, [1, 1, 1], [5]));
    const report = await verifyVisionDataset(dir, { format: 'idx' });
    expect(report.bad.map((b) => b.reason)).toEqual(['no t10k-labels-idx1-ubyte[.gz] beside it; training reads images and labels in pairs']);
  });
});

describe('shards and CIFAR: verify OK ⇔ the loader accepts', () => {
  const frames = (n: number) => Buffer.concat(Array.from({ length: n }, (_, i) => frameByHand(encodeExampleByHand({ 'image/encoded': { bytes: sampleJpeg(i) }, 'image/class/label': { int64: i } }))));

  async function shardVerdicts(path: string, format: 'tfrecord' | 'wds'): Promise<{ verifyBad: string[]; trainError: string | undefined }> {
    const report = await verifyVisionDataset(path, { format, workers: 1 });
    const loader = new VisionLoader({ format, path, batchSize: 2, train: false, imageSize: 8, resizeSize: 8, workers: 1 });
    let trainError: string | undefined;
    try {
      for await (const batch of loader.batches(0)) void batch;
    } catch (error) {
      trainError = (error as Error).message;
    } finally {
      await loader.close();
    }
    return { verifyBad: report.bad.map((b) => b.reason), trainError };
  }

  it('a clean shard passes both; an empty one (0 bytes) fails both', async () => {
    const dir = tempDir('veq');
    writeFileSync(join(dir, 'a-00000-of-00001'), frames(3));
    expect(await shardVerdicts(join(dir, 'a-00000-of-00001'), 'tfrecord')).toEqual({ verifyBad: [], trainError: undefined });
    writeFileSync(join(dir, 'empty.tfrecord'), '');
    const empty = await shardVerdicts(join(dir, 'empty.tfrecord'), 'tfrecord');
    expect(empty.verifyBad).toEqual([expect.stringMatching(/^holds no records: an empty shard/)]);
    expect(empty.trainError).toMatch(/empty\.tfrecord: record 0: holds no records/);
  });

  it('a tar that is not a tar fails both', async () => {
    const dir = tempDir('veq');
    writeFileSync(join(dir, 'x-000.tar'), Buffer.alloc(3000, 0x41));
    const r = await shardVerdicts(join(dir, 'x-000.tar'), 'wds');
    expect(r.verifyBad).toHaveLength(1);
    expect(r.trainError).toMatch(/x-000\.tar: record 0: (unreadable tar|holds no samples)/);
  });

  it('a FIFO shard is refused at once by both', async () => {
    const fifo = join(tempDir('veq'), 'p-00000-of-00001');
    execFileSync('mkfifo', [fifo]);
    const r = await shardVerdicts(fifo, 'tfrecord');
    expect(r.verifyBad).toEqual(['cannot be read: it is a FIFO (named pipe), not a regular file']);
    expect(r.trainError).toMatch(/p-00000-of-00001: record 0: cannot be read: it is a FIFO/);
  });

  it('an empty CIFAR-100 file fails both', async () => {
    const dir = tempDir('veq');
    writeFileSync(join(dir, 'train.bin'), '');
    writeFileSync(join(dir, 'test.bin'), Buffer.concat([Buffer.from([0, 1]), Buffer.alloc(3072, 9)]));
    const report = await verifyVisionDataset(dir, { format: 'cifar' });
    expect(report.bad.map((b) => [b.file.endsWith('train.bin'), b.reason])).toEqual([[true, 'holds no whole record (0 bytes; one record is 3074)']]);
    expect(() => readCifar100Bin(join(dir, 'train.bin'))).toThrow(/train\.bin: record 0: holds no whole record/);
  });
});

describe('sift data verify on what users point it at', () => {
  it('a folder mixing an empty .tfrecord and a corrupt .tar: both files checked, both bad, exit 1', async () => {
    const dir = tempDir('veq');
    writeFileSync(join(dir, 'shard.tfrecord'), '');
    writeFileSync(join(dir, 'shard.tar'), Buffer.alloc(2048, 0x41));
    const c = capture();
    expect(await runDataVerify(dir, { json: true, workers: 1 }, c.io)).toBe(1);
    const report = JSON.parse(c.out[0]!);
    expect(report.format).toBe('tfrecord+wds');
    expect(report.files).toEqual([join(dir, 'shard.tfrecord'), join(dir, 'shard.tar')]);
    expect(report.bad.map((b: { file: string }) => b.file)).toEqual([join(dir, 'shard.tfrecord'), join(dir, 'shard.tar')]);
  });

  it('a FIFO path is a usage error at once, naming it', async () => {
    const fifo = join(tempDir('veq'), 'data.tfrecord');
    execFileSync('mkfifo', [fifo]);
    const c = capture();
    expect(await runDataVerify(fifo, {}, c.io)).toBe(2);
    expect(c.err).toEqual([`sift data verify: ${fifo} cannot be read: it is a FIFO (named pipe), not a regular file; pass a data file or a folder.`]);
  });

  it('--workers above the cores is capped, and says so; the pool never starts more threads than cores', async () => {
    const dir = tempDir('veq');
    mkdirSync(join(dir, 's'));
    writeFileSync(join(dir, 's', 'a.tfrecord'), Buffer.concat([0, 1].map((i) => frameByHand(encodeExampleByHand({ 'image/encoded': { bytes: sampleJpeg(i) }, 'image/class/label': { int64: i } })))));
    const c = capture();
    expect(await runDataVerify(join(dir, 's'), { workers: 128, decode: false }, c.io)).toBe(0);
    const cores = availableParallelism();
    expect(c.err).toEqual([`sift data verify: --workers 128 is more than this machine's ${cores} cores; using ${cores}.`]);
    const pool = new DecodePool({ workers: 128 });
    try {
      expect(pool.workerCount).toBe(cores);
    } finally {
      await pool.close();
    }
  });

  it('--classes sets the label bound IDX labels are checked against', async () => {
    const dir = tempDir('veq');
    writeFileSync(join(dir, 'train-images-idx3-ubyte'), idx(2051, [2, 1, 1], [1, 2]));
    writeFileSync(join(dir, 'train-labels-idx1-ubyte'), idx(2049, [2], [3, 30]));
    expect(await runDataVerify(dir, { classes: 47 }, capture().io)).toBe(0); // EMNIST balanced: 47 classes
    expect(await runDataVerify(dir, {}, capture().io)).toBe(1); // Fashion-MNIST's 10
  });
});
