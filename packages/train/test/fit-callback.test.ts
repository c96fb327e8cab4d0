// core's SparseTraining callback inside tf.js model.fit / fitDataset must train exactly as train() does:
// same start, same batches, same optimizer equations (tf.train.momentum ≡ PyTorch SGD with momentum, no
// dampening) → the same masks and weights, bit for bit, for static, SET and RigL.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, describe, expect, it } from 'vitest';
import { MaskedDense, SparseTraining, type MaskUpdateReport, type UpdaterKind } from '@sparse-ift/core';
import { crossEntropy, epochPermutation, layersTrainable, readCheckpoint, train, type LabelledData, type TrainConfig } from '../src/index.js';
import { syntheticData } from './helpers.js';

const SEED = 3;
const BATCH = 8;
const data = syntheticData(64, 12, 3, 1); // 8 batches per epoch
const work = mkdtempSync(join(tmpdir(), 'sift-fit-callback-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Two masked layers and a dense head; the same weights and layer masks for the same build. */
function net(): tfl.LayersModel {
  const init = (seed: number) => tfl.initializers.glorotUniform({ seed });
  const input = tfl.input({ shape: [12] });
  let h = new MaskedDense({ name: 'fc1', units: 16, sparsity: 0.5, role: 'wide-weight', activation: 'relu', maskSeed: 1, kernelInitializer: init(1) }).apply(input) as tfl.SymbolicTensor;
  h = new MaskedDense({ name: 'fc2', units: 16, sparsity: 0.75, role: 'wide-weight', activation: 'relu', maskSeed: 2, kernelInitializer: init(2) }).apply(h) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ name: 'head', units: 3, kernelInitializer: init(3) }).apply(h) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out });
}

const trainable = (model: tfl.LayersModel) => layersTrainable(model, (x, training) => model.apply(x, { training }) as tf.Tensor2D);

function config(method: UpdaterKind, epochs: number, overrides: Partial<TrainConfig> = {}): TrainConfig {
  return {
    seed: SEED,
    epochs,
    batchSize: BATCH,
    optimizer: { kind: 'sgd', lr: 0.1, momentum: 0.9, nesterov: false, weightDecay: 0, decay: 'all' },
    schedule: { kind: 'constant' },
    mask: { method, frequency: 2 },
    ...overrides,
  };
}

/** Every weight by name, −0 as +0 (a masked weight is 0 × its init, of either sign). */
function state(model: tfl.LayersModel): Record<string, number[]> {
  return Object.fromEntries(model.weights.map((w) => [w.originalName, Array.from(w.read().dataSync(), (v) => v + 0)]));
}

/**
 * A model in the state train() starts from, whatever train() does to masks at its start: read from
 * train()'s own checkpoint after one step at learning rate 0 with static masks.
 */
async function atTrainStart(): Promise<tfl.LayersModel> {
  const probe = net();
  const checkpointFile = join(work, `start-${Math.random().toString(36).slice(2)}.bin`);
  const lr0 = config('static', 1).optimizer;
  await train(trainable(probe), { train: data, test: data }, config('static', 1, { optimizer: { ...lr0, lr: 0 }, checkpointFile, stopAfterStep: 1 }));
  probe.dispose();
  const saved = readCheckpoint<unknown>(checkpointFile).tensors;
  const model = net();
  for (const w of model.weights) {
    const stored = saved.get(`param/${w.originalName}`) ?? saved.get(`mask/${w.originalName.replace(/\/mask$/, '/kernel')}`);
    if (!stored) throw new Error(`train()'s checkpoint lacks ${w.originalName}`);
    w.write(tf.tensor(stored.data, w.shape));
  }
  return model;
}

/** train()'s batches of one epoch, as tensors: its (seed, epoch) permutation, in order. */
function epochTensors(set: LabelledData, epoch: number): { x: tf.Tensor; y: tf.Tensor } {
  const order = epochPermutation(set.count, SEED, epoch);
  const x = new Float32Array(set.images.length);
  const labels = new Int32Array(set.count);
  order.forEach((src, i) => {
    x.set(set.images.subarray(src * 12, (src + 1) * 12), i * 12);
    labels[i] = set.labels[src]!;
  });
  return { x: tf.tensor2d(x, [set.count, 12]), y: tf.oneHot(tf.tensor1d(labels, 'int32'), 3) };
}

/** train()'s loss on fit's one-hot targets. */
const loss = (yTrue: tf.Tensor, yPred: tf.Tensor) => crossEntropy(yPred as tf.Tensor2D, tf.argMax(yTrue, 1) as tf.Tensor1D);

async function viaTrain(method: UpdaterKind, epochs: number): Promise<Record<string, number[]>> {
  const model = net();
  await train(trainable(model), { train: data, test: data }, config(method, epochs));
  const result = state(model);
  model.dispose();
  return result;
}

describe('SparseTraining callback = train()', () => {
  for (const method of ['static', 'set', 'rigl'] as const) {
    it(`model.fit, ${method}, one epoch: the same masks and weights as train()`, async () => {
      const expected = await viaTrain(method, 1);
      const model = await atTrainStart();
      const start = state(model);
      model.compile({ optimizer: tf.train.momentum(0.1, 0.9), loss });
      const updates: MaskUpdateReport[] = [];
      const callback = new SparseTraining({ method, frequency: 2, seed: SEED, onMaskUpdate: (r) => updates.push(r) });
      const { x, y } = epochTensors(data, 0);
      await model.fit(x, y, { epochs: 1, batchSize: BATCH, shuffle: false, verbose: 0, callbacks: [callback] });
      // 8 steps, end = int(0.75 · 8) = 6: updates at t = 2 and 4 (none for static).
      expect(updates.map((u) => u.step)).toEqual(method === 'static' ? [] : [2, 4]);
      expect(callback.updater!.stepCount).toBe(8);
      const got = state(model);
      if (method !== 'static') expect(got['fc1/mask']).not.toEqual(start['fc1/mask']); // the masks moved
      expect(got).toEqual(expected);
      // fit's optimizer is the model's own again.
      expect(model.optimizer.getClassName()).toBe('Momentum');
      tf.dispose([x, y]);
      model.dispose();
    });
  }

  it('model.fitDataset, RigL, two epochs (steps from batchesPerEpoch): the same masks and weights as train()', async () => {
    const expected = await viaTrain('rigl', 2);
    const model = await atTrainStart();
    model.compile({ optimizer: tf.train.momentum(0.1, 0.9), loss });
    const epochs = [epochTensors(data, 0), epochTensors(data, 1)];
    // The smallest object fitDataset accepts: iterator() over every batch of both epochs, in train()'s order.
    const dataset = {
      async iterator() {
        let i = 0;
        return {
          async next() {
            if (i >= 16) return { done: true, value: null };
            const { x, y } = epochs[Math.floor(i / 8)]!;
            const from = (i++ % 8) * BATCH;
            return { done: false, value: { xs: tf.slice(x, from, BATCH), ys: tf.slice(y, from, BATCH) } };
          },
        };
      },
    };
    const updates: number[] = [];
    const callback = new SparseTraining({ method: 'rigl', frequency: 2, onMaskUpdate: (r) => updates.push(r.step) });
    await model.fitDataset(dataset as unknown as Parameters<tfl.LayersModel['fitDataset']>[0], { epochs: 2, batchesPerEpoch: 8, verbose: 0, callbacks: [callback] });
    expect(updates).toEqual([2, 4, 6, 8, 10]); // 16 steps, end 12
    expect(state(model)).toEqual(expected);
    tf.dispose(epochs.flatMap((e) => [e.x, e.y]));
    model.dispose();
  });
});
