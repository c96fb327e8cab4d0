// train() tells a training forward pass which step it is for, also after a resume, so seeded per-batch
// augmentation (CIFAR crops/flips, ImageNet flips) is the same in a resumed run as in an uninterrupted one.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { train, type ForwardContext, type TrainConfig, type TrainableModel } from '../src/index.js';
import { syntheticData, tinyModel } from './helpers.js';

const data = { train: syntheticData(100, 12, 3, 1), test: syntheticData(30, 12, 3, 2) };
const config: TrainConfig = {
  seed: 3,
  epochs: 2,
  batchSize: 25, // 4 steps per epoch
  optimizer: { kind: 'sgd', lr: 0.05, momentum: 0.9, nesterov: false, weightDecay: 0, decay: 'all' },
  schedule: { kind: 'multistep', milestones: [], gamma: 1, lateByOne: false },
  mask: { method: 'static' },
};

function recording(steps: (number | undefined)[]): TrainableModel & { dispose(): void } {
  const model = tinyModel();
  return {
    ...model,
    logits(x: tf.Tensor, training: boolean, context?: ForwardContext): tf.Tensor2D {
      if (training) steps.push(context?.step);
      return model.logits(x, training);
    },
  };
}

describe('forward context', () => {
  it('gives the 0-based step of every training batch, continuing after a resume', async () => {
    const straight: (number | undefined)[] = [];
    await train(recording(straight), data, config);
    expect(straight).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);

    const checkpointFile = join(mkdtempSync(join(tmpdir(), 'sift-ctx-')), 'ckpt.bin');
    const before: (number | undefined)[] = [];
    await train(recording(before), data, { ...config, checkpointFile, stopAfterStep: 5 });
    const after: (number | undefined)[] = [];
    await train(recording(after), data, { ...config, checkpointFile, resume: true });
    expect(before).toEqual([0, 1, 2, 3, 4]);
    expect(after).toEqual([5, 6, 7]);
  });
});
