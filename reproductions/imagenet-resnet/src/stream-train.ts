/**
 * Training from the shard stream, for the `paper` preset (spec §4.2): every epoch re-reads the train
 * shards through `@sparse-ift/data-vision`'s `VisionLoader` (shuffle, random-resized-crop 224 + flip,
 * normalise, decoded in worker threads), and evaluates on the validation shards (resize 256 + centre
 * crop 224). Each step is core's `sparseTrainStep`; optimiser, schedule, loss and checkpoint files come
 * from `@sparse-ift/core` / `@sparse-ift/train`. `train()` there takes in-memory data only; once it can
 * take a batch source this loop should go.
 */
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import {
  MaskUpdateSchedule,
  RigLUpdater,
  Rng,
  SGD,
  SETUpdater,
  StaticUpdater,
  decayOnlyMatrices,
  initMasks,
  sparseTrainStep,
  type MaskUpdater,
  type OptimizerState,
  type UpdaterState,
} from '@sparse-ift/core';
import { DecodePool, VisionLoader, type VisionLoaderOptions } from '@sparse-ift/data-vision';
import { TensorBoardWriter, crossEntropy, learningRate, readCheckpoint, writeCheckpointAtomic, type MaskMethod, type StoredTensor } from '@sparse-ift/train';
import type { ImageNetShards } from './data.js';
import type { ImageNetNet } from './model.js';
import type { ImageNetConfig } from './presets.js';

export interface StreamEpoch {
  epoch: number;
  step: number;
  trainLoss: number;
  topOne: number;
  lr: number;
}

export interface StreamTrainResult {
  history: StreamEpoch[];
  steps: number;
  stoppedEarly: boolean;
  resumedFromStep: number;
  wallSeconds: number;
}

interface StreamCheckpointMeta {
  fingerprint: string;
  step: number;
  epoch: number;
  stepInEpoch: number;
  history: StreamEpoch[];
  lossSum: number;
  lossCount: number;
  updater: UpdaterState;
  optimizer: { kind: OptimizerState['kind']; config: OptimizerState['config']; steps: Record<string, number> };
}

function makeUpdater(method: MaskMethod, config: ImageNetConfig, totalSteps: number, seed: number): MaskUpdater {
  if (method === 'dense' || method === 'static') return new StaticUpdater();
  const schedule = new MaskUpdateSchedule({ totalSteps, frequency: config.mask.frequency, endFraction: config.mask.endFraction, dropFraction: config.mask.dropFraction });
  return method === 'set' ? new SETUpdater({ schedule, rng: Rng.fromSeed(seed).split() }) : new RigLUpdater({ schedule });
}

export async function trainFromStream(args: {
  net: ImageNetNet;
  method: MaskMethod;
  seed: number;
  config: ImageNetConfig;
  shards: ImageNetShards;
  /** Train images per epoch (1,281,167 for ImageNet); counted from the shards when not given. */
  trainImages: number;
  checkpointFile?: string;
  checkpointEvery?: number;
  resume?: boolean;
  stopAfterStep?: number;
  tensorboardDir?: string;
  label: string;
  log: (line: string) => void;
}): Promise<StreamTrainResult> {
  const { net, method, seed, config, shards } = args;
  const started = performance.now();
  const { recipe } = config;
  const opt = recipe.optimizer;
  if (opt.kind !== 'sgd') throw new Error(`the ImageNet recipe uses SGD, got ${opt.kind}`);
  const stepsPerEpoch = Math.floor(args.trainImages / recipe.batchSize); // drop the last partial batch
  if (stepsPerEpoch < 1) throw new Error(`${args.trainImages} train images make no batch of ${recipe.batchSize}`);
  const totalSteps = stepsPerEpoch * recipe.epochs;
  const params = net.trainable.params;
  const variables = params.map((p) => p.variable);
  const masked = net.trainable.maskedParams;
  const optimizer = new SGD(variables, { learningRate: opt.lr, momentum: opt.momentum, nesterov: opt.nesterov, weightDecay: opt.weightDecay, decayFilter: opt.decay === 'matrices' ? decayOnlyMatrices : () => true });
  const updater = makeUpdater(method, config, totalSteps, seed);
  if (method !== 'dense') initMasks(masked, { method: 'random', rng: Rng.fromSeed(seed) });
  const nameOf = new Map(params.map((p) => [p.variable.name, p.name] as const));
  // BatchNorm running statistics: non-trainable state that a resume needs too (masks are saved on their own).
  const buffers = net.trainable.buffers ?? [];
  const fingerprint = JSON.stringify({ method, seed, recipe, mask: config.mask, imageSize: config.imageSize, trainImages: args.trainImages, params: params.map((p) => [p.name, p.variable.shape]) });

  let step = 0;
  let epoch = 0;
  let stepInEpoch = 0;
  let history: StreamEpoch[] = [];
  let lossSum = 0;
  let lossCount = 0;
  if (args.resume && args.checkpointFile && existsSync(args.checkpointFile)) {
    const ckpt = readCheckpoint<StreamCheckpointMeta>(args.checkpointFile);
    if (ckpt.meta.fingerprint !== fingerprint) throw new Error(`checkpoint ${args.checkpointFile} was written with other settings; rerun with the same preset, or use --force to start over`);
    const tensor = (key: string): StoredTensor => {
      const t = ckpt.tensors.get(key);
      if (!t) throw new Error(`checkpoint ${args.checkpointFile} lacks '${key}'; delete it or use --force to start over`);
      return t;
    };
    tf.tidy(() => {
      for (const p of params) p.variable.assign(tf.tensor(tensor(`param/${p.name}`).data, p.variable.shape));
      for (const b of buffers) b.variable.assign(tf.tensor(tensor(`buffer/${b.name}`).data, b.variable.shape));
      for (const mp of masked) mp.mask.assign(tf.tensor(tensor(`mask/${mp.name}`).data, mp.mask.shape));
    });
    const current = optimizer.getState();
    const slots: OptimizerState['slots'] = {};
    const steps: OptimizerState['steps'] = {};
    for (const [variable, own] of Object.entries(current.slots)) {
      const name = nameOf.get(variable)!;
      slots[variable] = Object.fromEntries(Object.keys(own).map((slot) => [slot, tensor(`optimizer/${name}/${slot}`).data]));
      steps[variable] = ckpt.meta.optimizer.steps[name] ?? 0;
    }
    optimizer.setState({ kind: ckpt.meta.optimizer.kind, config: ckpt.meta.optimizer.config, steps, slots });
    updater.loadState(ckpt.meta.updater);
    ({ step, epoch, stepInEpoch, history, lossSum, lossCount } = ckpt.meta);
    args.log(`${args.label}: resumed from ${args.checkpointFile} at epoch ${epoch + 1}, step ${step}`);
  }
  const resumedFromStep = step;
  const saveCheckpoint = (): void => {
    if (!args.checkpointFile) return;
    const tensors = new Map<string, StoredTensor>();
    for (const p of params) tensors.set(`param/${p.name}`, { shape: [...p.variable.shape], data: p.variable.dataSync().slice() as Float32Array });
    for (const b of buffers) tensors.set(`buffer/${b.name}`, { shape: [...b.variable.shape], data: b.variable.dataSync().slice() as Float32Array });
    for (const mp of masked) tensors.set(`mask/${mp.name}`, { shape: [...mp.mask.shape], data: mp.mask.dataSync().slice() as Float32Array });
    const state = optimizer.getState();
    const steps: Record<string, number> = {};
    for (const [variable, own] of Object.entries(state.slots)) {
      const name = nameOf.get(variable)!;
      steps[name] = state.steps[variable] ?? 0;
      for (const [slot, values] of Object.entries(own)) tensors.set(`optimizer/${name}/${slot}`, { shape: [values.length], data: values });
    }
    writeCheckpointAtomic<StreamCheckpointMeta>(args.checkpointFile, {
      meta: { fingerprint, step, epoch, stepInEpoch, history, lossSum, lossCount, updater: updater.state(), optimizer: { kind: state.kind, config: state.config, steps } },
      tensors,
    });
  };

  // One decode pool for both loaders.
  const pool = new DecodePool({});
  const common: Omit<VisionLoaderOptions, 'path' | 'train'> = { format: shards.format, batchSize: recipe.batchSize, pool, labelOffset: shards.labelOffset, imageSize: config.imageSize, resizeSize: config.resizeSize, seed };
  const trainLoader = new VisionLoader({ ...common, path: shards.train, train: true, dropRemainder: true });
  const validLoader = new VisionLoader({ ...common, path: shards.validation, train: false, dropRemainder: false });
  const tb = args.tensorboardDir ? new TensorBoardWriter(args.tensorboardDir) : undefined;
  let stoppedEarly = false;
  try {
    while (epoch < recipe.epochs && !stoppedEarly) {
      optimizer.learningRate = learningRate(opt.lr, recipe.schedule, { step, epoch });
      let seen = 0;
      for await (const batch of trainLoader.batches(epoch)) {
        // Same (seed, epoch) → same batches: a resumed epoch skips the ones already trained on.
        if (seen++ < stepInEpoch) continue;
        if (stepInEpoch >= stepsPerEpoch) break;
        const x = tf.tensor4d(batch.images, [batch.size, batch.height, batch.width, 3]);
        const y = tf.tensor1d(batch.labels, 'int32');
        let loss = NaN;
        try {
          loss = sparseTrainStep({
            params: variables,
            maskedParams: masked,
            lossFn: () => crossEntropy(net.trainable.logits(x, true), y, recipe.labelSmoothing),
            optimizer,
            updater,
          }).loss;
        } finally {
          x.dispose();
          y.dispose();
        }
        if (!Number.isFinite(loss)) throw new Error(`${args.label}: the loss is ${loss} at step ${step + 1}; lower the learning rate or check the data`);
        step += 1;
        stepInEpoch += 1;
        lossSum += loss * batch.size;
        lossCount += batch.size;
        if (step % 10 === 0) tb?.scalars(step, { 'train/loss': loss, 'train/lr': optimizer.learningRate });
        const stopping = args.stopAfterStep !== undefined && step >= args.stopAfterStep;
        if (stepInEpoch < stepsPerEpoch && (stopping || (args.checkpointEvery && step % args.checkpointEvery === 0))) saveCheckpoint();
        if (stopping && stepInEpoch < stepsPerEpoch) {
          stoppedEarly = true;
          break;
        }
      }
      if (stoppedEarly) break;
      let correct = 0;
      let count = 0;
      for await (const batch of validLoader.batches(0)) {
        correct += tf.tidy(() => {
          const logits = net.trainable.logits(tf.tensor4d(batch.images, [batch.size, batch.height, batch.width, 3]), false);
          return tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), tf.tensor1d(batch.labels, 'int32')), 'int32')).dataSync()[0]!;
        });
        count += batch.size;
      }
      const metrics: StreamEpoch = { epoch, step, trainLoss: lossSum / Math.max(1, lossCount), topOne: correct / Math.max(1, count), lr: optimizer.learningRate };
      history = [...history, metrics];
      tb?.scalars(step, { 'epoch/train_loss': metrics.trainLoss, 'valid/top1': metrics.topOne });
      args.log(`${args.label} epoch ${epoch + 1}/${recipe.epochs}: train loss ${metrics.trainLoss.toFixed(4)}, top-1 ${(100 * metrics.topOne).toFixed(2)}% on ${count} validation images`);
      epoch += 1;
      stepInEpoch = 0;
      lossSum = 0;
      lossCount = 0;
      saveCheckpoint();
    }
  } finally {
    tb?.close();
    optimizer.dispose();
    await trainLoader.close();
    await validLoader.close();
    await pool.close();
  }
  return { history, steps: step, stoppedEarly, resumedFromStep, wallSeconds: (performance.now() - started) / 1000 };
}

/** Counts the train records without decoding (one pass over the shards). */
export async function countTrainImages(shards: ImageNetShards): Promise<number> {
  const loader = new VisionLoader({ format: shards.format, path: shards.train, batchSize: 1, train: false, shuffle: false, labelOffset: shards.labelOffset });
  let n = 0;
  for await (const _ of loader.samples(0)) n++;
  await loader.close();
  return n;
}
