// deriveSeed / seededInitializer and sparseIftDense's weightSeed: per-tensor streams, reproducible.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { seededInitializer, sparseIftDense, type SparseIftDenseOptions } from '../src/layers/index.js';
import { deriveSeed } from '../src/rng.js';
import { planFromOps, type PlanOp } from '../src/model-flops.js';
import { useCpu } from './helpers/tf-helpers.js';

beforeAll(useCpu);

describe('deriveSeed', () => {
  it('is a deterministic 32-bit integer, different for different paths and seeds', () => {
    expect(deriveSeed(1, 2, 3)).toBe(deriveSeed(1, 2, 3));
    const seeds = new Set<number>();
    for (let s = 0; s < 4; s++) for (let i = 0; i < 8; i++) for (let j = 0; j < 2; j++) seeds.add(deriveSeed(s, i, j));
    expect(seeds.size).toBe(64);
    for (const v of seeds) expect(Number.isInteger(v) && v >= 0 && v < 2 ** 32).toBe(true);
    expect(deriveSeed(1, 2)).not.toBe(deriveSeed(2, 1));
    expect(() => deriveSeed(1.5)).toThrow(/integers/);
  });
  it('deriving in steps equals deriving at once, so a model can hand a block its part of the path', () => {
    for (const s of [0, 1, 7, 2 ** 31 + 5]) {
      expect(deriveSeed(deriveSeed(s, 2), 3)).toBe(deriveSeed(s, 2, 3));
      expect(deriveSeed(deriveSeed(deriveSeed(s, 1), 4), 0)).toBe(deriveSeed(s, 1, 4, 0));
    }
    // Seeds past 2^32 keep their high bits.
    expect(deriveSeed(2 ** 32 + 1, 1)).not.toBe(deriveSeed(1, 1));
  });
});

describe('seededInitializer', () => {
  it('sets the seed of a seeded initializer (same seed, same draw) and leaves zeros alone', () => {
    const a = seededInitializer('glorotUniform', 9).apply([4, 3]).dataSync();
    const b = seededInitializer('glorotUniform', 9).apply([4, 3]).dataSync();
    const c = seededInitializer('glorotUniform', 10).apply([4, 3]).dataSync();
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(Array.from(c)).not.toEqual(Array.from(a));
    // Glorot uniform limit √(6/(4+3)): the draw is still the named distribution.
    for (const v of a) expect(Math.abs(v)).toBeLessThanOrEqual(Math.sqrt(6 / 7));
    expect(Array.from(seededInitializer('zeros', 3).apply([2]).dataSync())).toEqual([0, 0]);
  });
});

describe('sparseIftDense weightSeed', () => {
  const build = (options: Omit<SparseIftDenseOptions, 'name'>) => {
    const input = tfl.input({ shape: [8] });
    return tfl.model({ inputs: input, outputs: sparseIftDense(input, { name: 'b', ...options }) });
  };
  const kernels = (m: tfl.LayersModel) => m.layers.filter((l) => l.weights.length > 0).map((l) => Array.from(l.getWeights()[0]!.dataSync()));

  it('same weightSeed → identical kernels; the Sparse Parallel branches differ from each other', () => {
    const opts = { family: 'sparse-parallel', units: 8, sparsity: 0.5, maskSeed: 4, weightSeed: 21, biasInitializer: 'glorotUniform' } as const;
    const a = build(opts);
    const b = build(opts);
    const c = build({ ...opts, weightSeed: 22 });
    expect(a.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(b.getWeights().map((w) => Array.from(w.dataSync())));
    const [k0, k1] = kernels(a);
    expect(k0).not.toEqual(k1);
    expect(kernels(c)[0]).not.toEqual(k0);
    // Kernel and bias of one branch come from different streams too.
    const bias0 = Array.from(a.getLayer('b_sp0').getWeights()[1]!.dataSync());
    expect(bias0).not.toEqual(k0!.slice(0, 8));
  });

  it('without weightSeed two builds differ (unseeded initializers, as before)', () => {
    const opts = { family: 'dense', units: 8, sparsity: 0 } as const;
    expect(kernels(build(opts))[0]).not.toEqual(kernels(build(opts))[0]);
  });
});

describe('tied ops in planFromOps', () => {
  it("an op with tied: true counts its bias but not its weight; FLOPs unchanged", () => {
    const lin = (tied: boolean): PlanOp => ({ kind: 'linear', name: 'head', inFeatures: 4, outFeatures: 10, rows: 3, bias: true, masked: false, density: 1, ...(tied ? { tied } : {}) });
    const free = planFromOps([lin(false)]);
    const tied = planFromOps([lin(true)]);
    expect(free.totals.params).toBe(4 * 10 + 10);
    expect(tied.totals.params).toBe(10);
    expect(tied.totals.nonZeroParams).toBe(10);
    expect(tied.totals.sparseFlops).toBe(free.totals.sparseFlops);
    tf.disposeVariables();
  });
});
