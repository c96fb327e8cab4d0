// Where a training step's time goes, per kernel, on one backend:
//   npx tsx tools/bench/profile-step.ts [resnet|gpt] [--backend native|wasm] [--no-native] [--cpu-time]
//                                       [--sparse-wide 90] [--optimizer core|tfjs] [--inference]
// On the native backend the kernels are timed by the backend itself (wall clock, or with --cpu-time the
// process's CPU time: on a loaded machine that counts work rather than waiting); on wasm by tf.profile.
// --sparse-wide S: the benchmark's Sparse Wide ResNet-18 at S % on the sparse kernels (batch 32), with
// its optimizer (core's SGD, momentum 0.9: one fused update per variable); --optimizer tfjs runs
// tf.train.momentum instead (four kernels per variable). Kernels below 0.1 % of the step are summed
// in one line. --inference profiles the forward alone (the benchmark's inference row) instead of a step.
import * as tf from '@tensorflow/tfjs-core';
import { describeBackend, initBackend, nativeBackendRegistration } from '../../packages/backend/src/index.js';
import { sparseWideWidth } from '../../packages/core/src/isoflop.js';
import { coreMomentum, gpt, resnet18, type StepOptimizer } from './models.js';

const args = process.argv.slice(2);
const which = args[0] === 'gpt' ? 'gpt' : 'resnet';
const backend = args.includes('--backend') ? (args[args.indexOf('--backend') + 1] as 'native' | 'wasm') : 'native';
const info = await initBackend({ backend, training: true, useNative: !args.includes('--no-native') });
console.log(describeBackend(info));
const sparseWide = args.includes('--sparse-wide') ? Number(args[args.indexOf('--sparse-wide') + 1]) / 100 : 0;
if (!(sparseWide >= 0 && sparseWide < 1)) throw new Error('--sparse-wide takes a sparsity in percent, e.g. --sparse-wide 90');
const model = which === 'gpt'
  ? gpt({ batch: 8, context: 256, dModel: 256, layers: 4, heads: 4, vocab: 512 })
  : resnet18({ batch: 32, width: sparseWideWidth(64, sparseWide), sparsity: sparseWide, kernels: 'sparse' });
const tfjsOptimizer = args.includes('--optimizer') ? args[args.indexOf('--optimizer') + 1] === 'tfjs' : !sparseWide;
const opt: StepOptimizer = which === 'gpt' ? tf.train.adam(1e-3) : tfjsOptimizer ? tf.train.momentum(0.01, 0.9) : coreMomentum(0.01, model.variables);
const inference = args.includes('--inference');
const step = () => tf.tidy(() => {
  if (inference) {
    model.forward().dataSync();
    return;
  }
  const loss = opt.minimize(model.loss, true, model.variables);
  model.afterStep?.();
  loss?.dataSync();
});
step(); // warm-up
step();
const rows: { name: string; ms: number; calls: number; route?: string }[] = [];
const reps = 3;
const t0 = performance.now();
const c0 = process.cpuUsage();
const provenance = nativeBackendRegistration()?.provenance;
if (info.name === 'native' && provenance) {
  provenance.reset();
  provenance.timing = args.includes('--cpu-time') ? 'cpu' : 'wall';
  for (let i = 0; i < reps; i++) step();
  provenance.timing = false;
  for (const t of provenance.times()) rows.push({ name: t.kernel, ms: t.ms / reps, calls: t.calls / reps, route: t.route });
} else {
  const profile = await tf.profile(step);
  const byKernel = new Map<string, { ms: number; calls: number }>();
  for (const k of profile.kernels) {
    const e = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
    e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    e.calls++;
    byKernel.set(k.name, e);
  }
  for (const [name, e] of byKernel) rows.push({ name, ...e });
}
const n = info.name === 'native' ? reps : 1;
const wall = (performance.now() - t0) / 1000 / n;
const cpu = process.cpuUsage(c0);
const total = rows.reduce((s, r) => s + r.ms, 0);
console.log(`${model.name}: step ${wall.toFixed(3)} s wall, ${((cpu.user + cpu.system) / 1e6 / n).toFixed(3)} s CPU; kernels ${(total / 1000).toFixed(3)} s`);
const line = (r: { name: string; ms: number; calls: number; route?: string }) =>
  console.log(`${r.name.padEnd(30)} ${(r.ms / 1000).toFixed(4).padStart(8)} s  ${((100 * r.ms) / total).toFixed(1).padStart(5)} %  ${r.calls.toFixed(0).padStart(5)} calls${r.route ? `  ${r.route}` : ''}`);
const shown = rows.sort((a, b) => b.ms - a.ms).filter((r) => r.ms >= total / 1000);
for (const r of shown) line(r);
const rest = rows.slice(shown.length);
if (rest.length) line({ name: `(${rest.length} more kernels)`, ms: rest.reduce((s, r) => s + r.ms, 0), calls: rest.reduce((s, r) => s + r.calls, 0) });
