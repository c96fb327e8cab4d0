/**
 * Step-based language-model training with core's `sparseTrainStep` (spec §3.4 order) and train's
 * recipes and LR schedule. `@sparse-ift/train`'s `train()` takes one integer label per sample, so the
 * next-token objective runs here until train gains a token-batch source (see the README).
 *
 * Gradient accumulation: the micro-batch gradients are computed one pass at a time (activation memory
 * of one micro-batch), averaged, and handed to `sparseTrainStep` through a surrogate loss
 * Σ_v sum(stopGradient(ḡ_v) ⊙ v), whose gradient is exactly ḡ. On a RigL update step the masks are
 * opened for the micro-batch passes, so ḡ is the dense gradient RigL grows from (spec §3.7).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import {
  AdamW,
  type UpdaterState,
  MaskUpdateSchedule,
  RigLUpdater,
  Rng,
  StaticUpdater,
  collectMaskedParams,
  decayOnlyMatrices,
  initMasks,
  sparseTrainStep,
  type MaskUpdater,
  type MaskedParam,
} from '@sparse-ift/core';
import { TokenBlocks, lmBatches, type LmBatch, type TokenIds } from '@sparse-ift/data-text';
import { languageModelLoss } from '@sparse-ift/gpt';
import { existsSync } from 'node:fs';
import {
  TensorBoardWriter,
  learningRate,
  readCheckpoint,
  restoreOptimizerState,
  storeOptimizerState,
  writeCheckpointAtomic,
  type MaskMethod,
  type StoredOptimizer,
  type StoredTensor,
} from '@sparse-ift/train';
import type { GptExperimentConfig } from './presets.js';

export interface EvalPoint {
  step: number;
  loss: number;
  perplexity: number;
}

export interface LmTrainResult {
  steps: number;
  /** Step the run resumed from (0 for a fresh start). */
  resumedFromStep: number;
  /** True when `stopAfterStep` ended the run early (after checkpointing). */
  stoppedEarly: boolean;
  finalTrainLoss: number;
  evals: EvalPoint[];
  wallSeconds: number;
}

function makeUpdater(method: MaskMethod, config: GptExperimentConfig): MaskUpdater {
  if (method !== 'rigl') return new StaticUpdater();
  const schedule = new MaskUpdateSchedule({
    totalSteps: config.totalSteps,
    frequency: config.mask.frequency,
    endStep: config.mask.endStep,
    dropFraction: config.mask.dropFraction,
    decay: 'cosine',
  });
  return new RigLUpdater({ schedule });
}

/** Mean next-token loss of `rows` sequences starting at row `from` of an LmBatch. */
function batchLoss(model: LayersModel, batch: LmBatch, from: number, rows: number, training: boolean): tf.Scalar {
  const t = batch.context;
  const ids = tf.tensor2d(batch.inputs.subarray(from * t, (from + rows) * t), [rows, t], 'int32');
  const targets = tf.tensor2d(batch.targets.subarray(from * t, (from + rows) * t), [rows, t], 'int32');
  return languageModelLoss(model.apply(ids, { training }) as tf.Tensor, targets);
}

/** Validation loss and perplexity over the first `sequences` blocks (exp of the mean token loss). */
export function evaluatePerplexity(model: LayersModel, blocks: TokenBlocks, sequences: number, batchSize: number): { loss: number; perplexity: number; sequences: number } {
  const n = Math.min(sequences, blocks.length);
  if (n === 0) throw new Error(`the validation set has no block of ${blocks.context + 1} tokens; it is too small for context ${blocks.context}`);
  let lossSum = 0;
  for (const batch of lmBatches(blocks, { batchSize, dropLast: false })) {
    const rows = Math.min(batch.batchSize, n - batch.blocks[0]!);
    if (rows <= 0) break;
    lossSum += tf.tidy(() => batchLoss(model, batch, 0, rows, false).dataSync()[0]!) * rows;
  }
  const loss = lossSum / n;
  return { loss, perplexity: Math.exp(loss), sequences: n };
}

/** Averaged gradients of the micro-batches of `batch`, masks opened when RigL needs the dense gradient. */
export function accumulatedGradients(model: LayersModel, params: tf.Variable[], masked: readonly MaskedParam[], batch: LmBatch, micro: number, openMasks: boolean): { grads: Map<string, tf.Tensor>; loss: number } {
  const saved = openMasks ? masked.map((mp) => tf.clone(mp.mask)) : [];
  if (openMasks) for (const mp of masked) tf.tidy(() => mp.mask.assign(tf.onesLike(mp.mask)));
  const grads = new Map<string, tf.Tensor>();
  let loss = 0;
  const passes = batch.batchSize / micro;
  try {
    for (let p = 0; p < passes; p++) {
      const { value, grads: g } = tf.variableGrads(() => batchLoss(model, batch, p * micro, micro, true), params);
      loss += value.dataSync()[0]! / passes;
      value.dispose();
      for (const [name, grad] of Object.entries(g)) {
        const scaled = tf.div(grad, passes);
        grad.dispose();
        const previous = grads.get(name);
        grads.set(name, previous ? tf.add(previous, scaled) : scaled);
        if (previous) {
          previous.dispose();
          scaled.dispose();
        }
      }
    }
  } finally {
    masked.forEach((mp, i) => {
      if (!openMasks) return;
      mp.mask.assign(saved[i]!);
      saved[i]!.dispose();
    });
  }
  return { grads, loss };
}

interface LmCheckpointMeta {
  /** Settings that must match to resume. */
  fingerprint: string;
  /** Optimiser steps done. */
  step: number;
  evals: EvalPoint[];
  lastLoss: number;
  updater: UpdaterState;
  optimizer: StoredOptimizer;
}

export async function trainLanguageModel(args: {
  model: LayersModel;
  method: MaskMethod;
  seed: number;
  config: GptExperimentConfig;
  train: TokenIds;
  validation: TokenIds;
  tensorboardDir?: string;
  /** Checkpoint file, written every `checkpointEvery` steps (atomic; weights, masks, AdamW and RigL state). */
  checkpointFile?: string;
  checkpointEvery?: number;
  /** Continue from `checkpointFile` when it exists. */
  resume?: boolean;
  /** Stop (after checkpointing) once this many steps are done: an interruption, for tests. */
  stopAfterStep?: number;
  label: string;
  log: (line: string) => void;
}): Promise<LmTrainResult> {
  const { model, method, seed, config } = args;
  const started = performance.now();
  const params = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const masked = collectMaskedParams(model);
  const opt = config.recipe.optimizer;
  if (opt.kind !== 'adamw') throw new Error(`the GPT recipe uses AdamW, got ${opt.kind}`);
  const optimizer = new AdamW(params, { learningRate: opt.lr, beta1: opt.beta1, beta2: opt.beta2, epsilon: opt.eps, weightDecay: opt.weightDecay, decayFilter: decayOnlyMatrices });
  const updater = makeUpdater(method, config);
  if (method !== 'dense') initMasks(masked, { method: 'random', rng: Rng.fromSeed(seed) });

  const trainBlocks = new TokenBlocks(args.train, config.context);
  const validBlocks = new TokenBlocks(args.validation, config.context);
  const batchSize = config.recipe.batchSize;
  if (trainBlocks.length < batchSize) {
    throw new Error(`the training set has ${trainBlocks.length} blocks of ${config.context + 1} tokens, fewer than one batch of ${batchSize}; use a smaller preset or more data`);
  }
  // Stable names (layer-qualified) for checkpoints: tf.js variable names differ between processes.
  const stableName = new Map(model.trainableWeights.map((w) => [(w.read() as tf.Variable).name, w.originalName] as const));
  const stableNameOf = (variableName: string): string => stableName.get(variableName)!;
  const fingerprint = JSON.stringify({ method, seed, recipe: config.recipe, context: config.context, totalSteps: config.totalSteps, mask: config.mask, micro: config.microBatchSize, params: model.trainableWeights.map((w) => [w.originalName, w.shape]) });
  let evals: EvalPoint[] = [];
  let lastLoss = NaN;
  let startStep = 0;
  if (args.resume && args.checkpointFile && existsSync(args.checkpointFile)) {
    const ckpt = readCheckpoint<LmCheckpointMeta>(args.checkpointFile);
    if (ckpt.meta.fingerprint !== fingerprint) throw new Error(`checkpoint ${args.checkpointFile} was written with other settings; rerun with the same preset, or use --force to start over`);
    const tensor = (key: string): StoredTensor => {
      const t = ckpt.tensors.get(key);
      if (!t) throw new Error(`checkpoint ${args.checkpointFile} lacks '${key}'; delete it or use --force to start over`);
      return t;
    };
    tf.tidy(() => {
      for (const v of params) v.assign(tf.tensor(tensor(`param/${stableName.get(v.name)}`).data, v.shape));
      for (const mp of masked) mp.mask.assign(tf.tensor(tensor(`mask/${mp.name}`).data, mp.mask.shape));
    });
    restoreOptimizerState(optimizer, ckpt.meta.optimizer, stableNameOf, tensor);
    updater.loadState(ckpt.meta.updater);
    ({ step: startStep, evals, lastLoss } = ckpt.meta);
    args.log(`${args.label}: resumed from ${args.checkpointFile} at step ${startStep}`);
  }
  const saveCheckpoint = (step: number): void => {
    if (!args.checkpointFile) return;
    const tensors = new Map<string, StoredTensor>();
    for (const v of params) tensors.set(`param/${stableName.get(v.name)}`, { shape: [...v.shape], data: v.dataSync().slice() as Float32Array });
    for (const mp of masked) tensors.set(`mask/${mp.name}`, { shape: [...mp.mask.shape], data: mp.mask.dataSync().slice() as Float32Array });
    const storedOptimizer = storeOptimizerState(optimizer, stableNameOf, tensors);
    writeCheckpointAtomic<LmCheckpointMeta>(args.checkpointFile, {
      meta: { fingerprint, step, evals, lastLoss, updater: updater.state(), optimizer: storedOptimizer },
      tensors,
    });
  };

  const tb = args.tensorboardDir ? new TensorBoardWriter(args.tensorboardDir) : undefined;
  // Blocks are read in order, epoch after epoch; a resumed run skips the batches already consumed.
  const batchesPerEpoch = Math.floor(trainBlocks.length / batchSize);
  let epoch = Math.floor(startStep / batchesPerEpoch);
  let batches = lmBatches(trainBlocks, { batchSize, shuffle: config.shuffle, seed, epoch });
  for (let skip = startStep % batchesPerEpoch; skip > 0; skip--) batches.next();
  let stoppedEarly = false;
  try {
    for (let step = startStep; step < config.totalSteps; step++) {
      let next = batches.next();
      if (next.done) {
        batches = lmBatches(trainBlocks, { batchSize, shuffle: config.shuffle, seed, epoch: ++epoch });
        next = batches.next();
      }
      const batch = next.value as LmBatch;
      optimizer.learningRate = learningRate(opt.lr, config.recipe.schedule, { step, epoch });
      const { grads, loss } = accumulatedGradients(model, params, masked, batch, config.microBatchSize, updater.needsDenseGradient());
      try {
        sparseTrainStep({
          params,
          maskedParams: masked,
          // Surrogate whose gradient is the averaged micro-batch gradient (see the file comment).
          lossFn: () => tf.addN(params.map((v) => tf.sum(tf.mul(grads.get(v.name) ?? tf.zerosLike(v), v)))) as tf.Scalar,
          optimizer,
          updater,
          clipNorm: config.recipe.clipNorm,
        });
      } finally {
        for (const g of grads.values()) g.dispose();
      }
      if (!Number.isFinite(loss)) throw new Error(`${args.label}: the training loss is ${loss} at step ${step + 1}; lower the learning rate or check the data`);
      lastLoss = loss;
      tb?.scalars(step + 1, { 'train/loss': loss, 'train/lr': optimizer.learningRate });
      const done = step + 1 === config.totalSteps;
      if ((step + 1) % config.evalEvery === 0 || done) {
        const e = evaluatePerplexity(model, validBlocks, config.evalSequences, config.microBatchSize);
        evals.push({ step: step + 1, loss: e.loss, perplexity: e.perplexity });
        tb?.scalars(step + 1, { 'valid/loss': e.loss, 'valid/perplexity': e.perplexity });
        args.log(`${args.label} step ${step + 1}/${config.totalSteps}: train loss ${loss.toFixed(4)}, valid ppl ${e.perplexity.toFixed(2)} (${e.sequences} × ${config.context} tokens)`);
      }
      const stopping = args.stopAfterStep !== undefined && step + 1 >= args.stopAfterStep && !done;
      if (!done && (stopping || (args.checkpointEvery && (step + 1) % args.checkpointEvery === 0))) saveCheckpoint(step + 1);
      if (stopping) {
        stoppedEarly = true;
        break;
      }
    }
  } finally {
    tb?.close();
    optimizer.dispose();
  }
  return { steps: stoppedEarly ? (args.stopAfterStep ?? 0) : config.totalSteps, resumedFromStep: startStep, stoppedEarly, finalTrainLoss: lastLoss, evals, wallSeconds: (performance.now() - started) / 1000 };
}
