/**
 * MLP-Mixer: parameter counts by hand (and timm's published ones), the built model against its op
 * list for every family, a forward, a save/load round trip, one training step, and `sift plan`.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, it, vi } from 'vitest';
import { FAMILIES, collectMaskedParams, countFlops, modelFlopOps, modelParamCount, planFromOps, type Family } from '@sparse-ift/core';
import { MIXER_B16, MIXER_MINI_28, MIXER_S16, buildResolvedMixer, mixerOps, resolveMixer, type MixerArch } from '@sparse-ift/mixer';
import { oneStep, roundTrip, useBackend } from '../../transformer/test/helpers.js';
import { main } from '../../cli/src/index.js';

const params = (arch: MixerArch, family: Family = 'dense', sparsity = 0) => planFromOps(mixerOps(resolveMixer(arch, { family, sparsity }))).totals.params;

describe('parameter counts', () => {
  it('mixer-mini-28 by hand: 3,200 + 4 × 34,416 + 128 + 650 = 141,642', () => {
    // patch 7·7·1·64 + 64 = 3,200; per block: 2 LayerNorms 2·128, token MLP 16·32 + 32 + 32·16 + 16 = 1,072,
    // channel MLP 64·256 + 256 + 256·64 + 64 = 33,088 → 34,416; final LayerNorm 128; head 64·10 + 10 = 650.
    expect(params(MIXER_MINI_28)).toBe(3_200 + 4 * 34_416 + 128 + 650);
  });
  it("timm's mixer_s16_224 and mixer_b16_224: 18,528,264 and 59,880,472", () => {
    expect(params(MIXER_S16)).toBe(18_528_264);
    expect(params(MIXER_B16)).toBe(59_880_472);
  });
  it('Sparse Parallel at s = 0.75: every MLP weight and bias four times, the rest once', () => {
    // 4 × (1,072 + 33,088) per block in place of 1,072 + 33,088.
    expect(params(MIXER_MINI_28, 'sparse-parallel', 0.75)).toBe(141_642 + 4 * 3 * (1_072 + 33_088));
  });
  it('Sparse Wide meets the dense FLOP budget after the mask-sparsity solve', () => {
    const dense = countFlops(mixerOps(resolveMixer(MIXER_S16, { family: 'dense', sparsity: 0 })), 'official').dense;
    for (const s of [0.5, 0.75, 0.9]) {
      const r = resolveMixer(MIXER_S16, { family: 'sparse-wide', sparsity: s });
      expect(r.hidden).toBe(Math.floor(512 * Math.sqrt(Math.round(1 / (1 - s)))));
      expect(countFlops(mixerOps(r), 'official').sparse / dense).toBeCloseTo(1, 4);
    }
  });
});

const CASES: Array<[Family, number]> = [
  ['dense', 0],
  ['sparse-wide', 0.5],
  ['sparse-parallel', 0.5],
  ['sparse-factorized', 0.75],
  ['sparse-doped', 0.75],
];

describe.each(CASES)('mixer-mini-28, %s', (family, sparsity) => {
  const images = () => tf.randomNormal([2, 28, 28, 1], 0, 1, 'float32', 3);

  it('the built model reads the same ops and params as the op list; masks only on the MLP linears', async () => {
    await useBackend('cpu');
    const r = resolveMixer(MIXER_MINI_28, { family, sparsity, seed: 1 });
    const model = buildResolvedMixer(r);
    const byName = (ops: ReturnType<typeof mixerOps>) => Object.fromEntries(ops.map(({ role: _role, maskable: _m, ...op }) => [op.name, op]));
    expect(byName(modelFlopOps(model, { density: 'target' }))).toEqual(byName(mixerOps(r)));
    expect(modelParamCount(model)).toBe(planFromOps(mixerOps(r)).totals.params);
    for (const p of collectMaskedParams(model)) expect(p.layerName).toMatch(/^b\d_(token|channel)_fc[12]/);
    model.dispose();
  });

  it('forward gives [batch, 10]; save/load keeps outputs and masks; one SGD step lowers the loss', async () => {
    await useBackend('cpu');
    const model = buildResolvedMixer(resolveMixer(MIXER_MINI_28, { family, sparsity, seed: 2 }));
    const x = images();
    const labels = tf.oneHot(tf.tensor1d([3, 7], 'int32'), 10);
    const y = model.predict(x) as tf.Tensor;
    expect(y.shape).toEqual([2, 10]);
    const loaded = await roundTrip(model);
    expect(Array.from((loaded.predict(x) as tf.Tensor).dataSync())).toEqual(Array.from(y.dataSync()));
    expect(collectMaskedParams(loaded).map((p) => Array.from(p.mask.dataSync()))).toEqual(collectMaskedParams(model).map((p) => Array.from(p.mask.dataSync())));
    const loss = (training: boolean) => tf.losses.softmaxCrossEntropy(labels, model.apply(x, { training }) as tf.Tensor) as tf.Scalar;
    const { before, after } = oneStep(model, loss, 0.05);
    expect(before).toBeCloseTo(Math.log(10), 5); // the zero-initialised head gives uniform logits
    expect(after).toBeLessThan(before);
    model.dispose();
    loaded.dispose();
  });
});

describe('sift plan sees the package', () => {
  it('prints the plan of every family of mixer-mini-28 as JSON', async () => {
    for (const family of FAMILIES) {
      let stdout = '';
      const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
      try {
        const args = family === 'dense' ? [] : ['--sparsity', '0.5'];
        expect(await main(['node', 'sift', 'plan', 'mixer-mini-28', '--family', family, ...args, '--json'])).toBe(0);
      } finally {
        write.mockRestore();
      }
      const plan = JSON.parse(stdout) as { model: string; totals: { params: number } };
      expect(plan.model).toBe('mixer-mini-28');
      expect(plan.totals.params).toBe(params(MIXER_MINI_28, family, family === 'dense' ? 0 : 0.5));
    }
  });
});
