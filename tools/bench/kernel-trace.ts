// Which tf.js kernels the training steps of the zoo run, and on which route of the `native` backend
// (native / shared data / JS fallback): two sparse training steps as the trainer runs them (on the device with
// a FiniteGuard gating every write; RigL at mask-update steps, so the dense gradient and the regrowth run too)
// and an evaluation of every zoo model family on small inputs (gpt-mini too: its dropout), then the
// benchmark's two models with tf.train optimizers. Model construction is not counted. Compares the union
// with TRAINING_KERNELS of @sparse-ift/backend (what `sift doctor` reports); update that list from here.
//   npx tsx tools/bench/kernel-trace.ts [--json out.json] [--times]
import * as tf from '@tensorflow/tfjs-core';
import { writeFileSync } from 'node:fs';
// The zoo packages are imported by name (their built dist/, `npm run build`), as `sift` runs them: one copy
// of each package and of core's model registry.
import { TRAINING_KERNELS, describeProvenance, initBackend, nativeBackendRegistration, type KernelProvenanceSnapshot } from '@sparse-ift/backend';
import { AdamW, FAMILIES, FiniteGuard, MaskUpdateSchedule, RigLUpdater, SGD, collectMaskedParams, createModel, sparseTrainStepOnDevice, withDropoutContext, type Family } from '@sparse-ift/core';
import { crossEntropy } from '@sparse-ift/train';
import '@sparse-ift/resnet';
import '@sparse-ift/gpt';
import '@sparse-ift/vit';
import { gpt, resnet18 } from './models.js';

const args = process.argv.slice(2);
const jsonOut = args.includes('--json') ? args[args.indexOf('--json') + 1] : undefined;
const showTimes = args.includes('--times');

await initBackend({ backend: 'native', training: true });
const reg = nativeBackendRegistration();
if (!reg) throw new Error('the native backend did not register');
const provenance = reg.provenance;
provenance.timing = showTimes ? 'wall' : false;

interface Case { model: string; family: Family; options: Record<string, unknown>; input: number[]; kind: 'image' | 'tokens'; classes: number; optimizer: 'sgd' | 'adamw' }

const cases: Case[] = [];
for (const family of FAMILIES) {
  const sparsity = family === 'dense' ? 0 : 0.5;
  cases.push({ model: 'resnet-mini-cifar', family, options: { sparsity }, input: [2, 32, 32, 3], kind: 'image', classes: 10, optimizer: 'sgd' });
  cases.push({ model: 'resnet18-imagenet', family, options: { sparsity, inputShape: [64, 64, 3], numClasses: 10 }, input: [1, 64, 64, 3], kind: 'image', classes: 10, optimizer: 'sgd' });
  cases.push({ model: 'gpt-nano', family, options: { sparsity }, input: [2, 16], kind: 'tokens', classes: 97, optimizer: 'adamw' });
  cases.push({ model: 'vit-mini-28', family, options: { sparsity }, input: [2, 28, 28, 1], kind: 'image', classes: 10, optimizer: 'adamw' });
}
cases.push({ model: 'gpt-mini', family: 'dense', options: { sparsity: 0, sequenceLength: 16 }, input: [1, 16], kind: 'tokens', classes: 50257, optimizer: 'adamw' });

const perModel: Record<string, KernelProvenanceSnapshot> = {};
const all = new Map<string, KernelProvenanceSnapshot>();

function step(c: Case): void {
  const model = createModel(c.model, { family: c.family, ...c.options, seed: 1 } as never);
  const params = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const masked = collectMaskedParams(model);
  const optimizer = c.optimizer === 'sgd'
    ? new SGD(params, { learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 5e-4 })
    : new AdamW(params, { learningRate: 1e-3, weightDecay: 0.1 });
  // ΔT = 1: step 1 is an update step, so RigL keeps the dense gradient and regrows.
  const updater = new RigLUpdater({ schedule: new MaskUpdateSchedule({ totalSteps: 10, frequency: 1 }) });
  const x = c.kind === 'image' ? tf.randomNormal(c.input) : tf.randomUniform(c.input, 0, c.classes, 'int32');
  const labels = tf.randomUniform(c.kind === 'image' ? [c.input[0]!] : [c.input[0]! * c.input[1]!], 0, c.classes, 'int32') as tf.Tensor1D;
  const guard = new FiniteGuard();
  provenance.reset(); // construction done: count the steps only
  for (let step = 0; step < 2; step++) {
    const lossFn = () => withDropoutContext({ seed: 1, step }, () => crossEntropy(tf.reshape(model.apply(x, { training: true }) as tf.Tensor, [-1, c.classes]) as tf.Tensor2D, labels, 0.1));
    const { loss, gradNorm } = sparseTrainStepOnDevice({ params, maskedParams: masked, lossFn, optimizer, updater, clipNorm: 1, guard });
    tf.dispose([loss, gradNorm].filter((t) => t !== undefined));
  }
  guard.assertHealthy();
  guard.dispose();
  // Evaluation (accuracy) as the trainer does it.
  tf.tidy(() => tf.argMax(tf.reshape(model.apply(x, { training: false }) as tf.Tensor, [-1, c.classes]), 1).dataSync());
  tf.dispose([x, labels]);
  optimizer.dispose?.();
  model.dispose();
}

for (const c of cases) {
  const name = `${c.model} ${c.family}`;
  try {
    step(c);
    perModel[name] = provenance.snapshot();
  } catch (e) {
    console.log(`${name}: failed: ${e instanceof Error ? e.message : String(e)}`);
    continue;
  }
  all.set(name, provenance.snapshot());
  console.log(`${name}: ${describeProvenance(provenance.snapshot())}`);
}

// The benchmark's models (tf.train optimizers, tf.losses.softmaxCrossEntropy).
for (const [name, build, opt] of [
  ['bench resnet18', () => resnet18({ batch: 2, width: 8, sparsity: 0.5 }), () => tf.train.momentum(0.01, 0.9)],
  ['bench gpt', () => gpt({ batch: 2, context: 16, dModel: 32, layers: 1, heads: 2, vocab: 64 }), () => tf.train.adam(1e-3)],
] as const) {
  const m = build();
  const o = opt();
  provenance.reset();
  for (let i = 0; i < 2; i++) tf.tidy(() => { o.minimize(m.loss, true, m.variables)?.dataSync(); m.afterStep?.(); });
  perModel[name] = provenance.snapshot();
  all.set(name, provenance.snapshot());
  console.log(`${name}: ${describeProvenance(provenance.snapshot())}`);
}

const union = { native: new Map<string, number>(), shared: new Map<string, number>(), fallback: new Map<string, { calls: number; reasons: Set<string> }>() };
for (const s of all.values()) {
  for (const [k, n] of Object.entries(s.native)) union.native.set(k, (union.native.get(k) ?? 0) + n);
  for (const [k, n] of Object.entries(s.shared)) union.shared.set(k, (union.shared.get(k) ?? 0) + n);
  for (const [k, f] of Object.entries(s.fallback)) {
    const u = union.fallback.get(k) ?? { calls: 0, reasons: new Set<string>() };
    u.calls += f.calls;
    f.reasons.forEach((r) => u.reasons.add(r));
    union.fallback.set(k, u);
  }
}
const names = new Set([...union.native.keys(), ...union.shared.keys(), ...union.fallback.keys()]);
console.log(`\n${names.size} kernel names over ${all.size} training steps`);
console.log(`native (${union.native.size}): ${[...union.native.keys()].sort().join(' ')}`);
console.log(`shared (${union.shared.size}): ${[...union.shared.keys()].sort().join(' ')}`);
console.log(`fallback (${union.fallback.size}):`);
for (const [k, f] of [...union.fallback.entries()].sort(([a], [b]) => a.localeCompare(b))) console.log(`  ${k} ×${f.calls}: ${[...f.reasons].join('; ')}`);
const listed = new Set<string>(TRAINING_KERNELS);
const unlisted = [...names].filter((k) => !listed.has(k)).sort();
const unused = [...listed].filter((k) => !names.has(k)).sort();
console.log(unlisted.length + unused.length === 0 ? 'TRAINING_KERNELS is up to date' : `TRAINING_KERNELS: add ${unlisted.join(' ') || '-'}; no longer used: ${unused.join(' ') || '-'}`);
if (showTimes) for (const t of provenance.times().slice(0, 20)) console.log(`${t.kernel.padEnd(32)} ${t.ms.toFixed(1).padStart(8)} ms ${t.calls} calls ${t.route}`);
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ perModel }, null, 2));
