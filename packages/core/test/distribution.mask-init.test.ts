import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initialMaskValues, initMasks } from '../src/mask-init.js';
import type { MaskedParam } from '../src/masked-param.js';
import { Rng } from '../src/rng.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('initialMaskValues', () => {
  it('topk keeps numel − int(s·numel) largest |w|, lower index first on ties', () => {
    // s = 0.5, numel 7: int(3.5) = 3 zeros, keep 4. |w| = 0.1 0.9 0.3 0.3 0.8 0.05 0.3
    // largest: 0.9 (1), 0.8 (4), then three 0.3s (2, 3, 6) tie for two places → indices 2 and 3.
    const w = [0.1, -0.9, 0.3, -0.3, 0.8, 0.05, 0.3];
    expect(Array.from(initialMaskValues(w, 0.5, 'topk'))).toEqual([0, 1, 1, 1, 1, 0, 0]);
  });

  it('dense is all ones', () => {
    expect(Array.from(initialMaskValues([1, 2, 3], 0.5, 'dense'))).toEqual([1, 1, 1]);
  });

  it('random is Bernoulli(1 − s): count within 5 binomial std devs, reproducible per seed', () => {
    const n = 20000;
    const s = 0.75;
    const a = initialMaskValues(new Float32Array(n), s, 'random', Rng.fromSeed(7));
    const b = initialMaskValues(new Float32Array(n), s, 'random', Rng.fromSeed(7));
    expect(Array.from(a)).toEqual(Array.from(b));
    const ones = a.reduce((x, y) => x + y, 0);
    const std = Math.sqrt(n * s * (1 - s)); // 61.2
    expect(Math.abs(ones - n * (1 - s))).toBeLessThan(5 * std);
    expect(() => initialMaskValues([1], 0.5, 'random')).toThrow(/needs an Rng/);
  });
});

describe('initMasks', () => {
  it('writes the mask and zeroes masked weights', () => {
    const weight = tf.variable(tf.tensor2d([[0.1, -0.9], [0.3, 0.8]]), true, 'init/w');
    const mask = tf.variable(tf.ones([2, 2]), false, 'init/m');
    const p: MaskedParam = { name: 'w', layerName: 'l', role: 'wide-weight', sparsity: 0.5, weight, mask };
    expect(initMasks([p], { method: 'topk' })).toEqual({ drawn: ['w'], kept: [] });
    expect(Array.from(mask.dataSync())).toEqual([0, 1, 0, 1]);
    expect(Array.from(weight.dataSync())).toEqual([0, Math.fround(-0.9), 0, Math.fround(0.8)]);
    weight.dispose();
    mask.dispose();
  });

  it('keeps a mask drawn already (by a layer) and never multiplies by a second one', () => {
    // A layer-built weight: its dense init times its own mask [1, 0, 1, 1].
    const weight = tf.variable(tf.tensor2d([[0.1, 0], [0.3, 0.8]]), true, 'init/w2');
    const mask = tf.variable(tf.tensor2d([[1, 0], [1, 1]]), false, 'init/m2');
    const p: MaskedParam = { name: 'w', layerName: 'l', role: 'wide-weight', sparsity: 0.75, weight, mask };
    // Drawn again at s = 0.75 with topk it would keep only 0.8: the old code left one non-zero weight.
    expect(initMasks([p], { method: 'topk' })).toEqual({ drawn: [], kept: ['w'] });
    expect(Array.from(mask.dataSync())).toEqual([1, 0, 1, 1]);
    expect(Array.from(weight.dataSync())).toEqual([Math.fround(0.1), 0, Math.fround(0.3), Math.fround(0.8)]);
    mask.assign(tf.tensor2d([[1, 0.5], [1, 1]]));
    expect(() => initMasks([p], { method: 'topk' })).toThrow(/'w': its mask holds 0\.5 at index 1; masks hold only 0 and 1/);
    weight.dispose();
    mask.dispose();
  });
});
