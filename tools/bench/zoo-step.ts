// One training step (forward + backward + SGD-momentum) of the zoo's own CIFAR ResNet-18
// (@sparse-ift/resnet, 100 classes, core's BatchNorm/MaskedConv2D layers) at batch 32, on the best backend
// (or SPARSE_IFT_BACKEND=wasm|native):
//   npx tsx tools/bench/zoo-step.ts [dense|sparse-wide|sparse-parallel|sparse-factorized|sparse-doped] [sparsity]
// The benchmark's models.ts twins are what PyTorch is compared with; this is what `sift` trains.
import * as tf from '@tensorflow/tfjs-core';
import { describeBackend, initBackend } from '../../packages/backend/src/index.js';
import { RESNET18_CIFAR, buildResNet } from '../../packages/resnet/src/index.js';
import type { Family } from '../../packages/core/src/index.js';

const family = (process.argv[2] ?? 'dense') as Family;
const sparsity = family === 'dense' ? 0 : Number(process.argv[3] ?? 0.5);
const info = await initBackend({ backend: (process.env['SPARSE_IFT_BACKEND'] as 'wasm' | 'native' | undefined) ?? 'auto', training: true });
console.log(describeBackend(info));
const model = buildResNet(RESNET18_CIFAR, { family, sparsity, seed: 1 });
const batch = 32;
const x = tf.randomNormal([batch, 32, 32, 3]);
const y = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 100), 'int32'), 100);
const opt = tf.train.momentum(0.01, 0.9);
const vars = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
const loss = () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar;
const step = () => tf.tidy(() => void opt.minimize(loss, true, vars)?.dataSync());
step();
step();
const times: number[] = [];
for (let i = 0; i < 5; i++) {
  const t0 = performance.now();
  step();
  times.push(performance.now() - t0);
}
times.sort((a, b) => a - b);
console.log(`${model.name} ${family}${sparsity ? ` s=${sparsity}` : ''} batch ${batch}: median step ${(times[2]! / 1000).toFixed(3)} s (${times.map((t) => (t / 1000).toFixed(3)).join(' ')})`);
