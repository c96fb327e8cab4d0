/**
 * CIFAR-100 from the binary release (train.bin / test.bin) via `@sparse-ift/data-vision`. Images stay
 * raw in [0, 1]: the official augmentation and normalisation run per batch (model.ts), so every epoch
 * sees fresh crops and flips.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadCifar100, type ImageSet } from '@sparse-ift/data-vision';
import type { LabelledData } from '@sparse-ift/train';

export const DATA_CARD = 'datasets/cifar-100.md';

/** The error for a missing or unusable --data folder: what is expected and where the card is. */
export function missingDataError(dataDir: string | undefined, detail?: string): Error {
  return new Error(
    `cifar100-resnet18 needs the CIFAR-100 binary release: pass --data DIR where DIR (or DIR/cifar-100-binary) holds ` +
      `train.bin (50,000 records of 3,074 bytes = 153,700,000 bytes) and test.bin (10,000 records = 30,740,000 bytes)` +
      `${dataDir ? `; looked in ${dataDir}` : '; no --data was given'}` +
      `${detail ? ` (${detail})` : ''}. ` +
      `Get https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz and unpack it (tar xzf); see ${DATA_CARD}.`,
  );
}

function firstN(set: ImageSet, n: number): LabelledData {
  const count = n > 0 ? Math.min(n, set.count) : set.count;
  const per = set.height * set.width * set.channels;
  return { images: set.images.subarray(0, count * per), labels: set.labels.subarray(0, count), count, sampleShape: [set.height, set.width, set.channels] };
}

export function loadCifarData(dataDir: string | undefined, trainSubset: number, testSubset: number): { train: LabelledData; test: LabelledData; source: string } {
  if (!dataDir) throw missingDataError(dataDir);
  const candidates = [dataDir, join(dataDir, 'cifar-100-binary')];
  if (!candidates.some((d) => existsSync(join(d, 'train.bin')) && existsSync(join(d, 'test.bin')))) throw missingDataError(dataDir);
  let raw: ReturnType<typeof loadCifar100>;
  try {
    raw = loadCifar100(dataDir);
  } catch (error) {
    throw missingDataError(dataDir, (error as Error).message);
  }
  return { train: firstN(raw.train, trainSubset), test: firstN(raw.test, testSubset), source: raw.source };
}
