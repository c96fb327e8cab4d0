// CIFAR-100, binary version (https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz):
// train.bin (50000 records) and test.bin (10000), each record = 1 coarse label byte, 1 fine label byte,
// then 3072 pixel bytes: the 1024 red, then green, then blue values of a 32×32 image, rows first.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cifarAugmentInto } from './augment.js';
import { DataError } from './errors.js';
import type { ImageSet } from './idx.js';
import { SEED_STREAMS, rngFor } from '@sparse-ift/core/rng';
import type { VisionBatch } from './loader.js';
import { notRegularFileReason, type BadRecord } from '@sparse-ift/files';

export const CIFAR_RECORD_BYTES = 2 + 3072;
export const CIFAR100_FINE_CLASSES = 100;
export const CIFAR100_COARSE_CLASSES = 20;

export interface Cifar100Set extends ImageSet {
  /** The 20 super-class labels; `labels` holds the 100 fine labels the paper trains on. */
  coarseLabels: Int32Array;
}

/**
 * Reads a CIFAR-100 binary file into NHWC floats in [0,1]. A size that is not a whole number of records, or
 * a label out of range, throws naming the file and record; with `skipBad` bad-label records are dropped and
 * listed in `bad` instead (a partial last record is always listed).
 */
export function readCifar100Bin(file: string, opts: { skipBad?: boolean; bad?: BadRecord[] } = {}): Cifar100Set {
  const unreadable = notRegularFileReason(file);
  if (unreadable === 'it does not exist') throw new Error(`CIFAR-100 file not found: ${file}`);
  if (unreadable !== undefined) throw new Error(`CIFAR-100 file ${file} cannot be read: ${unreadable}`);
  const buf = readFileSync(file);
  const whole = Math.floor(buf.length / CIFAR_RECORD_BYTES);
  if (whole === 0) {
    // An empty split trains on nothing or evaluates to NaN: refuse it, in the loader and in verify alike.
    const e = new DataError(file, 0, `holds no whole record (${buf.length} bytes; one record is ${CIFAR_RECORD_BYTES})`);
    if (!opts.skipBad) throw e;
    opts.bad?.push({ file, record: 0, reason: e.reason });
  }
  const tail = buf.length - whole * CIFAR_RECORD_BYTES;
  if (tail !== 0) {
    const e = new DataError(file, whole, `truncated: ${buf.length} bytes is ${whole} records of ${CIFAR_RECORD_BYTES} plus ${tail} stray bytes`);
    if (!opts.skipBad) throw e;
    opts.bad?.push({ file, record: whole, reason: e.reason });
  }
  const keep: number[] = [];
  for (let r = 0; r < whole; r++) {
    const coarse = buf[r * CIFAR_RECORD_BYTES]!;
    const fine = buf[r * CIFAR_RECORD_BYTES + 1]!;
    if (fine >= CIFAR100_FINE_CLASSES || coarse >= CIFAR100_COARSE_CLASSES) {
      const e = new DataError(file, r, `label out of range: coarse ${coarse} (must be < 20), fine ${fine} (must be < 100)`);
      if (!opts.skipBad) throw e;
      opts.bad?.push({ file, record: r, reason: e.reason });
      continue;
    }
    keep.push(r);
  }
  const n = keep.length;
  const images = new Float32Array(n * 3072);
  const labels = new Int32Array(n);
  const coarseLabels = new Int32Array(n);
  keep.forEach((r, i) => {
    const base = r * CIFAR_RECORD_BYTES;
    coarseLabels[i] = buf[base]!;
    labels[i] = buf[base + 1]!;
    // Planar CHW bytes → interleaved HWC floats.
    for (let p = 0; p < 1024; p++) {
      for (let c = 0; c < 3; c++) images[i * 3072 + p * 3 + c] = buf[base + 2 + c * 1024 + p]! / 255;
    }
  });
  return { images, labels, coarseLabels, count: n, height: 32, width: 32, channels: 3, numClasses: CIFAR100_FINE_CLASSES };
}

/** Finds train.bin/test.bin in `dir` or `dir/cifar-100-binary`, as the archive unpacks. */
export function findCifar100Dir(dir: string): string {
  for (const d of [dir, join(dir, 'cifar-100-binary')]) {
    if (existsSync(join(d, 'train.bin')) && existsSync(join(d, 'test.bin'))) return d;
  }
  throw new Error(
    `CIFAR-100 binary files not found in ${dir} (looked for train.bin and test.bin there and in ${join(dir, 'cifar-100-binary')}). ` +
      `Download https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz and unpack it with tar xzf.`,
  );
}

function readNames(file: string): string[] | undefined {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').map((s) => s.trim()).filter(Boolean) : undefined;
}

export function loadCifar100(dataDir: string): {
  train: Cifar100Set;
  test: Cifar100Set;
  fineLabelNames?: string[];
  coarseLabelNames?: string[];
  source: string;
} {
  const dir = findCifar100Dir(dataDir);
  return {
    train: readCifar100Bin(join(dir, 'train.bin')),
    test: readCifar100Bin(join(dir, 'test.bin')),
    fineLabelNames: readNames(join(dir, 'fine_label_names.txt')),
    coarseLabelNames: readNames(join(dir, 'coarse_label_names.txt')),
    source: dir,
  };
}

export interface CifarBatchOptions {
  batchSize: number;
  /** true: shuffle + RandomCrop(32, pad 4) + flip + normalize; false: in order, normalize only (docs/recipes.md#cifar-100-resnet-18). */
  train: boolean;
  seed?: number;
  epoch?: number;
  rank?: number;
  worldSize?: number;
  /** Default: same as `train`. */
  dropRemainder?: boolean;
  mean?: readonly number[];
  std?: readonly number[];
}

/** Batches of an in-memory RGB image set (CIFAR-100 by default), NHWC normalized floats; `batchToTensors` takes them. */
export function* cifarBatches(
  set: ImageSet,
  opts: CifarBatchOptions,
): Generator<VisionBatch> {
  const { batchSize, train, seed = 0, epoch = 0, rank = 0, worldSize = 1 } = opts;
  if (set.channels !== 3) throw new Error(`cifarBatches needs 3-channel images, got ${set.channels}`);
  if (set.height !== set.width) throw new Error(`cifarBatches needs square images, got ${set.height}×${set.width}`);
  const order = Array.from({ length: set.count }, (_, i) => i);
  if (train) rngFor(seed, SEED_STREAMS.dataOrder, epoch).shuffle(order);
  const mine = order.filter((_, i) => i % worldSize === rank);
  const augment = rngFor(seed, SEED_STREAMS.augment, epoch, rank);
  const per = set.height * set.width * set.channels;
  const dropRemainder = opts.dropRemainder ?? train;
  for (let start = 0; start < mine.length; start += batchSize) {
    const n = Math.min(batchSize, mine.length - start);
    if (n < batchSize && dropRemainder) return;
    const images = new Float32Array(n * per);
    const labels = new Int32Array(n);
    for (let b = 0; b < n; b++) {
      const idx = mine[start + b]!;
      cifarAugmentInto(set.images, idx * per, set.height, set.channels, augment, images, b * per, {
        train,
        mean: opts.mean,
        std: opts.std,
      });
      labels[b] = set.labels[idx]!;
    }
    yield { images, labels, size: n, height: set.height, width: set.width, channels: 3 };
  }
}
