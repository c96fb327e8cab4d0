import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AdamW,
  FiniteGuard,
  MaskUpdateSchedule,
  NonFiniteLossError,
  RigLUpdater,
  SGD,
  StaticUpdater,
  sparseTrainStep,
  sparseTrainStepOnDevice,
  type MaskedParam,
  type SparseOptimizer,
} from '../src/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

let id = 0;
function problem() {
  id++;
  const w = tf.variable(tf.tensor2d([[0.5, -1, 0, 2], [0, 0.25, -0.5, 1]]), true, `dev-w${id}`);
  const b = tf.variable(tf.tensor1d([0.1, -0.2, 0.3, 0]), true, `dev-b${id}`);
  const mask = tf.variable(tf.tensor2d([[1, 1, 0, 1], [0, 1, 0, 0]]), false, `dev-m${id}`);
  const maskedParams: MaskedParam[] = [{ name: 'w', layerName: 'l', role: 'wide-weight', sparsity: 0.5, weight: w, mask }];
  const x = tf.tensor2d([[1, 2], [3, -1], [0.5, 0.5]]);
  /** Loss of step t; NaN from step `badFrom` on (0-based). */
  const lossAt = (t: number, badFrom = Infinity) => () =>
    tf.mul(tf.mean(tf.square(tf.add(tf.matMul(x, tf.mul(w, mask)), b))), t >= badFrom ? Number.NaN : 1) as tf.Scalar;
  return { w, b, mask, maskedParams, lossAt };
}

const values = (...vs: tf.Tensor[]) => vs.map((v) => Array.from(v.dataSync()));

describe('sparseTrainStepOnDevice (the loss checked on the device)', () => {
  for (const kind of ['sgd', 'adamw'] as const) {
    it(`${kind}: trains exactly as sparseTrainStep, clipping included, and returns the loss and norm as tensors`, () => {
      const make = (p: ReturnType<typeof problem>): SparseOptimizer =>
        kind === 'sgd' ? new SGD([p.w, p.b], { learningRate: 0.1, momentum: 0.9, weightDecay: 1e-2 }) : new AdamW([p.w, p.b], { learningRate: 0.05 });
      const sync = problem();
      const device = problem();
      const so = make(sync);
      const dopt = make(device);
      const updaterS = new RigLUpdater({ schedule: new MaskUpdateSchedule({ totalSteps: 20, frequency: 3, dropFraction: 0.5 }) });
      const updaterD = new RigLUpdater({ schedule: new MaskUpdateSchedule({ totalSteps: 20, frequency: 3, dropFraction: 0.5 }) });
      const guard = new FiniteGuard();
      for (let t = 0; t < 7; t++) {
        const a = sparseTrainStep({ params: [sync.w, sync.b], maskedParams: sync.maskedParams, lossFn: sync.lossAt(t), optimizer: so, updater: updaterS, clipNorm: 0.5 });
        const d = sparseTrainStepOnDevice({ params: [device.w, device.b], maskedParams: device.maskedParams, lossFn: device.lossAt(t), optimizer: dopt, updater: updaterD, clipNorm: 0.5, guard });
        expect(d.loss.dataSync()[0]).toBe(a.loss);
        expect(d.gradNorm!.dataSync()[0]).toBe(a.gradNorm);
        expect(d.maskUpdate).toEqual(a.maskUpdate);
        d.loss.dispose();
        d.gradNorm!.dispose();
      }
      expect(values(device.w, device.b, device.mask)).toEqual(values(sync.w, sync.b, sync.mask));
      expect(values(...dopt.slotsFor(device.w))).toEqual(values(...so.slotsFor(sync.w)));
    });
  }

  it('from the first non-finite loss on, no weight or slot changes, though later losses are finite', async () => {
    const ref = problem();
    const p = problem();
    const refOpt = new AdamW([ref.w, ref.b], { learningRate: 0.05 });
    const opt = new AdamW([p.w, p.b], { learningRate: 0.05 });
    const guard = new FiniteGuard();
    const losses: tf.Scalar[] = [];
    for (let t = 0; t < 6; t++) {
      // step 2 alone is NaN: steps 3..5 have finite losses but must not be applied either
      const lossFn = t === 2 ? p.lossAt(t, 2) : p.lossAt(t);
      losses.push(sparseTrainStepOnDevice({ params: [p.w, p.b], maskedParams: p.maskedParams, lossFn, optimizer: opt, updater: new StaticUpdater(), guard }).loss);
      if (t < 2) sparseTrainStep({ params: [ref.w, ref.b], maskedParams: ref.maskedParams, lossFn: ref.lossAt(t), optimizer: refOpt, updater: new StaticUpdater() });
    }
    const read = await tf.stack(losses).data();
    expect(Number.isNaN(read[2])).toBe(true);
    expect(Number.isFinite(read[3])).toBe(true);
    expect(await guard.isHealthy()).toBe(false);
    expect(() => guard.assertHealthy()).toThrow(NonFiniteLossError);
    expect(values(p.w, p.b)).toEqual(values(ref.w, ref.b));
    expect(values(...opt.slotsFor(p.w), ...opt.slotsFor(p.b))).toEqual(values(...refOpt.slotsFor(ref.w), ...refOpt.slotsFor(ref.b)));
  });

  it('a mask update after a non-finite loss throws before any mask is ranked', () => {
    const p = problem();
    const opt = new SGD([p.w, p.b], { learningRate: 0.1 });
    const updater = new RigLUpdater({ schedule: new MaskUpdateSchedule({ totalSteps: 20, frequency: 2, dropFraction: 0.5 }) });
    const guard = new FiniteGuard();
    const step = (t: number) => sparseTrainStepOnDevice({ params: [p.w, p.b], maskedParams: p.maskedParams, lossFn: p.lossAt(t, 0), optimizer: opt, updater, guard }).loss.dispose();
    step(0); // NaN, not an update step: nothing is read
    const before = values(p.w, p.mask);
    expect(() => step(1)).toThrow(NonFiniteLossError); // update step 2 reads the guard first
    expect(values(p.w, p.mask)).toEqual(before);
    guard.reset();
    expect(() => guard.assertHealthy()).not.toThrow();
  });
});
