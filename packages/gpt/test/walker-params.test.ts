// The walker on a built gpt-nano: the tied LM head's weight is the token embedding table, counted once.
import { describe, expect, it } from 'vitest';
import { FAMILIES, collectMaskedParams, modelFlopOps, planModel, type Family } from '@sparse-ift/core';
import { GPT_NANO, buildGpt } from '@sparse-ift/gpt';
import { useBackend } from '../../transformer/test/helpers.js';

describe('planModel on a built GPT counts the tied LM head once', () => {
  it('dense gpt-nano: walked params = V·d + ctx·d + L·(12d² + 13d) + 2d = 29,088 (hand-derived)', async () => {
    await useBackend('cpu');
    const m = buildGpt(GPT_NANO, { family: 'dense', sparsity: 0 });
    // 97·32 (wte, also the head) + 16·32 (wpe) + 2·(12·32² + 13·32) + 2·32 (ln_f) = 3,104 + 512 + 25,408 + 64.
    expect(planModel(m).totals.params).toBe(29_088);
    const head = modelFlopOps(m).find((op) => op.name === 'lm_head');
    expect(head).toMatchObject({ kind: 'linear', inFeatures: 32, outFeatures: 97, tied: true });
    m.dispose();
  });

  const sOf = (f: Family) => (f === 'dense' ? 0 : 0.75);
  for (const family of FAMILIES) {
    it(`${family}: walked params = model.countParams() minus the masks`, async () => {
      await useBackend('cpu');
      const m = buildGpt(GPT_NANO, { family, sparsity: sOf(family), seed: 4 });
      // countParams() counts every weight once, masks included (non-trainable); masks are not params.
      const maskSizes = m.layers.flatMap((l) => l.weights).filter((w) => /(^|\/)mask(_\d+)?$/.test(w.originalName)).reduce((n, w) => n + w.shape.reduce<number>((a, b) => a * (b ?? 1), 1), 0);
      expect(maskSizes).toBeGreaterThanOrEqual(collectMaskedParams(m).reduce((n, p) => n + p.mask.size, 0));
      expect(planModel(m, { density: 'target' }).totals.params).toBe(m.countParams() - maskSizes);
      m.dispose();
    });
  }
});
