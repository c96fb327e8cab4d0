// Ops a training step hits that tfjs-backend-wasm already implements (not replaced here): their
// gradients on wasm still checked against cpu and finite differences, so a regression shows up.
import { describe, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { checkGradients, randn, rng } from './helpers.js';

describe('training ops on wasm (not replaced) agree with cpu and finite differences', () => {
  it('batch norm (training statistics) over an odd batch', async () => {
    const r = rng(1);
    await checkGradients('batchNorm', (x, gamma, beta) => {
      const { mean, variance } = tf.moments(x, [0, 1, 2]);
      return tf.batchNorm(x, mean, variance, beta, gamma, 1e-3);
    }, [
      { shape: [3, 4, 5, 6], values: randn(r, 360) },
      { shape: [6], values: randn(r, 6) },
      { shape: [6], values: randn(r, 6) },
    ], { eps: 1e-3, fdRtol: 1e-2 });
  });

  it('layer norm over the last axis', async () => {
    const r = rng(2);
    await checkGradients('layerNorm', (x, gamma, beta) => {
      const { mean, variance } = tf.moments(x, -1, true);
      return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), gamma), beta);
    }, [
      { shape: [3, 5, 8], values: randn(r, 120) },
      { shape: [8], values: randn(r, 8) },
      { shape: [8], values: randn(r, 8) },
    ], { eps: 1e-3, fdRtol: 1e-2 });
  });

  it('softmax cross-entropy with logits', async () => {
    const r = rng(3);
    const labels = new Float32Array(7 * 5);
    for (let i = 0; i < 7; i++) labels[i * 5 + Math.floor(r() * 5)] = 1;
    await checkGradients('softmaxCrossEntropy', (logits, y) => tf.losses.softmaxCrossEntropy(y, logits), [
      { shape: [7, 5], values: randn(r, 35) },
      { shape: [7, 5], values: labels, differentiable: false },
    ], { eps: 1e-3 });
  });

  it('causal attention block: scores, mask, softmax, values (batched matMuls)', async () => {
    const r = rng(4);
    const [b, h, t, d] = [2, 2, 5, 4];
    const mask = tf.tidy(() => tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([t, t]), -1, 0)), -1e9));
    await checkGradients('attention', (q, k, v) => {
      const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(d)), mask);
      return tf.matMul(tf.softmax(scores), v);
    }, [
      { shape: [b, h, t, d], values: randn(r, b * h * t * d) },
      { shape: [b, h, t, d], values: randn(r, b * h * t * d) },
      { shape: [b, h, t, d], values: randn(r, b * h * t * d) },
    ], { eps: 1e-3, fdRtol: 1e-2 });
  });

  it('gelu (tanh approximation, as in GPT-2)', async () => {
    const r = rng(5);
    await checkGradients('gelu', (x) => {
      const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
      return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner)));
    }, [{ shape: [4, 9], values: randn(r, 36) }], { eps: 1e-3 });
  });
});
