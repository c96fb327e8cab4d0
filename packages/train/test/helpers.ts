// A tiny two-layer model and a synthetic, learnable data set for trainer tests (cpu backend).
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { MaskedParam } from '@sparse-ift/core';
import type { LabelledData, TrainableModel } from '../src/index.js';

await tf.setBackend('cpu');

/** Deterministic pseudo-random numbers (LCG) so fixtures do not depend on the code under test. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296 - 0.5;
  };
}

export function syntheticData(count: number, features = 12, classes = 3, seed = 1): LabelledData {
  // Same class centres for every split (fixed seed); the noise differs per split.
  const centreRand = lcg(100);
  const centres = Array.from({ length: classes }, () => Array.from({ length: features }, () => 2 * centreRand()));
  const rand = lcg(seed);
  const images = new Float32Array(count * features);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const c = i % classes;
    labels[i] = c;
    for (let f = 0; f < features; f++) images[i * features + f] = centres[c]![f]! + 0.8 * rand();
  }
  return { images, labels, count, sampleShape: [features] };
}

export interface TinyModel extends TrainableModel {
  /** Multiplies the logits by NaN from this forward call on (to test the NaN stop). */
  poisonFromCall?: number;
  dispose(): void;
}

export function tinyModel(features = 12, hidden = 16, classes = 3, sparsity = 0.5, seed = 7): TinyModel {
  const rand = lcg(seed);
  const init = (shape: number[], scale: number): tf.Variable =>
    tf.variable(tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b) }, () => scale * rand()), shape));
  const w1 = init([features, hidden], 0.8);
  const b1 = tf.variable(tf.zeros([hidden]));
  const w2 = init([hidden, classes], 0.8);
  const b2 = tf.variable(tf.zeros([classes]));
  const mask = tf.variable(tf.ones([features, hidden]), false);
  const masked: MaskedParam = { name: 'fc1/kernel', layerName: 'fc1', role: 'wide-weight', sparsity, weight: w1, mask };
  let calls = 0;
  const model: TinyModel = {
    params: [
      { name: 'fc1/kernel', variable: w1 },
      { name: 'fc1/bias', variable: b1 },
      { name: 'fc2/kernel', variable: w2 },
      { name: 'fc2/bias', variable: b2 },
    ],
    maskedParams: [masked],
    logits(x: tf.Tensor, training: boolean): tf.Tensor2D {
      if (training) calls += 1;
      const h = tf.relu(tf.add(tf.matMul(x as tf.Tensor2D, w1), b1));
      const out = tf.add(tf.matMul(h, w2), b2) as tf.Tensor2D;
      return model.poisonFromCall !== undefined && training && calls >= model.poisonFromCall ? (tf.mul(out, NaN) as tf.Tensor2D) : out;
    },
    dispose() {
      for (const v of [w1, b1, w2, b2, mask]) v.dispose();
    },
  };
  return model;
}
