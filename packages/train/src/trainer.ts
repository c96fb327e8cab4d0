/**
 * The training loop shared by every reproduction: deterministic data order from (seed, epoch), the
 * optimiser recipes (docs/recipes.md) and LR schedules, an objective that gives the loss of a batch
 * (classification, language modelling), gradient accumulation over micro-batches, sparse training
 * through core's `sparseTrainStep` (static/SET/RigL, in the order of docs/sparse-training.md#training-step), evaluation after every
 * epoch or every `evalEvery` steps, TensorBoard scalars, atomic checkpoints with exact resume, and a
 * hard stop on a NaN/Inf loss.
 *
 * Nothing on the step path waits for the device: dropout masks are drawn there (seeded per step and
 * micro-batch), mask updates run there on GPU backends, and each step's loss stays there until the
 * loss log reads a batch of them (`lossReadEvery`). A step is applied only while every loss so far was
 * finite (core's FiniteGuard), so the NaN/Inf stop, found up to `lossReadEvery` steps later, still
 * leaves the weights of the last good step and never checkpoints past it.
 */
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
// Registers tf.js' gradient functions (tfjs-core alone has none). Its Node (CJS) bundle does so in
// plain Node; tfjs-core's own `dist/register_all_gradients.js` is browser-ESM and fails to load there.
import '@tensorflow/tfjs-layers';
import { epochBatches, heldOutBatches, isBatchStream, microBatches, type BatchSource, type BatchStream, type LabelledData } from './batches.js';
import { CheckpointError, CheckpointReader, restoreOptimizerState, storeOptimizerState, writeCheckpointAtomic, type LazyTensor, type StoredOptimizer, type StoredTensor } from './checkpoint.js';
import {
  AdamW,
  FiniteGuard,
  HOST_MEMORY_BACKENDS,
  NonFiniteLossError,
  SEED_STREAMS,
  SGD,
  createMaskUpdater,
  decayOnlyMatrices,
  deriveSeed,
  initMasks,
  rngFor,
  sparseTrainStep,
  sparseTrainStepOnDevice,
  withDropoutContext,
  type MaskUpdater,
  type SparseOptimizer,
  type UpdaterState,
} from './core.js';
import type { NamedVariable, TrainableModel } from './model.js';
import { classification, type Metrics, type Objective } from './objectives.js';
import { LossLog, type StepLoss } from './loss-log.js';
import { createProgress } from './progress.js';
import type { MaskTraining, OptimizerRecipe } from './recipes.js';
import { learningRate, warmupFactor, type LrSchedule } from './schedules.js';
import { TensorBoardWriter } from './tensorboard.js';

/** In-memory sets or batch sources, for training and for the held-out evaluations. */
export interface TrainData {
  train: LabelledData | BatchSource;
  test: LabelledData | BatchStream;
}

export interface TrainConfig {
  seed: number;
  /** Passes over the training data; give this or `steps`. */
  epochs?: number;
  /** Optimiser steps in the run (the last epoch may end part-way); give this or `epochs`. */
  steps?: number;
  /** Samples per optimiser step (in memory; a batch source's batches are its steps). */
  batchSize: number;
  /**
   * Samples per forward/backward pass: each step's batch is cut into micro-batches of this size whose
   * gradients are accumulated. Only memory changes, not the maths. Default: the whole batch.
   */
  microBatchSize?: number;
  optimizer: OptimizerRecipe;
  schedule: LrSchedule;
  /** The loss of a batch and the held-out metrics (default: classification, no label smoothing). */
  objective?: Objective;
  /** Clip the global gradient norm to this value (GPT recipe: 1.0). */
  clipNorm?: number;
  /** Linear LR warm-up over this many first steps, in front of `schedule` (default 0: none). */
  warmupSteps?: number;
  mask: MaskTraining;
  /** Evaluate every this many steps and after the last; by default after every epoch. */
  evalEvery?: number;
  /**
   * Read the steps' losses from the device every this many steps (default 10), in one batch: the progress
   * bar, TensorBoard and the NaN/Inf stop see them then. Evaluations and checkpoints read all first.
   */
  lossReadEvery?: number;
  /** Batch size for evaluating an in-memory test set (default 1000). */
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

/** One held-out evaluation, and the training it follows. */
export interface Evaluation {
  epoch: number;
  /** Optimiser steps done. */
  step: number;
  /** Mean training loss over the samples since the previous evaluation. */
  trainLoss: number;
  test: Metrics;
  lr: number;
  /** The training loss since the previous evaluation stayed at chance (ln C for C classes): nothing was learned. */
  atChance?: boolean;
}

/** How fast training consumed data in this process: what the input pipeline had to deliver, and did. */
export interface InputThroughput {
  /** Training samples taken (this process; a resumed run counts from its resume). */
  samples: number;
  /** Seconds the loop waited for the next batch, and seconds spent in steps. */
  waitSeconds: number;
  stepSeconds: number;
  /** samples / (waitSeconds + stepSeconds). */
  samplesPerSecond: number;
}

export interface TrainResult {
  history: Evaluation[];
  /** The training loop's intake: samples/s and the share of time spent waiting for data. */
  input: InputThroughput;
  /** The held-out metrics after the last step (undefined when stopped before the end). */
  test: Metrics | undefined;
  steps: number;
  stoppedEarly: boolean;
  resumedFromStep: number;
  wallSeconds: number;
  /** Epochs (0-based) of the evaluations whose training loss stayed at chance; empty when the model learned. */
  epochsAtChance: number[];
}

/** A mean training loss of at least this fraction of the chance loss (ln C) learned nothing. */
export const AT_CHANCE_FRACTION = 0.98;

interface CheckpointMeta {
  fingerprint: string;
  epoch: number;
  stepInEpoch: number;
  globalStep: number;
  history: Evaluation[];
  updater: UpdaterState;
  optimizer: StoredOptimizer;
  trainLossSum: number;
  trainLossCount: number;
}

/**
 * Refuses checkpoint metadata no run of this configuration can have written (an edited or damaged
 * header): positions outside the run, a step count that does not add up, a history that is not a list.
 */
function assertResumable(meta: CheckpointMeta, file: string, stepsPerEpoch: number, run: { epochs: number; steps: number }): void {
  const count = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  const problems: string[] = [];
  if (!count(meta.epoch) || meta.epoch > run.epochs) problems.push(`epoch ${String(meta.epoch)} is not in [0, ${run.epochs}]`);
  if (!count(meta.stepInEpoch) || meta.stepInEpoch >= stepsPerEpoch) problems.push(`stepInEpoch ${String(meta.stepInEpoch)} is not in [0, ${stepsPerEpoch})`);
  // A run given in steps ends part-way through its last epoch, and its final checkpoint says epoch `epochs`.
  const finishedPartWay = meta.globalStep === run.steps && meta.epoch === run.epochs && meta.stepInEpoch === 0;
  if (problems.length === 0 && !finishedPartWay && (meta.globalStep !== meta.epoch * stepsPerEpoch + meta.stepInEpoch || meta.globalStep > run.steps)) {
    problems.push(`globalStep ${String(meta.globalStep)} is not epoch × ${stepsPerEpoch} + stepInEpoch = ${meta.epoch * stepsPerEpoch + meta.stepInEpoch} within the run's ${run.steps} steps`);
  }
  if (!Array.isArray(meta.history) || meta.history.length > run.steps) problems.push('its history of evaluations is not a list the run can have written');
  if (!Number.isFinite(meta.trainLossSum) || !count(meta.trainLossCount)) problems.push('its running training loss is not a finite sum over a count');
  if (typeof meta.optimizer !== 'object' || meta.optimizer === null || typeof meta.updater !== 'object' || meta.updater === null) problems.push('it lacks the optimizer or mask-updater state');
  if (problems.length > 0) throw new CheckpointError(file, `has impossible metadata: ${problems.join('; ')}`);
}

function makeOptimizer(variables: tf.Variable[], recipe: OptimizerRecipe): SparseOptimizer {
  const decayFilter = recipe.decay === 'matrices' ? decayOnlyMatrices : () => true;
  return recipe.kind === 'sgd'
    ? new SGD(variables, { learningRate: recipe.lr, momentum: recipe.momentum, nesterov: recipe.nesterov, weightDecay: recipe.weightDecay, decayFilter })
    : new AdamW(variables, { learningRate: recipe.lr, beta1: recipe.beta1, beta2: recipe.beta2, epsilon: recipe.eps, weightDecay: recipe.weightDecay, decayFilter });
}

function makeUpdater(config: TrainConfig, totalSteps: number): MaskUpdater {
  const { method, frequency, dropFraction, endFraction, endStep } = config.mask;
  // SET's growth draws come from the run's mask-growth stream (docs/seeding.md).
  return createMaskUpdater({ method, schedule: { totalSteps, frequency, dropFraction, endFraction, endStep }, seed: config.seed });
}

/** The fields that must match for a checkpoint to be resumable. */
function fingerprint(config: TrainConfig, objective: Objective, model: TrainableModel, buffers: NamedVariable[], data: LabelledData | BatchSource): string {
  return JSON.stringify({
    seed: config.seed,
    epochs: config.epochs ?? null,
    steps: config.steps ?? null,
    batchSize: config.batchSize,
    microBatchSize: config.microBatchSize ?? null,
    optimizer: config.optimizer,
    schedule: config.schedule,
    objective: objective.name,
    clipNorm: config.clipNorm ?? null,
    ...(config.warmupSteps ? { warmupSteps: config.warmupSteps } : {}),
    mask: config.mask,
    evalEvery: config.evalEvery ?? null,
    params: model.params.map((p) => [p.name, p.variable.shape]),
    // Only when present, so checkpoints of buffer-free models written before buffers existed still resume.
    ...(buffers.length > 0 ? { buffers: buffers.map((b) => [b.name, b.variable.shape]) } : {}),
    trainCount: data.count,
    ...(isBatchStream(data) ? { batchesPerEpoch: data.batchesPerEpoch, source: data.fingerprint ?? null } : {}),
  });
}

/** The objective's held-out metrics over every batch of `test` (an in-memory set in batches of `batchSize`). */
export async function evaluate(model: TrainableModel, test: LabelledData | BatchStream, options: { objective?: Objective; batchSize?: number } = {}): Promise<Metrics> {
  const objective = options.objective ?? classification();
  // Each batch's sums stay on the device; one read at the end, summed in float64 in batch order.
  const batchSums: Record<string, tf.Scalar>[] = [];
  let count = 0;
  let sums: Record<string, number> = {};
  try {
    for await (const batch of heldOutBatches(test, options.batchSize ?? 1000)) {
      batchSums.push(tf.tidy(() => objective.metricSums(model, batch)));
      count += batch.shape[0]!;
    }
    if (count === 0) throw new Error('the held-out data gave no batches; check the test/validation data');
    const names = Object.keys(batchSums[0]!);
    // float32 holds every per-batch count (accuracy is int32) exactly.
    const stacked = tf.tidy(() => tf.stack(batchSums.flatMap((b) => names.map((name) => tf.cast(b[name]!, 'float32')))));
    const values = await stacked.data();
    stacked.dispose();
    sums = Object.fromEntries(names.map((name, j) => [name, batchSums.reduce((total, _, i) => total + values[i * names.length + j]!, 0)]));
  } finally {
    for (const b of batchSums) tf.dispose(Object.values(b));
  }
  const means = Object.fromEntries(Object.entries(sums).map(([name, sum]) => [name, sum / count])) as Metrics;
  return objective.summarise?.(means) ?? means;
}

/** How long a run is: its epochs and optimiser steps, from whichever of the two the config gives. */
function runLength(config: TrainConfig, stepsPerEpoch: number): { epochs: number; steps: number } {
  if ((config.epochs === undefined) === (config.steps === undefined)) throw new Error('give the run length as epochs or as steps (one of the two)');
  if (config.steps !== undefined) {
    if (!(Number.isInteger(config.steps) && config.steps >= 1)) throw new RangeError(`steps must be a whole number >= 1, got ${config.steps}`);
    return { epochs: Math.ceil(config.steps / stepsPerEpoch), steps: config.steps };
  }
  if (!(config.epochs! >= 1)) throw new RangeError('batchSize and epochs must be >= 1');
  return { epochs: config.epochs!, steps: config.epochs! * stepsPerEpoch };
}

export async function train(model: TrainableModel, data: TrainData, config: TrainConfig): Promise<TrainResult> {
  const started = performance.now();
  const log = config.log ?? (() => {});
  const label = config.label ?? 'train';
  const objective = config.objective ?? classification();
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
  if (!(config.batchSize >= 1)) throw new RangeError('batchSize and epochs must be >= 1');
  // An empty held-out set would end the first epoch in an error (or a NaN): say so before training.
  if (!isBatchStream(data.test) && !(data.test.count >= 1)) throw new Error(`the evaluation set has ${data.test.count} samples; check the test data (sift data verify)`);
  const microBatchSize = config.microBatchSize ?? config.batchSize;
  if (!(Number.isInteger(microBatchSize) && microBatchSize >= 1)) throw new RangeError(`microBatchSize must be a whole number >= 1, got ${microBatchSize}`);

  // In memory the last partial batch is kept, as PyTorch; a source says how many batches make an epoch.
  const stepsPerEpoch = isBatchStream(data.train) ? data.train.batchesPerEpoch : Math.ceil(data.train.count / config.batchSize);
  if (!(stepsPerEpoch >= 1)) throw new RangeError(`an epoch of the training data has ${stepsPerEpoch} batches; it needs at least 1`);
  const run = runLength(config, stepsPerEpoch);
  const variables = model.params.map((p) => p.variable);
  const optimizer = makeOptimizer(variables, config.optimizer);
  const updater = makeUpdater(config, run.steps);
  const print = fingerprint(config, objective, model, buffers, data.train);

  let epoch = 0;
  let stepInEpoch = 0;
  let globalStep = 0;
  let history: Evaluation[] = [];
  let trainLossSum = 0;
  let trainLossCount = 0;

  if (config.resume && config.checkpointFile && existsSync(config.checkpointFile)) {
    const file = config.checkpointFile;
    // Opening verifies every checksum and the layout before anything is restored.
    const ckpt = CheckpointReader.open<CheckpointMeta>(file);
    try {
      if (ckpt.meta?.fingerprint !== print) {
        throw new Error(`checkpoint ${file} was written with a different configuration; rerun with the same settings, or use --force to start over`);
      }
      assertResumable(ckpt.meta, file, stepsPerEpoch, run);
      const tensor = (key: string, shape?: readonly number[]): StoredTensor => {
        const t = ckpt.read(key);
        if (shape && t.shape.join(',') !== shape.join(',')) throw new CheckpointError(file, `holds tensor '${key}' of shape [${t.shape.join(', ')}], the model's is [${shape.join(', ')}]`);
        return t;
      };
      // One tensor at a time: a resume holds at most one tensor beside the model.
      const restore = (variable: tf.Variable, key: string): void => {
        const t = tensor(key, variable.shape);
        tf.tidy(() => variable.assign(tf.tensor(t.data, variable.shape, variable.dtype)));
      };
      for (const p of model.params) restore(p.variable, `param/${p.name}`);
      for (const mp of model.maskedParams) restore(mp.mask, `mask/${mp.name}`);
      for (const b of buffers) restore(b.variable, `buffer/${b.name}`);
      // Optimizer state is keyed by tf.js variable names, which differ between processes: map through ours.
      restoreOptimizerState(optimizer, ckpt.meta.optimizer, stableName, (key) => tensor(key));
      updater.loadState(ckpt.meta.updater);
      ({ epoch, stepInEpoch, globalStep, history, trainLossSum, trainLossCount } = ckpt.meta);
    } finally {
      ckpt.close();
    }
    log(`${label}: resumed from ${config.checkpointFile} at epoch ${epoch + 1}, step ${globalStep}`);
  } else if (config.mask.method !== 'dense') {
    // Draws the masks a model does not have yet and keeps those its layers drew: one mask per weight.
    initMasks(model.maskedParams, { method: 'random', rng: rngFor(config.seed, SEED_STREAMS.masks) });
  }
  const resumedFromStep = globalStep;

  const saveCheckpoint = (): void => {
    if (!config.checkpointFile) return;
    // Read from the variables as the writer reaches them, so the model is never copied whole.
    const tensors = new Map<string, StoredTensor | LazyTensor>();
    const lazy = (v: tf.Variable): LazyTensor => ({ shape: [...v.shape], read: () => Float32Array.from(v.dataSync()) });
    for (const p of model.params) tensors.set(`param/${p.name}`, lazy(p.variable));
    for (const mp of model.maskedParams) tensors.set(`mask/${mp.name}`, lazy(mp.mask));
    for (const b of buffers) tensors.set(`buffer/${b.name}`, lazy(b.variable));
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
  const lossReadEvery = config.lossReadEvery ?? 10;
  if (!(Number.isInteger(lossReadEvery) && lossReadEvery >= 1)) throw new RangeError(`lossReadEvery must be a whole number >= 1, got ${lossReadEvery}`);
  const guard = new FiniteGuard();
  const stepOnHost = HOST_MEMORY_BACKENDS.includes(tf.getBackend());
  const dropoutSeed = deriveSeed(config.seed, SEED_STREAMS.dropout);
  const losses = new LossLog();
  let stoppedEarly = false;
  let windowStart = performance.now();
  let windowSamples = 0;
  let samplesPerSecond = 0;
  const intake = { samples: 0, waitSeconds: 0, stepSeconds: 0 };
  let waitingSince = performance.now();
  progress.start(run.steps, globalStep, label);

  /** Takes in read losses, in step order: the training-loss mean, TensorBoard, the NaN/Inf stop. */
  const absorb = (read: StepLoss[]): void => {
    for (const { step, loss, samples, lr } of read) {
      if (!Number.isFinite(loss)) {
        // Nothing from this step on was applied (the guard): the weights are those after step − 1.
        const kept = config.checkpointFile && existsSync(config.checkpointFile) ? config.checkpointFile : undefined;
        throw new NonFiniteLossError(loss, step, kept);
      }
      trainLossSum += loss * samples;
      trainLossCount += samples;
      if (tb && step % 10 === 0) tb.scalars(step, { 'train/loss': loss, 'train/lr': lr });
    }
    const last = read.at(-1);
    if (last) progress.update(last.step, { loss: last.loss, samplesPerSecond });
  };
  /** Reads every pending loss (before an evaluation, a checkpoint, the end). */
  const settle = async (): Promise<void> => absorb(await losses.drain());

  /** Evaluates on the held-out data and starts a new training-loss mean. */
  const evaluateNow = async (): Promise<void> => {
    await settle();
    const test = await evaluate(model, data.test, { objective, batchSize: config.evalBatchSize });
    const evaluation: Evaluation = { epoch, step: globalStep, trainLoss: trainLossSum / Math.max(1, trainLossCount), test, lr: optimizer.learningRate };
    // The training loss of a uniform guess since the last evaluation: the run learned nothing; say so loudly.
    const chance = objective.chanceLoss?.();
    if (chance !== undefined && trainLossCount > 0 && evaluation.trainLoss >= AT_CHANCE_FRACTION * chance) {
      evaluation.atChance = true;
      progress.stop();
      log(
        `WARNING: ${label} epoch ${epoch + 1}, step ${globalStep}: the training loss stayed at chance since the last evaluation (${evaluation.trainLoss.toFixed(4)}; chance ${chance.toFixed(4)}): ` +
          'the model is not learning (too high a learning rate for it, dead units, or masks that cut it off); its metrics mean nothing. Try an LR warm-up (warmupSteps) or a lower rate.',
      );
    }
    history = [...history, evaluation];
    tb?.scalars(globalStep, { 'train/mean_loss': evaluation.trainLoss, ...Object.fromEntries(Object.entries(test).map(([name, value]) => [`test/${name}`, value])) });
    progress.stop();
    const metrics = Object.entries(test).map(([name, value]) => `test ${name} ${value.toFixed(4)}`);
    log(`${label} epoch ${epoch + 1}/${run.epochs}, step ${globalStep}/${run.steps}: train loss ${evaluation.trainLoss.toFixed(4)}, ${metrics.join(', ')}`);
    if (globalStep < run.steps) progress.start(run.steps, globalStep, label);
    trainLossSum = 0;
    trainLossCount = 0;
  };
  const checkpointNow = async (): Promise<void> => {
    await settle();
    saveCheckpoint();
  };

  try {
    while (globalStep < run.steps && !stoppedEarly) {
      waitingSince = performance.now();
      for await (const batch of epochBatches(data.train, config.seed, epoch, config.batchSize, stepsPerEpoch, stepInEpoch)) {
        const stepStarted = performance.now();
        intake.waitSeconds += (stepStarted - waitingSince) / 1000;
        optimizer.learningRate = learningRate(config.optimizer.lr, config.schedule, { step: globalStep, epoch }) * warmupFactor(globalStep, config.warmupSteps);
        const n = batch.shape[0]!;
        const micro = microBatches(batch, microBatchSize);
        const step = globalStep;
        let loss: tf.Scalar;
        try {
          const stepArgs = {
            params: variables,
            maskedParams: model.maskedParams,
            lossFn: (i: number) => withDropoutContext({ seed: dropoutSeed, step, microBatch: i }, () => objective.loss(model, micro[i]!, { step })),
            microBatchWeights: micro.map((m) => m.shape[0]! / n),
            optimizer,
            updater,
            clipNorm: config.clipNorm,
          };
          // Where tensors live in host memory a read is free: the step checks its loss at once and writes
          // the weights directly, instead of gating every weight and optimiser slot through a select on
          // the guard (a broadcast tf.where each: a fifth of a small model's training time). Same values either way.
          if (stepOnHost) loss = tf.scalar(sparseTrainStep(stepArgs).loss);
          else ({ loss } = sparseTrainStepOnDevice({ ...stepArgs, guard }));
        } catch (error) {
          if (isWasmHeapExhausted(error)) {
            const kept = config.checkpointFile && existsSync(config.checkpointFile) ? ` The last checkpoint, ${config.checkpointFile}, is untouched.` : '';
            throw new Error(
              `training step ${globalStep + 1} ran out of wasm memory (${(error as Error).message}): the wasm backend's heap is wasm32, at most 4 GB, ` +
                `and this model's weights, masks, gradients, optimizer slots and activations at batch ${microBatchSize} do not fit. ` +
                `Lower the batch size (or the micro-batch size) or the width/sparsity, or train on @tensorflow/tfjs-node(-gpu) (--backend tensorflow).${kept}`,
              { cause: error },
            );
          }
          if (!(error instanceof NonFiniteLossError)) throw error;
          // A mask update found the guard tripped: an earlier step's loss (the log's reads throw for it), or this one's.
          await settle();
          const kept = config.checkpointFile && existsSync(config.checkpointFile) ? config.checkpointFile : undefined;
          throw new NonFiniteLossError(error.loss, step + 1, kept);
        }
        globalStep += 1;
        stepInEpoch += 1;
        losses.add(globalStep, loss, n, optimizer.learningRate);
        windowSamples += n;
        const seconds = (performance.now() - windowStart) / 1000;
        samplesPerSecond = windowSamples / Math.max(seconds, 1e-9);
        if (seconds > 10) {
          windowStart = performance.now();
          windowSamples = 0;
        }
        if (globalStep % lossReadEvery === 0) absorb(await losses.collect());
        intake.samples += n;
        intake.stepSeconds += (performance.now() - stepStarted) / 1000;
        const finished = globalStep === run.steps;
        if (config.evalEvery && (globalStep % config.evalEvery === 0 || finished)) await evaluateNow();
        // The end of an epoch (or of the run) is handled below the loop: it evaluates and checkpoints.
        if (finished || stepInEpoch === stepsPerEpoch) break;
        const stopping = config.stopAfterStep !== undefined && globalStep >= config.stopAfterStep;
        if (stopping || (config.checkpointEvery && globalStep % config.checkpointEvery === 0)) await checkpointNow();
        if (stopping) {
          stoppedEarly = true;
          break;
        }
        waitingSince = performance.now();
      }
      if (stoppedEarly) break;
      // End of an epoch: evaluate on the test set (the official code does so every epoch, no validation split).
      if (!config.evalEvery) await evaluateNow();
      epoch += 1;
      stepInEpoch = 0;
      await checkpointNow();
      if (config.stopAfterStep !== undefined && globalStep >= config.stopAfterStep && globalStep < run.steps) stoppedEarly = true;
    }
    await settle();
    const rate = intake.samples / Math.max(intake.waitSeconds + intake.stepSeconds, 1e-9);
    log(
      `${label}: input ${intake.samples} samples at ${rate.toFixed(1)} samples/s; ` +
        `waited ${intake.waitSeconds.toFixed(1)} s for data (${((100 * intake.waitSeconds) / Math.max(intake.waitSeconds + intake.stepSeconds, 1e-9)).toFixed(1)} % of training time)`,
    );
  } finally {
    progress.stop();
    tb?.close();
    optimizer.dispose();
    losses.dispose();
    guard.dispose();
  }
  const trained = intake.waitSeconds + intake.stepSeconds;
  return {
    history,
    input: { ...intake, samplesPerSecond: trained > 0 ? intake.samples / trained : 0 },
    test: stoppedEarly ? undefined : history.at(-1)?.test,
    steps: globalStep,
    stoppedEarly,
    resumedFromStep,
    wallSeconds: (performance.now() - started) / 1000,
    epochsAtChance: history.filter((h) => h.atChance).map((h) => h.epoch),
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
