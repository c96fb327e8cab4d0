// train() reading a BatchSource (async batches per epoch, as streamed shards are) instead of an in-memory
// set: the same batches give exactly the in-memory run, and stop + resume equals the uninterrupted run.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { epochPermutation, train, type Batch, type BatchSource, type LabelledData, type TrainConfig } from '../src/index.js';
import { syntheticData, tinyModel } from './helpers.js';

const data = { train: syntheticData(200, 12, 3, 1), test: syntheticData(90, 12, 3, 2) };

const config: TrainConfig = {
  seed: 3,
  epochs: 3,
  batchSize: 32, // 7 batches per epoch, the last one partial
  optimizer: { kind: 'sgd', lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 5e-4, decay: 'all' },
  schedule: { kind: 'multistep', milestones: [1], gamma: 0.2, lateByOne: true },
  mask: { method: 'rigl', frequency: 3 },
};

/** The set as a source: the (seed, epoch) order for training, file order for evaluation; counts reads. */
function source(set: LabelledData, batchSize: number, shuffle: boolean, reads: number[] = []): BatchSource {
  const size = set.sampleShape.reduce((a, b) => a * b, 1);
  return {
    count: set.count,
    batchesPerEpoch: Math.ceil(set.count / batchSize),
    async *batches(epoch: number): AsyncGenerator<Batch> {
      const order = shuffle ? epochPermutation(set.count, config.seed, epoch) : Int32Array.from({ length: set.count }, (_, i) => i);
      for (let from = 0; from < set.count; from += batchSize) {
        const idx = order.subarray(from, Math.min(set.count, from + batchSize));
        const inputs = new Float32Array(idx.length * size);
        idx.forEach((src, i) => inputs.set(set.images.subarray(src * size, (src + 1) * size), i * size));
        reads.push(epoch);
        await Promise.resolve(); // a real source awaits its decoder
        yield { inputs, targets: Int32Array.from(idx, (src) => set.labels[src]!), shape: [idx.length, ...set.sampleShape] };
      }
    },
  };
}

const weights = (model: ReturnType<typeof tinyModel>): number[][] => model.params.map((p) => Array.from(p.variable.dataSync(), (v) => v + 0));

describe('train() with a batch source', () => {
  it('the in-memory batches as a source give exactly the in-memory run', async () => {
    const inMemory = tinyModel();
    const a = await train(inMemory, data, config);
    const streamed = tinyModel();
    const b = await train(streamed, { train: source(data.train, 32, true), test: source(data.test, 40, false) }, config);
    expect(b.steps).toBe(21);
    expect(weights(streamed)).toEqual(weights(inMemory));
    // Evaluation batches differ (40 against 1000), so losses agree to rounding only; accuracies exactly.
    expect(b.history.map((h) => h.test.accuracy)).toEqual(a.history.map((h) => h.test.accuracy));
    b.history.forEach((h, i) => {
      expect(h.trainLoss).toBe(a.history[i]!.trainLoss);
      expect(h.test.loss).toBeCloseTo(a.history[i]!.test.loss, 5);
    });
  });

  it('stop mid-epoch + resume = uninterrupted, skipping the batches already trained on', async () => {
    const full = tinyModel();
    const straight = await train(full, { train: source(data.train, 32, true), test: source(data.test, 40, false) }, config);
    const checkpointFile = join(mkdtempSync(join(tmpdir(), 'sift-source-')), 'ckpt.bin');
    const first = tinyModel();
    const part = await train(first, { train: source(data.train, 32, true), test: source(data.test, 40, false) }, { ...config, checkpointFile, stopAfterStep: 10 });
    expect(part.stoppedEarly).toBe(true);
    const reads: number[] = [];
    const second = tinyModel(12, 16, 3, 0.5, 123);
    const resumed = await train(second, { train: source(data.train, 32, true, reads), test: source(data.test, 40, false) }, { ...config, checkpointFile, resume: true });
    expect(resumed.resumedFromStep).toBe(10);
    expect(weights(second)).toEqual(weights(full));
    expect(resumed.history).toEqual(straight.history);
    // Epoch 2 (index 1) is read from its start (7 batches, the first 3 skipped), then epoch 3 whole.
    expect(reads).toEqual([1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2]);
  });

  it('refuses a source that runs out before batchesPerEpoch', async () => {
    const short: BatchSource = { ...source(data.train, 32, true), batchesPerEpoch: 9 };
    await expect(train(tinyModel(), { train: short, test: source(data.test, 40, false) }, config)).rejects.toThrow(/gave 7 batches in epoch 1, fewer than its batchesPerEpoch \(9\)/);
  });
});
