import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { MaskedParam } from '../src/masked-param.js';
import { Rng } from '../src/rng.js';
import { MaskUpdateSchedule } from '../src/schedule.js';
import {
  dropAndGrow,
  growAtRandom,
  growByGradient,
  growCount,
  RigLUpdater,
  SETUpdater,
  StaticUpdater,
  topKIndices,
  type GrowRule,
} from '../src/updaters.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const created: tf.Variable[] = [];
afterEach(() => {
  for (const v of created.splice(0)) v.dispose();
});

function maskedParam(name: string, weight: number[], mask: number[], sparsity: number): MaskedParam {
  const w = tf.variable(tf.tensor1d(weight), true);
  const m = tf.variable(tf.tensor1d(mask), false);
  created.push(w, m);
  return { name, layerName: name, role: 'wide-weight', sparsity, weight: w, mask: m };
}

function onPositions(mask: ArrayLike<number>): number[] {
  return Array.from(mask).flatMap((v, i) => (v !== 0 ? [i] : []));
}

const range = (n: number) => Int32Array.from({ length: n }, (_, i) => i);

describe('topKIndices', () => {
  it('picks the largest scores; ties go to the earlier candidate', () => {
    const score = [0.5, 0.2, 0.9, 0.2, 0.2, 0.1];
    expect(Array.from(topKIndices(score, range(6), 3))).toEqual([0, 1, 2]);
    expect(Array.from(topKIndices(score, Int32Array.from([5, 4, 3]), 2))).toEqual([4, 3]);
    expect(Array.from(topKIndices(score, range(6), 0))).toEqual([]);
    expect(() => topKIndices([NaN, 1], range(2), 1)).toThrow(/NaN/);
  });

  it('agrees with a stable full sort on random scores with many ties', () => {
    const rng = Rng.fromSeed(8);
    for (let trial = 0; trial < 50; trial++) {
      const n = 1 + rng.uniformInt(400);
      const score = Array.from({ length: n }, () => rng.uniformInt(7) / 2); // values 0..3, many ties
      const candidates = Int32Array.from(range(n).filter(() => rng.uniform() < 0.7));
      const k = rng.uniformInt(candidates.length + 1);
      const bySort = Array.from(candidates)
        .sort((i, j) => score[j] - score[i] || i - j)
        .slice(0, k)
        .sort((i, j) => i - j);
      expect(Array.from(topKIndices(score, candidates, k))).toEqual(bySort);
    }
  });
});

describe('dropAndGrow (RigL rule) on a constructed case', () => {
  // 10 weights, on at 0..4 with |w| = 0.5, 0.1, 0.9, 0.05, 0.7; s = 0.5 → target 5 ones.
  // α = 0.4: n_prune = floor(0.4·5) = 2 → keep the 3 largest |w|: 2, 4, 0; drop 1 and 3.
  // n_grow = 5 − 3 = 2: top |grad| among non-kept {1, 3, 5, 6, 7, 8, 9}: 7 (2.0) and 3 (1.5).
  // Position 2 has the largest |grad| of all but is kept, so it cannot be "grown".
  const weight = [0.5, -0.1, 0.9, 0.05, -0.7, 0, 0, 0, 0, 0];
  const mask = [1, 1, 1, 1, 1, 0, 0, 0, 0, 0];
  const grad = [0.1, 0.2, 9.0, -1.5, 0.3, 0.4, -0.2, 2.0, 0.1, -0.5];

  it('drops exactly the smallest |w| and grows exactly the top |grad| non-kept', () => {
    const r = dropAndGrow({ weight, mask, sparsity: 0.5, dropFraction: 0.4, grow: growByGradient(grad) });
    expect(onPositions(r.mask)).toEqual([0, 2, 3, 4, 7]);
    expect(r).toMatchObject({ nOn: 5, nPrune: 2, nKeep: 3, nGrow: 2, nRegrown: 1 });
  });

  it('floor(α·n_on): α = 0.3 of 5 ones drops 1 (the smallest, position 3)', () => {
    const r = dropAndGrow({ weight, mask, sparsity: 0.5, dropFraction: 0.3, grow: growByGradient(grad) });
    // keep 0, 1, 2, 4; grow 1: the top |grad| among {3, 5..9} is 7 (2.0 beats 1.5 at 3)
    expect(onPositions(r.mask)).toEqual([0, 1, 2, 4, 7]);
    expect(r).toMatchObject({ nPrune: 1, nKeep: 4, nGrow: 1, nRegrown: 0 });
  });

  it('grows back to int((1−s)·numel) from a Bernoulli count above or below it', () => {
    // 20 elements, s = 0.5 → 10 ones, starting from 7 ones (below) with α = 0.3: keep 7 − 2 = 5, grow 5.
    const w20 = Array.from({ length: 20 }, (_, i) => (i < 7 ? i + 1 : 0));
    const m20 = w20.map((v) => (v ? 1 : 0));
    const g20 = Array.from({ length: 20 }, (_, i) => i);
    const r = dropAndGrow({ weight: w20, mask: m20, sparsity: 0.5, dropFraction: 0.3, grow: growByGradient(g20) });
    expect(r.nKeep).toBe(5);
    expect(r.nGrow).toBe(5);
    expect(onPositions(r.mask).length).toBe(10);
    // above: 14 ones with α = 0.3 keeps 14 − 4 = 10 > target and grows nothing
    const m14 = Array.from({ length: 20 }, (_, i) => (i < 14 ? 1 : 0));
    const r14 = dropAndGrow({ weight: m14.map((v, i) => v * (i + 1)), mask: m14, sparsity: 0.5, dropFraction: 0.3, grow: growByGradient(g20) });
    expect(r14.nGrow).toBe(0);
    expect(onPositions(r14.mask).length).toBe(10);
  });

  it('grow count is evaluated in float32 like the official code: s = 0.9 of 100 grows back to 10', () => {
    // float64: (1 − 0.9)·100 = 9.999999999999998 → int 9; torch computes float − int tensor in float32 → 10.
    expect(growCount(0.9, 100, 0)).toBe(10);
    expect(growCount(0.5, 20, 5)).toBe(5);
    expect(growCount(0.5, 20, 12)).toBe(0);
  });
});

describe('SET growth', () => {
  it('grows only among non-kept positions, uniformly (χ² over 6000 draws)', () => {
    // 20 weights, on at 0..9 with |w| = 1..10; α = 0.5 keeps 5..9 (the 5 largest), drops 0..4.
    // n_grow = 10 − 5 = 5 of the 15 non-kept positions {0..4, 10..19}; each has probability 1/3 per draw.
    const weight = Array.from({ length: 20 }, (_, i) => (i < 10 ? i + 1 : 0));
    const mask = weight.map((v) => (v ? 1 : 0));
    const rng = Rng.fromSeed(1234);
    const draws = 6000;
    const counts = new Array<number>(20).fill(0);
    for (let d = 0; d < draws; d++) {
      const r = dropAndGrow({ weight, mask, sparsity: 0.5, dropFraction: 0.5, grow: growAtRandom(rng) });
      for (const i of onPositions(r.mask)) counts[i]++;
    }
    for (let i = 5; i < 10; i++) expect(counts[i]).toBe(draws); // kept every time
    const nonKept = [0, 1, 2, 3, 4, ...Array.from({ length: 10 }, (_, i) => i + 10)];
    expect(nonKept.reduce((a, i) => a + counts[i], 0)).toBe(5 * draws);
    const expected = draws / 3;
    const chi2 = nonKept.reduce((a, i) => a + (counts[i] - expected) ** 2 / expected, 0);
    // 14 degrees of freedom (sampling without replacement only shrinks the spread): the 99.9th
    // percentile of χ²(14) is 36.12, so a uniform sampler stays below 36 for all but 1 seed in 1000.
    expect(chi2).toBeLessThan(36.12);
  });
});

describe('updaters in the training loop', () => {
  it('RigL asks for the dense gradient exactly before update steps and needs it there', () => {
    const schedule = new MaskUpdateSchedule({ totalSteps: 400, frequency: 100 }); // end 300: updates at 100, 200
    const rigl = new RigLUpdater({ schedule });
    const p = maskedParam('w', [1, 2, 0, 0], [1, 1, 0, 0], 0.5);
    const wanted: number[] = [];
    for (let t = 1; t <= 99; t++) {
      if (rigl.needsDenseGradient()) wanted.push(t);
      expect(rigl.step([p])).toBeNull();
    }
    expect(rigl.needsDenseGradient()).toBe(true);
    expect(() => rigl.step([p])).toThrow(/no dense gradient for 'w'/);
    for (let t = 101; t <= 400; t++) {
      if (rigl.needsDenseGradient()) wanted.push(t);
      rigl.step([p], { denseGrads: new Map([['w', tf.tensor1d([0, 0, 0, 1])]]) });
    }
    expect(wanted).toEqual([200]);
  });

  it('new positions start at 0 weight and state; dropped-then-regrown keep theirs; masks applied to slots', () => {
    // on: 0..3 (|w| 4, 3, 0.2, 0.1), off: 4, 5 holding stale nonzero weight and state on purpose.
    // s = 1/3 of 6 → target 4; α = 0.5: keep 0, 1; grow 2 of {2, 3, 4, 5} by |grad|: 3 (regrown) and 5 (new).
    const p = maskedParam('w', [4, -3, 0.2, 0.1, 7, 8], [1, 1, 1, 1, 0, 0], 1 / 3);
    const slot = tf.variable(tf.tensor1d([0.4, 0.3, 0.02, 0.01, 0.7, 0.8]), false);
    created.push(slot);
    const optimizer = { slotsFor: (v: tf.Variable) => (v === p.weight ? [slot] : []) };
    const schedule = new MaskUpdateSchedule({ totalSteps: 2, frequency: 1, endFraction: 1, decay: 'constant', dropFraction: 0.5 });
    const rigl = new RigLUpdater({ schedule }); // updates at t = 1 only
    const report = rigl.step([p], { optimizer, denseGrads: new Map([['w', tf.tensor1d([0, 0, 0.1, 5, 0.2, 6])]]) });
    expect(Array.from(p.mask.dataSync())).toEqual([1, 1, 0, 1, 0, 1]);
    expect(Array.from(p.weight.dataSync())).toEqual([4, -3, 0, Math.fround(0.1), 0, 0]);
    expect(Array.from(slot.dataSync())).toEqual([0.4, 0.3, 0, 0.01, 0, 0].map(Math.fround));
    expect(report?.tensors[0]).toMatchObject({ name: 'w', nKeep: 2, nGrow: 2, nRegrown: 1, density: 4 / 6 });
    // not an update step: masks are still re-applied
    p.weight.assign(tf.tensor1d([1, 1, 1, 1, 1, 1]));
    slot.assign(tf.tensor1d([1, 1, 1, 1, 1, 1]));
    expect(rigl.step([p], { optimizer })).toBeNull();
    expect(Array.from(p.weight.dataSync())).toEqual([1, 1, 0, 1, 0, 1]);
    expect(Array.from(slot.dataSync())).toEqual([1, 1, 0, 1, 0, 1]);
  });

  it('static never changes the mask but re-applies it every step', () => {
    const p = maskedParam('w', [1, 2, 3], [1, 0, 1], 1 / 3);
    const updater = new StaticUpdater();
    p.weight.assign(tf.tensor1d([5, 5, 5]));
    updater.step([p]);
    expect(Array.from(p.weight.dataSync())).toEqual([5, 0, 5]);
    expect(updater.stepCount).toBe(1);
    expect(updater.needsDenseGradient()).toBe(false);
  });

  it('SET state() / loadState() resume the same mask sequence', () => {
    const schedule = new MaskUpdateSchedule({ totalSteps: 40, frequency: 5, endFraction: 1 });
    const weights = Array.from({ length: 50 }, (_, i) => ((i * 37) % 50) / 50);
    const initMask = weights.map((_, i) => (i % 2 === 0 ? 1 : 0));
    const run = (steps: number, updater: SETUpdater, p: MaskedParam) => {
      for (let t = 0; t < steps; t++) {
        updater.step([p]);
        p.weight.assign(tf.add(tf.tensor1d(weights), 0)); // fresh weights each step, masked next step
      }
    };
    const a = maskedParam('w', weights, initMask, 0.5);
    const straight = new SETUpdater({ schedule, rng: Rng.fromSeed(3) });
    run(30, straight, a);

    const b = maskedParam('w', weights, initMask, 0.5);
    const first = new SETUpdater({ schedule, rng: Rng.fromSeed(3) });
    run(12, first, b);
    const saved = JSON.parse(JSON.stringify(first.state()));
    const resumed = new SETUpdater({ schedule, rng: Rng.fromSeed(999) });
    resumed.loadState(saved);
    expect(resumed.stepCount).toBe(12);
    run(18, resumed, b);
    expect(Array.from(b.mask.dataSync())).toEqual(Array.from(a.mask.dataSync()));
    expect(() => new StaticUpdater().loadState(saved)).toThrow(/'set'.*'static'/);
  });
});

describe('grow rules', () => {
  it('a rule that returns a kept position is rejected', () => {
    const bad: GrowRule = () => Int32Array.from([0]);
    expect(() => dropAndGrow({ weight: [1, 0], mask: [1, 0], sparsity: 0.5, dropFraction: 0, grow: bad })).toThrow();
  });
});
