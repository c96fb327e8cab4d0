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
import { readCheckpoint, writeCheckpointAtomic, type StoredTensor } from './checkpoint.js';
import {
  AdamW,
  MaskUpdateSchedule,
  NonFiniteLossError,
  RigLUpdater,
  Rng,
  SETUpdater,
  SGD,
  StaticUpdater,
  decayOnlyMatrices,
  initMasks,
  sparseTrainStep,
  type MaskUpdater,
  type MaskedParam,
  type OptimizerState,
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

/** What the trainer needs from a model: its parameters, its masks and a forward pass. */
export interface TrainableModel {
  params: NamedVariable[];
  /** Masked weights; each `weight` is one of `params`' variables. */
  maskedParams: MaskedParam[];
  logits(images: tf.Tensor, training: boolean): tf.Tensor2D;
}

/** Images (N × sampleShape, float32) and integer labels. */
export interface LabelledData {
  images: Float32Array;
  labels: Int32Array;
  count: number;
  /** Shape of one sample, e.g. [784] for an MLP or [28, 28, 1] for a CNN. */
  sampleShape: number[];
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
  optimizer: { kind: OptimizerState['kind']; config: OptimizerState['config']; steps: Record<string, number> };
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
  const schedule = new MaskUpdateSchedule({ totalSteps, frequency, dropFraction, endFraction });
  // SET's growth draws come from a stream split off the run seed (independent of mask init).
  return method === 'set' ? new SETUpdater({ schedule, rng: Rng.fromSeed(config.seed).split() }) : new RigLUpdater({ schedule });
}

/** The fields that must match for a checkpoint to be resumable. */
function fingerprint(config: TrainConfig, model: TrainableModel, data: LabelledData): string {
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
    trainCount: data.count,
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

/** Mean test loss and top-1 accuracy over a whole set, in batches. */
export function evaluate(model: TrainableModel, data: LabelledData, batchSize = 1000): { loss: number; accuracy: number } {
  const order = Int32Array.from({ length: data.count }, (_, i) => i);
  let lossSum = 0;
  let correct = 0;
  for (let from = 0; from < data.count; from += batchSize) {
    const to = Math.min(data.count, from + batchSize);
    const { x, y } = gatherBatch(data, order, from, to);
    const [loss, hits] = tf.tidy(() => {
      const logits = model.logits(x, false);
      const hits = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), y), 'int32'));
      return [crossEntropy(logits, y).dataSync()[0]! * (to - from), hits.dataSync()[0]!];
    });
    x.dispose();
    y.dispose();
    lossSum += loss;
    correct += hits;
  }
  return { loss: lossSum / data.count, accuracy: correct / data.count };
}

export async function train(model: TrainableModel, data: { train: LabelledData; test: LabelledData }, config: TrainConfig): Promise<TrainResult> {
  const started = performance.now();
  const log = config.log ?? (() => {});
  const label = config.label ?? 'train';
  const byName = new Map<string, tf.Variable>();
  for (const p of model.params) {
    if (byName.has(p.name)) throw new Error(`model has two parameters named '${p.name}'; parameter names must be unique`);
    byName.set(p.name, p.variable);
  }
  const nameOfVariable = new Map(model.params.map((p) => [p.variable.name, p.name] as const));
  if (!(config.batchSize >= 1) || !(config.epochs >= 1)) throw new RangeError('batchSize and epochs must be >= 1');

  const stepsPerEpoch = Math.ceil(data.train.count / config.batchSize); // the last partial batch is kept, as PyTorch
  const totalSteps = stepsPerEpoch * config.epochs;
  const variables = model.params.map((p) => p.variable);
  const optimizer = makeOptimizer(variables, config.optimizer);
  const updater = makeUpdater(config, totalSteps);
  const print = fingerprint(config, model, data.train);

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
    });
    // Optimizer state is keyed by tf.js variable names, which differ between processes: map through ours.
    const current = optimizer.getState();
    const slots: OptimizerState['slots'] = {};
    const steps: OptimizerState['steps'] = {};
    for (const [variableName, own] of Object.entries(current.slots)) {
      const name = nameOfVariable.get(variableName)!;
      slots[variableName] = Object.fromEntries(Object.keys(own).map((slot) => [slot, tensor(`optimizer/${name}/${slot}`).data]));
      steps[variableName] = ckpt.meta.optimizer.steps[name] ?? 0;
    }
    optimizer.setState({ kind: ckpt.meta.optimizer.kind, config: ckpt.meta.optimizer.config, steps, slots });
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
    const state = optimizer.getState();
    const steps: Record<string, number> = {};
    for (const [variableName, own] of Object.entries(state.slots)) {
      const name = nameOfVariable.get(variableName)!;
      steps[name] = state.steps[variableName] ?? 0;
      for (const [slot, values] of Object.entries(own)) {
        tensors.set(`optimizer/${name}/${slot}`, { shape: [...byName.get(name)!.shape], data: values });
      }
    }
    writeCheckpointAtomic<CheckpointMeta>(config.checkpointFile, {
      meta: {
        fingerprint: print,
        epoch,
        stepInEpoch,
        globalStep,
        history,
        updater: updater.state(),
        optimizer: { kind: state.kind, config: state.config, steps },
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
      const order = epochPermutation(data.train.count, config.seed, epoch);
      while (stepInEpoch < stepsPerEpoch) {
        optimizer.learningRate = learningRate(config.optimizer.lr, config.schedule, { step: globalStep, epoch });
        const from = stepInEpoch * config.batchSize;
        const to = Math.min(data.train.count, from + config.batchSize);
        const { x, y } = gatherBatch(data.train, order, from, to);
        let loss: number;
        try {
          ({ loss } = sparseTrainStep({
            params: variables,
            maskedParams: model.maskedParams,
            lossFn: () => crossEntropy(model.logits(x, true), y, config.labelSmoothing ?? 0),
            optimizer,
            updater,
            clipNorm: config.clipNorm,
          }));
        } catch (error) {
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
        trainLossSum += loss * (to - from);
        trainLossCount += to - from;
        windowSamples += to - from;
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
      const test = evaluate(model, data.test, config.evalBatchSize);
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
