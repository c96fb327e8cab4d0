// Small data sets for the README examples run by tools/consumer-check, written into a consumer folder
// with the repository's independent test writers (no package code): the paths are those the READMEs use.
//   cifar-100-binary/{train,test}.bin             CIFAR-100 binary records (48 / 16 images)
//   imagenet/{train,validation}/…-of-…            TF-slim TFRecord shards (64 / 8 JPEGs, labels 1..10)
//   wikitext/wiki.valid.tokens                    a few lines of raw WikiText
//   home/.cache/sparse-ift/fashion-mnist/…        Fashion-MNIST IDX files (512 / 128 images), the loader's
//                                                 download cache: used where Debian's copy is not installed
// Usage: npx tsx tools/consumer-check/fixtures.ts <consumer-dir>
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeExampleByHand, frameByHand, sampleJpeg } from '../../packages/data-vision/test/fixtures.js';

const out = process.argv[2];
if (!out) throw new Error('usage: fixtures.ts <consumer-dir>');

/** A pixel value from (image, position): a fixed pattern, so runs are reproducible. */
const pixel = (n: number, i: number): number => (n * 37 + i * 11 + ((i >> 5) * 7)) & 255;

function cifar(file: string, count: number): void {
  const record = 2 + 3072;
  const bytes = Buffer.alloc(count * record);
  for (let n = 0; n < count; n++) {
    bytes[n * record] = n % 20; // coarse label
    bytes[n * record + 1] = n % 100; // fine label
    for (let i = 0; i < 3072; i++) bytes[n * record + 2 + i] = pixel(n, i);
  }
  writeFileSync(file, bytes);
}

function tfrecordShard(file: string, first: number, count: number): void {
  const frames: Buffer[] = [];
  for (let i = first; i < first + count; i++) {
    const example = encodeExampleByHand({ 'image/encoded': { bytes: sampleJpeg(i) }, 'image/class/label': { int64: 1 + (i % 10) }, 'image/format': { bytes: Buffer.from('JPEG') } });
    frames.push(frameByHand(example));
  }
  writeFileSync(file, Buffer.concat(frames));
}

function idx(dir: string, prefix: string, count: number): void {
  const be = (...words: number[]) => Buffer.concat(words.map((w) => Buffer.from([w >>> 24, (w >>> 16) & 255, (w >>> 8) & 255, w & 255])));
  const images = Buffer.alloc(count * 784);
  for (let n = 0; n < count; n++) for (let i = 0; i < 784; i++) images[n * 784 + i] = (n % 10) * 25 + (pixel(n, i) & 7);
  writeFileSync(join(dir, `${prefix}-images-idx3-ubyte`), Buffer.concat([be(2051, count, 28, 28), images]));
  writeFileSync(join(dir, `${prefix}-labels-idx1-ubyte`), Buffer.concat([be(2049, count), Buffer.from(Array.from({ length: count }, (_, n) => n % 10))]));
}

const dirs = {
  cifar: join(out, 'cifar-100-binary'),
  train: join(out, 'imagenet', 'train'),
  validation: join(out, 'imagenet', 'validation'),
  wikitext: join(out, 'wikitext'),
  fashion: join(out, 'home', '.cache', 'sparse-ift', 'fashion-mnist'),
};
for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });
cifar(join(dirs.cifar, 'train.bin'), 48);
cifar(join(dirs.cifar, 'test.bin'), 16);
tfrecordShard(join(dirs.train, 'train-00000-of-00002'), 0, 32);
tfrecordShard(join(dirs.train, 'train-00001-of-00002'), 32, 32);
tfrecordShard(join(dirs.validation, 'validation-00000-of-00001'), 64, 8);
writeFileSync(
  join(dirs.wikitext, 'wiki.valid.tokens'),
  [' \n', ' = Robert Boulter = \n', ' \n', ' Robert Boulter is an English film , television and theatre actor . \n', ' \n', ' = = Career = = \n', ' He had a guest @-@ starring role on the television series The Bill in 2000 . \n'].join(''),
);
idx(dirs.fashion, 'train', 512);
idx(dirs.fashion, 't10k', 128);
