/**
 * The CIFAR-100 ResNet-18 experiment as data: presets, the grid of rows, and the fully resolved
 * configuration (recipe from `@sparse-ift/train`'s `cifarRecipe`, docs/recipes.md#cifar-100-resnet-18). Tests check the resolved
 * values against the recipe's numbers (docs/recipes.md#cifar-100-resnet-18).
 */
import type { GridRow } from '@sparse-ift/reproduce';
import { RESNET18_CIFAR, type ResNetArch } from '@sparse-ift/resnet';
import { cifarRecipe, type Recipe } from '@sparse-ift/train';

export interface CifarRow extends GridRow {
  /** Which paper table the row belongs to: family × s, RigL (docs/paper-results.md#cifar-100) and/or SW by method (#cifar-100-methods). */
  tables: ('families' | 'methods')[];
}

export interface CifarPreset {
  description: string;
  /** Training epochs (paper: 200). Milestones scale with it (cifarRecipe). */
  epochs: number;
  /** Mini-batch size (paper: 128). */
  batchSize: number;
  /** ResNet width W of the first stage (paper: 64); smaller only for the CI smoke run. */
  baseWidth: number;
  /** BasicBlocks per stage (ResNet-18: [2, 2, 2, 2]); fewer only for the CI smoke run. */
  blocksPerStage: readonly number[];
  /** First N train / test images (0 = all 50,000 / 10,000). */
  trainSubset: number;
  testSubset: number;
  sparsities: number[];
  /** RigL/SET update period ΔT (paper: 100). */
  maskUpdateFrequency: number;
  /** RigL/SET updates stop at this fraction of the steps (paper: 0.75). */
  maskEndFraction: number;
  /** Also run Sparse Wide with static and SET masks (docs/paper-results.md#cifar-100-methods). */
  methodsTable: boolean;
  defaultSeeds: number;
}

const PAPER_PRESET: CifarPreset = {
  description: 'the exact official recipe (docs/recipes.md#cifar-100-resnet-18): ResNet-18 (W = 64), 200 epochs, batch 128, s ∈ {0.5, 0.75, 0.9}, 19 rows; meant for a GPU (--backend webgpu)',
  epochs: 200,
  batchSize: 128,
  baseWidth: 64,
  blocksPerStage: [2, 2, 2, 2],
  trainSubset: 0,
  testSubset: 0,
  sparsities: [0.5, 0.75, 0.9],
  maskUpdateFrequency: 100,
  maskEndFraction: 0.75,
  methodsTable: true,
  defaultSeeds: 1,
};

export const PRESETS: Record<string, CifarPreset> = {
  paper: PAPER_PRESET,
  short: { ...PAPER_PRESET, description: 'the same grid on a 30-epoch schedule (milestones 9/18/24), full data; hours on a GPU', epochs: 30 },
  smoke: {
    description: 'CI check (seconds on CPU): the ResNet-18 pipeline with one block per stage at W = 4, 16 train / 8 test images, 1 epoch of 2 steps, s = 0.5, ΔT = 1',
    epochs: 1,
    batchSize: 8,
    baseWidth: 4,
    blocksPerStage: [1, 1, 1, 1],
    trainSubset: 16,
    testSubset: 8,
    sparsities: [0.5],
    maskUpdateFrequency: 1,
    maskEndFraction: 1,
    methodsTable: true,
    defaultSeeds: 1,
  },
};

/** The family × sparsity rows (dense; SW, SP, SF, SD with RigL at each s) then the extra SW static and SET rows of the by-method table (docs/paper-results.md#cifar-100, #cifar-100-methods). */
export function gridRows(preset: CifarPreset): CifarRow[] {
  const rows: CifarRow[] = [{ family: 'dense', sparsity: 0, method: 'dense', tables: ['families'] }];
  for (const s of preset.sparsities) {
    for (const family of ['sparse-wide', 'sparse-parallel', 'sparse-factorized', 'sparse-doped'] as const) {
      const tables: CifarRow['tables'] = family === 'sparse-wide' && preset.methodsTable ? ['families', 'methods'] : ['families'];
      rows.push({ family, sparsity: s, method: 'rigl', tables });
    }
    if (preset.methodsTable) {
      rows.push({ family: 'sparse-wide', sparsity: s, method: 'static', tables: ['methods'] });
      rows.push({ family: 'sparse-wide', sparsity: s, method: 'set', tables: ['methods'] });
    }
  }
  return rows;
}

/** Everything a run uses, resolved from a preset; stored in results.json as `config`. */
export interface CifarConfig {
  preset: string;
  arch: ResNetArch;
  recipe: Recipe;
  /** Dynamic sparse schedule (docs/sparse-training.md#schedule): ΔT, α₀ (cosine), end fraction; uniform distribution, random (Bernoulli) init. */
  mask: { frequency: number; dropFraction: number; endFraction: number; distribution: 'uniform'; init: 'random' };
  model: {
    /** SF middle block (the official configs: nonlinear_relu, docs/deviations.md#pitfall-sf-middle). */
    factorizedMiddle: 'nonlinear_relu';
    /** SD: U and V dense (paper intent, iso-FLOP) rather than masked as the released filter does (docs/sparse-ift.md#sparse-doped, docs/deviations.md#doped-low-rank). */
    dopedMaskLowRank: false;
    /** Sparse Wide's FLOP-budget search (docs/flops.md#sparse-wide-budget). */
    flopBudgetSearch: true;
  };
  /** Which accuracy the tables show (docs/deviations.md#pitfall-eval-metric); both are recorded. */
  tableMetric: 'last-epoch';
  trainSubset: number;
  testSubset: number;
  rows: CifarRow[];
}

export function resolveConfig(presetName: string): CifarConfig {
  const preset = PRESETS[presetName];
  if (!preset) throw new Error(`unknown preset '${presetName}' for cifar100-resnet18; valid presets: ${Object.keys(PRESETS).join(', ')}`);
  const recipe = cifarRecipe(preset.epochs);
  const isPaperNet = preset.baseWidth === RESNET18_CIFAR.baseWidth && preset.blocksPerStage.join() === RESNET18_CIFAR.blocksPerStage.join();
  const arch: ResNetArch = isPaperNet
    ? RESNET18_CIFAR
    : { ...RESNET18_CIFAR, name: `resnet-cifar-${preset.blocksPerStage.join('')}-w${preset.baseWidth}`, baseWidth: preset.baseWidth, blocksPerStage: preset.blocksPerStage };
  return {
    preset: presetName,
    arch,
    recipe: { ...recipe, batchSize: preset.batchSize },
    mask: { frequency: preset.maskUpdateFrequency, dropFraction: 0.3, endFraction: preset.maskEndFraction, distribution: 'uniform', init: 'random' },
    model: { factorizedMiddle: 'nonlinear_relu', dopedMaskLowRank: false, flopBudgetSearch: true },
    tableMetric: 'last-epoch',
    trainSubset: preset.trainSubset,
    testSubset: preset.testSubset,
    rows: gridRows(preset),
  };
}
