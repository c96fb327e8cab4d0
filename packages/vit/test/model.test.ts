// A tiny ViT built with weights, every family: params, save/load, one training step on wasm; registry.
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
  type Family,
} from '@sparse-ift/core';
import { VIT_MINI_28, buildVit, vitOpList, type VitConfig } from '@sparse-ift/vit';
import { oneStep, roundTrip, useBackend } from '../../transformer/test/helpers.js';

/** 28×28×1, patch 7 (16 patches), 2 layers × d 32, 2 heads, 10 classes. */
const TINY: VitConfig = { ...VIT_MINI_28, name: 'vit-tiny-test', dModel: 32, heads: 2, layers: 2 };
const sOf = (f: Family) => (f === 'dense' ? 0 : 0.75);
const images = () => tf.randomUniform([8, 28, 28, 1], 0, 1, 'float32', 4);
const labels = () => tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], 'int32'), 10);

describe('tiny ViT', () => {
  it('dense params: 49·32 + 32 (patch) + 32 (cls) + 17·32 (pos) + 2·(12·32² + 13·32) + 64 (LN) + 32·10 + 10 (head)', async () => {
    await useBackend('cpu');
    const m = buildVit(TINY, { family: 'dense', sparsity: 0 });
    expect(modelParamCount(m)).toBe(49 * 32 + 32 + 32 + 17 * 32 + 2 * (12 * 1024 + 13 * 32) + 64 + 320 + 10);
    m.dispose();
  });

  for (const family of FAMILIES) {
    it(`${family}: built = op list (params, FLOPs); save/load keeps logits and masks`, async () => {
      await useBackend('cpu');
      const s = sOf(family);
      const m = buildVit(TINY, { family, sparsity: s, seed: 3 });
      const list = vitOpList(TINY, { family, sparsity: s });
      expect(modelParamCount(m)).toBe(planFromOps(list).totals.params);
      const walked = countFlops(modelFlopOps(m, { density: 'target' }), 'paper');
      const listed = countFlops(list.ops, 'paper');
      expect(walked.dense).toBe(listed.dense);
      expect(walked.sparse).toBeCloseTo(listed.sparse, 6);
      const loaded = await roundTrip(m);
      const x = images();
      expect(Array.from((loaded.predict(x) as tf.Tensor).dataSync())).toEqual(Array.from((m.predict(x) as tf.Tensor).dataSync()));
      const a = collectMaskedParams(m);
      const b = collectMaskedParams(loaded);
      expect(b.length).toBe(a.length);
      a.forEach((p, i) => expect(Array.from(b[i]!.mask.dataSync())).toEqual(Array.from(p.mask.dataSync())));
      m.dispose();
      loaded.dispose();
    });
  }

  for (const family of FAMILIES) {
    it(`${family}: one training step on wasm lowers the loss on a fixed batch`, async () => {
      await useBackend('wasm');
      const m = buildVit(TINY, { family, sparsity: sOf(family), seed: 8 });
      const x = images();
      const y = labels();
      // A descent check holds for a small enough step: at Adam lr 1e-2 (every weight moves by ~1e-2
      // at once) the sparse-factorized model seeded 8 overshoots (2.2786 → 2.2880, on cpu and wasm
      // alike); at 1e-3 every family and every seed tried (1, 2, 3, 8, 9, unseeded) descends.
      const { before, after } = oneStep(m, (training) => tf.losses.softmaxCrossEntropy(y, m.apply(x, { training }) as tf.Tensor) as tf.Scalar, 1e-3);
      expect(after).toBeLessThan(before);
      m.dispose();
    });
  }
});

describe('registry', () => {
  it('lists the five ViT names with all five families', () => {
    const defs = listModels().filter((d) => d.name.startsWith('vit'));
    expect(defs.map((d) => d.name).sort()).toEqual(['vit-b16', 'vit-mini-28', 'vit-mini-32', 'vit-s16', 'vit-ti16']);
    for (const d of defs) expect([...d.families].sort()).toEqual([...FAMILIES].sort());
  });
  it('createModel(vit-mini-32, numClasses 100) under sparse-doped', async () => {
    await useBackend('cpu');
    const m = createModel('vit-mini-32', { family: 'sparse-doped', sparsity: 0.5, numClasses: 100 });
    expect(m.outputs[0]!.shape).toEqual([null, 100]);
    expect(m.inputs[0]!.shape).toEqual([null, 32, 32, 3]);
    m.dispose();
  });
});
