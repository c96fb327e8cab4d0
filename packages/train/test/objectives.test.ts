// The two objectives against float64 hand computations, evaluation over a set, and gradient accumulation
// in train(): micro-batches give the whole-batch run.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { classification, evaluate, languageModelling, train, type Batch, type TrainableModel, type TrainConfig } from '../src/index.js';
import { syntheticData, tinyModel } from './helpers.js';

/** A model whose logits are fixed numbers, whatever the inputs: `values` for one batch of `rows`, repeated for more rows. */
function fixedLogits(values: number[], shapeAfterBatch: number[], rows: number): TrainableModel {
  const per = values.length / rows;
  return { params: [], maskedParams: [], logits: (x) => tf.tensor(Array.from({ length: x.shape[0]! * per }, (_, i) => values[i % values.length]!), [x.shape[0]!, ...shapeAfterBatch]) };
}

/** −log softmax(row)[target] in float64. */
function nll(row: number[], target: number): number {
  const max = Math.max(...row);
  const logSum = max + Math.log(row.reduce((a, v) => a + Math.exp(v - max), 0));
  return logSum - row[target]!;
}

describe('classification', () => {
  const logits = [2, 0.5, -1, 0.1, 0.3, 0.2]; // two rows, three classes: argmax 0 and 1
  const batch: Batch = { inputs: new Float32Array(2), targets: Int32Array.from([0, 2]), shape: [2, 1] };
  const model = fixedLogits(logits, [3], 2);

  it('held-out sums: cross-entropy over the rows and top-1 hits', () => {
    const sums = tf.tidy(() => classification().metricSums(model, batch));
    expect(sums.loss.dataSync()[0]).toBeCloseTo(nll([2, 0.5, -1], 0) + nll([0.1, 0.3, 0.2], 2), 5);
    expect(sums['accuracy']!.dataSync()[0]).toBe(1); // row 0 right, row 1 wrong
  });

  it("training loss with label smoothing ε: (1 − ε)·NLL + ε·mean_k(−log p_k), PyTorch's definition", () => {
    const eps = 0.1;
    const rows = [[2, 0.5, -1], [0.1, 0.3, 0.2]];
    const smoothed = rows.map((row, r) => (1 - eps) * nll(row, [0, 2][r]!) + (eps / 3) * [0, 1, 2].reduce((a, k) => a + nll(row, k), 0));
    const loss = tf.tidy(() => classification({ labelSmoothing: eps }).loss(model, batch, { step: 0 }).dataSync()[0]!);
    expect(loss).toBeCloseTo((smoothed[0]! + smoothed[1]!) / 2, 5);
  });
});

describe('languageModelling', () => {
  // One row of two positions over a vocabulary of three.
  const logits = [1, 2, 3, 0.5, -0.5, 0];
  const batch: Batch = { inputs: Int32Array.from([7, 8]), targets: Int32Array.from([2, 0]), shape: [1, 2] };
  const model = fixedLogits(logits, [2, 3], 1);

  it('the mean next-token cross-entropy over every position', () => {
    const loss = tf.tidy(() => languageModelling().loss(model, batch, { step: 0 }).dataSync()[0]!);
    expect(loss).toBeCloseTo((nll([1, 2, 3], 2) + nll([0.5, -0.5, 0], 0)) / 2, 5);
  });

  it('evaluates loss and perplexity = exp(loss) over a stream of rows', async () => {
    const twoRows: Batch = { inputs: Int32Array.from([7, 8, 7, 8]), targets: Int32Array.from([2, 0, 2, 0]), shape: [2, 2] };
    const metrics = await evaluate(model, { batches: () => [batch, twoRows] }, { objective: languageModelling() });
    const expected = (nll([1, 2, 3], 2) + nll([0.5, -0.5, 0], 0)) / 2; // every row is the same
    expect(metrics.loss).toBeCloseTo(expected, 5);
    expect(metrics['perplexity']).toBeCloseTo(Math.exp(expected), 4);
  });
});

describe('gradient accumulation in train()', () => {
  it('micro-batches of 8 give the run of whole batches of 32 (SGD, static masks), to rounding', async () => {
    const data = { train: syntheticData(96, 12, 3, 1), test: syntheticData(30, 12, 3, 2) };
    const config: TrainConfig = {
      seed: 3,
      epochs: 2,
      batchSize: 32,
      optimizer: { kind: 'sgd', lr: 0.05, momentum: 0.9, nesterov: false, weightDecay: 0, decay: 'all' },
      schedule: { kind: 'constant' },
      mask: { method: 'static' },
    };
    const whole = tinyModel();
    const a = await train(whole, data, config);
    const accumulated = tinyModel();
    const b = await train(accumulated, data, { ...config, microBatchSize: 8 });
    expect(b.steps).toBe(a.steps);
    whole.params.forEach((p, i) => {
      const expected = p.variable.dataSync();
      accumulated.params[i]!.variable.dataSync().forEach((v, j) => expect(v).toBeCloseTo(expected[j]!, 5));
    });
    b.history.forEach((h, i) => expect(h.trainLoss).toBeCloseTo(a.history[i]!.trainLoss, 5));
    whole.dispose();
    accumulated.dispose();
  });
});
