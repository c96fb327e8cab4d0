/**
 * The measurements: per model, the dense model, then every family × s on the native backend's masked-dense
 * path (sparse mode 'dense': kernel ⊙ mask, dense kernels) and on its sparse kernels (mode 'auto'), and
 * PyTorch's masked-dense ResNet-18 twins beside them. Each row: the median training-step time and the
 * median inference latency per batch.
 */
import { cpus, loadavg } from 'node:os';
import { loadSparseKernels, resetSparseChoices, trimNativeMemory, setSparseMode, sparseKernelReport, sparseMode, type SparseMode } from '@sparse-ift/backend';
import { sparseWideWidth, type Family } from '@sparse-ift/core';
import { RESNET18_CIFAR } from '@sparse-ift/resnet';
import { SPARSE_FAMILIES, type ModelPlan, type WallclockConfig } from './presets.js';
import { runTorchTwins, type TorchJob } from './pytorch.js';
import { buildTimedModel, timeInference, timeTrainingStep, type TimedModelName } from './timing.js';

/**
 * How a row computed: the dense model; the native backend's masked-dense path; its sparse kernels; PyTorch's
 * masked-dense twin (and PyTorch's dense model as that twin's reference).
 */
export type TimedPath = 'dense' | 'masked-dense' | 'sparse-kernels' | 'pytorch-dense' | 'pytorch-masked-dense';

export const PATH_LABEL: Record<TimedPath, string> = {
  dense: 'dense model',
  'masked-dense': 'masked-dense (native)',
  'sparse-kernels': 'sparse kernels (native, auto)',
  'pytorch-dense': 'PyTorch dense model',
  'pytorch-masked-dense': 'PyTorch masked-dense',
};

/**
 * The native backend's sparse mode per path. The sparse kernels run in 'auto', the mode training uses: each
 * layer shape runs the kernel measured faster at its density, so stride-2 and 1×1 convolutions where the dense
 * kernel wins stay dense ('sparse' would force them onto the slower sparse kernel and time no real run).
 */
const SPARSE_MODE: Partial<Record<TimedPath, SparseMode>> = { dense: 'auto', 'masked-dense': 'dense', 'sparse-kernels': 'auto' };

export interface InferenceTime {
  batch: number;
  seconds: number;
  /** ÷ the dense model's latency at this batch on the same framework, this run. */
  ratio: number;
}

export interface TimedRow {
  model: TimedModelName;
  family: Family;
  sparsity: number;
  path: TimedPath;
  trainBatch: number;
  trainStepSeconds: number;
  /** ÷ the dense model's step on the same framework, this run. */
  trainRatio: number;
  inference: InferenceTime[];
}

/** The machine the numbers come from. */
export interface Machine {
  cpu: string;
  cores: number;
  /** The sparse kernels' instruction set, chosen at run time (avx512, avx2, or none). */
  isa: string;
  threads: number;
  loadAverageAtStart: number[];
  loadAverageAtEnd?: number[];
}

export interface ModelTimings {
  plan: ModelPlan;
  rows: TimedRow[];
  /** Layer shapes the masked products met on the sparse-kernels path, and how many ran sparse (forward or backward). */
  sparseLayers: { total: number; sparse: number };
  /** Why PyTorch is absent, when it is. */
  pytorchNote?: string;
  pytorchVersion?: string;
}

export function describeMachine(threads: number): Machine {
  return { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, isa: loadSparseKernels().kernels?.sparseIsa() ?? 'none', threads, loadAverageAtStart: loadavg() };
}

type Measured = Pick<TimedRow, 'trainStepSeconds' | 'inference'>;

function withRatios(row: Omit<TimedRow, 'trainRatio' | 'inference'> & Measured, dense: Measured): TimedRow {
  return {
    ...row,
    trainRatio: row.trainStepSeconds / dense.trainStepSeconds,
    inference: row.inference.map((t, i) => ({ ...t, ratio: t.seconds / dense.inference[i]!.seconds })),
  };
}

/** PyTorch twins of the ResNet-18 rows: the dense model and masked-dense Sparse Wide (the family the twin has). */
function pytorchRows(config: WallclockConfig, plan: ModelPlan, threads: number): { rows: TimedRow[]; note?: string; version?: string } {
  if (!config.pytorch) return { rows: [], note: `preset '${config.preset}' does not time PyTorch` };
  if (plan.model !== 'resnet18-cifar') return { rows: [], note: 'no PyTorch twin of the zoo GPT families (tools/bench/torch_models.py has the dense GPT only)' };
  const { baseWidth, numClasses } = RESNET18_CIFAR;
  const common = { model: 'resnet18', batch: plan.trainBatch, classes: numClasses, inferenceBatches: plan.inferenceBatches, warmup: config.timing.warmup, reps: config.timing.reps };
  const jobs: TorchJob[] = [
    // A small untimed model first: PyTorch's first convolutions in a process (library start-up) take seconds.
    { key: 'process-warm-up', model: 'resnet18', width: 8, batch: 2, sparsity: 0, inferenceBatches: [1], warmup: 1, reps: 1 },
    { key: 'dense', width: baseWidth, sparsity: 0, ...common } as TorchJob,
    ...config.maskedDenseSparsities.map((s) => ({ key: `sparse-wide-${s}`, width: sparseWideWidth(baseWidth, s), sparsity: s, ...common }) as TorchJob),
  ];
  const run = runTorchTwins(threads, jobs);
  if (typeof run === 'string') return { rows: [], note: run };
  const measured = (key: string): Measured => ({
    trainStepSeconds: run.results[key]!,
    inference: plan.inferenceBatches.map((batch) => ({ batch, seconds: run.results[`${key}-inference-b${batch}`]!, ratio: NaN })),
  });
  const dense = measured('dense');
  const base = { model: plan.model, trainBatch: plan.trainBatch };
  const rows = [
    withRatios({ ...base, family: 'dense', sparsity: 0, path: 'pytorch-dense', ...dense }, dense),
    ...config.maskedDenseSparsities.map((s) => withRatios({ ...base, family: 'sparse-wide', sparsity: s, path: 'pytorch-masked-dense', ...measured(`sparse-wide-${s}`) }, dense)),
  ];
  return { rows, version: run.version, note: `PyTorch ${run.version} on ${run.threads} threads: Sparse Wide twins (widths by sparseWideWidth, every conv but the stem masked), no twin of the other families` };
}

/** Times one model of the preset: every row on every path the preset asks for. */
export function timeModel(config: WallclockConfig, plan: ModelPlan, threads: number, log: (line: string) => void): ModelTimings {
  const previousMode = sparseMode();
  resetSparseChoices();
  const measure = (family: Family, sparsity: number, paths: TimedPath[]): (Measured & { path: TimedPath })[] => {
    const net = buildTimedModel(plan.model, family, sparsity, { tokens: plan.tokens });
    try {
      return paths.map((path) => {
        setSparseMode(SPARSE_MODE[path]!);
        const trainStepSeconds = timeTrainingStep(net, plan.trainBatch, config.timing);
        const inference = plan.inferenceBatches.map((batch) => ({ batch, seconds: timeInference(net, batch, config.timing), ratio: NaN }));
        log(`${plan.model} ${family} s=${sparsity} ${PATH_LABEL[path]} (rss ${(process.memoryUsage.rss() / 2 ** 30).toFixed(1)} GiB): step ${trainStepSeconds.toFixed(3)} s, inference ${inference.map((t) => `b${t.batch} ${t.seconds.toFixed(4)} s`).join(', ')}`);
        return { path, trainStepSeconds, inference };
      });
    } finally {
      net.model.dispose();
      trimNativeMemory(); // the native backend keeps freed blocks for reuse: a GPT's logits at batch 64 are 400 MB each
    }
  };
  try {
    const base = { model: plan.model, trainBatch: plan.trainBatch };
    const [dense] = measure('dense', 0, ['dense']);
    const rows: TimedRow[] = [withRatios({ ...base, family: 'dense', sparsity: 0, ...dense! }, dense!)];
    for (const sparsity of config.sparsities) {
      const paths: TimedPath[] = config.maskedDenseSparsities.includes(sparsity) ? ['masked-dense', 'sparse-kernels'] : ['sparse-kernels'];
      for (const family of SPARSE_FAMILIES) {
        for (const m of measure(family, sparsity, paths)) rows.push(withRatios({ ...base, family, sparsity, ...m }, dense!));
      }
    }
    const layers = sparseKernelReport();
    const sparseLayers = { total: layers.length, sparse: layers.filter((l) => l.forward?.path === 'sparse' || l.backward?.path === 'sparse').length };
    const torch = pytorchRows(config, plan, threads);
    if (torch.note) log(`${plan.model}: ${torch.note}`);
    return { plan, rows: [...rows, ...torch.rows], sparseLayers, ...(torch.note ? { pytorchNote: torch.note } : {}), ...(torch.version ? { pytorchVersion: torch.version } : {}) };
  } finally {
    setSparseMode(previousMode);
  }
}
