// The SparseTraining callback's contract inside model.fit: it trains the layers' own masks (weights
// masked once), keeps weights and tf.js optimizer slots zero outside the masks, reaches the exact
// density at each update, gives the model its optimizer back, and refuses what it cannot train.
// (Equality with train()'s masks and weights: packages/train/test/fit-callback.test.ts.)
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { SparseTraining } from '../src/callbacks/sparse-training.js';
import { MaskedDense } from '../src/layers/masked-dense.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const x = tf.randomNormal([48, 12], 0, 1, 'float32', 1);
const y = tf.randomNormal([48, 4], 0, 1, 'float32', 2);

function net(sparsity: number): { model: tfl.LayersModel; layer: MaskedDense } {
  const input = tfl.input({ shape: [12] });
  const layer = new MaskedDense({ name: 'fc', units: 16, sparsity, role: 'wide-weight', activation: 'relu', maskSeed: 5 });
  const out = tfl.layers.dense({ units: 4 }).apply(layer.apply(input)) as tfl.SymbolicTensor;
  return { model: tfl.model({ inputs: input, outputs: out }), layer };
}

// −0 as +0: a masked entry is 0 × its value, of either sign.
const values = (t: tf.Tensor) => Array.from(t.dataSync(), (v) => v + 0);

describe('SparseTraining in model.fit', () => {
  it("trains the layer's own mask: static keeps it, and every kept weight stays non-zero (masked once)", async () => {
    const { model, layer } = net(0.75);
    const mask = values(layer.maskVariable());
    const kernel = values(layer.kernelVariable());
    const kept = mask.filter((m) => m === 1).length;
    expect(kept).toBeGreaterThan(0.15 * 192); // a Bernoulli(0.25) draw of 192, not a second mask on top
    model.compile({ optimizer: tf.train.sgd(0.05), loss: 'meanSquaredError' });
    await model.fit(x, y, { epochs: 1, batchSize: 16, verbose: 0, callbacks: [new SparseTraining({ method: 'static' })] });
    expect(values(layer.maskVariable())).toEqual(mask);
    const after = values(layer.kernelVariable());
    mask.forEach((m, i) => {
      if (m === 0) expect(after[i]).toBe(0);
      else expect(kernel[i]).not.toBe(0); // the built kernel was dense init × this one mask
    });
    model.dispose();
  });

  it('RigL with Adam: exact density after each update, weights and Adam moments zero outside the mask', async () => {
    const { model, layer } = net(0.75);
    const adam = tf.train.adam(0.01);
    model.compile({ optimizer: adam, loss: 'meanSquaredError' });
    const densities: number[] = [];
    const callback = new SparseTraining({ method: 'rigl', frequency: 1, endFraction: 1, dropFraction: 0.5, onMaskUpdate: (r) => densities.push(r.tensors[0]!.density) });
    const before = values(layer.maskVariable());
    await model.fit(x, y, { epochs: 2, batchSize: 16, verbose: 0, callbacks: [callback] });
    // 6 steps, end = 6: updates at t = 1..5; each grows back to int(0.25 · 192) = 48 ones.
    expect(densities).toEqual([48 / 192, 48 / 192, 48 / 192, 48 / 192, 48 / 192]);
    const mask = values(layer.maskVariable());
    expect(mask.filter((m) => m === 1).length).toBe(48);
    expect(mask).not.toEqual(before);
    const kernelName = layer.kernelVariable().name;
    const kernel = values(layer.kernelVariable());
    const slots = (await adam.getWeights()).filter((w) => w.name.startsWith(`${kernelName}/`));
    expect(slots.map((w) => w.name.slice(kernelName.length)).sort()).toEqual(['/m', '/v']);
    mask.forEach((m, i) => {
      if (m !== 0) return;
      expect(kernel[i]).toBe(0);
      for (const slot of slots) expect(values(slot.tensor)[i]).toBe(0);
    });
    expect(model.optimizer).toBe(adam); // the model's own optimizer again
    model.dispose();
  });

  it('refuses what it cannot train, naming what to do', async () => {
    expect(() => new SparseTraining({ method: 'set' })).toThrow(/seed/);
    const input = tfl.input({ shape: [12] });
    const plain = tfl.model({ inputs: input, outputs: tfl.layers.dense({ units: 4 }).apply(input) as tfl.SymbolicTensor });
    plain.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    await expect(plain.fit(x, y, { epochs: 1, verbose: 0, callbacks: [new SparseTraining({ method: 'rigl' })] })).rejects.toThrow(/no trainable masked weights.*MaskedDense/);
    plain.dispose();
  });
});
