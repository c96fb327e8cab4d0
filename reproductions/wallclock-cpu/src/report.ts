/** results.md of wallclock-cpu: one table per model, every row's times and its ratio to the dense model. */
import { FAMILY_LABEL } from '@sparse-ift/reproduce';
import type { Machine, ModelTimings, TimedRow } from './measure.js';
import { PATH_LABEL } from './measure.js';
import type { WallclockConfig } from './presets.js';

/** Seconds as a person reads them: milliseconds below one second. */
const duration = (seconds: number): string => (seconds < 1 ? `${(seconds * 1000).toFixed(1)} ms` : `${seconds.toFixed(3)} s`);
const ratio = (r: number): string => `${r.toFixed(2)}×`;

export function modelTable(timings: ModelTimings): string {
  const { plan, rows } = timings;
  const batches = plan.inferenceBatches;
  const header = [
    `| family | s | path | train step (batch ${plan.trainBatch}) | ÷ dense | ${batches.map((b) => `inference batch ${b} | ÷ dense`).join(' | ')} |`,
    `|---|---:|---|---:|---:|${batches.map(() => '---:|---:').join('|')}|`,
  ];
  const line = (r: TimedRow): string =>
    `| ${FAMILY_LABEL[r.family]} | ${r.family === 'dense' ? '—' : r.sparsity} | ${PATH_LABEL[r.path]} | ${duration(r.trainStepSeconds)} | ${ratio(r.trainRatio)} | ${r.inference.map((t) => `${duration(t.seconds)} | ${ratio(t.ratio)}`).join(' | ')} |`;
  return [...header, ...rows.map(line)].join('\n');
}

export function machineLine(machine: Machine): string {
  const load = (l: number[] | undefined) => (l ? l.map((x) => x.toFixed(1)).join(' ') : '?');
  return `${machine.cores} cores (${machine.cpu}); sparse kernels' ISA ${machine.isa}; ${machine.threads} threads; load average ${load(machine.loadAverageAtStart)} at start, ${load(machine.loadAverageAtEnd)} at end`;
}

export interface WallclockResults {
  experiment: string;
  preset: string;
  config: WallclockConfig;
  backend: { name: string } & Record<string, unknown>;
  backendLine: string;
  machine: Machine;
  startedAt: string;
  wallSeconds: number;
  models: ModelTimings[];
}

const MODEL_TITLE: Record<string, string> = {
  'resnet18-cifar': 'ResNet-18 CIFAR (100 classes)',
  'resnet-mini-cifar': 'ResNet-mini CIFAR (width 16, one block per stage)',
  'gpt-mini': 'GPT-mini (4 layers × d 256, GPT-2 vocabulary)',
  'gpt-nano': 'GPT-nano (2 layers × d 32)',
};

export function modelTitle(timings: ModelTimings): string {
  const tokens = timings.plan.tokens === undefined ? '' : `, ${timings.plan.tokens} tokens per sample`;
  return `${MODEL_TITLE[timings.plan.model] ?? timings.plan.model}${tokens}`;
}

export function resultsMarkdown(results: WallclockResults): { document: string; table: string } {
  const { config } = results;
  const sections = results.models.map((m) =>
    [
      `## ${modelTitle(m)}`,
      '',
      modelTable(m),
      '',
      `Layer shapes of the masked products: ${m.sparseLayers.sparse} of ${m.sparseLayers.total} ran a sparse kernel (forward or backward) in auto mode.${m.pytorchNote ? ` PyTorch: ${m.pytorchNote}.` : ''}`,
      '',
    ].join('\n'),
  );
  const document = [
    `# Wall-clock on CPU: Sparse-IFT families against dense (preset \`${results.preset}\`)`,
    '',
    `${config.description}.`,
    '',
    `- ${results.backendLine}`,
    `- machine: ${machineLine(results.machine)}`,
    `- timing: median of ${config.timing.reps} timed call${config.timing.reps > 1 ? 's' : ''} after ${config.timing.warmup} warm-up${config.timing.warmup > 1 ? 's' : ''} (the sparse-kernels path times its kernels' choice during its own warm-up); total wall time ${results.wallSeconds < 60 ? `${results.wallSeconds.toFixed(0)} s` : `${(results.wallSeconds / 60).toFixed(1)} min`}`,
    '- training step: forward + backward + SGD-momentum on one random batch (no RigL mask update: those come every ΔT = 100 steps); inference: one forward, outputs read back.',
    '- ÷ dense: the row\'s time over the dense model\'s on the same framework in this run (ours over ours, PyTorch over PyTorch). Iso-FLOP means 1.00× would be the ideal.',
    `- masked-dense (native): the same model with the sparse mode 'dense' (kernel ⊙ mask, dense kernels); timed at s ∈ {${config.maskedDenseSparsities.join(', ')}}.`,
    "- sparse kernels (native, auto): sparse mode 'auto', each layer shape on the kernel measured faster at its density (what training uses).",
    '',
    ...sections,
    `Rerun: \`npx sift reproduce wallclock-cpu --preset ${results.preset} --backend native\``,
    '',
  ].join('\n');
  return { document, table: results.models.map((m) => `${modelTitle(m)}\n\n${modelTable(m)}`).join('\n\n') };
}
