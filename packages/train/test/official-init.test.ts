// The official init: a Sparse-IFT model that reaches train() starts as dense init × exactly one mask,
// and the mask the trainer records (checkpoint) is the one applied (docs/sparse-ift.md, "Mask init").
// Checked through the public path: createModel → layersTrainable → train, for every family of every zoo,
// and on hand-written TrainableModels. The learning rate is 0, so the weights after one step are the
// initial ones and the checkpoint written at that step shows what train() started from.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@sparse-ift/backend';
import { createModel, type Family, type MaskedParam } from '@sparse-ift/core';
import '@sparse-ift/resnet';
import '@sparse-ift/gpt';
import '@sparse-ift/vit';
import '@sparse-ift/mixer';
import { layersTrainable, readCheckpoint, train, type LabelledData, type TrainableModel, type TrainConfig } from '../src/index.js';
import { syntheticData, tinyModel } from './helpers.js';

const FAMILIES: Family[] = ['sparse-wide', 'sparse-parallel', 'sparse-factorized', 'sparse-doped'];

/** One optimiser step that changes nothing (lr 0, no decay), checkpointed right after it. */
function frozenStep(file: string, method: TrainConfig['mask']['method'] = 'static'): TrainConfig {
  return {
    seed: 3,
    epochs: 1,
    batchSize: 2,
    optimizer: { kind: 'sgd', lr: 0, momentum: 0, nesterov: false, weightDecay: 0, decay: 'all' },
    schedule: { kind: 'constant' },
    mask: { method },
    checkpointFile: file,
    stopAfterStep: 1,
  };
}

interface InitFacts {
  /** Kept positions (mask 1) holding a non-zero weight, over all kept positions. */
  keptNonZero: number;
  /** Dropped positions (mask 0) holding a non-zero weight. */
  droppedNonZero: number;
  density: number;
}

/** Reads what train() recorded and checks it is what the model holds. */
function initFacts(model: TrainableModel, file: string): InitFacts {
  const ckpt = readCheckpoint(file);
  let kept = 0;
  let keptNonZero = 0;
  let droppedNonZero = 0;
  let size = 0;
  for (const mp of model.maskedParams) {
    const mask = ckpt.tensors.get(`mask/${mp.name}`)!.data;
    const weight = ckpt.tensors.get(`param/${mp.name}`)!.data;
    // The recorded mask is the applied one: the model's own mask variable, and the weight's zeros.
    expect(Array.from(mp.mask.dataSync())).toEqual(Array.from(mask));
    for (let i = 0; i < mask.length; i++) {
      if (mask[i] === 1) {
        kept += 1;
        if (weight[i] !== 0) keptNonZero += 1;
      } else if (weight[i] !== 0) droppedNonZero += 1;
    }
    size += mask.length;
  }
  return { keptNonZero: keptNonZero / kept, droppedNonZero, density: kept / size };
}

/** The zoo models, small configs; forward gives one row of logits per sample. */
const ZOO: { model: string; sample: number[]; classes: number; opts?: Record<string, unknown>; lm?: boolean }[] = [
  { model: 'resnet-mini-cifar', sample: [32, 32, 3], classes: 10 },
  { model: 'vit-mini-28', sample: [28, 28, 1], classes: 10 },
  { model: 'mixer-mini-28', sample: [28, 28, 1], classes: 10 },
  { model: 'gpt-nano', sample: [16], classes: 97, lm: true },
];

function zooData(sample: number[], classes: number, lm: boolean): { train: LabelledData; test: LabelledData } {
  const size = sample.reduce((a, b) => a * b, 1);
  // 8 samples at batch 2: 4 steps, enough for RigL's schedule (its updates end at 0.75 of the steps).
  const images = Float32Array.from({ length: 8 * size }, (_, i) => (lm ? i % classes : Math.sin(i)));
  const set = { images, labels: Int32Array.from({ length: 8 }, (_, i) => i % 3), count: 8, sampleShape: sample };
  return { train: set, test: set };
}

describe('train() starts a layer-built Sparse-IFT model from dense init × one mask', () => {
  // The wasm backend with this project's kernels: the cpu backend takes minutes for the 10-branch ResNets.
  beforeAll(async () => {
    await initBackend({ backend: 'wasm', training: true });
  });

  for (const zoo of ZOO) {
    for (const family of FAMILIES) {
      it.each([0.75, 0.9])(`${zoo.model} ${family} s = %s: every kept weight non-zero, the recorded mask applied`, async (sparsity) => {
        const model = createModel(zoo.model, { family, sparsity, seed: 11, ...zoo.opts });
        // A language model's logits for the last position stand in for a classifier's.
        const forward = (x: tf.Tensor, training: boolean): tf.Tensor2D =>
          tf.tidy(() => {
            const out = model.apply(zoo.lm ? tf.cast(x, 'int32') : x, { training }) as tf.Tensor;
            return (out.rank === 3 ? tf.squeeze(tf.slice(out, [0, out.shape[1]! - 1, 0], [-1, 1, -1]), [1]) : out) as tf.Tensor2D;
          });
        const trainable = layersTrainable(model, forward);
        expect(trainable.maskedParams.length).toBeGreaterThan(0);
        const file = join(mkdtempSync(join(tmpdir(), 'sift-init-')), 'ckpt.bin');
        await train(trainable, zooData(zoo.sample, zoo.classes, zoo.lm === true), frozenStep(file, 'rigl'));
        const facts = initFacts(trainable, file);
        // Before the fix the layer's mask and the trainer's second one multiplied: ≈ 1 − s of kept weights survived.
        expect(facts.keptNonZero).toBe(1);
        expect(facts.droppedNonZero).toBe(0);
        // The one mask keeps about 1 − s of the weights (Sparse Wide draws at the solved s*, which is ≥ s).
        expect(facts.density).toBeGreaterThan(0.5 * (1 - sparsity));
        expect(facts.density).toBeLessThan(1.5 * (1 - sparsity));
        model.dispose();
      });
    }
  }
});

describe('train() on hand-written TrainableModels: dense init × one mask', () => {
  const data = { train: syntheticData(8, 12, 3, 1), test: syntheticData(4, 12, 3, 2) };
  const file = () => join(mkdtempSync(join(tmpdir(), 'sift-init-')), 'ckpt.bin');

  it('a model whose masks are all ones gets its mask drawn by train(), applied once', async () => {
    const model = tinyModel(12, 16, 3, 0.75);
    const w0 = model.maskedParams[0]!.weight.dataSync().slice();
    const f = file();
    await train(model, data, frozenStep(f));
    const ckpt = readCheckpoint(f);
    const mask = ckpt.tensors.get('mask/fc1/kernel')!.data;
    const weight = ckpt.tensors.get('param/fc1/kernel')!.data;
    expect(mask.some((v) => v === 0)).toBe(true);
    for (let i = 0; i < w0.length; i++) expect(weight[i]! + 0).toBe(w0[i]! * mask[i]! + 0);
    expect(initFacts(model, f).keptNonZero).toBe(1);
    model.dispose();
  });

  it.each([
    ['already masked', true],
    ['given dense beside its mask', false],
  ])('a model whose mask is drawn (weight %s) keeps that mask; the weight is masked exactly once', async (_what, premultiplied) => {
    const model = tinyModel(12, 16, 3, 0.5);
    const mp: MaskedParam = model.maskedParams[0]!;
    const w0 = mp.weight.dataSync().slice();
    // A hand-drawn mask: every third position dropped (an independent pattern, not the trainer's draw).
    const drawn = Float32Array.from({ length: w0.length }, (_, i) => (i % 3 === 0 ? 0 : 1));
    mp.mask.assign(tf.tensor(drawn, mp.mask.shape));
    if (premultiplied) mp.weight.assign(tf.tensor(w0.map((v, i) => v * drawn[i]!), mp.weight.shape));
    const f = file();
    await train(model, data, frozenStep(f));
    const ckpt = readCheckpoint(f);
    expect(Array.from(ckpt.tensors.get('mask/fc1/kernel')!.data)).toEqual(Array.from(drawn));
    const weight = ckpt.tensors.get('param/fc1/kernel')!.data;
    for (let i = 0; i < w0.length; i++) expect(weight[i]! + 0).toBe(w0[i]! * drawn[i]! + 0);
    model.dispose();
  });

  it('a mask holding something other than 0 and 1 is refused, naming the weight', async () => {
    const model = tinyModel(12, 16, 3, 0.5);
    model.maskedParams[0]!.mask.assign(tf.fill(model.maskedParams[0]!.mask.shape, 0.5));
    await expect(train(model, data, frozenStep(file()))).rejects.toThrow(/'fc1\/kernel'.*holds 0\.5.*only 0 and 1/);
    model.dispose();
  });
});
