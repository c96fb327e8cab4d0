// Where a training step's time goes, per kernel (tf.profile), on the best available path:
//   npx tsx tools/bench/profile-step.ts [resnet|gpt] [--no-native]
import * as tf from '@tensorflow/tfjs-core';
import { describeBackend, initBackend } from '../../packages/backend/src/index.js';
import { gpt, resnet18 } from './models.js';

const which = process.argv[2] === 'gpt' ? 'gpt' : 'resnet';
const info = await initBackend({ backend: 'wasm', training: true, useNative: !process.argv.includes('--no-native') });
console.log(describeBackend(info));
const model = which === 'gpt'
  ? gpt({ batch: 8, context: 256, dModel: 256, layers: 4, heads: 4, vocab: 512 })
  : resnet18({ batch: 32, width: 64, sparsity: 0 });
const opt = which === 'gpt' ? tf.train.adam(1e-3) : tf.train.momentum(0.01, 0.9);
const step = () => tf.tidy(() => void opt.minimize(model.loss, true, model.variables)?.dataSync());
step(); // warm-up
const t0 = performance.now();
const profile = await tf.profile(step);
const wall = (performance.now() - t0) / 1000;
const byKernel = new Map<string, { ms: number; calls: number }>();
for (const k of profile.kernels) {
  const e = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
  e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
  e.calls++;
  byKernel.set(k.name, e);
}
const total = [...byKernel.values()].reduce((s, e) => s + e.ms, 0);
console.log(`${model.name}: step ${wall.toFixed(2)} s (profiled), kernels ${(total / 1000).toFixed(2)} s`);
for (const [name, e] of [...byKernel.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 15)) {
  console.log(`${name.padEnd(28)} ${(e.ms / 1000).toFixed(3).padStart(7)} s  ${((100 * e.ms) / total).toFixed(1).padStart(5)} %  ${e.calls} calls`);
}
