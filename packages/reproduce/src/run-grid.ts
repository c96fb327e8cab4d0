/**
 * What every reproduction does around the trainer: walk its (seed × row) grid reusing runs finished
 * earlier, and measure a trained model's masks.
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { countFlops, modelFlopOps, modelParamCount, sparsityReport, type FlopOp, type MaskedParam } from '@sparse-ift/core';
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
  /** What is wrong with a stored record (an edited or foreign file), or undefined when it can be used. */
  check?(record: unknown): string | undefined;
  log(line: string): void;
}): Promise<RunRecord[]> {
  const runs: RunRecord[] = [];
  const total = args.rows.length * args.seeds;
  for (let seed = 0; seed < args.seeds; seed++) {
    for (const row of args.rows) {
      const id = args.runId(row, seed);
      const earlier = args.state.finished<RunRecord>(id, args.check);
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

/** A model's footprint from its forward ops and parameter count, with masks `maskedParams`; `denseFlops` is the iso-FLOP budget. */
export function footprint(ops: readonly FlopOp[], params: number, maskedParams: readonly MaskedParam[], denseFlops: number): ModelFootprint {
  const flops = countFlops(ops, 'official');
  const masks = sparsityReport(maskedParams); // core's one mask counter
  return {
    params,
    nonzeroParams: params - (masks.numel - masks.nonzeros),
    sparseFlops: flops.sparse,
    flopRatio: flops.sparse / denseFlops,
    realisedDensity: 1 - masks.realisedSparsity,
  };
}

/** A tfjs-layers model's footprint (core reads its ops and parameters). */
export function modelFootprint(model: LayersModel, maskedParams: readonly MaskedParam[], denseFlops: number): ModelFootprint {
  return footprint(modelFlopOps(model), modelParamCount(model), maskedParams, denseFlops);
}
