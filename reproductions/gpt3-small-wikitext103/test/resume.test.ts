// An interrupted language-model run (the experiment's trainer settings: micro-batches, next-token loss,
// evaluation every 2 steps) resumed from its checkpoint ends with the weights, masks and evals of an
// uninterrupted run from the same start (RigL update before the interruption, AdamW state restored).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { initBackend } from '@sparse-ift/backend';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { GPT_NANO, buildGpt } from '@sparse-ift/gpt';
import { train, type TrainConfig } from '@sparse-ift/train';
import { gptTrainable, resolveConfig, trainConfig, wikiTextBatches } from '../src/index.js';

describe('GPT training checkpoints', () => {
  it('stop at step 2 + resume = 4 uninterrupted steps', async () => {
    await initBackend({ backend: 'wasm', training: true });
    const config = resolveConfig('smoke'); // 4 steps, batch 4 in micro-batches of 2, RigL updates at t = 1, 2
    const context = config.context;
    const tokens = Int32Array.from({ length: 12 * context + 1 }, (_, i) => (i * 7919 + 5) % 97);
    const validation = tokens.subarray(0, 4 * context + 1);
    const opts = { family: 'sparse-wide' as const, sparsity: 0.75, seed: 0, sequenceLength: context };
    const data = wikiTextBatches({ train: tokens, validation }, config, 0, 2);
    const run = (model: LayersModel, options: Partial<TrainConfig>) => train(gptTrainable(model), data, { ...trainConfig(config, 'rigl', 0, 2), ...options });

    const straight = buildGpt(GPT_NANO, opts);
    const interrupted = buildGpt(GPT_NANO, opts);
    interrupted.setWeights(straight.getWeights()); // weights are drawn unseeded: start both from the same ones
    const resumed = buildGpt(GPT_NANO, opts); // different initial weights: everything must come from the checkpoint
    const checkpointFile = join(mkdtempSync(join(tmpdir(), 'sift-lm-ckpt-')), 'run.bin');

    const a = await run(straight, { label: 'straight' });
    const b = await run(interrupted, { label: 'interrupted', checkpointFile, stopAfterStep: 2 });
    expect(b.stoppedEarly).toBe(true);
    const c = await run(resumed, { label: 'resumed', checkpointFile, resume: true });
    expect(c.resumedFromStep).toBe(2);
    expect(c.history).toEqual(a.history); // every evaluation: step, validation loss and perplexity, mean train loss
    expect(c.history.at(-1)!.trainLoss).toBe(a.history.at(-1)!.trainLoss);
    const wa = straight.getWeights();
    const wc = resumed.getWeights();
    for (let i = 0; i < wa.length; i++) expect(Array.from(wc[i]!.dataSync()), straight.weights[i]!.name).toEqual(Array.from(wa[i]!.dataSync()));
    for (const m of [straight, interrupted, resumed]) m.dispose();
  });
});
