// gpt-nano (97-token vocabulary) keeps these fast; the loop does not depend on the vocabulary.
// Gradient accumulation against a reference: the average of 2 micro-batch gradients must equal
// tf.variableGrads of the whole batch's mean loss, with masks closed (a normal step) and opened (a RigL
// update step, whose dense gradient RigL grows from, spec §3.7); the masks must be restored afterwards.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { initBackend } from '@sparse-ift/backend';
import { Rng, collectMaskedParams, initMasks } from '@sparse-ift/core';
import { GPT_NANO, languageModelLoss, buildGpt } from '@sparse-ift/gpt';
import type { LmBatch } from '@sparse-ift/data-text';
import { accumulatedGradients } from '../src/index.js';

/** max |a − b| over max |b|, the scale floored at 1e-4 (the attention key bias has an exactly-zero gradient: only rounding noise). */
function maxRelativeError(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  let scale = 1e-4;
  for (let i = 0; i < a.length; i++) scale = Math.max(scale, Math.abs(b[i]!));
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / scale);
  return worst;
}

describe('accumulatedGradients', () => {
  it('2 micro-batches of 2 average to the whole-batch gradient, masks closed and opened', async () => {
    await initBackend({ backend: 'wasm', training: true });
    const context = 8;
    const model = buildGpt(GPT_NANO, { family: 'sparse-wide', sparsity: 0.75, seed: 0, sequenceLength: context });
    const params = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const masked = collectMaskedParams(model);
    initMasks(masked, { method: 'random', rng: Rng.fromSeed(0) });
    const masksBefore = masked.map((mp) => mp.mask.dataSync().slice());
    const ids = Int32Array.from({ length: 4 * (context + 1) }, (_, i) => (i * 7919 + 13) % 97);
    const inputs = new Int32Array(4 * context);
    const targets = new Int32Array(4 * context);
    for (let r = 0; r < 4; r++) {
      inputs.set(ids.subarray(r * (context + 1), r * (context + 1) + context), r * context);
      targets.set(ids.subarray(r * (context + 1) + 1, (r + 1) * (context + 1)), r * context);
    }
    const batch: LmBatch = { inputs, targets, batchSize: 4, context, blocks: Uint32Array.from([0, 1, 2, 3]) };
    const wholeBatch = () =>
      tf.variableGrads(() => languageModelLoss(model.apply(tf.tensor2d(inputs, [4, context], 'int32'), { training: true }) as tf.Tensor, tf.tensor2d(targets, [4, context], 'int32')), params);

    for (const open of [false, true]) {
      const { grads, loss } = accumulatedGradients(model, params, masked, batch, 2, open);
      // Reference, masks set to ones by hand when open.
      const saved = masked.map((mp) => mp.mask.dataSync().slice());
      if (open) for (const mp of masked) mp.mask.assign(tf.onesLike(mp.mask));
      const reference = wholeBatch();
      masked.forEach((mp, i) => mp.mask.assign(tf.tensor(saved[i]!, mp.mask.shape)));
      expect(loss).toBeCloseTo(reference.value.dataSync()[0]!, 5);
      for (const v of params) {
        const g = reference.grads[v.name]!;
        expect(maxRelativeError(grads.get(v.name)!.dataSync() as Float32Array, g.dataSync() as Float32Array), `${v.name} open=${open}`).toBeLessThan(1e-3);
      }
      if (open) {
        // The dense gradient is non-zero at some masked-off positions (what RigL grows from).
        const mp = masked[0]!;
        const g = grads.get(mp.weight.name)!.dataSync();
        const m = mp.mask.dataSync();
        expect(Array.from(g).some((x, i) => m[i] === 0 && x !== 0)).toBe(true);
      }
      tf.dispose([...grads.values(), reference.value, ...Object.values(reference.grads)]);
    }
    masked.forEach((mp, i) => expect(Array.from(mp.mask.dataSync())).toEqual(Array.from(masksBefore[i]!)));
    model.dispose();
  });
});
