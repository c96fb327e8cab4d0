import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initMasks } from '../src/mask-init.js';
import type { MaskedParam } from '../src/masked-param.js';
import { AdamW, SGD, type SparseOptimizer } from '../src/optimizers.js';
import { Rng } from '../src/rng.js';
import { MaskUpdateSchedule } from '../src/schedule.js';
import { sparseTrainStep } from '../src/train-step.js';
import { RigLUpdater, SETUpdater, StaticUpdater, type MaskUpdater } from '../src/updaters.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/**
 * A linear regression y ≈ x·W + b with W [6, 4] masked at s = 0.5, on a fixed random batch. The
 * forward uses W ⊙ mask as the sparse layers do ('masked-kernel'), or W itself as the official code.
 */
function problem(seed: number, maskInit: 'random' | 'topk' = 'random', forward: 'masked-kernel' | 'kernel' = 'masked-kernel') {
  const rng = Rng.fromSeed(seed);
  const n = 16;
  const din = 6;
  const dout = 4;
  const xs = Array.from({ length: n * din }, () => rng.normal());
  const ys = Array.from({ length: n * dout }, () => rng.normal());
  const W = tf.variable(tf.tensor2d(Array.from({ length: din * dout }, () => rng.normal(0, 0.5)), [din, dout]), true);
  const b = tf.variable(tf.zeros([dout]), true);
  const mask = tf.variable(tf.ones([din, dout]), false);
  const mp: MaskedParam = { name: 'W', layerName: 'fc', role: 'wide-weight', sparsity: 0.5, weight: W, mask };
  initMasks([mp], { method: maskInit, rng });
  const x = tf.tensor2d(xs, [n, din]);
  const y = tf.tensor2d(ys, [n, dout]);
  const lossFn = () => {
    const kernel = forward === 'masked-kernel' ? tf.mul(W, mask) : W;
    return tf.mean(tf.square(tf.sub(tf.add(tf.matMul(x, kernel), b), y))) as tf.Scalar;
  };
  const dispose = () => [W, b, mask, x, y].forEach((t) => t.dispose());
  return { n, din, dout, xs, ys, W, b, mask, mp, lossFn, dispose };
}

function zerosWhereMaskIsZero(values: ArrayLike<number>, mask: ArrayLike<number>): boolean {
  for (let i = 0; i < mask.length; i++) if (mask[i] === 0 && values[i] !== 0) return false;
  return true;
}

const optimizers: [string, (vs: tf.Variable[]) => SparseOptimizer][] = [
  ['SGD momentum + Nesterov + wd', (vs) => new SGD(vs, { learningRate: 0.05, momentum: 0.9, nesterov: true, weightDecay: 5e-4 })],
  ['AdamW', (vs) => new AdamW(vs, { learningRate: 0.01, weightDecay: 0.05 })],
  ['AdamW amsgrad', (vs) => new AdamW(vs, { learningRate: 0.01, weightDecay: 0.05, amsgrad: true })],
];

describe('sparseTrainStep', () => {
  for (const [label, make] of optimizers) {
    for (const method of ['static', 'rigl', 'set'] as const) {
      it(`${label}, ${method}: masked weights and their slots stay exactly 0 over 60 steps; loss falls`, () => {
        const p = problem(1);
        const opt = make([p.W, p.b]);
        const schedule = new MaskUpdateSchedule({ totalSteps: 60, frequency: 10 });
        const updater: MaskUpdater =
          method === 'static' ? new StaticUpdater() : method === 'rigl' ? new RigLUpdater({ schedule }) : new SETUpdater({ schedule, rng: Rng.fromSeed(2) });
        const losses: number[] = [];
        let updates = 0;
        for (let t = 0; t < 60; t++) {
          const r = sparseTrainStep({ params: [p.W, p.b], maskedParams: [p.mp], lossFn: p.lossFn, optimizer: opt, updater });
          losses.push(r.loss);
          if (r.maskUpdate) updates++;
          const mask = p.mask.dataSync();
          expect(zerosWhereMaskIsZero(p.W.dataSync(), mask)).toBe(true);
          for (const slot of opt.slotsFor(p.W)) expect(zerosWhereMaskIsZero(slot.dataSync(), mask)).toBe(true);
        }
        expect(updates).toBe(method === 'static' ? 0 : 4); // t = 10, 20, 30, 40 < end 45
        if (method !== 'static') expect(Array.from(p.mask.dataSync()).reduce((a, c) => a + c, 0)).toBe(12); // int(0.5·24)
        expect(losses[59]).toBeLessThan(losses[0]);
        opt.dispose();
        p.dispose();
      });
    }
  }

  for (const forward of ['masked-kernel', 'kernel'] as const) {
    it(`RigL grows from the unmasked gradient of the same batch and drops by post-step |w| (forward uses ${forward})`, () => {
      // Plain SGD so the post-step weights are w − lr·(g ⊙ mask), with g = (2/(n·dout))·xᵀ(x·W + b − y).
      const p = problem(3, 'topk', forward); // exactly 12 of 24 on, so this update drops and grows
      const lr = 0.05;
      const opt = new SGD([p.W, p.b], { learningRate: lr });
      const schedule = new MaskUpdateSchedule({ totalSteps: 40, frequency: 10, dropFraction: 0.3 });
      const updater = new RigLUpdater({ schedule });
      const step = () => sparseTrainStep({ params: [p.W, p.b], maskedParams: [p.mp], lossFn: p.lossFn, optimizer: opt, updater });
      for (let t = 1; t <= 9; t++) expect(step().maskUpdate).toBeNull();

      const { n, din, dout, xs, ys } = p;
      const W = Array.from(p.W.dataSync());
      const b = Array.from(p.b.dataSync());
      const mask = Array.from(p.mask.dataSync());
      const residual = new Array<number>(n * dout).fill(0);
      for (let i = 0; i < n; i++) {
        for (let o = 0; o < dout; o++) {
          let pred = b[o];
          for (let k = 0; k < din; k++) pred += xs[i * din + k] * W[k * dout + o];
          residual[i * dout + o] = pred - ys[i * dout + o];
        }
      }
      const grad = new Array<number>(din * dout).fill(0);
      for (let k = 0; k < din; k++) {
        for (let o = 0; o < dout; o++) {
          let sum = 0;
          for (let i = 0; i < n; i++) sum += xs[i * din + k] * residual[i * dout + o];
          grad[k * dout + o] = (2 / (n * dout)) * sum;
        }
      }
      const postStep = W.map((w, i) => w - lr * grad[i] * mask[i]);
      const on = mask.flatMap((m, i) => (m ? [i] : []));
      const alpha = 0.3 * 0.5 * (1 + Math.cos((Math.PI * 10) / 30)); // end = int(0.75·40) = 30
      const nKeep = on.length - Math.floor(alpha * on.length);
      const kept = [...on].sort((i, j) => Math.abs(postStep[j]) - Math.abs(postStep[i])).slice(0, nKeep);
      const nGrow = Math.max(0, 12 - nKeep);
      expect(nGrow).toBe(2); // α(10) = 0.3·0.5·(1 + cos(π/3)) = 0.225; floor(0.225·12) = 2
      const candidates = grad.map((_, i) => i).filter((i) => !kept.includes(i));
      const grown = candidates.sort((i, j) => Math.abs(grad[j]) - Math.abs(grad[i])).slice(0, nGrow);
      const expected = [...kept, ...grown].sort((i, j) => i - j);

      const report = step().maskUpdate;
      expect(report?.step).toBe(10);
      expect(report?.dropFraction).toBeCloseTo(alpha, 12);
      const actual = Array.from(p.mask.dataSync()).flatMap((m, i) => (m ? [i] : []));
      expect(actual).toEqual(expected);
      // kept weights hold their post-step value; grown ones start at 0 unless they were on before
      const Wafter = p.W.dataSync();
      for (const i of kept) expect(Wafter[i]).toBeCloseTo(postStep[i], 5);
      for (const i of grown) {
        if (mask[i]) expect(Wafter[i]).toBeCloseTo(postStep[i], 5);
        else expect(Math.abs(Wafter[i])).toBe(0); // −0 counts as 0
      }
      // the masks were opened for the dense-gradient backward and hold the new mask now, not ones
      expect(Array.from(p.mask.dataSync()).reduce((a, c) => a + c, 0)).toBe(12);
      opt.dispose();
      p.dispose();
    });
  }

  it('accumulates micro-batches (10 + 6 rows, weights 10/16 and 6/16) into the whole batch\'s step, RigL\'s dense gradient included', () => {
    // Two copies of one problem: one steps on the whole batch, the other on its rows in two micro-batches.
    const whole = problem(3, 'topk');
    const parts = problem(3, 'topk');
    const { n, din, dout } = parts;
    const microLoss = (from: number, to: number) => () => {
      const x = tf.tensor2d(parts.xs.slice(from * din, to * din), [to - from, din]);
      const y = tf.tensor2d(parts.ys.slice(from * dout, to * dout), [to - from, dout]);
      return tf.mean(tf.square(tf.sub(tf.add(tf.matMul(x, tf.mul(parts.W, parts.mask)), parts.b), y))) as tf.Scalar;
    };
    const micro = [microLoss(0, 10), microLoss(10, n)];
    const run = (p: ReturnType<typeof problem>, args: Pick<Parameters<typeof sparseTrainStep>[0], 'lossFn' | 'microBatchWeights'>) => {
      const opt = new SGD([p.W, p.b], { learningRate: 0.05, momentum: 0.9 });
      const updater = new RigLUpdater({ schedule: new MaskUpdateSchedule({ totalSteps: 40, frequency: 5, dropFraction: 0.3 }) });
      const losses = Array.from({ length: 10 }, () => sparseTrainStep({ params: [p.W, p.b], maskedParams: [p.mp], optimizer: opt, updater, ...args }).loss);
      opt.dispose();
      return losses;
    };
    const expectedLosses = run(whole, { lossFn: whole.lossFn });
    const losses = run(parts, { lossFn: (i) => micro[i]!(), microBatchWeights: [10 / n, 6 / n] });
    losses.forEach((loss, t) => expect(loss).toBeCloseTo(expectedLosses[t]!, 5));
    // Two RigL updates (t = 5, 10) grew from the dense gradient: the same masks, the same weights to rounding.
    expect(Array.from(parts.mask.dataSync())).toEqual(Array.from(whole.mask.dataSync()));
    const w = whole.W.dataSync();
    parts.W.dataSync().forEach((v, i) => expect(v).toBeCloseTo(w[i]!, 5));
    whole.dispose();
    parts.dispose();
  });

  it('clips the global gradient norm like clip_grad_norm_', () => {
    const p = problem(4);
    const opt = new SGD([p.W, p.b], { learningRate: 1 });
    const W0 = Array.from(p.W.dataSync());
    const b0 = Array.from(p.b.dataSync());
    const r = sparseTrainStep({ params: [p.W, p.b], maskedParams: [p.mp], lossFn: p.lossFn, optimizer: opt, updater: new StaticUpdater(), clipNorm: 0.01 });
    expect(r.gradNorm).toBeGreaterThan(0.01);
    // with lr = 1 the parameter change is the clipped gradient: norm = 0.01·norm/(norm + 1e−6)
    const dW = Array.from(p.W.dataSync()).map((w, i) => w - W0[i]);
    const db = Array.from(p.b.dataSync()).map((v, i) => v - b0[i]);
    const change = Math.sqrt([...dW, ...db].reduce((a, d) => a + d * d, 0));
    expect(change).toBeCloseTo((0.01 * r.gradNorm!) / (r.gradNorm! + 1e-6), 6);
    opt.dispose();
    p.dispose();
  });

  it('leaks no tensors, update steps included', () => {
    const p = problem(5);
    const opt = new SGD([p.W, p.b], { learningRate: 0.01, momentum: 0.9 });
    const updater = new RigLUpdater({ schedule: new MaskUpdateSchedule({ totalSteps: 20, frequency: 2 }) });
    const args = { params: [p.W, p.b], maskedParams: [p.mp], lossFn: p.lossFn, optimizer: opt, updater, clipNorm: 1 };
    sparseTrainStep(args); // warm-up: backend kernels may cache constants on first use
    const before = tf.memory().numTensors;
    let updates = 0;
    for (let t = 0; t < 8; t++) if (sparseTrainStep(args).maskUpdate) updates++;
    expect(updates).toBeGreaterThan(0);
    expect(tf.memory().numTensors).toBe(before);
    // Gradient accumulation over two micro-batches (here the same batch twice) leaks none either.
    for (let t = 0; t < 4; t++) sparseTrainStep({ ...args, lossFn: () => p.lossFn(), microBatchWeights: [0.5, 0.5] });
    expect(tf.memory().numTensors).toBe(before);
    opt.dispose();
    p.dispose();
  });

  it('names a masked weight missing from params', () => {
    const p = problem(6);
    const opt = new SGD([p.b], { learningRate: 0.1 });
    expect(() => sparseTrainStep({ params: [p.b], maskedParams: [p.mp], lossFn: p.lossFn, optimizer: opt, updater: new StaticUpdater() })).toThrow(
      /masked weight 'W'.*not in params/,
    );
    expect(() =>
      sparseTrainStep({ params: [p.W, p.b, p.mask], maskedParams: [p.mp], lossFn: p.lossFn, optimizer: opt, updater: new StaticUpdater() }),
    ).toThrow(/mask of 'W' is in params/);
    opt.dispose();
    p.dispose();
  });
});

describe('the mask products after a step', () => {
  /** Counts `v.assign` calls (every write of a weight: the optimizer's, the masks', a mask update's). */
  function countWrites(v: tf.Variable): () => number {
    let count = 0;
    const assign = v.assign.bind(v);
    v.assign = (value: tf.Tensor) => {
      count++;
      assign(value);
    };
    return () => count;
  }

  /** Weights, slots, mask and loss after each step, as raw values. */
  function trajectory(make: (vs: tf.Variable[]) => SparseOptimizer, method: 'static' | 'rigl' | 'set', remaskEveryStep: boolean, clipNorm?: number) {
    const p = problem(3);
    const opt = make([p.W, p.b]);
    // The behaviour before the skip: an optimizer not known to keep zeros gets the masks applied every step.
    if (remaskEveryStep) Object.defineProperty(opt, 'keepsZeros', { get: () => false });
    const schedule = new MaskUpdateSchedule({ totalSteps: 40, frequency: 6 });
    const updater: MaskUpdater =
      method === 'static' ? new StaticUpdater() : method === 'rigl' ? new RigLUpdater({ schedule }) : new SETUpdater({ schedule, rng: Rng.fromSeed(4) });
    const writes = countWrites(p.W);
    const steps: { loss: number; w: Float32Array; b: Float32Array; mask: Float32Array; slots: Float32Array[] }[] = [];
    let updates = 0;
    for (let t = 0; t < 40; t++) {
      const r = sparseTrainStep({ params: [p.W, p.b], maskedParams: [p.mp], lossFn: p.lossFn, optimizer: opt, updater, clipNorm });
      if (r.maskUpdate) updates++;
      const read = (x: tf.Tensor) => x.dataSync().slice() as Float32Array;
      steps.push({ loss: r.loss, w: read(p.W), b: read(p.b), mask: read(p.mask), slots: opt.slotsFor(p.W).map(read) });
    }
    opt.dispose();
    p.dispose();
    return { steps, updates, weightWrites: writes() };
  }

  const sameBits = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((x, i) => Object.is(x, b[i]));

  for (const [label, make] of optimizers) {
    for (const method of ['static', 'rigl', 'set'] as const) {
      it(`${label}, ${method}: skipped after plain steps, and 40 steps give the bits of re-masking after every step`, () => {
        const ours = trajectory(make, method, false, method === 'rigl' ? 1 : undefined);
        const before = trajectory(make, method, true, method === 'rigl' ? 1 : undefined);
        expect(ours.updates).toBe(method === 'static' ? 0 : 4); // t = 6, 12, 18, 24 (the schedule ends at 0.75 · 40)
        // Optimizer writes every step; the masks once at the first step, then only with each mask update
        // (drop/grow, then the product).
        expect(ours.weightWrites).toBe(40 + 1 + 2 * ours.updates);
        expect(before.weightWrites).toBe(40 + 40 + ours.updates);
        ours.steps.forEach((s, t) => {
          const b = before.steps[t]!;
          expect(Object.is(s.loss, b.loss), `step ${t + 1}: loss`).toBe(true);
          expect(sameBits(s.w, b.w) && sameBits(s.b, b.b) && sameBits(s.mask, b.mask), `step ${t + 1}: weights and mask`).toBe(true);
          expect(s.slots.length).toBe(b.slots.length);
          s.slots.forEach((slot, k) => expect(sameBits(slot, b.slots[k]!), `step ${t + 1}: slot ${k}`).toBe(true));
          expect(zerosWhereMaskIsZero(s.w, s.mask), `step ${t + 1}: masked weights are 0`).toBe(true);
          for (const slot of s.slots) expect(zerosWhereMaskIsZero(slot, s.mask), `step ${t + 1}: masked slots are 0`).toBe(true);
        });
      });
    }
  }

  it('re-masks every step with an optimizer that may turn zeros into something else, or after loadState', () => {
    const p = problem(5);
    expect(new AdamW([p.b], { epsilon: 0 }).keepsZeros).toBe(false); // 0 / (sqrt(0) + 0)
    expect(new SGD([p.b], { learningRate: 0.1 }).keepsZeros).toBe(true);
    const updater = new StaticUpdater();
    const opt = new SGD([p.W, p.b], { learningRate: 0.1, momentum: 0.9 });
    const writes = countWrites(p.W);
    const step = () => sparseTrainStep({ params: [p.W, p.b], maskedParams: [p.mp], lossFn: p.lossFn, optimizer: opt, updater });
    step();
    step();
    expect(writes()).toBe(2 + 1);
    updater.loadState(updater.state());
    step();
    expect(writes()).toBe(3 + 2);
    tf.tidy(() => p.mask.assign(tf.onesLike(p.mask))); // new mask data: applied again
    step();
    expect(writes()).toBe(5 + 2);
    updater.step([p.mp], { optimizer: opt }); // a caller that does not say its gradients were masked
    expect(writes()).toBe(8);
    opt.dispose();
    p.dispose();
  });
});
