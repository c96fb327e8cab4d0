import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, it } from 'vitest';
import { countFlops, modelFlopOps, modelParamCount, type Family } from '@sparse-ift/core';
import { train } from '@sparse-ift/train';
import { buildNet, denseBudget, type FashionNet } from '../src/model.js';

await tf.setBackend('cpu');

const mlp = (family: Family, sparsity: number) => buildNet({ architecture: 'mlp', inputSize: 14, width: 64, family, sparsity, seed: 0 });

/** Kernel shape of every layer that has one, by layer name. */
function kernels(net: FashionNet): Record<string, number[]> {
  return Object.fromEntries(net.model.layers.flatMap((l) => (l.weights[0] && l.weights[0].originalName.endsWith('/kernel') ? [[l.name, l.weights[0].shape as number[]]] : [])));
}

describe('fashion-mnist MLP shapes (docs/sparse-ift.md#control-values)', () => {
  it('dense: 196·64 + 64 + 64·64 + 64 + 64·10 + 10 = 17,418 parameters', () => {
    const net = mlp('dense', 0);
    expect(modelParamCount(net.model)).toBe(17_418);
    net.model.dispose();
  });

  it('Sparse Parallel at s = 0.75 has 4 full-size branches per hidden layer', () => {
    const net = mlp('sparse-parallel', 0.75);
    const k = kernels(net);
    for (let j = 0; j < 4; j++) {
      expect(k[`fc1_sp${j}`]).toEqual([196, 64]);
      expect(k[`fc2_sp${j}`]).toEqual([64, 64]);
    }
    expect(k['fc1_sp4']).toBeUndefined();
    expect(net.trainable.maskedParams).toHaveLength(8);
    net.model.dispose();
  });

  it('Sparse Factorized at s = 0.5: d = ceil(196·64 / (0.5·260)) = 97 and ceil(64·64 / (0.5·128)) = 64', () => {
    const net = mlp('sparse-factorized', 0.5);
    const k = kernels(net);
    expect(k['fc1_u']).toEqual([196, 97]);
    expect(k['fc1_v']).toEqual([97, 64]);
    expect(k['fc2_u']).toEqual([64, 64]);
    net.model.dispose();
  });

  it('Sparse Doped at s = 0.9: r = floor(0.9·196·64 / 260) = 43 and floor(0.9·64·64 / 128) = 28, U and V dense', () => {
    const net = mlp('sparse-doped', 0.9);
    const k = kernels(net);
    expect(k['fc1_u']).toEqual([196, 43]);
    expect(k['fc2_v']).toEqual([28, 64]);
    expect(net.trainable.maskedParams.map((m) => m.name)).toEqual(['fc1_sparse/kernel', 'fc2_sparse/kernel']);
    net.model.dispose();
  });

  it('Sparse Wide at s = 0.75 doubles the hidden width (floor(64·√4) = 128) and solves a lower mask sparsity', () => {
    const net = mlp('sparse-wide', 0.75);
    expect(kernels(net)['fc1']).toEqual([196, 128]);
    expect(kernels(net)['head']).toEqual([128, 10]);
    // The 196-pixel input side does not widen, so less sparsity than 0.75 meets the budget.
    expect(net.maskSparsity).toBeGreaterThan(0.5);
    expect(net.maskSparsity).toBeLessThan(0.75);
    net.model.dispose();
  });
});

describe('iso-FLOP at the target densities', () => {
  it.each([0.5, 0.75, 0.9])('every family at s = %s is within 8 percent of the dense MLP', (s) => {
    const budget = denseBudget('mlp', 64, 14);
    for (const family of ['sparse-wide', 'sparse-parallel', 'sparse-factorized', 'sparse-doped'] as const) {
      const net = mlp(family, s);
      const ratio = countFlops(modelFlopOps(net.model, { density: 'target' }), 'official').sparse / budget;
      // Biases, ReLUs, norms and per-branch bias adds are not part of the iso-FLOP formulas (docs/flops.md).
      expect(ratio, `${family} s=${s}`).toBeGreaterThan(0.92);
      expect(ratio, `${family} s=${s}`).toBeLessThan(1.08);
      if (family === 'sparse-wide') expect(ratio).toBeCloseTo(1, 3); // solved exactly
      net.model.dispose();
    }
  });
});

describe('the CNN preset model', () => {
  it('gives [batch, 10] logits and trains a step for every family', async () => {
    const images = Float32Array.from({ length: 8 * 28 * 28 }, (_, i) => ((i * 31) % 17) / 17);
    const labels = Int32Array.from({ length: 8 }, (_, i) => i % 10);
    const data = { images, labels, count: 8, sampleShape: [28, 28, 1] };
    for (const family of ['dense', 'sparse-wide', 'sparse-parallel', 'sparse-factorized', 'sparse-doped'] as const) {
      const net = buildNet({ architecture: 'cnn', inputSize: 28, width: 4, family, sparsity: family === 'dense' ? 0 : 0.75, seed: 1 });
      const logits = net.model.predict(tf.tensor(images.subarray(0, 2 * 784), [2, 28, 28, 1])) as tf.Tensor;
      expect(logits.shape).toEqual([2, 10]);
      logits.dispose();
      const result = await train(net.trainable, { train: data, test: data }, {
        seed: 0,
        epochs: 1,
        batchSize: 4,
        optimizer: { kind: 'sgd', lr: 0.01, momentum: 0.9, nesterov: true, weightDecay: 5e-4, decay: 'all' },
        schedule: { kind: 'constant' },
        mask: { method: family === 'dense' ? 'dense' : 'rigl', frequency: 1 },
      });
      expect(Number.isFinite(result.history[0]!.trainLoss)).toBe(true);
      net.model.dispose();
    }
  });
});

describe('the model reaches train() as dense init × one mask', () => {
  it.each(['sparse-wide', 'sparse-parallel', 'sparse-factorized', 'sparse-doped'] as const)('%s at s = 0.9: every kept weight non-zero, the recorded mask applied', async (family) => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { readCheckpoint } = await import('@sparse-ift/train');
    const net = buildNet({ architecture: 'mlp', inputSize: 14, width: 16, family, sparsity: 0.9, seed: 3 });
    const data = { images: Float32Array.from({ length: 8 * 196 }, (_, i) => Math.sin(i)), labels: Int32Array.from({ length: 8 }, (_, i) => i % 10), count: 8, sampleShape: [196] };
    const checkpointFile = join(mkdtempSync(join(tmpdir(), 'fm-init-')), 'ckpt.bin');
    // lr 0: the checkpoint after one step holds the weights train() started from.
    await train(net.trainable, { train: data, test: data }, {
      seed: 0, epochs: 1, batchSize: 2, stopAfterStep: 1, checkpointFile,
      optimizer: { kind: 'sgd', lr: 0, momentum: 0, nesterov: false, weightDecay: 0, decay: 'all' },
      schedule: { kind: 'constant' },
      mask: { method: 'rigl', frequency: 100 },
    });
    const ckpt = readCheckpoint(checkpointFile);
    let kept = 0;
    let keptZero = 0;
    for (const mp of net.trainable.maskedParams) {
      const mask = ckpt.tensors.get(`mask/${mp.name}`)!.data;
      const weight = ckpt.tensors.get(`param/${mp.name}`)!.data;
      expect(Array.from(mp.mask.dataSync())).toEqual(Array.from(mask));
      mask.forEach((m, i) => {
        if (m === 1) {
          kept += 1;
          if (weight[i] === 0) keptZero += 1;
        } else expect(weight[i]! + 0).toBe(0);
      });
    }
    expect(kept).toBeGreaterThan(0);
    expect(keptZero).toBe(0); // a second mask would zero ≈ 90 % of them
    net.model.dispose();
  });
});
