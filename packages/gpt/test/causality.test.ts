// The GPT decoder is causal: a position's logits never see later tokens.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { GPT_NANO, buildGpt } from '@sparse-ift/gpt';
import { useBackend } from '../../transformer/test/helpers.js';

describe('causality of the GPT decoder (gpt-nano, every position)', () => {
  it('logits at position t do not change when tokens after t change, and do when token t changes', async () => {
    await useBackend('cpu');
    const model = buildGpt(GPT_NANO, { family: 'sparse-parallel', sparsity: 0.5, seed: 3 });
    const base = Array.from({ length: 16 }, (_, i) => (i * 7) % 97);
    const logitsOf = (ids: number[]) => (model.predict(tf.tensor2d([ids], [1, 16], 'int32')) as tf.Tensor).arraySync() as number[][][];
    const y0 = logitsOf(base)[0]!;
    for (const t of [0, 5, 15]) {
      const changed = base.slice();
      changed[t] = (changed[t]! + 11) % 97;
      const y1 = logitsOf(changed)[0]!;
      for (let p = 0; p < 16; p++) {
        const maxDiff = Math.max(...y1[p]!.map((x, j) => Math.abs(x - y0[p]![j]!)));
        if (p < t) expect(maxDiff).toBe(0);
        else expect(maxDiff).toBeGreaterThan(1e-6);
      }
    }
  });
});
