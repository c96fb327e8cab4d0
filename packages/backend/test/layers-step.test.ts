// One SGD step of small tfjs-layers models (the layer types the zoos use) on wasm and on the native
// backend gives the same
// updated weights as on cpu, from the same initial weights.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { expectClose, randn, rng, useBackend, TRAINING_BACKENDS, type TrainingBackend } from './helpers.js';

type Build = () => tfl.LayersModel;

async function stepOn(backend: TrainingBackend | 'cpu', build: Build, init: Float32Array[] | undefined, x: () => tf.Tensor, y: () => tf.Tensor) {
  await useBackend(backend);
  const model = build();
  if (init) model.setWeights(init.map((v, i) => tf.tensor(v, model.getWeights()[i]!.shape)));
  const before = model.getWeights().map((w) => w.dataSync().slice() as Float32Array);
  model.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
  const loss = (await model.trainOnBatch(x(), y())) as number;
  const after = model.getWeights().map((w) => w.dataSync().slice() as Float32Array);
  model.dispose();
  return { before, after, loss };
}

async function compareStep(backend: TrainingBackend, name: string, build: Build, x: () => tf.Tensor, y: () => tf.Tensor) {
  const cpu = await stepOn('cpu', build, undefined, x, y);
  const wasm = await stepOn(backend, build, cpu.before, x, y);
  expect(Math.abs(wasm.loss - cpu.loss), `${name}: loss ${backend} ${wasm.loss} vs cpu ${cpu.loss}`).toBeLessThan(1e-4 * Math.max(1, Math.abs(cpu.loss)));
  let moved = 0;
  cpu.after.forEach((w, i) => {
    expectClose(wasm.after[i]!, w, 2e-4, `${name}: weight ${i} after one step`);
    for (let j = 0; j < w.length; j++) if (w[j] !== cpu.before[i]![j]) moved++;
  });
  expect(moved, `${name}: the step changed some weights`).toBeGreaterThan(0);
}

for (const backend of TRAINING_BACKENDS) describe(`one training step of tfjs-layers models: ${backend} matches cpu`, () => {
  it('conv (strided, same) + batch norm + max-pool + avg-pool + dense', async () => {
    const r = rng(1);
    const xs = randn(r, 3 * 9 * 9 * 2);
    const labels = new Float32Array(3 * 4);
    [1, 3, 0].forEach((c, i) => (labels[i * 4 + c] = 1));
    await compareStep(backend, 'convnet', () => {
      const m = tfl.sequential();
      m.add(tfl.layers.conv2d({ inputShape: [9, 9, 2], filters: 5, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', seed: 1 } as never));
      m.add(tfl.layers.batchNormalization());
      m.add(tfl.layers.depthwiseConv2d({ kernelSize: 2, padding: 'valid' }));
      m.add(tfl.layers.maxPooling2d({ poolSize: 2, strides: 1, padding: 'same' }));
      m.add(tfl.layers.averagePooling2d({ poolSize: 2, strides: 1, padding: 'valid' }));
      m.add(tfl.layers.flatten());
      m.add(tfl.layers.dense({ units: 4, activation: 'softmax' }));
      return m;
    }, () => tf.tensor(xs, [3, 9, 9, 2]), () => tf.tensor(labels, [3, 4]));
  });

  it('embedding + layer norm + dense (token model)', async () => {
    const ids = Float32Array.from([1, 4, 4, 0, 2, 6, 1, 1, 3, 5]);
    const labels = new Float32Array(2 * 5 * 3);
    for (let i = 0; i < 10; i++) labels[i * 3 + (i % 3)] = 1;
    await compareStep(backend, 'token model', () => {
      const m = tfl.sequential();
      m.add(tfl.layers.embedding({ inputDim: 7, outputDim: 6, inputLength: 5 }));
      m.add(tfl.layers.layerNormalization());
      m.add(tfl.layers.dense({ units: 3, activation: 'softmax' }));
      return m;
    }, () => tf.tensor(ids, [2, 5]), () => tf.tensor(labels, [2, 5, 3]));
  });
});
