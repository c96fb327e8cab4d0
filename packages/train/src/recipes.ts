/**
 * The optimisation recipes of the paper's experiments (docs/recipes.md), as data, and the trainer settings one
 * fixes. Reproductions start from one and override what they need (e.g. a shorter schedule).
 */
import type { SparseMethod } from './core.js';
import { classification, type Objective } from './objectives.js';
import type { LrSchedule } from './schedules.js';

export type DecayScope =
  /** Weight decay on every parameter, biases and norm parameters included (CIFAR, docs/recipes.md#cifar-100-resnet-18). */
  | 'all'
  /** No decay on 1-D parameters and biases (ImageNet `filter_norm_and_bias`, GPT). */
  | 'matrices';

export type OptimizerRecipe =
  | { kind: 'sgd'; lr: number; momentum: number; nesterov: boolean; weightDecay: number; decay: DecayScope }
  | { kind: 'adamw'; lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; decay: DecayScope };

/** The sparse-training method and its dynamic schedule (defaults: ΔT 100, α₀ 0.3 cosine, updates end at 0.75 of the steps). */
export interface MaskTraining {
  method: SparseMethod;
  frequency?: number;
  dropFraction?: number;
  /** Updates end at this fraction of the run's steps, or at `endStep` (give at most one). */
  endFraction?: number;
  endStep?: number;
}

export interface Recipe {
  optimizer: OptimizerRecipe;
  schedule: LrSchedule;
  batchSize: number;
  epochs: number;
  labelSmoothing: number;
  clipNorm?: number;
}

/**
 * CIFAR-100 ResNet-18 (docs/recipes.md#cifar-100-resnet-18): SGD lr 0.1, Nesterov momentum 0.9, wd 5e-4 on all params, batch 128,
 * 200 epochs, ×0.2 at epochs 60/120/160 landing one epoch late (the official scheduler quirk).
 */
export function cifarRecipe(epochs = 200): Recipe {
  const milestones = [60, 120, 160].map((m) => Math.round((m * epochs) / 200));
  return {
    optimizer: { kind: 'sgd', lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 5e-4, decay: 'all' },
    schedule: { kind: 'multistep', milestones, gamma: 0.2, lateByOne: true },
    batchSize: 128,
    epochs,
    labelSmoothing: 0,
  };
}

/**
 * ImageNet ResNet (docs/recipes.md#imagenet-resnet): SGD lr 0.256, momentum 0.875 (no Nesterov), wd 2^-15 without 1-D/bias,
 * label smoothing 0.1, cosine to 0 over 90 epochs stepped per epoch, global batch 256.
 */
export function imagenetRecipe(epochs = 90): Recipe {
  return {
    optimizer: { kind: 'sgd', lr: 0.256, momentum: 0.875, nesterov: false, weightDecay: 2 ** -15, decay: 'matrices' },
    schedule: { kind: 'cosine-epoch', epochs, minFactor: 0 },
    batchSize: 256,
    epochs,
    labelSmoothing: 0.1,
  };
}

/**
 * GPT-3 Small (docs/recipes.md#gpt-3-small-wikitext-103): AdamW β (0.9, 0.95), eps 1e-8, wd 0.1, clip 1.0; lr 6e-4 with linear
 * warm-up (2,151 steps) then cosine to 10 % (6e-5) at 21,511 steps.
 */
export function gptRecipe(totalSteps = 21_511, warmupSteps = 2_151): Recipe {
  return {
    optimizer: { kind: 'adamw', lr: 6e-4, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, decay: 'matrices' },
    schedule: { kind: 'warmup-cosine', warmupSteps, totalSteps, minFactor: 0.1 },
    batchSize: 512,
    epochs: 1,
    labelSmoothing: 0,
    clipNorm: 1.0,
  };
}

/**
 * The trainer settings a recipe and mask schedule fix for one run (a classifier: label smoothing goes to
 * the objective); callers add checkpoints, logs, ….
 */
export function recipeTrainConfig(
  recipe: Recipe,
  mask: Omit<MaskTraining, 'method'>,
  method: SparseMethod,
  seed: number,
): { seed: number; epochs: number; batchSize: number; optimizer: OptimizerRecipe; schedule: LrSchedule; clipNorm?: number; objective: Objective; mask: MaskTraining } {
  return {
    seed,
    epochs: recipe.epochs,
    batchSize: recipe.batchSize,
    optimizer: recipe.optimizer,
    schedule: recipe.schedule,
    clipNorm: recipe.clipNorm,
    objective: classification({ labelSmoothing: recipe.labelSmoothing }),
    mask: { method, frequency: mask.frequency, dropFraction: mask.dropFraction, endFraction: mask.endFraction },
  };
}
