/**
 * What every reproduction does around the trainer: walk its (seed × row) grid reusing runs finished
 * earlier, turn a recipe into trainer options, and measure a trained model's masks.
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { countFlops, modelFlopOps, modelParamCount, type MaskedParam } from '@sparse-ift/core';
import type { MaskMethod, Recipe, TrainConfig } from '@sparse-ift/train';
import type { RunState } from './run-state.js';

/**
 * Trains every (seed, row) of a grid, seeds outermost, and returns the run records in that order. A run
 * whose record `state` holds (a --resume) is reused, not retrained; a new record is stored as soon as
 * its run ends, so an interrupted experiment resumes where it stopped.
 */
export async function runGrid<Row, RunRecord>(args: {
  rows: readonly Row[];
  /** Seeds 0, 1, …, seeds − 1. */
  seeds: number;
  state: RunState;
  runId(row: Row, seed: number): string;
  trainOne(row: Row, seed: number, id: string): Promise<RunRecord>;
  /** The log line's text after `id: ` for a newly trained run. */
  describe(record: RunRecord): string;
  log(line: string): void;
}): Promise<RunRecord[]> {
  const runs: RunRecord[] = [];
  const total = args.rows.length * args.seeds;
  for (let seed = 0; seed < args.seeds; seed++) {
    for (const row of args.rows) {
      const id = args.runId(row, seed);
      const earlier = args.state.finished<RunRecord>(id);
      if (earlier) {
        runs.push(earlier);
        args.log(`[${runs.length}/${total}] ${id}: already finished, reusing its result`);
        continue;
      }
      const record = await args.trainOne(row, seed, id);
      args.state.markFinished(id, record);
      runs.push(record);
      args.log(`[${runs.length}/${total}] ${id}: ${args.describe(record)}`);
    }
  }
  return runs;
}

/** The dynamic sparse schedule a reproduction's config carries (spec §3.6). */
export interface MaskSchedule {
  frequency: number;
  dropFraction: number;
  endFraction: number;
}

/** The trainer options a recipe and mask schedule fix for one run; callers add checkpoints, logs, …. */
export function recipeTrainConfig(
  recipe: Recipe,
  mask: MaskSchedule,
  method: MaskMethod,
  seed: number,
): Pick<TrainConfig, 'seed' | 'epochs' | 'batchSize' | 'optimizer' | 'schedule' | 'labelSmoothing' | 'mask'> {
  return {
    seed,
    epochs: recipe.epochs,
    batchSize: recipe.batchSize,
    optimizer: recipe.optimizer,
    schedule: recipe.schedule,
    labelSmoothing: recipe.labelSmoothing,
    mask: { method, frequency: mask.frequency, dropFraction: mask.dropFraction, endFraction: mask.endFraction },
  };
}

/** Ones and elements over all masks, and their ratio (1 for a model without masks). */
export function maskCounts(maskedParams: readonly MaskedParam[]): { ones: number; size: number; density: number } {
  let ones = 0;
  let size = 0;
  for (const mp of maskedParams) {
    for (const v of mp.mask.dataSync() as Float32Array) ones += v;
    size += mp.mask.size;
  }
  return { ones, size, density: size > 0 ? ones / size : 1 };
}

/** Index of the highest accuracy (the first on ties; 0 for an empty list). */
export function bestIndex(accuracies: readonly number[]): number {
  return accuracies.reduce((b, a, i) => (a > accuracies[b]! ? i : b), 0);
}

/** What the reproductions record about a trained tfjs-layers model besides its accuracy. */
export interface ModelFootprint {
  /** All weights and biases of the instantiated (possibly widened) model, masked or not. */
  params: number;
  /** params less the zeros of the masks. */
  nonzeroParams: number;
  /** Forward FLOPs per sample, official counter (spec §3.10), at the realised mask densities. */
  sparseFlops: number;
  /** sparseFlops ÷ the dense model's FLOPs: 1.0 is iso-FLOP. */
  flopRatio: number;
  realisedDensity: number;
}

/** `model`'s footprint with masks `maskedParams`; `denseFlops` is the iso-FLOP budget. */
export function modelFootprint(model: LayersModel, maskedParams: readonly MaskedParam[], denseFlops: number): ModelFootprint {
  const flops = countFlops(modelFlopOps(model), 'official');
  const { ones, size, density } = maskCounts(maskedParams);
  const params = modelParamCount(model);
  return { params, nonzeroParams: params - (size - ones), sparseFlops: flops.sparse, flopRatio: flops.sparse / denseFlops, realisedDensity: density };
}
