// The causal mask is built once per (sequence length, backend); attention dropout draws core's device mask.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { withDropoutContext } from '@sparse-ift/core';
import { DotProductAttention, cachedCausalMaskBias, causalMaskBias } from '@sparse-ift/transformer';
import { useBackend } from './helpers.js';

describe('causal mask and attention dropout', () => {
  it('one mask tensor per (length, backend), reused across calls and tidy scopes, equal to the fresh one', async () => {
    await useBackend('cpu');
    const a = tf.tidy(() => cachedCausalMaskBias(5));
    expect(a.isDisposed).toBe(false);
    expect(tf.tidy(() => cachedCausalMaskBias(5))).toBe(a);
    expect(cachedCausalMaskBias(6)).not.toBe(a);
    expect(Array.from(a.dataSync())).toEqual(Array.from(causalMaskBias(5).dataSync()));
    const attention = new DotProductAttention({ name: 'att_cache', heads: 2, causal: true });
    const q = tf.randomNormal([2, 5, 4]);
    const before = tf.memory().numTensors;
    tf.dispose(attention.apply([q, q, q]) as tf.Tensor);
    tf.dispose(attention.apply([q, q, q]) as tf.Tensor);
    expect(tf.memory().numTensors).toBe(before); // no mask built (or leaked) per call
    await useBackend('wasm');
    const onWasm = cachedCausalMaskBias(5);
    expect(onWasm).not.toBe(a);
    expect(Array.from(onWasm.dataSync())).toEqual(Array.from(a.dataSync()));
    await useBackend('cpu');
  });

  it('attention dropout follows the dropout context; a fixed dropoutSeed gives one mask', async () => {
    await useBackend('cpu');
    const q = tf.randomNormal([1, 6, 4], 0, 1, 'float32', 3);
    const run = (layer: DotProductAttention, step: number) =>
      withDropoutContext({ seed: 1, step }, () => Array.from((layer.apply([q, q, q], { training: true }) as tf.Tensor).dataSync()));
    const layer = new DotProductAttention({ name: 'att_drop', heads: 2, causal: false, dropout: 0.5 });
    expect(run(layer, 0)).toEqual(run(layer, 0));
    expect(run(layer, 1)).not.toEqual(run(layer, 0));
    const inference = Array.from((layer.apply([q, q, q]) as tf.Tensor).dataSync());
    expect(run(layer, 0)).not.toEqual(inference);
    const fixed = new DotProductAttention({ name: 'att_fixed', heads: 2, causal: false, dropout: 0.5, dropoutSeed: 9 });
    expect(run(fixed, 0)).toEqual(run(fixed, 7));
  });
});
