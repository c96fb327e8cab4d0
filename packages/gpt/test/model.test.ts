// gpt-nano built with weights, every family: parameters, masks, init, save/load, one training step on
// wasm, and the walker's view of the built model against the op list; registry entries.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  FAMILIES,
  collectMaskedParams,
  countFlops,
  createModel,
  listModels,
  modelFlopOps,
  modelParamCount,
  planFromOps,
  planRegisteredModel,
  type Family,
} from '@sparse-ift/core';
import { GPT3_SMALL, GPT_NANO, buildGpt, gptOpList, languageModelLoss } from '@sparse-ift/gpt';
import { oneStep, roundTrip, useBackend } from '../../transformer/test/helpers.js';

const S = 0.75;
const sOf = (f: Family) => (f === 'dense' ? 0 : S);
const ids = () => tf.tensor2d(Array.from({ length: 4 * 16 }, (_, i) => (i * 31 + 7) % 97), [4, 16], 'int32');
const targets = () => tf.tensor2d(Array.from({ length: 4 * 16 }, (_, i) => (i * 17 + 3) % 97), [4, 16], 'int32');

describe('gpt-nano parameters and masks', () => {
  it('dense: V·d + ctx·d + L·(12d² + 13d) + 2d = 29,088 (d 32, V 97, ctx 16, L 2)', async () => {
    await useBackend('cpu');
    const m = buildGpt(GPT_NANO, { family: 'dense', sparsity: 0 });
    // 97·32 + 16·32 + 2·(12·1024 + 13·32) + 64 = 3104 + 512 + 25,408 + 64
    expect(modelParamCount(m)).toBe(29_088);
    expect(collectMaskedParams(m)).toHaveLength(0);
    m.dispose();
  });

  it('sparse-parallel s=0.75: 4 branches per linear, each with its bias', async () => {
    await useBackend('cpu');
    const m = buildGpt(GPT_NANO, { family: 'sparse-parallel', sparsity: 0.75, seed: 1 });
    const d = 32;
    const perLayer = 4 * (4 * (d * d + d) + (d * 4 * d + 4 * d) + (4 * d * d + d)) + 4 * d; // 4 branches + 2 LNs
    expect(modelParamCount(m)).toBe(97 * d + 16 * d + 2 * perLayer + 2 * d);
    const masked = collectMaskedParams(m);
    expect(masked).toHaveLength(2 * 6 * 4);
    expect(new Set(masked.map((p) => p.role))).toEqual(new Set(['parallel-branch']));
    m.dispose();
  });

  for (const family of FAMILIES) {
    for (const s of family === 'dense' ? [0] : [0.5, 0.75, 0.9]) {
      it(`${family} s=${s}: built params = op-list params; walker FLOPs = op-list FLOPs; mask densities ≈ 1−s`, async () => {
        await useBackend('cpu');
        const m = buildGpt(GPT_NANO, { family, sparsity: s, seed: 11 });
        const list = gptOpList(GPT_NANO, { family, sparsity: s });
        expect(modelParamCount(m)).toBe(planFromOps(list).totals.params);
        const walked = modelFlopOps(m, { density: 'target' });
        for (const convention of ['paper', 'official'] as const) {
          const a = countFlops(walked, convention);
          const b = countFlops(list.ops, convention);
          expect(a.dense).toBe(b.dense);
          expect(a.sparse).toBeCloseTo(b.sparse, 6);
        }
        const masked = collectMaskedParams(m);
        const maskedWeights = masked.reduce((n, p) => n + p.mask.size, 0);
        expect(maskedWeights).toBe(planFromOps(list).totals.maskedParams);
        if (maskedWeights > 0) {
          const ones = masked.reduce((n, p) => n + tf.sum(p.mask).dataSync()[0]!, 0);
          // Bernoulli(1−s) masks: within 5 binomial standard deviations.
          const sd = Math.sqrt(maskedWeights * s * (1 - s));
          expect(Math.abs(ones - (1 - s) * maskedWeights)).toBeLessThan(5 * sd);
        }
        const expectedRoles: Record<Family, string[]> = {
          dense: [],
          'sparse-wide': ['wide-weight'],
          'sparse-parallel': ['parallel-branch'],
          'sparse-factorized': ['factorized-u', 'factorized-v'],
          'sparse-doped': ['doped-sparse'], // U and V stay dense (docs/sparse-ift.md#sparse-doped, paper intent)
        };
        expect([...new Set(masked.map((p) => p.role))].sort()).toEqual(expectedRoles[family]);
        m.dispose();
      });
    }
  }
});

describe('init (docs/recipes.md#gpt-3-small-wikitext-103): truncated normal std 0.02 cut at ±2σ; output layers 0.02/√(2L)', () => {
  it('GPT-3 Small output std is 0.004082482904638631', () => {
    expect(GPT3_SMALL.outputInitStd).toBe(0.004082482904638631);
  });

  it('gpt-nano weights lie within ±2σ with the truncated std (0.8796σ)', async () => {
    await useBackend('cpu');
    const m = buildGpt(GPT_NANO, { family: 'dense', sparsity: 0 });
    const truncatedStd = 0.87962566; // std of N(0,1) truncated to [−2, 2]
    const check = (name: string, sigma: number) => {
      const w = m.getLayer(name).getWeights()[0]!;
      const values = Array.from(w.dataSync());
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
      expect(Math.max(...values.map(Math.abs))).toBeLessThanOrEqual(2 * sigma + 1e-7);
      expect(std / (sigma * truncatedStd)).toBeGreaterThan(0.93);
      expect(std / (sigma * truncatedStd)).toBeLessThan(1.07);
    };
    check('h0_mlp_fc1', 0.02);
    check('h1_attn_q', 0.02);
    check('wte', 0.02);
    check('h0_attn_out', 0.02 / Math.sqrt(4));
    check('h1_mlp_fc2', 0.02 / Math.sqrt(4));
    m.dispose();
  });
});

describe('gpt-nano save/load round trip, every family', () => {
  for (const family of FAMILIES) {
    it(`${family}: identical logits and masks after save/load`, async () => {
      await useBackend('cpu');
      const m = buildGpt(GPT_NANO, { family, sparsity: sOf(family), seed: 5 });
      const loaded = await roundTrip(m);
      const x = ids();
      expect(Array.from((loaded.predict(x) as tf.Tensor).dataSync())).toEqual(Array.from((m.predict(x) as tf.Tensor).dataSync()));
      const a = collectMaskedParams(m);
      const b = collectMaskedParams(loaded);
      expect(b.map((p) => [p.layerName, p.role, p.sparsity])).toEqual(a.map((p) => [p.layerName, p.role, p.sparsity]));
      a.forEach((p, i) => expect(Array.from(b[i]!.mask.dataSync())).toEqual(Array.from(p.mask.dataSync())));
      m.dispose();
      loaded.dispose();
    });
  }
});

describe('one training step on wasm lowers the loss on a fixed batch, every family', () => {
  for (const family of FAMILIES) {
    it(`${family}`, async () => {
      await useBackend('wasm');
      const m = buildGpt(GPT_NANO, { family, sparsity: sOf(family), seed: 9 });
      const x = ids();
      const y = targets();
      const { before, after } = oneStep(m, (training) => languageModelLoss(m.apply(x, { training }) as tf.Tensor, y));
      expect(before).toBeGreaterThan(Math.log(97) - 0.5); // ≈ uniform at init
      expect(after).toBeLessThan(before);
      // Masked weights stay zero where the mask is 0.
      for (const p of collectMaskedParams(m)) {
        const zerosOut = tf.tidy(() => tf.sum(tf.abs(tf.mul(p.weight, tf.sub(1, p.mask)))).dataSync()[0]!);
        expect(zerosOut).toBe(0);
      }
      m.dispose();
    });
  }
});

describe('registry', () => {
  it('lists gpt3-small, gpt-mini, gpt-nano with all five families', () => {
    const names = listModels().map((d) => d.name);
    for (const n of ['gpt3-small', 'gpt-mini', 'gpt-nano']) expect(names).toContain(n);
    for (const d of listModels().filter((x) => x.name.startsWith('gpt'))) expect([...d.families].sort()).toEqual([...FAMILIES].sort());
  });

  it('createModel builds gpt-nano under a family', async () => {
    await useBackend('cpu');
    const m = createModel('gpt-nano', { family: 'sparse-factorized', sparsity: 0.5, seed: 2 });
    expect(m.outputs[0]!.shape).toEqual([null, 16, 97]);
    m.dispose();
  });

  it('planRegisteredModel(gpt3-small, SW 75%): masked layers ≈ 1.00×, whole network 199.9/142.4 = 1.40× (paper MACs)', () => {
    const plan = planRegisteredModel('gpt3-small', { family: 'sparse-wide', sparsity: 0.75 });
    expect(plan.byConvention.paper.maskedLayers.flopRatio).toBeCloseTo(1, 9);
    // Whole network (paper MACs per token): (84.93 + 37.75 + 77.19) / (84.93 + 18.87 + 38.60).
    const expected = (84_934_656 + 37_748_736 + 77_194_752) / (84_934_656 + 18_874_368 + 38_597_376);
    expect(plan.byConvention.paper.wholeNetwork.flopRatio).toBeCloseTo(expected, 9);
    expect(Math.round(expected * 100) / 100).toBe(1.4);
  });
});
