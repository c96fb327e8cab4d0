import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { MaskUpdateSchedule, NonFiniteLossError, RigLUpdater, SGD, sparseTrainStep, type MaskedParam } from '../src/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('sparseTrainStep with a non-finite loss', () => {
  it('throws NonFiniteLossError before touching weights, momentum or masks', () => {
    const w = tf.variable(tf.tensor2d([[1, 0], [0, 2]]), true, 'nan/kernel');
    const mask = tf.variable(tf.tensor2d([[1, 0], [0, 1]]), false, 'nan/mask');
    const maskedParams: MaskedParam[] = [{ name: 'nan/kernel', layerName: 'nan', role: 'wide-weight', sparsity: 0.5, weight: w, mask }];
    const optimizer = new SGD([w], { learningRate: 0.1, momentum: 0.9 });
    // every step is an update step (ΔT = 1), so a NaN would otherwise reach RigL's ranking too
    const updater = new RigLUpdater({ schedule: new MaskUpdateSchedule({ totalSteps: 100, frequency: 1 }) });
    const lossFn = () => tf.mul(tf.sum(w), tf.scalar(Number.NaN)) as tf.Scalar;
    expect(() => sparseTrainStep({ params: [w], maskedParams, lossFn, optimizer, updater })).toThrow(NonFiniteLossError);
    expect(Array.from(w.dataSync())).toEqual([1, 0, 0, 2]);
    expect(Array.from(mask.dataSync())).toEqual([1, 0, 0, 1]);
    for (const slot of optimizer.slotsFor(w)) expect(Array.from(slot.dataSync()).every((v) => v === 0)).toBe(true);
  });
});
