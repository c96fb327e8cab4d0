// Per-call cost (wall and CPU µs) of small kernels, the overhead that decides tiny models, native vs wasm:
//   npx tsx tools/bench/tiny-ops.ts [--backend native|wasm]
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../packages/backend/src/index.js';

const args = process.argv.slice(2);
const backend = (args.includes('--backend') ? args[args.indexOf('--backend') + 1] : 'native') as 'native' | 'wasm';
await initBackend({ backend, training: true });
const time = (name: string, f: () => tf.Tensor, n = 20000) => {
  for (let i = 0; i < 200; i++) tf.dispose(f());
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) tf.dispose(f());
  const c = process.cpuUsage(c0);
  console.log(`${backend} ${name.padEnd(34)} ${((1000 * (performance.now() - t0)) / n).toFixed(2).padStart(7)} µs/call wall ${((c.user + c.system) / n).toFixed(2).padStart(7)} µs CPU`);
};
const a = tf.randomNormal([128, 64]);
const b = tf.randomNormal([128, 64]);
const w = tf.randomNormal([64, 64]);
const v = tf.randomNormal([64]);
time('add [128,64]', () => tf.add(a, b));
time('mul [128,64]', () => tf.mul(a, b));
time('relu [128,64]', () => tf.relu(a));
time('add bias [128,64]+[64]', () => tf.add(a, v));
time('sum [128,64] axis 0', () => tf.sum(a, 0));
time('matMul [128,64]x[64,64]', () => tf.matMul(a, w), 5000);
time('reshape', () => tf.reshape(a, [64, 128]));
