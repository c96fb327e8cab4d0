// Every Sparse-IFT family on the native backend's sparse kernels against dense, in one process: the zoo's CIFAR
// ResNet-18 (@sparse-ift/resnet, what `sift` trains) or GPT-mini (@sparse-ift/gpt, 4 × 256, GPT-2 vocabulary,
// 128 tokens), training step (forward + backward + SGD-momentum) and inference (forward, no dropout / BN in
// inference mode) at one batch, each ÷ the dense model's on the same path.
//   npx tsx tools/bench/sparse-families.ts [--model resnet18|gpt-mini] [--sparsities 0.75,0.9] [--batch 32]
//                                          [--reps 3] [--masked-dense] [--out runs/bench]
// --masked-dense adds each family on the dense kernels with w ⊙ mask (setSparseMode('dense')), the path
// without sparse kernels. Writes sparse-families-<time>.json and .md (with which layer shapes ran sparse).
import * as tf from '@tensorflow/tfjs-core';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { describeBackend, initBackend, loadSparseKernels, resetSparseChoices, setSparseMode, sparseKernelReport, type SparseMode } from '../../packages/backend/src/index.js';
import { RESNET18_CIFAR, buildResNet } from '../../packages/resnet/src/index.js';
import { GPT_MINI, buildGpt, languageModelLoss } from '../../packages/gpt/src/index.js';
import type { Family } from '../../packages/core/src/index.js';
import { flag, option } from './args.js';

const sparsities = option('--sparsities', '0.75,0.9').split(',').map(Number);
const which = option('--model', 'resnet18');
if (which !== 'resnet18' && which !== 'gpt-mini') throw new Error(`--model must be resnet18 or gpt-mini, got '${which}'`);
const batch = Number(option('--batch', which === 'gpt-mini' ? '8' : '32'));
const TOKENS = 128;
const reps = Number(option('--reps', '3'));
const outDir = option('--out', 'runs/bench');
const FAMILIES: Family[] = ['sparse-wide', 'sparse-parallel', 'sparse-factorized', 'sparse-doped'];

const info = await initBackend({ backend: 'native', training: true });
console.log(describeBackend(info));
const isa = loadSparseKernels().kernels?.sparseIsa() ?? 'none';
const load = loadavg();

function median(fn: () => void): number {
  fn(); // warm-up: in auto mode each new layer shape times both paths here
  fn();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    times.push((performance.now() - t0) / 1000);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

interface Row { family: Family | 'dense'; sparsity: number; kernels: SparseMode; stepS: number; inferenceS: number; stepRatio?: number; inferenceRatio?: number }

function measure(family: Family | 'dense', sparsity: number, kernels: SparseMode): Row {
  setSparseMode(kernels);
  const gpt = which === 'gpt-mini';
  const model = gpt ? buildGpt(GPT_MINI, { family, sparsity, seed: 1, sequenceLength: TOKENS }) : buildResNet(RESNET18_CIFAR, { family, sparsity, seed: 1 });
  const x = gpt ? tf.randomUniform([batch, TOKENS], 0, GPT_MINI.vocabSize, 'int32') : tf.randomNormal([batch, 32, 32, 3]);
  const y = gpt ? tf.randomUniform([batch, TOKENS], 0, GPT_MINI.vocabSize, 'int32') : tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 100), 'int32'), 100);
  const opt = tf.train.momentum(0.01, 0.9);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const loss = () => {
    const out = model.apply(x, { training: true }) as tf.Tensor;
    return gpt ? languageModelLoss(out, y) : (tf.losses.softmaxCrossEntropy(y, out) as tf.Scalar);
  };
  const stepS = median(() => tf.tidy(() => void opt.minimize(loss, true, vars)?.dataSync()));
  const inferenceS = median(() => tf.tidy(() => void (model.apply(x, { training: false }) as tf.Tensor).dataSync()));
  console.log(`${family.padEnd(18)} s=${sparsity.toFixed(2)} ${kernels.padEnd(6)} step ${stepS.toFixed(3)} s, inference ${inferenceS.toFixed(3)} s`);
  tf.dispose([x, y]);
  opt.dispose();
  model.dispose();
  return { family, sparsity, kernels, stepS, inferenceS };
}

resetSparseChoices();
const dense = measure('dense', 0, 'auto');
const rows: Row[] = [dense];
for (const s of sparsities) {
  for (const family of FAMILIES) {
    for (const kernels of flag('--masked-dense') ? (['auto', 'dense'] as const) : (['auto'] as const)) {
      const r = measure(family, s, kernels);
      rows.push({ ...r, stepRatio: r.stepS / dense.stepS, inferenceRatio: r.inferenceS / dense.inferenceS });
    }
  }
}
const layers = sparseKernelReport();
setSparseMode('auto');

const startedAt = new Date().toISOString();
const machine = { cores: cpus().length, cpu: cpus()[0]?.model, loadAverageAtStart: load, loadAverageAtEnd: loadavg() };
const path = (k: SparseMode) => (k === 'dense' ? 'masked-dense' : 'sparse kernels (auto)');
const lines = [
  `# Sparse-IFT families on the sparse kernels vs dense, ${startedAt}`, '',
  `Command: \`${['npx tsx tools/bench/sparse-families.ts', ...process.argv.slice(2)].join(' ')}\``, '',
  describeBackend(info), '',
  `Machine: ${machine.cores} cores (${machine.cpu}); sparse ISA ${isa}; load average ${load.map((l) => l.toFixed(1)).join(' ')} at start, ${machine.loadAverageAtEnd.map((l) => l.toFixed(1)).join(' ')} at end.`, '',
  `${which === 'gpt-mini' ? `Zoo GPT-mini, ${TOKENS} tokens` : 'Zoo CIFAR ResNet-18 (100 classes)'}, batch ${batch}, median of ${reps} after 2 warm-ups; ratio = ÷ dense of this run.`, '',
  '| family | s | path | step (s) | step ÷ dense | inference (s) | inference ÷ dense |', '|---|---:|---|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.family} | ${r.sparsity} | ${r.family === 'dense' ? 'dense' : path(r.kernels)} | ${r.stepS.toFixed(3)} | ${r.stepRatio?.toFixed(2) ?? ''} | ${r.inferenceS.toFixed(3)} | ${r.inferenceRatio?.toFixed(2) ?? ''} |`),
  '', `Layer shapes that ran sparse in auto mode: ${layers.filter((l) => l.forward?.path === 'sparse' || l.backward?.path === 'sparse').length} of ${layers.length}.`, '',
];
mkdirSync(outDir, { recursive: true });
const stamp = startedAt.replace(/[:.]/g, '-');
writeFileSync(join(outDir, `sparse-families-${which}-${stamp}.json`), JSON.stringify({ startedAt, model: which, backend: describeBackend(info), machine, isa, batch, reps, rows, layers }, null, 2));
writeFileSync(join(outDir, `sparse-families-${which}-${stamp}.md`), lines.join('\n'));
console.log(lines.join('\n'));
