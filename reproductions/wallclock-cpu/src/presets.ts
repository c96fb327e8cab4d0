/**
 * Presets of the wallclock-cpu experiment. `default` is sized to finish in under 15 minutes on 2 shared
 * cores: masked-dense costs the transformed model's *dense* work, about 1/(1 − s) × the dense model's for
 * Sparse Wide / Parallel / Factorized (10× at s = 0.9), so it and PyTorch run at s = 0.75 only there (the
 * paper's speed anchor, docs/paper-results.md#speed); the sparse kernels, the point of the table, run at every s.
 */
import type { Family } from '@sparse-ift/core';
import type { Timing, TimedModelName } from './timing.js';

export const SPARSE_FAMILIES = ['sparse-wide', 'sparse-parallel', 'sparse-factorized', 'sparse-doped'] as const satisfies readonly Family[];

/** One model's share of a preset. */
export interface ModelPlan {
  model: TimedModelName;
  /** Samples per training step. */
  trainBatch: number;
  /** Inference batches timed (the paper's question: latency at batch 1, throughput at a large batch). */
  inferenceBatches: number[];
  /** GPT only: tokens per sample. */
  tokens?: number;
}

export interface WallclockPreset {
  description: string;
  models: ModelPlan[];
  sparsities: number[];
  /** Sparsities the masked-dense path (and PyTorch) is timed at; the sparse kernels run at all of `sparsities`. */
  maskedDenseSparsities: number[];
  timing: Timing;
  /** Time PyTorch's masked-dense ResNet-18 twin (tools/bench/torch_models.py) when python3 with torch imports. */
  pytorch: boolean;
}

export const PRESETS: Record<string, WallclockPreset> = {
  smoke: {
    description: 'CI check, seconds: ResNet-mini (width 16, one block per stage) and GPT-nano, s = 0.5, one timed call each, no PyTorch',
    models: [
      { model: 'resnet-mini-cifar', trainBatch: 4, inferenceBatches: [1, 4] },
      { model: 'gpt-nano', trainBatch: 2, inferenceBatches: [1, 4], tokens: 8 },
    ],
    sparsities: [0.5],
    maskedDenseSparsities: [0.5],
    timing: { warmup: 1, reps: 1 },
    pytorch: false,
  },
  default: {
    description:
      'under 15 min on 2 cores: ResNet-18 CIFAR (training batch 32), every family at s ∈ {0.5, 0.75, 0.9} on the sparse kernels, masked-dense and PyTorch at s = 0.75, median of 3 after one warm-up (the GPT rows are in `gpt`)',
    models: [{ model: 'resnet18-cifar', trainBatch: 32, inferenceBatches: [1, 64] }],
    sparsities: [0.5, 0.75, 0.9],
    maskedDenseSparsities: [0.75],
    timing: { warmup: 1, reps: 3 },
    pytorch: true,
  },
  gpt: {
    description:
      'GPT-mini (32 tokens, training batch 8), as `default` for ResNet-18; a process of its own: memory grew from row to row and ResNet-18 and GPT rows in one process ran out of 24 GiB (sparse plans then freed only by the garbage collector)',
    models: [{ model: 'gpt-mini', trainBatch: 8, inferenceBatches: [1, 64], tokens: 32 }],
    sparsities: [0.5, 0.75, 0.9],
    maskedDenseSparsities: [0.75],
    timing: { warmup: 1, reps: 3 },
    pytorch: false,
  },
  full: {
    description: 'every path at every s, GPT-mini at 128 tokens, median of 5 after warm-up (about an hour on 2 cores; needed more than 24 GiB before sparse plans were freed with their masks; not rerun since)',
    models: [
      { model: 'resnet18-cifar', trainBatch: 32, inferenceBatches: [1, 64] },
      { model: 'gpt-mini', trainBatch: 8, inferenceBatches: [1, 64], tokens: 128 },
    ],
    sparsities: [0.5, 0.75, 0.9],
    maskedDenseSparsities: [0.5, 0.75, 0.9],
    timing: { warmup: 1, reps: 5 },
    pytorch: true,
  },
};

/** A preset resolved: what results.json stores as `config`. */
export interface WallclockConfig extends WallclockPreset {
  preset: string;
}

export function resolveConfig(presetName: string): WallclockConfig {
  const preset = PRESETS[presetName];
  if (!preset) throw new Error(`unknown preset '${presetName}' for wallclock-cpu; valid presets: ${Object.keys(PRESETS).join(', ')}`);
  return { ...preset, preset: presetName };
}
