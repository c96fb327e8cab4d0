import { loadFashionMnist, type ImageSet } from '@sparse-ift/data-vision';
import type { LabelledData } from '@sparse-ift/train';
import type { Architecture } from './model.js';

/**
 * First `subset` images (0 = all), optionally 2×2 average-pooled to 14×14, standardised with the
 * training subset's mean and std, shaped for the architecture.
 */
export function prepare(set: ImageSet, subset: number, inputSize: 28 | 14, architecture: Architecture, stats?: { mean: number; std: number }): { data: LabelledData; stats: { mean: number; std: number } } {
  const count = subset > 0 ? Math.min(subset, set.count) : set.count;
  const side = inputSize;
  const pool = set.height / side;
  if (!Number.isInteger(pool) || set.width !== set.height || set.channels !== 1) {
    throw new Error(`expected 28×28×1 Fashion-MNIST images, got ${set.height}×${set.width}×${set.channels}`);
  }
  const images = new Float32Array(count * side * side);
  for (let n = 0; n < count; n++) {
    for (let r = 0; r < side; r++) {
      for (let c = 0; c < side; c++) {
        let sum = 0;
        for (let i = 0; i < pool; i++) for (let j = 0; j < pool; j++) sum += set.images[n * set.height * set.width + (r * pool + i) * set.width + c * pool + j]!;
        images[n * side * side + r * side + c] = sum / (pool * pool);
      }
    }
  }
  let mean = stats?.mean;
  let std = stats?.std;
  if (mean === undefined || std === undefined) {
    let s = 0;
    let s2 = 0;
    for (const v of images) {
      s += v;
      s2 += v * v;
    }
    mean = s / images.length;
    std = Math.sqrt(Math.max(1e-12, s2 / images.length - mean * mean));
  }
  for (let i = 0; i < images.length; i++) images[i] = (images[i]! - mean) / std;
  const sampleShape = architecture === 'mlp' ? [side * side] : [side, side, 1];
  return { data: { images, labels: set.labels.slice(0, count), count, sampleShape }, stats: { mean, std } };
}

/** The prepared splits, where they came from, and the training subset's pixel mean and std that standardised both. */
export async function loadData(
  dataDir: string | undefined,
  preset: { trainSubset: number; testSubset: number; inputSize: 28 | 14; architecture: Architecture },
): Promise<{ train: LabelledData; test: LabelledData; source: string; stats: { mean: number; std: number } }> {
  const raw = await loadFashionMnist({ dataDir, download: true });
  const train = prepare(raw.train, preset.trainSubset, preset.inputSize, preset.architecture);
  const test = prepare(raw.test, preset.testSubset, preset.inputSize, preset.architecture, train.stats);
  return { train: train.data, test: test.data, source: raw.source, stats: train.stats };
}
