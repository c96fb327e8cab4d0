/**
 * Core's LayerNorm against tfjs-layers' LayerNormalization (an independent implementation, the
 * reference for forward values and every gradient), a JS loop for the forward pass, a save/load
 * round trip, the FLOP walker, and the Sparse-IFT blocks that build it.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tfl from '@tensorflow/tfjs-layers';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LayerNorm, sparseIftDense } from '../src/layers/index.js';
import { modelFlopOps, planModel } from '../src/model-flops.js';
import { saveAndLoad, seededNormal } from './helpers/tf-helpers.js';

async function useBackend(name: 'cpu' | 'wasm'): Promise<void> {
  if (name === 'wasm') {
    const require = createRequire(import.meta.url);
    setWasmPaths(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/');
  }
  if (!(await tf.setBackend(name))) throw new Error(`backend ${name} did not initialise`);
  await tf.ready();
}

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number) => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(tol);
};

/** Mine and the reference on [2, 3, 5], both with the same non-trivial gamma and beta. */
function pair(epsilon: number) {
  const input = tfl.input({ shape: [3, 5] });
  const mine = new LayerNorm({ name: 'mine', epsilon });
  const ref = tfl.layers.layerNormalization({ name: 'ref', epsilon });
  const m = tfl.model({ inputs: input, outputs: [mine.apply(input) as tfl.SymbolicTensor, ref.apply(input) as tfl.SymbolicTensor] });
  const gamma = seededNormal([5], 11, 1);
  const beta = seededNormal([5], 12, 1);
  mine.setWeights([gamma, beta]);
  ref.setWeights([gamma, beta]);
  return { m, mine, ref };
}

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`LayerNorm on ${backend}`, () => {
    it('forward: (x − mean)/√(var + eps)·γ + β per row (biased variance) = tf LayerNormalization', async () => {
      await useBackend(backend);
      const { m, mine } = pair(1e-5);
      const x = seededNormal([2, 3, 5], 7, 2);
      const [yMine, yRef] = m.predict(x) as tf.Tensor[];
      close(yMine!.dataSync(), yRef!.dataSync(), 1e-5);
      // And a JS loop, so the two are not equal only by sharing a mistake.
      const [gamma, beta] = mine.getWeights().map((w) => w.dataSync());
      const rows = (x.arraySync() as number[][][]).flat();
      const out = (yMine!.arraySync() as number[][][]).flat();
      rows.forEach((row, i) => {
        const mean = row.reduce((a, b) => a + b, 0) / row.length;
        const variance = row.reduce((a, b) => a + (b - mean) ** 2, 0) / row.length;
        row.forEach((v, j) => expect(out[i]![j]!).toBeCloseTo(((v - mean) / Math.sqrt(variance + 1e-5)) * gamma![j]! + beta![j]!, 4));
      });
    });

    it('gradients w.r.t. x, γ and β = tf LayerNormalization’s', async () => {
      await useBackend(backend);
      const { mine, ref } = pair(1e-6);
      const x = seededNormal([2, 3, 5], 9, 3);
      const weights = seededNormal([5], 10, 1);
      const lossOf = (layer: tfl.layers.Layer) => (t: tf.Tensor) => tf.sum(tf.mul(tf.square(layer.apply(t) as tf.Tensor), weights)) as tf.Scalar;
      close(tf.grad(lossOf(mine))(x).dataSync(), tf.grad(lossOf(ref))(x).dataSync(), 1e-4);
      const paramGrads = (layer: tfl.layers.Layer) => {
        const vars = layer.trainableWeights.map((w) => w.read() as tf.Variable);
        const { grads } = tf.variableGrads(() => lossOf(layer)(x), vars);
        return vars.map((v) => grads[v.name]!.dataSync());
      };
      const [gGammaMine, gBetaMine] = paramGrads(mine);
      const [gGammaRef, gBetaRef] = paramGrads(ref);
      close(gGammaMine!, gGammaRef!, 1e-4);
      close(gBetaMine!, gBetaRef!, 1e-4);
    });
  });
}

describe('LayerNorm serialization and FLOP walker', () => {
  it('save/load round trip keeps className LayerNorm, epsilon, γ, β and outputs', async () => {
    await useBackend('cpu');
    const input = tfl.input({ shape: [4, 6] });
    const ln = new LayerNorm({ name: 'ln', epsilon: 1e-6 });
    const model = tfl.model({ inputs: input, outputs: ln.apply(input) as tfl.SymbolicTensor });
    ln.setWeights([seededNormal([6], 1), seededNormal([6], 2)]);
    const loaded = await saveAndLoad(model);
    const layer = loaded.getLayer('ln');
    expect(layer.getClassName()).toBe('LayerNorm');
    expect(layer).toBeInstanceOf(LayerNorm);
    expect((layer as LayerNorm).epsilon).toBe(1e-6);
    const x = seededNormal([3, 4, 6], 3);
    expect(Array.from((loaded.predict(x) as tf.Tensor).dataSync())).toEqual(Array.from((model.predict(x) as tf.Tensor).dataSync()));
  });

  it('the walker counts it as one layernorm op holding 2·size params (not listed again)', async () => {
    await useBackend('cpu');
    const input = tfl.input({ shape: [4, 6] });
    const model = tfl.model({ inputs: input, outputs: new LayerNorm({ name: 'ln' }).apply(input) as tfl.SymbolicTensor });
    expect(modelFlopOps(model)).toEqual([{ kind: 'layernorm', name: 'ln', rows: 4, size: 6, affine: true, role: 'ln' }]);
    const plan = planModel(model);
    expect(plan.totals.params).toBe(12);
    expect(plan.rows.map((r) => r.name)).toEqual(['ln']);
  });

  it('sparseIftDense builds it for the Sparse Factorized middle and the Sparse Parallel layernorm σ', async () => {
    await useBackend('cpu');
    const input = tfl.input({ shape: [8] });
    const sf = tfl.model({ inputs: input, outputs: sparseIftDense(input, { name: 'sf', family: 'sparse-factorized', units: 8, sparsity: 0.5, layerNormEpsilon: 1e-6 }) });
    expect(sf.getLayer('sf_mid_ln')).toBeInstanceOf(LayerNorm);
    expect((sf.getLayer('sf_mid_ln') as LayerNorm).epsilon).toBe(1e-6);
    const sp = tfl.model({ inputs: input, outputs: sparseIftDense(input, { name: 'sp', family: 'sparse-parallel', units: 8, sparsity: 0.5, parallelSigma: 'layernorm' }) });
    expect(sp.layers.filter((l) => l instanceof LayerNorm).map((l) => l.name)).toEqual(['sp_sp0_ln', 'sp_sp1_ln']);
    expect(sf.layers.some((l) => l.getClassName() === 'LayerNormalization')).toBe(false);
  });
});
