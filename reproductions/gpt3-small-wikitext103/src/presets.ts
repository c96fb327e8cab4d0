/**
 * The GPT-3 Small / WikiText-103 experiment as data (docs/recipes.md#gpt-3-small-wikitext-103, [MZ] configs): presets, rows and the
 * resolved configuration. The optimiser and LR schedule come from `@sparse-ift/train`'s `gptRecipe`.
 */
import type { SparseMethod } from '@sparse-ift/core';
import { GPT3_SMALL, GPT_MINI, GPT_NANO, gptOpList, trainingMemoryPerSequence, type GptConfig } from '@sparse-ift/gpt';
import type { GridRow } from '@sparse-ift/reproduce';
import { fittingMicroBatch, gptRecipe, languageModelling, type DeviceMemoryLike, type MicroBatchChoice, type Recipe, type TrainConfig } from '@sparse-ift/train';

/** The runs of the Cerebras configs [MZ] (docs/recipes.md#gpt-3-small-wikitext-103): dense, Sparse Wide 50 % static, Sparse Wide 75 % RigL. */
export const ROWS: readonly GridRow[] = [
  { family: 'dense', sparsity: 0, method: 'dense' },
  { family: 'sparse-wide', sparsity: 0.5, method: 'static' },
  { family: 'sparse-wide', sparsity: 0.75, method: 'rigl' },
];

export interface GptPreset {
  description: string;
  model: GptConfig;
  /** Tokens per sequence (paper: 1024). */
  context: number;
  /** Sequences per optimiser step (paper: 512). */
  batchSize: number;
  /**
   * Sequences per forward/backward pass; gradients of batchSize / microBatchSize passes are averaged
   * into one optimiser step. Only memory changes, not the maths. Must divide batchSize. 'auto': the
   * largest divisor whose activations fit the device (@sparse-ift/transformer's estimate per sequence,
   * the backend's memory), chosen when each run starts and logged.
   */
  microBatchSize: number | 'auto';
  totalSteps: number;
  warmupSteps: number;
  /** RigL: ΔT and the last update step (exclusive), docs/recipes.md#gpt-3-small-wikitext-103: 500 and 17,209. */
  maskUpdateFrequency: number;
  maskEndStep: number;
  /** Validation sequences of `context` tokens (paper: 231). */
  evalSequences: number;
  evalEvery: number;
  defaultSeeds: number;
}

/** The smoke model: gpt-nano's shape (2 × d 32, 2 heads, context 16) with the GPT-2 vocabulary, so real BPE ids fit. */
export const GPT_NANO_BPE: GptConfig = { ...GPT_NANO, name: 'gpt-nano-bpe', vocabSize: GPT3_SMALL.vocabSize };

export const PRESETS: Record<string, GptPreset> = {
  paper: {
    description: 'the Cerebras recipe (docs/recipes.md#gpt-3-small-wikitext-103): GPT-3 Small, batch 512 × 1024 tokens (micro-batches as large as the device holds: ≈ 8.5 GB of activations per sequence in tf.js), 21,511 steps (warm-up 2,151), RigL ΔT 500 to step 17,209, eval on 231 × 1024 validation tokens; meant for a GPU (--backend webgpu)',
    model: GPT3_SMALL,
    context: 1024,
    batchSize: 512,
    microBatchSize: 'auto',
    totalSteps: 21_511,
    warmupSteps: 2_151,
    maskUpdateFrequency: 500,
    maskEndStep: 17_209,
    evalSequences: 231,
    evalEvery: 2_151,
    defaultSeeds: 1,
  },
  short: {
    description: 'gpt-mini (4 × d 256, context 256), batch 32, 2,000 steps (warm-up 200), RigL ΔT 50 to step 1,600, eval on 64 × 256 validation tokens',
    model: GPT_MINI,
    context: 256,
    batchSize: 32,
    microBatchSize: 32,
    totalSteps: 2_000,
    warmupSteps: 200,
    maskUpdateFrequency: 50,
    maskEndStep: 1_600,
    evalSequences: 64,
    evalEvery: 500,
    defaultSeeds: 1,
  },
  smoke: {
    description: 'CI check (seconds on CPU): 2 × d 32 GPT with the GPT-2 vocabulary, context 16, batch 4 in micro-batches of 2, 4 steps (warm-up 1), RigL ΔT 1 to step 3, eval on 4 sequences',
    model: GPT_NANO_BPE,
    context: 16,
    batchSize: 4,
    microBatchSize: 2,
    totalSteps: 4,
    warmupSteps: 1,
    maskUpdateFrequency: 1,
    maskEndStep: 3,
    evalSequences: 4,
    evalEvery: 2,
    defaultSeeds: 1,
  },
};

export interface GptExperimentConfig {
  preset: string;
  model: GptConfig;
  context: number;
  recipe: Recipe;
  microBatchSize: number | 'auto';
  totalSteps: number;
  /** Dynamic sparsity (docs/recipes.md#gpt-3-small-wikitext-103): ΔT, last update step (exclusive), α₀ with cosine decay; random mask init. */
  mask: { frequency: number; endStep: number; dropFraction: number; init: 'random' };
  evalSequences: number;
  evalEvery: number;
  /** Training blocks are read in order, not shuffled ([MZ] configs). */
  shuffle: false;
  rows: readonly GridRow[];
}

export function resolveConfig(presetName: string): GptExperimentConfig {
  const p = PRESETS[presetName];
  if (!p) throw new Error(`unknown preset '${presetName}' for gpt3-small-wikitext103; valid presets: ${Object.keys(PRESETS).join(', ')}`);
  if (p.microBatchSize !== 'auto' && p.batchSize % p.microBatchSize !== 0) throw new Error(`preset ${presetName}: microBatchSize ${p.microBatchSize} must divide batchSize ${p.batchSize}`);
  const recipe = gptRecipe(p.totalSteps, p.warmupSteps);
  return {
    preset: presetName,
    model: p.model,
    context: p.context,
    recipe: { ...recipe, batchSize: p.batchSize },
    microBatchSize: p.microBatchSize,
    totalSteps: p.totalSteps,
    mask: { frequency: p.maskUpdateFrequency, endStep: p.maskEndStep, dropFraction: 0.3, init: 'random' },
    evalSequences: p.evalSequences,
    evalEvery: p.evalEvery,
    shuffle: false,
    rows: ROWS,
  };
}

/** The trainer's settings for one run: the recipe, micro-batches, RigL's schedule, next-token loss, evaluations. */
export function trainConfig(config: GptExperimentConfig, method: SparseMethod, seed: number, microBatchSize: number): TrainConfig {
  const { recipe, mask } = config;
  return {
    seed,
    steps: config.totalSteps,
    batchSize: recipe.batchSize,
    microBatchSize,
    optimizer: recipe.optimizer,
    schedule: recipe.schedule,
    clipNorm: recipe.clipNorm,
    objective: languageModelling(),
    mask: { method, frequency: mask.frequency, dropFraction: mask.dropFraction, endStep: mask.endStep },
    evalEvery: config.evalEvery,
  };
}

/**
 * The run's micro-batch: the preset's, or with 'auto' the largest divisor of the batch whose activations
 * fit the device (`memory`, the backend's report) beside the model: weights, gradients, AdamW's two
 * moments, masks and RigL's dense-gradient copy, at most six float32 per parameter.
 */
export function resolveMicroBatch(config: GptExperimentConfig, row: GridRow, params: number, memory: DeviceMemoryLike | undefined): MicroBatchChoice {
  const batchSize = config.recipe.batchSize;
  if (config.microBatchSize !== 'auto') return { microBatchSize: config.microBatchSize, why: `micro-batch ${config.microBatchSize} of ${batchSize} (preset)` };
  const ops = gptOpList(config.model, { family: row.family, sparsity: row.sparsity, sequenceLength: config.context }).ops;
  const sequence = trainingMemoryPerSequence(ops, config.context);
  return fittingMicroBatch({
    batchSize,
    perSample: { bytes: sequence.bytesPerSequence, largestTensor: sequence.largestTensorPerSequence },
    fixedBytes: 6 * 4 * params,
    memory: memory ?? { source: 'the backend did not report its memory' },
    fallback: 16,
  });
}
