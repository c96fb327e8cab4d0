/**
 * Presets of the fashion-mnist experiment. Sizes are chosen for the wall-time targets on 2 CPU cores
 * (wasm backend): masked-dense training costs the *dense* compute of the transformed model, which is
 * about 1/(1 − s) times the baseline for SW/SP/SF (10× at s = 0.9), so the grid is sized accordingly.
 */
import type { GridRow } from '@sparse-ift/reproduce';
import type { Architecture } from './model.js';

export interface FashionPreset {
  description: string;
  architecture: Architecture;
  /** Images are average-pooled to inputSize × inputSize (28 = original). */
  inputSize: 28 | 14;
  /** MLP hidden width / CNN stem width of the dense baseline. */
  width: number;
  /** First N training / test images (0 = all). */
  trainSubset: number;
  testSubset: number;
  epochs: number;
  batchSize: number;
  lr: number;
  /** RigL/SET update period ΔT (official 100; short schedules need a smaller one to update at all). */
  maskUpdateFrequency: number;
  sparsities: number[];
  /** Also run Sparse Wide with static and SET masks (the paper's CIFAR-100 comparison, docs/paper-results.md#cifar-100-methods). */
  sparseWideMethods: boolean;
  defaultSeeds: number;
  /** Checkpoint every this many steps (and at every epoch end), so --resume loses little work. */
  checkpointEvery: number;
  /** Linear LR warm-up over this many first epochs (fractions allowed; absent: none). */
  warmupEpochs?: number;
}

export const PRESETS: Record<string, FashionPreset> = {
  smoke: {
    description: 'CI check, < 1 min: tiny MLP on 14×14 images, 2k train images, 1 epoch, s = 0.5, 1 seed',
    architecture: 'mlp',
    inputSize: 14,
    width: 32,
    trainSubset: 2000,
    testSubset: 1000,
    epochs: 1,
    batchSize: 64,
    lr: 0.05,
    maskUpdateFrequency: 10,
    sparsities: [0.5],
    sparseWideMethods: true,
    defaultSeeds: 1,
    checkpointEvery: 10,
  },
  default: {
    description: 'the README comparison, < 15 min on 2 cores: MLP 196→64→64→10 on 14×14 images, 30k train images, 3 epochs, s ∈ {0.5, 0.75, 0.9}, 2 seeds',
    architecture: 'mlp',
    inputSize: 14,
    width: 64,
    trainSubset: 30000,
    testSubset: 0,
    epochs: 3,
    batchSize: 128,
    lr: 0.05,
    maskUpdateFrequency: 25,
    sparsities: [0.5, 0.75, 0.9],
    sparseWideMethods: true,
    defaultSeeds: 2,
    checkpointEvery: 50,
  },
  full: {
    description: 'the longer schedule (hours on CPU): MLP 784→256→256→10 on full 28×28 Fashion-MNIST, 30 epochs, 3 seeds',
    architecture: 'mlp',
    inputSize: 28,
    width: 256,
    trainSubset: 0,
    testSubset: 0,
    epochs: 30,
    batchSize: 128,
    lr: 0.05,
    maskUpdateFrequency: 100,
    sparsities: [0.5, 0.75, 0.9],
    sparseWideMethods: true,
    defaultSeeds: 3,
    checkpointEvery: 200,
    // One epoch of warm-up: over 30 epochs at lr 0.05 a seed whose loss sticks at chance early is lost for good.
    warmupEpochs: 1,
  },
  cnn: {
    description: 'small CNN (3×3 stem 8 ch, two stride-2 3×3 convs, GAP, linear) on 28×28 images, 10k train images, 3 epochs, 1 seed',
    architecture: 'cnn',
    inputSize: 28,
    width: 8,
    trainSubset: 10000,
    testSubset: 2000,
    epochs: 3,
    batchSize: 128,
    lr: 0.05,
    maskUpdateFrequency: 25,
    sparsities: [0.5, 0.75, 0.9],
    sparseWideMethods: false,
    defaultSeeds: 1,
    checkpointEvery: 50,
  },
};

/** The rows of the comparison: dense; each family with RigL at each s; SW with static and SET. */
export function gridRows(preset: FashionPreset): GridRow[] {
  const rows: GridRow[] = [{ family: 'dense', sparsity: 0, method: 'dense' }];
  for (const s of preset.sparsities) {
    for (const family of ['sparse-wide', 'sparse-parallel', 'sparse-factorized', 'sparse-doped'] as const) {
      rows.push({ family, sparsity: s, method: 'rigl' });
    }
    if (preset.sparseWideMethods) {
      rows.push({ family: 'sparse-wide', sparsity: s, method: 'static' }, { family: 'sparse-wide', sparsity: s, method: 'set' });
    }
  }
  return rows;
}

/** A preset resolved: what results.json stores as `config`. */
export interface FashionConfig extends FashionPreset {
  preset: string;
  rows: GridRow[];
}

export function resolveConfig(presetName: string): FashionConfig {
  const preset = PRESETS[presetName];
  if (!preset) throw new Error(`unknown preset '${presetName}' for fashion-mnist; valid presets: ${Object.keys(PRESETS).join(', ')}`);
  return { ...preset, preset: presetName, rows: gridRows(preset) };
}
