/**
 * The ImageNet ResNet-18/34 experiment as data (docs/recipes.md#imagenet-resnet, docs/paper-results.md#imagenet): presets, rows and the resolved
 * configuration. The recipe comes from `@sparse-ift/train`'s `imagenetRecipe`; the LR scales as
 * 0.256 × batch / 256.
 */
import type { GridRow } from '@sparse-ift/reproduce';
import { RESNET18_IMAGENET, RESNET34_IMAGENET, type ResNetArch } from '@sparse-ift/resnet';
import { imagenetRecipe, type Recipe } from '@sparse-ift/train';
import type { ImageNetModel } from './paper.js';

export interface ImageNetRow extends GridRow {
  model: ImageNetModel;
}

export interface ImageNetPreset {
  description: string;
  epochs: number;
  /** Global batch (paper: 256 = 8 GPUs × 32). */
  batchSize: number;
  /** Network input side (paper: 224). */
  imageSize: number;
  /** First-stage width W (paper: 64) and blocks per stage; smaller only for the CI smoke run. */
  baseWidth: number;
  blocksPerStage?: { resnet18: readonly number[]; resnet34: readonly number[] };
  models: ImageNetModel[];
  sparsities: number[];
  /** First N train / validation images decoded into memory (0 = all). */
  trainSubset: number;
  validationSubset: number;
  /**
   * false: train from the shard stream every epoch (shuffle, random-resized-crop + flip, docs/recipes.md#imagenet-resnet).
   * true: decode a subset once into memory (resize + centre crop), flip per batch.
   */
  inMemory: boolean;
  /** Streaming: train images per epoch, when known (ImageNet: 1,281,167); otherwise counted from the shards. */
  trainImages?: number;
  maskUpdateFrequency: number;
  maskEndFraction: number;
  defaultSeeds: number;
}

/** The CI check of the paper (streamed) pipeline; 'smoke-memory' is the same through the in-memory path. */
const SMOKE_PRESET: ImageNetPreset = {
  description: "CI check of the paper pipeline (seconds on CPU): streamed TFRecord shards, random-resized-crop 32², ResNet-18 stem and stages at W = 4 with one block per stage, 8 train / 4 validation images, 1 epoch of 2 steps, s = 0.5",
  epochs: 1,
  batchSize: 4,
  imageSize: 32,
  baseWidth: 4,
  blocksPerStage: { resnet18: [1, 1, 1, 1], resnet34: [1, 1, 1, 1] },
  models: ['resnet18'],
  sparsities: [0.5],
  trainSubset: 0,
  validationSubset: 0,
  inMemory: false,
  maskUpdateFrequency: 1,
  maskEndFraction: 1,
  defaultSeeds: 1,
};

export const PRESETS: Record<string, ImageNetPreset> = {
  paper: {
    description: 'the official recipe (docs/recipes.md#imagenet-resnet): ResNet-18 and ResNet-34 at 224², streamed with random-resized-crop + flip, 90 epochs, batch 256, SGD 0.256, label smoothing 0.1, cosine; 11 rows; meant for a GPU (--backend webgpu)',
    epochs: 90,
    batchSize: 256,
    imageSize: 224,
    baseWidth: 64,
    models: ['resnet18', 'resnet34'],
    sparsities: [0.5, 0.75, 0.9],
    trainSubset: 0,
    validationSubset: 0,
    inMemory: false,
    trainImages: 1_281_167,
    maskUpdateFrequency: 100,
    maskEndFraction: 0.75,
    defaultSeeds: 1,
  },
  short: {
    description: 'the same 11 rows on 40,000 train / 10,000 validation images at 64², 16 epochs, batch 256, decoded into memory; hours on a GPU',
    epochs: 16,
    batchSize: 256,
    imageSize: 64,
    baseWidth: 64,
    models: ['resnet18', 'resnet34'],
    sparsities: [0.5, 0.75, 0.9],
    trainSubset: 40_000,
    validationSubset: 10_000,
    inMemory: true,
    maskUpdateFrequency: 100,
    maskEndFraction: 0.75,
    defaultSeeds: 1,
  },
  smoke: SMOKE_PRESET,
  'smoke-memory': {
    ...SMOKE_PRESET,
    description: "CI check of the short preset's in-memory path: as smoke, decoded once into memory",
    trainSubset: 8,
    validationSubset: 4,
    inMemory: true,
  },
};

/** The paper table's rows (docs/paper-results.md#imagenet): ResNet-18 dense, SW and SP at each s; ResNet-34 dense and SW at each s (all RigL). */
export function gridRows(preset: ImageNetPreset): ImageNetRow[] {
  const rows: ImageNetRow[] = [];
  for (const model of preset.models) {
    rows.push({ model, family: 'dense', sparsity: 0, method: 'dense' });
    for (const s of preset.sparsities) {
      rows.push({ model, family: 'sparse-wide', sparsity: s, method: 'rigl' });
      if (model === 'resnet18') rows.push({ model, family: 'sparse-parallel', sparsity: s, method: 'rigl' });
    }
  }
  return rows;
}

export interface ImageNetConfig {
  preset: string;
  archs: Record<ImageNetModel, ResNetArch>;
  recipe: Recipe;
  mask: { frequency: number; dropFraction: number; endFraction: number; distribution: 'uniform'; init: 'random' };
  imageSize: number;
  /** Eval resize before the centre crop: 256 for 224 (the 256/224 ratio kept at other sizes). */
  resizeSize: number;
  trainSubset: number;
  validationSubset: number;
  inMemory: boolean;
  trainImages: number | undefined;
  rows: ImageNetRow[];
}

export function resolveConfig(presetName: string): ImageNetConfig {
  const p = PRESETS[presetName];
  if (!p) throw new Error(`unknown preset '${presetName}' for imagenet-resnet; valid presets: ${Object.keys(PRESETS).join(', ')}`);
  const base = imagenetRecipe(p.epochs);
  if (base.optimizer.kind !== 'sgd') throw new Error('the ImageNet recipe is SGD');
  // Linear scaling: 0.256 × global batch / 256 (docs/recipes.md#imagenet-resnet).
  const recipe: Recipe = { ...base, batchSize: p.batchSize, optimizer: { ...base.optimizer, lr: (base.optimizer.lr * p.batchSize) / 256 } };
  const arch = (a: ResNetArch, blocks?: readonly number[]): ResNetArch => {
    const same = p.baseWidth === a.baseWidth && p.imageSize === a.inputShape[0] && (!blocks || blocks.join() === a.blocksPerStage.join());
    if (same) return a;
    const b = blocks ?? a.blocksPerStage;
    return { ...a, name: `${a.name}-${b.join('')}-w${p.baseWidth}-${p.imageSize}px`, baseWidth: p.baseWidth, blocksPerStage: b, inputShape: [p.imageSize, p.imageSize, 3] };
  };
  return {
    preset: presetName,
    archs: { resnet18: arch(RESNET18_IMAGENET, p.blocksPerStage?.resnet18), resnet34: arch(RESNET34_IMAGENET, p.blocksPerStage?.resnet34) },
    recipe,
    mask: { frequency: p.maskUpdateFrequency, dropFraction: 0.3, endFraction: p.maskEndFraction, distribution: 'uniform', init: 'random' },
    imageSize: p.imageSize,
    resizeSize: Math.round((p.imageSize * 256) / 224),
    trainSubset: p.trainSubset,
    validationSubset: p.validationSubset,
    inMemory: p.inMemory,
    trainImages: p.trainImages,
    rows: gridRows(p),
  };
}
