import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, it } from 'vitest';
import { crossEntropy } from '../src/index.js';

await tf.setBackend('cpu');

describe('crossEntropy', () => {
  // Hand computation: logits [0, ln 2, ln 3] → p = [1/6, 2/6, 3/6]; label 2.
  const logits = tf.tensor2d([[0, Math.log(2), Math.log(3)]]);
  const labels = tf.tensor1d([2], 'int32');

  it('is −log p(label) without smoothing', () => {
    expect(crossEntropy(logits, labels).dataSync()[0]).toBeCloseTo(-Math.log(0.5), 6);
  });

  it('with smoothing ε is (1 − ε)·NLL + ε·mean_k(−log p_k) (PyTorch)', () => {
    const eps = 0.1;
    const nll = -Math.log(0.5);
    const uniform = -(Math.log(1 / 6) + Math.log(2 / 6) + Math.log(3 / 6)) / 3;
    expect(crossEntropy(logits, labels, eps).dataSync()[0]).toBeCloseTo((1 - eps) * nll + eps * uniform, 6);
  });

  it('averages over the batch', () => {
    const two = tf.tensor2d([[0, Math.log(2), Math.log(3)], [0, 0, 0]]);
    const y = tf.tensor1d([2, 0], 'int32');
    expect(crossEntropy(two, y).dataSync()[0]).toBeCloseTo((-Math.log(0.5) - Math.log(1 / 3)) / 2, 6);
  });
});
