// Every Sparse-IFT family on the native backend's sparse kernels against dense, in one process: the zoo's CIFAR
// ResNet-18 (@sparse-ift/resnet, what `sift` trains) or GPT-mini (@sparse-ift/gpt, 4 × 256, GPT-2 vocabulary,
// 128 tokens), training step (forward + backward + SGD-momentum) and inference (forward, no dropout / BN in
// inference mode) at one batch, each ÷ the dense model's on the same path.
//   npx tsx tools/bench/sparse-families.ts [--model resnet18|gpt-mini] [--sparsities 0.75,0.9] [--batch 32]
//                                          [--reps 3] [--masked-dense] [--out runs/bench]
// --masked-dense adds each family on the dense kernels with w ⊙ mask (setSparseMode('dense')), the path
// without sparse kernels. Writes sparse-families-<time>.json and .md (with which layer shapes ran sparse).
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { describeBackend, initBackend, loadSparseKernels, resetSparseChoices, setSparseMode, sparseKernelReport, type SparseMode } from '../../packages/backend/src/index.js';
import { buildTimedModel, timeInference, timeTrainingStep } from '../../reproductions/wallclock-cpu/src/timing.js';
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

const timing = { warmup: 2, reps }; // warm-ups: in auto mode each new layer shape times both paths there

interface Row { family: Family | 'dense'; sparsity: number; kernels: SparseMode; stepS: number; inferenceS: number; stepRatio?: number; inferenceRatio?: number }

function measure(family: Family | 'dense', sparsity: number, kernels: SparseMode): Row {
  setSparseMode(kernels);
  const net = buildTimedModel(which === 'gpt-mini' ? 'gpt-mini' : 'resnet18-cifar', family, sparsity, { tokens: TOKENS });
  const stepS = timeTrainingStep(net, batch, timing);
  const inferenceS = timeInference(net, batch, timing);
  console.log(`${family.padEnd(18)} s=${sparsity.toFixed(2)} ${kernels.padEnd(6)} step ${stepS.toFixed(3)} s, inference ${inferenceS.toFixed(3)} s`);
  net.model.dispose();
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
