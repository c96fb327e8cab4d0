// The transformer memory estimate the 'auto' micro-batch is chosen from, against tf.js' own count: the
// bytes alive at the end of a training forward pass (inside tf.variableGrads, so everything the backward
// keeps) on cpu, for configs that were not among those the estimate was fitted to.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, it } from 'vitest';
import { withDropoutContext } from '@sparse-ift/core';
import { GPT3_SMALL, GPT_NANO, buildGpt, gptOpList, trainingMemoryPerSequence, type GptConfig } from '@sparse-ift/gpt';
import { languageModelling } from '@sparse-ift/train';
import { gptTrainable, resolveConfig, resolveMicroBatch } from '@sparse-ift/repro-gpt3-small-wikitext103';

/** Bytes tf.js holds at the end of the forward for a batch of `b` sequences. */
function forwardBytes(c: GptConfig, t: number, b: number, family: 'dense' | 'sparse-wide', sparsity: number): number {
  const model = buildGpt(c, { family, sparsity, sequenceLength: t, seed: 1 });
  const trainable = gptTrainable(model);
  const batch = { inputs: new Int32Array(b * t), targets: new Int32Array(b * t), shape: [b, t] };
  let held = 0;
  const before = tf.memory().numBytes;
  const { value, grads } = tf.variableGrads(() => withDropoutContext({ seed: 1, step: 0 }, () => {
    const loss = languageModelling().loss(trainable, batch, { step: 0 });
    held = tf.memory().numBytes - before;
    return loss;
  }), trainable.params.map((p) => p.variable));
  tf.dispose([value, ...Object.values(grads)]);
  model.dispose();
  return held;
}

describe('training memory per sequence', () => {
  it('the estimate is within 12 % of what tf.js holds per extra sequence', async () => {
    await tf.setBackend('cpu');
    const cases: [GptConfig, number, 'dense' | 'sparse-wide', number][] = [
      [{ ...GPT_NANO, dModel: 96, heads: 6, layers: 3, vocabSize: 300, contextLength: 48, dropout: 0.1, attentionDropout: 0.1 }, 48, 'dense', 0],
      [{ ...GPT_NANO, dModel: 64, heads: 2, layers: 2, vocabSize: 700, contextLength: 40 }, 40, 'sparse-wide', 0.5],
    ];
    for (const [c, t, family, s] of cases) {
      const perSequence = forwardBytes(c, t, 3, family, s) - forwardBytes(c, t, 2, family, s);
      const estimate = trainingMemoryPerSequence(gptOpList(c, { family, sparsity: s, sequenceLength: t }).ops, t).bytesPerSequence;
      expect(Math.abs(estimate / perSequence - 1), `${family} d${c.dModel} T${t}: estimate ${estimate}, measured ${perSequence}`).toBeLessThan(0.12);
    }
  });

  it("the paper preset's 'auto' picks what fits: micro-batch 8 of 512 in 140 GB, an error in 10 GB", () => {
    const config = resolveConfig('paper');
    const dense = config.rows[0]!;
    const sequence = trainingMemoryPerSequence(gptOpList(GPT3_SMALL, { family: 'dense', sparsity: 0, sequenceLength: 1024 }).ops, 1024);
    // by hand: 0.8 × 140 GB − 6 × 4 × 125 M bytes = 109 GB; 109 / 8.5 GB per sequence → 12, largest divisor of 512 below: 8.
    expect(sequence.bytesPerSequence / 1e9).toBeGreaterThan(8);
    expect(sequence.bytesPerSequence / 1e9).toBeLessThan(9);
    expect(resolveMicroBatch(config, dense, 125e6, { bytes: 140e9, source: 'test' }).microBatchSize).toBe(8);
    expect(() => resolveMicroBatch(config, dense, 125e6, { bytes: 10e9, source: 'test' })).toThrow(/one sample does not fit/);
    expect(resolveMicroBatch(resolveConfig('smoke'), dense, 1e6, undefined).microBatchSize).toBe(2);
  });
});
