import { it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, describeBackend } from '@sparse-ift/backend';
import { countFlops } from '@sparse-ift/core';
import { train } from '@sparse-ift/train';
import { buildNet, denseBudget } from '../src/model.js';

it('bench', async () => {
  const info = await initBackend({ backend: (process.env.B as 'wasm') ?? 'wasm', training: true, allowCpuTraining: true });
  console.log(describeBackend(info));
  const arch = (process.env.ARCH ?? 'mlp') as 'mlp' | 'cnn';
  const width = Number(process.env.W ?? 128);
  console.log('budget', denseBudget(arch, width));
  const n = Number(process.env.N ?? 1280);
  const size = arch === 'mlp' ? [784] : [28, 28, 1];
  const numel = size.reduce((a, b) => a * b);
  const images = Float32Array.from({ length: n * numel }, (_, i) => ((i * 7919) % 255) / 255);
  const labels = Int32Array.from({ length: n }, (_, i) => i % 10);
  const data = { train: { images, labels, count: n, sampleShape: size }, test: { images, labels, count: 200, sampleShape: size } };
  for (const [family, s] of [['dense', 0], ['sparse-wide', 0.5], ['sparse-wide', 0.9], ['sparse-parallel', 0.5], ['sparse-parallel', 0.9], ['sparse-factorized', 0.9], ['sparse-doped', 0.9]] as const) {
    const net = buildNet({ architecture: arch, width, family, sparsity: s, seed: 0 });
    const t0 = performance.now();
    await train(net, data, { seed: 0, epochs: 1, batchSize: 128, optimizer: { kind: 'sgd', lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 5e-4, decay: 'all' }, schedule: { kind: 'constant' }, mask: { method: family === 'dense' ? 'dense' : 'rigl', frequency: 5 } });
    const ms = (performance.now() - t0) / (n / 128);
    const f = countFlops(net.flopOps(), 'official');
    console.log(`${net.describe()} ${ms.toFixed(1)} ms/step flops dense ${f.dense} sparse ${f.sparse}`);
    net.dispose();
  }
  console.log(tf.memory().numTensors);
});
