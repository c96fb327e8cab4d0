// The mask updaters' device path (tensor ops + core's mask-selection kernels) against the host path
// (dropAndGrow on copies in JavaScript): the same masks, weights, optimiser slots, reports and SET draws.
// Run on whatever backend is current: cpu here, webgpu in @sparse-ift/backend's tests (same helper).
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { MaskUpdateSchedule, RigLUpdater, Rng, SETUpdater, SGD, sparseTrainStep } from '../src/index.js';
import { compareHostAndDevice } from './helpers/mask-update-parity.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('mask updates on the device equal the host path (cpu)', () => {
  for (const method of ['rigl', 'set'] as const) {
    it(`${method}: masks, weights, momentum, reports over several updates with ties and zero gradients`, () => {
      compareHostAndDevice(method, { seed: 11, shapes: [[7, 5], [3, 3, 4, 6], [64], [1, 1]], updates: 4 });
    });
  }

  it('a NaN weight among the ranked ones throws on both paths, before anything changes', () => {
    for (const placement of ['host', 'device'] as const) {
      const w = tf.variable(tf.tensor1d([1, Number.NaN, 3, 4, 5, 6]), true);
      const mask = tf.variable(tf.tensor1d([1, 1, 1, 1, 0, 0]), false);
      const params = [{ name: 'p', layerName: 'p', role: 'wide-weight' as const, sparsity: 1 / 3, weight: w, mask }];
      const updater = new RigLUpdater({ schedule: new MaskUpdateSchedule({ totalSteps: 100, frequency: 1, dropFraction: 0.5 }), placement });
      const denseGrads = new Map([['p', tf.tensor1d([1, 2, 3, 4, 5, 6])]]);
      expect(() => updater.step(params, { denseGrads }), placement).toThrow(/NaN/);
      expect(Array.from(mask.dataSync())).toEqual([1, 1, 1, 1, 0, 0]);
      w.dispose();
      mask.dispose();
    }
  });

  it('sparseTrainStep with RigL trains the same on both placements', () => {
    const run = (placement: 'host' | 'device') => {
      const w = tf.variable(tf.tensor2d([[0.5, -1, 0, 2], [0, 0.25, -0.5, 1]]), true, `w-${placement}`);
      const mask = tf.variable(tf.tensor2d([[1, 1, 0, 1], [0, 1, 0, 0]]), false, `m-${placement}`);
      const maskedParams = [{ name: 'w', layerName: 'l', role: 'wide-weight' as const, sparsity: 0.5, weight: w, mask }];
      const optimizer = new SGD([w], { learningRate: 0.1, momentum: 0.9 });
      const updater = new RigLUpdater({ schedule: new MaskUpdateSchedule({ totalSteps: 20, frequency: 2, dropFraction: 0.5 }), placement });
      const x = tf.tensor2d([[1, 2], [3, -1], [0.5, 0.5]]);
      const lossFn = () => tf.mean(tf.square(tf.matMul(x, tf.mul(w, mask)))) as tf.Scalar;
      const losses = Array.from({ length: 8 }, () => sparseTrainStep({ params: [w], maskedParams, lossFn, optimizer, updater }).loss);
      return { losses, w: Array.from(w.dataSync()), mask: Array.from(mask.dataSync()) };
    };
    expect(run('device')).toEqual(run('host'));
  });

  it('SET keeps its generator in step: a checkpointed state resumes the same draws', () => {
    const schedule = () => new MaskUpdateSchedule({ totalSteps: 100, frequency: 1, dropFraction: 0.5 });
    const a = new SETUpdater({ schedule: schedule(), rng: Rng.fromSeed(4) });
    const b = new SETUpdater({ schedule: schedule(), rng: Rng.fromSeed(4), placement: 'host' });
    const make = () => ({
      name: 'p', layerName: 'p', role: 'wide-weight' as const, sparsity: 0.75,
      weight: tf.variable(tf.tensor1d(Array.from({ length: 40 }, (_, i) => (i % 7) - 3)), true),
      mask: tf.variable(tf.tensor1d(Array.from({ length: 40 }, (_, i) => (i % 4 === 0 ? 1 : 0))), false),
    });
    const pa = make();
    const pb = make();
    a.step([pa]);
    b.step([pb]);
    expect(a.state().rng).toEqual(b.state().rng);
    expect(Array.from(pa.mask.dataSync())).toEqual(Array.from(pb.mask.dataSync()));
  });
});
