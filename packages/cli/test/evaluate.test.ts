// `sift evaluate`: an exported model on small Fashion-MNIST IDX files that the test writes, against
// accuracies and losses computed by hand; the preprocessing recorded in model.json is applied.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, describe, expect, it } from 'vitest';
import { MaskedDense, exportModel, fileSystem } from '@sparse-ift/core';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from '../src/index.js';
import { sift } from './run-sift.js';

const work = mkdtempSync(join(tmpdir(), 'sift-evaluate-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** IDX files: image n is uniformly grey at (25n + 10)/255, every label 1. */
const GREYS = Array.from({ length: 10 }, (_, n) => 25 * n + 10);
function writeFashionMnist(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const be = (...words: number[]) => Buffer.concat(words.map((w) => Buffer.from([w >>> 24, (w >>> 16) & 255, (w >>> 8) & 255, w & 255])));
  const images = Buffer.concat([be(2051, 10, 28, 28), Buffer.from(GREYS.flatMap((g) => new Array<number>(784).fill(g)))]);
  const labels = Buffer.concat([be(2049, 10), Buffer.alloc(10, 1)]);
  for (const prefix of ['train', 't10k']) {
    writeFileSync(join(dir, `${prefix}-images-idx3-ubyte`), images);
    writeFileSync(join(dir, `${prefix}-labels-idx1-ubyte`), labels);
  }
}

/**
 * 14×14 inputs flattened (196): logit 1 = the mean input, logit 0 = 0, the rest −100. The kernel is
 * masked: only column 1 is kept (density 196 / 1960 = 0.1).
 */
function greyDetector(): tfl.LayersModel {
  const input = tfl.input({ shape: [196] });
  const layer = new MaskedDense({ name: 'fc', units: 10, sparsity: 0.5, role: 'wide-weight', maskSeed: 1 });
  const model = tfl.model({ inputs: input, outputs: layer.apply(input) as tfl.SymbolicTensor });
  // From a Float32Array: a tf.cast to float32 on the cpu backend can keep integer storage, which model.save writes as is.
  const column1 = tf.tensor2d(Float32Array.from({ length: 1960 }, (_, i) => (i % 10 === 1 ? 1 : 0)), [196, 10]);
  layer.maskVariable().assign(column1);
  layer.kernelVariable().assign(tf.div(column1, 196));
  const bias = model.weights.find((w) => w.originalName === 'fc/bias')!;
  bias.write(tf.tensor1d([0, 0, -100, -100, -100, -100, -100, -100, -100, -100]));
  return model;
}

/** Hand-computed expectation: logit₁ = (v − mean)/std per image, label 1 → accuracy and mean softplus(−logit₁). */
function expected(mean: number, std: number): { accuracy: number; loss: number } {
  const logit1 = GREYS.map((g) => (g / 255 - mean) / std);
  return {
    accuracy: logit1.filter((l) => l > 0).length / logit1.length,
    loss: logit1.reduce((s, l) => s + Math.log(1 + Math.exp(-l) + 8 * Math.exp(-100 - l)), 0) / logit1.length,
  };
}

describe('sift evaluate', () => {
  const data = join(work, 'fashion-mnist');
  writeFashionMnist(data);

  it('applies the preprocessing model.json records (2×2 pool, mean 0.5, std 0.25) and reports accuracy, loss and mask density', async () => {
    await tf.setBackend('cpu');
    const dir = join(work, 'exported');
    await exportModel(greyDetector(), dir, { dataset: 'fashion-mnist', preprocess: { pool: 2, mean: 0.5, std: 0.25 } });
    const r = await sift('evaluate', dir, '--data-dir', data, '--backend', 'cpu', '--json');
    expect(r.code, r.stderr).toBe(EXIT_OK);
    const got = JSON.parse(r.stdout) as { accuracy: number; loss: number; images: number; maskedTensors: number; maskDensity: number; dataset: string };
    const want = expected(0.5, 0.25);
    expect(want.accuracy).toBe(0.5); // images 5..9 are brighter than 0.5
    expect(got).toMatchObject({ dataset: 'fashion-mnist', images: 10, accuracy: want.accuracy, maskedTensors: 1, maskDensity: 0.1 });
    expect(got.loss).toBeCloseTo(want.loss, 5);
    const human = await sift('evaluate', dir, '--data-dir', data, '--backend', 'cpu');
    expect(human.stdout).toContain('accuracy: 50.00 %');
    expect(human.stdout).toContain('1 masked tensor at density 0.1000');
  });

  it('a model saved without export info: --data names the set, inputs only pooled to fit', async () => {
    const dir = join(work, 'plain');
    await greyDetector().save(fileSystem(dir));
    const bare = await sift('evaluate', dir, '--data-dir', data, '--backend', 'cpu');
    expect(bare.code).toBe(EXIT_USAGE);
    expect(bare.stderr).toMatch(/does not record its data set; pass --data \(fashion-mnist, cifar100\)/);
    // No pool recorded: 28×28 = 784 values per image, the model takes 196.
    const r = await sift('evaluate', dir, '--data', 'fashion-mnist', '--data-dir', data, '--backend', 'cpu');
    expect(r.code).toBe(EXIT_FAILURE);
    expect(r.stderr).toMatch(/takes inputs of shape \[196\], but fashion-mnist gives 784 values per image/);
  });

  it('CIFAR-100 (--data-dir with train.bin / test.bin): a constant-class model scores the share of that class', async () => {
    const cifar = join(work, 'cifar-100-binary');
    mkdirSync(cifar, { recursive: true });
    // 20 records: coarse label, fine label n mod 5, 3072 pixels.
    const records = Buffer.concat(Array.from({ length: 20 }, (_, n) => Buffer.concat([Buffer.from([0, n % 5]), Buffer.alloc(3072, (n * 13) % 256)])));
    writeFileSync(join(cifar, 'train.bin'), records);
    writeFileSync(join(cifar, 'test.bin'), records);
    const input = tfl.input({ shape: [32, 32, 3] });
    const flat = tfl.layers.flatten().apply(input) as tfl.SymbolicTensor;
    const head = tfl.layers.dense({ units: 100, kernelInitializer: 'zeros', biasInitializer: 'zeros' });
    const model = tfl.model({ inputs: input, outputs: head.apply(flat) as tfl.SymbolicTensor });
    head.setWeights([tf.zeros([3072, 100]), tf.tensor1d(Float32Array.from({ length: 100 }, (_, c) => (c === 2 ? 10 : 0)))]);
    const dir = join(work, 'cifar-model');
    await exportModel(model, dir, { dataset: 'cifar100' });
    const r = await sift('evaluate', dir, '--data-dir', cifar, '--backend', 'cpu', '--json');
    expect(r.code, r.stderr).toBe(EXIT_OK);
    const got = JSON.parse(r.stdout) as { accuracy: number; loss: number; images: number };
    // Logits: 10 for class 2, 0 for the other 99. Labels 0..4, four of each.
    const logSum = Math.log(Math.exp(10) + 99);
    expect(got).toMatchObject({ images: 20, accuracy: 4 / 20 });
    expect(got.loss).toBeCloseTo((4 * (logSum - 10) + 16 * logSum) / 20, 4);
    expect((await sift('evaluate', dir, '--backend', 'cpu')).stderr).toContain('--data cifar100 needs --data-dir');
  });

  it('usage errors name the flag or path', async () => {
    expect((await sift('evaluate', join(work, 'missing'))).stderr).toMatch(/missing does not exist/);
    const r = await sift('evaluate', join(work, 'exported'), '--data', 'imagenet', '--data-dir', data, '--backend', 'cpu');
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.stderr).toContain("--data 'imagenet' cannot be evaluated; use one of: fashion-mnist, cifar100");
    expect((await sift('evaluate', join(work, 'exported'), '--limit', '0')).stderr).toContain("--limit '0' must be a positive integer");
  });
});
