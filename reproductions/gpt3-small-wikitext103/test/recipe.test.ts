// The resolved configuration against the numbers of docs/recipes.md#gpt-3-small-wikitext-103 ([MZ] configs), and the missing-data error.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MaskUpdateSchedule } from '@sparse-ift/core';
import { transformerWidths } from '@sparse-ift/gpt';
import { learningRate } from '@sparse-ift/train';
import { loadWikiText, resolveConfig } from '../src/index.js';

describe('gpt3-small-wikitext103 paper preset', () => {
  const config = resolveConfig('paper');
  const lr = (step: number) => learningRate(config.recipe.optimizer.lr, config.recipe.schedule, { step, epoch: 0 });

  it("uses GPT-3 Small and the recipe's optimiser, batch and eval set (docs/recipes.md#gpt-3-small-wikitext-103)", () => {
    expect(config.model).toMatchObject({ name: 'gpt3-small', layers: 12, heads: 12, dModel: 768, contextLength: 1024, vocabSize: 50257, dropout: 0.1 });
    expect(config.recipe.optimizer).toEqual({ kind: 'adamw', lr: 6e-4, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, decay: 'matrices' });
    expect(config.recipe.clipNorm).toBe(1.0);
    expect(config.recipe.batchSize).toBe(512);
    expect(config.context).toBe(1024);
    expect(config.totalSteps).toBe(21_511);
    expect(config.microBatchSize).toBe('auto');
    expect(config.evalSequences).toBe(231);
    expect(config.shuffle).toBe(false);
    expect(config.rows).toEqual([
      { family: 'dense', sparsity: 0, method: 'dense' },
      { family: 'sparse-wide', sparsity: 0.5, method: 'static' },
      { family: 'sparse-wide', sparsity: 0.75, method: 'rigl' },
    ]);
  });

  it("widens to the recipe's widths (docs/recipes.md#gpt-3-small-wikitext-103): d_model / d_ff 768 / 3072, 1092 / 4368, 1536 / 6144", () => {
    const widths = config.rows.map((r) => transformerWidths(config.model, r.family, r.sparsity));
    expect(widths.map((w) => [w.dModel, w.dFf])).toEqual([[768, 3072], [1092, 4368], [1536, 6144]]);
  });

  it('warms up linearly to 6e-4 over 2,151 steps, then cosine-decays to 6e-5 at step 21,511', () => {
    expect(lr(0)).toBe(0);
    expect(lr(1000)).toBeCloseTo((6e-4 * 1000) / 2151, 15);
    expect(lr(2151)).toBeCloseTo(6e-4, 15);
    // Halfway through the 19,360 decay steps the cosine is at the mean of 6e-4 and 6e-5.
    expect(lr(2151 + 9680)).toBeCloseTo(3.3e-4, 15);
    expect(lr(21_511)).toBeCloseTo(6e-5, 15);
  });

  it('RigL: ΔT 500, updates at 500 … 17,000 (end 17,209 exclusive), α₀ 0.3 cosine over 17,209 steps', () => {
    expect(config.mask).toEqual({ frequency: 500, endStep: 17_209, dropFraction: 0.3, init: 'random' });
    const schedule = new MaskUpdateSchedule({ totalSteps: config.totalSteps, frequency: 500, endStep: 17_209, dropFraction: 0.3 });
    const updates = Array.from({ length: config.totalSteps }, (_, i) => i + 1).filter((t) => schedule.isUpdateStep(t));
    expect(updates).toHaveLength(34);
    expect(updates[0]).toBe(500);
    expect(updates.at(-1)).toBe(17_000);
  });

  it('names the accepted layouts and the data set card when the data is missing', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'sift-empty-'));
    await expect(loadWikiText(empty, () => {})).rejects.toThrow(/wiki\.train\.raw.*datasets\/wikitext-103\.md/);
    await expect(loadWikiText(undefined, () => {})).rejects.toThrow(/--data DIR/);
  });
});
