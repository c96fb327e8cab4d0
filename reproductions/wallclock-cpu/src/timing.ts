/**
 * How this package times a model, shared with tools/bench/sparse-families.ts: the median of a few timed
 * calls after warm-ups, one training step (forward + backward + SGD-momentum) and one inference forward
 * (dropout off, BatchNorm in inference mode) of a zoo model: the CIFAR ResNet-18 (@sparse-ift/resnet) or a
 * GPT (@sparse-ift/gpt) on random inputs.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { Family } from '@sparse-ift/core';
import { RESNET18_CIFAR, RESNET_MINI_CIFAR, buildResNet, type ResNetArch } from '@sparse-ift/resnet';
import { GPT_MINI, GPT_NANO, buildGpt, languageModelLoss, type GptConfig } from '@sparse-ift/gpt';

export interface Timing {
  /** Untimed calls first: in the native backend's 'auto' mode each new layer shape times both kernels there. */
  warmup: number;
  /** Timed calls; their median is reported. */
  reps: number;
}

/** Median wall-clock seconds of `fn` over `timing.reps` calls after `timing.warmup` untimed ones. */
export function medianSeconds(fn: () => void, timing: Timing): number {
  if (!(timing.reps >= 1)) throw new Error(`timing reps must be at least 1, got ${timing.reps}`);
  for (let i = 0; i < timing.warmup; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < timing.reps; i++) {
    const t0 = performance.now();
    fn();
    times.push((performance.now() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  const mid = Math.floor(times.length / 2);
  return times.length % 2 === 1 ? times[mid]! : (times[mid - 1]! + times[mid]!) / 2;
}

/** The zoo models this package times, by name. */
export const TIMED_MODELS = {
  'resnet18-cifar': { kind: 'resnet', arch: RESNET18_CIFAR },
  'resnet-mini-cifar': { kind: 'resnet', arch: RESNET_MINI_CIFAR },
  'gpt-mini': { kind: 'gpt', config: GPT_MINI },
  'gpt-nano': { kind: 'gpt', config: GPT_NANO },
} as const satisfies Record<string, { kind: 'resnet'; arch: ResNetArch } | { kind: 'gpt'; config: GptConfig }>;
export type TimedModelName = keyof typeof TIMED_MODELS;

/** A built model with what a step and a forward need: random inputs and targets at any batch. */
export interface TimedModel {
  model: LayersModel;
  /** A random input batch (images NHWC, or token ids). */
  input(batch: number): tf.Tensor;
  /** Random targets for `batch` samples (one-hot classes, or next-token ids). */
  target(batch: number): tf.Tensor;
  loss(output: tf.Tensor, target: tf.Tensor): tf.Scalar;
}

/** Builds `name` as `family` at nominal sparsity `sparsity`; a GPT at `tokens` tokens per sample. */
export function buildTimedModel(name: TimedModelName, family: Family, sparsity: number, options: { tokens?: number; seed?: number } = {}): TimedModel {
  const seed = options.seed ?? 1;
  const spec = TIMED_MODELS[name];
  if (spec.kind === 'resnet') {
    const model = buildResNet(spec.arch, { family, sparsity, seed });
    const [h, w, c] = spec.arch.inputShape;
    const classes = spec.arch.numClasses;
    return {
      model,
      input: (batch) => tf.randomNormal([batch, h, w, c], 0, 1, 'float32', seed),
      target: (batch) => tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => i % classes), 'int32'), classes),
      loss: (output, target) => tf.losses.softmaxCrossEntropy(target, output) as tf.Scalar,
    };
  }
  const tokens = options.tokens ?? spec.config.contextLength;
  const model = buildGpt(spec.config, { family, sparsity, seed, sequenceLength: tokens });
  const ids = (batch: number) => tf.randomUniform([batch, tokens], 0, spec.config.vocabSize, 'int32', seed);
  return { model, input: ids, target: ids, loss: languageModelLoss };
}

/** Median seconds of one training step (forward + backward + SGD-momentum update) at `batch`. */
export function timeTrainingStep(net: TimedModel, batch: number, timing: Timing): number {
  const [x, y] = [net.input(batch), net.target(batch)];
  const optimizer = tf.train.momentum(0.01, 0.9);
  const variables = net.model.trainableWeights.map((w) => w.read() as tf.Variable);
  const loss = () => net.loss(net.model.apply(x, { training: true }) as tf.Tensor, y);
  try {
    return medianSeconds(() => tf.tidy(() => void optimizer.minimize(loss, true, variables)?.dataSync()), timing);
  } finally {
    tf.dispose([x, y]);
    optimizer.dispose();
  }
}

/** Median seconds of one inference forward at `batch` (outputs read back, as a server would). */
export function timeInference(net: TimedModel, batch: number, timing: Timing): number {
  const x = net.input(batch);
  try {
    return medianSeconds(() => tf.tidy(() => void (net.model.apply(x, { training: false }) as tf.Tensor).dataSync()), timing);
  } finally {
    x.dispose();
  }
}
