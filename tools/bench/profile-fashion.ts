// Where a Fashion-MNIST training step's time goes on a small model (the `default` preset's MLP
// 196→64→64→10, batch 128, RigL), on the native and the wasm backend, in one process each:
//   npx tsx tools/bench/profile-fashion.ts [--backend native|wasm] [--family sparse-wide] [--sparsity 0.5] [--steps 200] [--kernels [--cpu-time]]
// Trains on random data through @sparse-ift/train's `train` (the reproduction's own loop: guard, RigL,
// schedule) and prints the step time; --kernels adds the kernel calls per step and, on native, the
// per-kernel wall time (the backend's provenance timing; the rest of a step is tf.js and the loop).
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, nativeBackendRegistration } from '../../packages/backend/src/index.js';
import { cifarRecipe, train } from '../../packages/train/src/index.js';
import { buildNet } from '../../reproductions/fashion-mnist/src/model.js';
import type { Family } from '../../packages/core/src/index.js';

const args = process.argv.slice(2);
const opt = (name: string, fallback: string) => (args.includes(name) ? args[args.indexOf(name) + 1]! : fallback);
const backend = opt('--backend', 'native') as 'native' | 'wasm';
const family = opt('--family', 'sparse-wide') as Family;
const sparsity = Number(opt('--sparsity', family === 'dense' ? '0' : '0.5'));
const steps = Number(opt('--steps', '200'));
const batch = 128;

await initBackend({ backend, training: true });
const count = steps * batch;
let s = 1;
const r = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
const set = (n: number) => ({ images: Float32Array.from({ length: n * 196 }, () => r() - 0.5), labels: Int32Array.from({ length: n }, (_, i) => i % 10), count: n, sampleShape: [196] });
const data = { train: set(count), test: set(batch) };

async function run(epochs: number): Promise<number> {
  const net = buildNet({ architecture: 'mlp', inputSize: 14, width: 64, family, sparsity, seed: 0 });
  const recipe = cifarRecipe(epochs);
  const result = await train(net.trainable, data, { seed: 0, epochs, batchSize: batch, optimizer: { ...recipe.optimizer, lr: 0.05 }, schedule: recipe.schedule, mask: { method: 'rigl', frequency: 100 } });
  net.model.dispose();
  return result.input?.stepSeconds ?? NaN;
}

await run(1); // warm-up: kernels compiled, plans and choices made, pools filled
const provenance = nativeBackendRegistration()?.provenance;
const kernels = args.includes('--kernels');
if (kernels && provenance && backend === 'native') {
  provenance.reset();
  provenance.timing = args.includes('--cpu-time') ? 'cpu' : 'wall';
}
const before = tf.memory();
const c0 = process.cpuUsage();
let calls = 0;
const seconds = kernels && backend === 'wasm'
  ? await tf.profile(() => run(1)).then((p) => { calls = p.kernels.length; return NaN; })
  : await run(1);
const cpu = process.cpuUsage(c0);
const stepMs = (1000 * seconds) / steps;
// CPU time of the whole timed epoch (every thread, the evaluation of one test batch included): on a loaded
// machine it counts work where the wall clock also counts waiting for a core.
const cpuMs = (cpu.user + cpu.system) / 1000 / steps;
console.log(`${backend} ${family} s=${sparsity}: ${Number.isNaN(stepMs) ? '(profiled)' : `${stepMs.toFixed(3)} ms per step (wall), ${cpuMs.toFixed(3)} ms CPU`} (${steps} steps, batch ${batch}); tensors ${before.numTensors} → ${tf.memory().numTensors}`);
if (kernels && provenance && backend === 'native') {
  provenance.timing = false;
  const times = provenance.times();
  const total = times.reduce((a, t) => a + t.ms, 0);
  calls = times.reduce((a, t) => a + t.calls, 0);
  console.log(`kernels: ${(total / steps).toFixed(3)} ms per step in ${(calls / steps).toFixed(1)} calls (${((1000 * total) / calls).toFixed(1)} µs per call)`);
  for (const t of times.slice(0, 25)) console.log(`  ${t.kernel.padEnd(28)} ${(t.ms / steps).toFixed(4).padStart(8)} ms  ${(t.calls / steps).toFixed(1).padStart(5)} calls  ${((1000 * t.ms) / t.calls).toFixed(1).padStart(6)} µs/call  ${t.route}`);
} else if (kernels) {
  console.log(`kernels: ${(calls / steps).toFixed(1)} calls per step`);
}
