// A tfjs-layers model with BatchNormalization and a masked dense layer: stopping at step k and resuming
// must end with exactly the weights, masks AND BatchNorm moving statistics of an uninterrupted run.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { MaskedDense } from '@sparse-ift/core';
import { layersTrainable, readCheckpoint, train, type TrainConfig } from '../src/index.js';
import { syntheticData } from './helpers.js';

const data = { train: syntheticData(120, 12, 3, 1), test: syntheticData(60, 12, 3, 2) };

/** Same layer names in every build (checkpoints key on them); `seed` sets the initial weights. */
function bnNet(seed: number): tfl.LayersModel {
  const input = tfl.input({ shape: [12] });
  const h = new MaskedDense({ name: 'fc1', units: 16, sparsity: 0.5, role: 'wide-weight', maskSeed: seed, kernelInitializer: tfl.initializers.glorotUniform({ seed }) }).apply(input) as tfl.SymbolicTensor;
  const bn = tfl.layers.batchNormalization({ name: 'bn1', momentum: 0.9 }).apply(h) as tfl.SymbolicTensor;
  const a = tfl.layers.activation({ name: 'relu1', activation: 'relu' }).apply(bn) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ name: 'head', units: 3, kernelInitializer: tfl.initializers.glorotUniform({ seed }) }).apply(a) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out });
}

const trainable = (model: tfl.LayersModel) => layersTrainable(model, (x, training) => model.apply(x, { training }) as tf.Tensor2D);

function config(overrides: Partial<TrainConfig> = {}): TrainConfig {
  return {
    seed: 5,
    epochs: 2,
    batchSize: 32, // 4 steps per epoch, the last one partial
    optimizer: { kind: 'sgd', lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 5e-4, decay: 'all' },
    schedule: { kind: 'multistep', milestones: [1], gamma: 0.2, lateByOne: true },
    mask: { method: 'rigl', frequency: 2 },
    ...overrides,
  };
}

/** Every weight of the model by name, −0 as +0 (a masked weight is 0 × its init). */
function state(model: tfl.LayersModel): Record<string, number[]> {
  return Object.fromEntries(model.weights.map((w) => [w.originalName, Array.from(w.read().dataSync(), (v) => v + 0)]));
}

describe('train() with a tfjs-layers BatchNorm model', () => {
  it('layersTrainable lists BN moving statistics as buffers, masks once as masks', () => {
    const model = bnNet(1);
    const t = trainable(model);
    expect(t.params.map((p) => p.name).sort()).toEqual(['bn1/beta', 'bn1/gamma', 'fc1/bias', 'fc1/kernel', 'head/bias', 'head/kernel']);
    expect(t.maskedParams.map((mp) => mp.name)).toEqual(['fc1/kernel']);
    expect(t.buffers!.map((b) => b.name).sort()).toEqual(['bn1/moving_mean', 'bn1/moving_variance']);
    model.dispose();
  });

  it('stop at step 3 + resume = the uninterrupted run: weights, masks and moving mean/variance', async () => {
    const reference = bnNet(1);
    const full = await train(trainable(reference), data, config());
    const expected = state(reference);
    // Training moved the statistics off their initial 0 / 1 (else the test would prove nothing).
    expect(expected['bn1/moving_mean']!.some((v) => v !== 0)).toBe(true);
    expect(expected['bn1/moving_variance']!.some((v) => v !== 1)).toBe(true);

    const checkpointFile = join(mkdtempSync(join(tmpdir(), 'sift-bn-resume-')), 'ckpt.bin');
    const first = bnNet(1);
    const part = await train(trainable(first), data, config({ checkpointFile, stopAfterStep: 3 }));
    expect(part.stoppedEarly).toBe(true);
    const saved = readCheckpoint<unknown>(checkpointFile);
    // The statistics are stored once each; the mask only under mask/.
    expect([...saved.tensors.keys()].filter((k) => k.startsWith('buffer/')).sort()).toEqual(['buffer/bn1/moving_mean', 'buffer/bn1/moving_variance']);
    expect([...saved.tensors.keys()].filter((k) => k.includes('fc1/mask'))).toEqual([]);
    first.dispose();

    // A fresh process: other initial weights, other mask, statistics back at 0 / 1. All must come from the checkpoint.
    const second = bnNet(99);
    const resumed = await train(trainable(second), data, config({ checkpointFile, resume: true }));
    expect(resumed.resumedFromStep).toBe(3);
    expect(resumed.steps).toBe(full.steps);
    expect(state(second)).toEqual(expected);
    expect(resumed.history).toEqual(full.history);
    reference.dispose();
    second.dispose();
  });
});
