/**
 * The training loop shared by every reproduction: deterministic data order from (seed, epoch), the
 * spec §4 optimiser recipes and LR schedules, label smoothing, sparse training through core's
 * `sparseTrainStep` (static/SET/RigL, spec §3.4 step order), evaluation each epoch, TensorBoard
 * scalars, atomic checkpoints with exact resume, and a hard stop on a NaN/Inf loss.
 */
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
// Registers tf.js' gradient functions (tfjs-core alone has none). Its Node (CJS) bundle does so in
// plain Node; tfjs-core's own `dist/register_all_gradients.js` is browser-ESM and fails to load there.
import '@tensorflow/tfjs-layers';
import { readCheckpoint, restoreOptimizerState, storeOptimizerState, writeCheckpointAtomic, type StoredOptimizer, type StoredTensor } from './checkpoint.js';
import {
  AdamW,
  NonFiniteLossError,
  Rng,
  SGD,
  StaticUpdater,
  createMaskUpdater,
  decayOnlyMatrices,
  initMasks,
  sparseTrainStep,
  type MaskUpdater,
  type MaskedParam,
  type SparseOptimizer,
  type UpdaterState,
} from './core.js';
import { epochPermutation } from './data-order.js';
import { crossEntropy } from './loss.js';
import { createProgress } from './progress.js';
import type { OptimizerRecipe } from './recipes.js';
import { learningRate, type LrSchedule } from './schedules.js';
import { TensorBoardWriter } from './tensorboard.js';

/** A trainable parameter with a name that is stable across processes (checkpoints use it). */
export interface NamedVariable {
  name: string;
  variable: tf.Variable;
}

/** Where a training forward pass sits in the run: lets seeded augmentation survive a resume. */
export interface ForwardContext {
  /** 0-based index of the optimiser step this batch is for (the same in a resumed run). */
  step: number;
}

/** What the trainer needs from a model: its parameters, its masks, its other state and a forward pass. */
export interface TrainableModel {
  params: NamedVariable[];
  /** Masked weights; each `weight` is one of `params`' variables. */
  maskedParams: MaskedParam[];
  /**
   * Non-trainable state the forward pass changes, e.g. BatchNorm moving mean/variance: checkpointed and
   * restored on resume. A mask or parameter listed here too is saved once, under its own name.
   */
  buffers?: NamedVariable[];
  /** `context` is given for training batches only. */
  logits(images: tf.Tensor, training: boolean, context?: ForwardContext): tf.Tensor2D;
}

/** Images (N × sampleShape, float32) and integer labels. */
export interface LabelledData {
  images: Float32Array;
  labels: Int32Array;
  count: number;
  /** Shape of one sample, e.g. [784] for an MLP or [28, 28, 1] for a CNN. */
  sampleShape: number[];
}

/** One batch read from a `BatchSource`: N × sampleShape float32 images and their integer labels. */
export interface Batch {
  images: Float32Array;
  labels: Int32Array;
  /** [N, ...sampleShape]. */
  shape: number[];
}

/** A data set read batch by batch (e.g. shards decoded in worker threads) instead of held in memory. */
export interface BatchStream {
  /** The batches of an epoch; evaluation reads all of epoch 0's. */
  batches(epoch: number): AsyncIterable<Batch>;
}

/**
 * A training set read batch by batch. `batches(epoch)` must give the same batches for the same epoch in
 * every process: a resumed run skips the ones it trained on before the interruption.
 */
export interface BatchSource extends BatchStream {
  /** Samples per epoch (part of a checkpoint's fingerprint). */
  count: number;
  /** Optimiser steps per epoch: training ends an epoch after this many batches. Evaluation reads all. */
  batchesPerEpoch: number;
  /** Whatever else decides the batches (image size, augmentation), so a checkpoint is not resumed with other data. */
  fingerprint?: string;
}

/** In-memory sets or batch sources, for training and for the evaluation after every epoch. */
export interface TrainData {
  train: LabelledData | BatchSource;
  test: LabelledData | BatchStream;
}

function isBatchSource<S extends BatchStream>(data: LabelledData | S): data is S {
  return typeof (data as Partial<S>).batches === 'function';
}

export type MaskMethod = 'dense' | 'static' | 'set' | 'rigl';

export interface TrainConfig {
  seed: number;
  epochs: number;
  batchSize: number;
  optimizer: OptimizerRecipe;
  schedule: LrSchedule;
  labelSmoothing?: number;
  /** Clip the global gradient norm to this value (GPT recipe: 1.0). */
  clipNorm?: number;
  /** Sparse training method and the dynamic schedule (defaults: ΔT 100, α₀ 0.3 cosine, end 0.75). */
  mask: { method: MaskMethod; frequency?: number; dropFraction?: number; endFraction?: number };
  evalBatchSize?: number;
  /** Checkpoint file; written at the end of every epoch and every `checkpointEvery` steps. */
  checkpointFile?: string;
  checkpointEvery?: number;
  /** Continue from `checkpointFile` when it exists. */
  resume?: boolean;
  tensorboardDir?: string;
  /** Show a progress bar (only when stderr is a TTY). */
  progress?: boolean;
  label?: string;
  /** Stop (after checkpointing) once this many optimiser steps are done: simulates an interruption. */
  stopAfterStep?: number;
  log?: (line: string) => void;
}

export interface EpochMetrics {
  epoch: number;
  step: number;
  trainLoss: number;
  testLoss: number;
  testAccuracy: number;
  lr: number;
}

export interface TrainResult {
  history: EpochMetrics[];
  /** Test accuracy after the last epoch (undefined when stopped before the end). */
  testAccuracy: number | undefined;
  steps: number;
  stoppedEarly: boolean;
  resumedFromStep: number;
  wallSeconds: number;
}

/** Thrown when the loss is NaN or ±Inf; the last good checkpoint on disk is left untouched. */

interface CheckpointMeta {
  fingerprint: string;
  epoch: number;
  stepInEpoch: number;
  globalStep: number;
  history: EpochMetrics[];
  updater: UpdaterState;
  optimizer: StoredOptimizer;
  trainLossSum: number;
  trainLossCount: number;
}

function makeOptimizer(variables: tf.Variable[], recipe: OptimizerRecipe): SparseOptimizer {
  const decayFilter = recipe.decay === 'matrices' ? decayOnlyMatrices : () => true;
  return recipe.kind === 'sgd'
    ? new SGD(variables, { learningRate: recipe.lr, momentum: recipe.momentum, nesterov: recipe.nesterov, weightDecay: recipe.weightDecay, decayFilter })
    : new AdamW(variables, { learningRate: recipe.lr, beta1: recipe.beta1, beta2: recipe.beta2, epsilon: recipe.eps, weightDecay: recipe.weightDecay, decayFilter });
}

function makeUpdater(config: TrainConfig, totalSteps: number): MaskUpdater {
  const { method, frequency, dropFraction, endFraction } = config.mask;
  if (method === 'dense' || method === 'static') return new StaticUpdater();
  // SET's growth draws come from a stream split off the run seed (independent of mask init).
  return createMaskUpdater({ method, schedule: { totalSteps, frequency, dropFraction, endFraction }, seed: config.seed });
}

/** The fields that must match for a checkpoint to be resumable. */
function fingerprint(config: TrainConfig, model: TrainableModel, buffers: NamedVariable[], data: LabelledData | BatchSource): string {
  return JSON.stringify({
    seed: config.seed,
    epochs: config.epochs,
    batchSize: config.batchSize,
    optimizer: config.optimizer,
    schedule: config.schedule,
    labelSmoothing: config.labelSmoothing ?? 0,
    clipNorm: config.clipNorm ?? null,
    mask: config.mask,
    params: model.params.map((p) => [p.name, p.variable.shape]),
    // Only when present, so checkpoints of buffer-free models written before buffers existed still resume.
    ...(buffers.length > 0 ? { buffers: buffers.map((b) => [b.name, b.variable.shape]) } : {}),
    trainCount: data.count,
    ...(isBatchSource(data) ? { batchesPerEpoch: data.batchesPerEpoch, source: data.fingerprint ?? null } : {}),
  });
}

function gatherBatch(data: LabelledData, order: Int32Array, from: number, to: number): { x: tf.Tensor; y: tf.Tensor1D } {
  const size = data.sampleShape.reduce((a, b) => a * b, 1);
  const n = to - from;
  const x = new Float32Array(n * size);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const src = order[from + i]!;
    x.set(data.images.subarray(src * size, (src + 1) * size), i * size);
    y[i] = data.labels[src]!;
  }
  return { x: tf.tensor(x, [n, ...data.sampleShape]), y: tf.tensor1d(y, 'int32') };
}

/**
 * The training batches of one epoch from step `skip` on: the (seed, epoch) permutation of an in-memory
 * set, or the source's batches, `stepsPerEpoch` of them.
 */
async function* epochBatches(data: LabelledData | BatchSource, seed: number, epoch: number, batchSize: number, stepsPerEpoch: number, skip: number): AsyncGenerator<{ x: tf.Tensor; y: tf.Tensor1D; n: number }> {
  if (!isBatchSource(data)) {
    const order = epochPermutation(data.count, seed, epoch);
    for (let step = skip; step < stepsPerEpoch; step++) {
      const from = step * batchSize;
      const to = Math.min(data.count, from + batchSize);
      yield { ...gatherBatch(data, order, from, to), n: to - from };
    }
    return;
  }
  let step = 0;
  for await (const batch of data.batches(epoch)) {
    if (step >= stepsPerEpoch) return;
    if (step++ < skip) continue; // same (epoch) → same batches: skip those trained on before a resume
    yield { x: tf.tensor(batch.images, batch.shape), y: tf.tensor1d(batch.labels, 'int32'), n: batch.shape[0]! };
  }
  if (step < stepsPerEpoch) {
    throw new Error(`the training batch source gave ${step} batches in epoch ${epoch + 1}, fewer than its batchesPerEpoch (${stepsPerEpoch}); fix batchesPerEpoch or the data`);
  }
}

/** Mean loss and top-1 accuracy of one batch, and its size. */
function evaluateBatch(model: TrainableModel, x: tf.Tensor, y: tf.Tensor1D): { lossSum: number; hits: number } {
  return tf.tidy(() => {
    const logits = model.logits(x, false);
    const hits = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), y), 'int32'));
    return { lossSum: crossEntropy(logits, y).dataSync()[0]! * y.shape[0], hits: hits.dataSync()[0]! };
  });
}

/** Mean test loss and top-1 accuracy over every batch of a stream (its epoch 0). */
export async function evaluateSource(model: TrainableModel, source: BatchStream): Promise<{ loss: number; accuracy: number }> {
  let lossSum = 0;
  let correct = 0;
  let count = 0;
  for await (const batch of source.batches(0)) {
    const x = tf.tensor(batch.images, batch.shape);
    const y = tf.tensor1d(batch.labels, 'int32');
    try {
      const r = evaluateBatch(model, x, y);
      lossSum += r.lossSum;
      correct += r.hits;
      count += batch.labels.length;
    } finally {
      x.dispose();
      y.dispose();
    }
  }
  if (count === 0) throw new Error('the evaluation batch source gave no batches; check the validation data');
  return { loss: lossSum / count, accuracy: correct / count };
}

/** Mean test loss and top-1 accuracy over a whole set, in batches. */
export function evaluate(model: TrainableModel, data: LabelledData, batchSize = 1000): { loss: number; accuracy: number } {
  const order = Int32Array.from({ length: data.count }, (_, i) => i);
  let lossSum = 0;
  let correct = 0;
  for (let from = 0; from < data.count; from += batchSize) {
    const to = Math.min(data.count, from + batchSize);
    const { x, y } = gatherBatch(data, order, from, to);
    const r = evaluateBatch(model, x, y);
    x.dispose();
    y.dispose();
    lossSum += r.lossSum;
    correct += r.hits;
  }
  return { loss: lossSum / data.count, accuracy: correct / data.count };
}

export async function train(model: TrainableModel, data: TrainData, config: TrainConfig): Promise<TrainResult> {
  const started = performance.now();
  const log = config.log ?? (() => {});
  const label = config.label ?? 'train';
  const byName = new Map<string, tf.Variable>();
  for (const p of model.params) {
    if (byName.has(p.name)) throw new Error(`model has two parameters named '${p.name}'; parameter names must be unique`);
    byName.set(p.name, p.variable);
  }
  const nameOfVariable = new Map(model.params.map((p) => [p.variable.name, p.name] as const));
  const stableName = (variableName: string): string => nameOfVariable.get(variableName)!;
  // Non-trainable state not saved already as a parameter or a mask (tf.js variable names are unique per process).
  const savedElsewhere = new Set([...model.params.map((p) => p.variable.name), ...model.maskedParams.map((mp) => mp.mask.name)]);
  const buffers = (model.buffers ?? []).filter((b) => !savedElsewhere.has(b.variable.name));
  const bufferNames = new Set<string>();
  for (const b of buffers) {
    if (bufferNames.has(b.name)) throw new Error(`model has two buffers named '${b.name}'; buffer names must be unique`);
    bufferNames.add(b.name);
  }
  if (!(config.batchSize >= 1) || !(config.epochs >= 1)) throw new RangeError('batchSize and epochs must be >= 1');

  // In memory the last partial batch is kept, as PyTorch; a source says how many batches make an epoch.
  const stepsPerEpoch = isBatchSource(data.train) ? data.train.batchesPerEpoch : Math.ceil(data.train.count / config.batchSize);
  if (!(stepsPerEpoch >= 1)) throw new RangeError(`an epoch of the training data has ${stepsPerEpoch} batches; it needs at least 1`);
  const totalSteps = stepsPerEpoch * config.epochs;
  const variables = model.params.map((p) => p.variable);
  const optimizer = makeOptimizer(variables, config.optimizer);
  const updater = makeUpdater(config, totalSteps);
  const print = fingerprint(config, model, buffers, data.train);

  let epoch = 0;
  let stepInEpoch = 0;
  let globalStep = 0;
  let history: EpochMetrics[] = [];
  let trainLossSum = 0;
  let trainLossCount = 0;

  if (config.resume && config.checkpointFile && existsSync(config.checkpointFile)) {
    const ckpt = readCheckpoint<CheckpointMeta>(config.checkpointFile);
    if (ckpt.meta.fingerprint !== print) {
      throw new Error(
        `checkpoint ${config.checkpointFile} was written with a different configuration; ` +
          'rerun with the same settings, or use --force to start over',
      );
    }
    const tensor = (key: string): StoredTensor => {
      const t = ckpt.tensors.get(key);
      if (!t) throw new Error(`checkpoint ${config.checkpointFile} lacks tensor '${key}'; delete it or use --force to start over`);
      return t;
    };
    tf.tidy(() => {
      for (const p of model.params) p.variable.assign(tf.tensor(tensor(`param/${p.name}`).data, p.variable.shape));
      for (const mp of model.maskedParams) mp.mask.assign(tf.tensor(tensor(`mask/${mp.name}`).data, mp.mask.shape));
      for (const b of buffers) b.variable.assign(tf.tensor(tensor(`buffer/${b.name}`).data, b.variable.shape, b.variable.dtype));
    });
    // Optimizer state is keyed by tf.js variable names, which differ between processes: map through ours.
    restoreOptimizerState(optimizer, ckpt.meta.optimizer, stableName, tensor);
    updater.loadState(ckpt.meta.updater);
    ({ epoch, stepInEpoch, globalStep, history, trainLossSum, trainLossCount } = ckpt.meta);
    log(`${label}: resumed from ${config.checkpointFile} at epoch ${epoch + 1}, step ${globalStep}`);
  } else if (config.mask.method !== 'dense') {
    initMasks(model.maskedParams, { method: 'random', rng: Rng.fromSeed(config.seed) });
  }
  const resumedFromStep = globalStep;

  const saveCheckpoint = (): void => {
    if (!config.checkpointFile) return;
    const tensors = new Map<string, StoredTensor>();
    for (const p of model.params) tensors.set(`param/${p.name}`, { shape: [...p.variable.shape], data: p.variable.dataSync().slice() as Float32Array });
    for (const mp of model.maskedParams) tensors.set(`mask/${mp.name}`, { shape: [...mp.mask.shape], data: mp.mask.dataSync().slice() as Float32Array });
    for (const b of buffers) tensors.set(`buffer/${b.name}`, { shape: [...b.variable.shape], data: Float32Array.from(b.variable.dataSync()) });
    const storedOptimizer = storeOptimizerState(optimizer, stableName, tensors, (name) => [...byName.get(name)!.shape]);
    writeCheckpointAtomic<CheckpointMeta>(config.checkpointFile, {
      meta: {
        fingerprint: print,
        epoch,
        stepInEpoch,
        globalStep,
        history,
        updater: updater.state(),
        optimizer: storedOptimizer,
        trainLossSum,
        trainLossCount,
      },
      tensors,
    });
  };

  const tb = config.tensorboardDir ? new TensorBoardWriter(config.tensorboardDir) : undefined;
  const progress = createProgress(config.progress ?? false);
  let stoppedEarly = false;
  let windowStart = performance.now();
  let windowSamples = 0;
  progress.start(totalSteps, globalStep, label);

  try {
    while (epoch < config.epochs && !stoppedEarly) {
      for await (const { x, y, n } of epochBatches(data.train, config.seed, epoch, config.batchSize, stepsPerEpoch, stepInEpoch)) {
        optimizer.learningRate = learningRate(config.optimizer.lr, config.schedule, { step: globalStep, epoch });
        let loss: number;
        try {
          ({ loss } = sparseTrainStep({
            params: variables,
            maskedParams: model.maskedParams,
            lossFn: () => crossEntropy(model.logits(x, true, { step: globalStep }), y, config.labelSmoothing ?? 0),
            optimizer,
            updater,
            clipNorm: config.clipNorm,
          }));
        } catch (error) {
          if (isWasmHeapExhausted(error)) {
            const kept = config.checkpointFile && existsSync(config.checkpointFile) ? ` The last checkpoint, ${config.checkpointFile}, is untouched.` : '';
            throw new Error(
              `training step ${globalStep + 1} ran out of wasm memory (${(error as Error).message}): the wasm backend's heap is wasm32, at most 4 GB, ` +
                `and this model's weights, masks, gradients, optimizer slots and activations at batch ${config.batchSize} do not fit. ` +
                `Lower the batch size or the width/sparsity, or train on @tensorflow/tfjs-node(-gpu) (--backend tensorflow).${kept}`,
              { cause: error },
            );
          }
          // core refuses a non-finite step before applying it; add where it happened and what is kept.
          if (!(error instanceof NonFiniteLossError)) throw error;
          const kept = config.checkpointFile && existsSync(config.checkpointFile) ? config.checkpointFile : undefined;
          throw new NonFiniteLossError(error.loss, globalStep + 1, kept);
        } finally {
          x.dispose();
          y.dispose();
        }
        globalStep += 1;
        stepInEpoch += 1;
        trainLossSum += loss * n;
        trainLossCount += n;
        windowSamples += n;
        const seconds = (performance.now() - windowStart) / 1000;
        progress.update(globalStep, { loss, samplesPerSecond: windowSamples / Math.max(seconds, 1e-9) });
        if (seconds > 10) {
          windowStart = performance.now();
          windowSamples = 0;
        }
        if (tb && globalStep % 10 === 0) tb.scalars(globalStep, { 'train/loss': loss, 'train/lr': optimizer.learningRate });
        const stopping = config.stopAfterStep !== undefined && globalStep >= config.stopAfterStep;
        if (stepInEpoch < stepsPerEpoch && (stopping || (config.checkpointEvery && globalStep % config.checkpointEvery === 0))) {
          saveCheckpoint();
        }
        if (stopping && stepInEpoch < stepsPerEpoch) {
          stoppedEarly = true;
          break;
        }
      }
      if (stoppedEarly) break;
      // End of epoch: evaluate on the test set (the official code does so every epoch, no validation split).
      const test = isBatchSource(data.test) ? await evaluateSource(model, data.test) : evaluate(model, data.test, config.evalBatchSize);
      const metrics: EpochMetrics = {
        epoch,
        step: globalStep,
        trainLoss: trainLossSum / Math.max(1, trainLossCount),
        testLoss: test.loss,
        testAccuracy: test.accuracy,
        lr: optimizer.learningRate,
      };
      history = [...history, metrics];
      tb?.scalars(globalStep, { 'epoch/train_loss': metrics.trainLoss, 'test/loss': test.loss, 'test/accuracy': test.accuracy });
      progress.stop();
      log(
        `${label} epoch ${epoch + 1}/${config.epochs}: train loss ${metrics.trainLoss.toFixed(4)}, ` +
          `test loss ${test.loss.toFixed(4)}, test acc ${(100 * test.accuracy).toFixed(2)}%`,
      );
      epoch += 1;
      stepInEpoch = 0;
      trainLossSum = 0;
      trainLossCount = 0;
      saveCheckpoint();
      if (config.stopAfterStep !== undefined && globalStep >= config.stopAfterStep && epoch < config.epochs) stoppedEarly = true;
      else if (epoch < config.epochs) progress.start(totalSteps, globalStep, label);
    }
  } finally {
    progress.stop();
    tb?.close();
    optimizer.dispose();
  }
  return {
    history,
    testAccuracy: stoppedEarly ? undefined : history.at(-1)?.testAccuracy,
    steps: globalStep,
    stoppedEarly,
    resumedFromStep,
    wallSeconds: (performance.now() - started) / 1000,
  };
}

/**
 * A full wasm32 heap surfaces as a WebAssembly trap ("memory access out of bounds": tfjs-backend-wasm does
 * not check malloc) or as @sparse-ift/backend's own "wasm heap exhausted" check.
 */
function isWasmHeapExhausted(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return (error.name === 'RuntimeError' && /memory access out of bounds/.test(error.message)) || /wasm heap exhausted/.test(error.message);
}
