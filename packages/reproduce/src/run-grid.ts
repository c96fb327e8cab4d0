/**
 * What every reproduction does around the trainer: walk its (seed × row) grid reusing runs finished
 * earlier, and measure a trained model's masks.
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { countFlops, modelFlopOps, modelParamCount, sparsityReport, type FlopOp, type MaskedParam } from '@sparse-ift/core';
import type { RunState } from './run-state.js';

/**
 * Seconds the runs still to train will take, estimated from the runs finished in this process: a run
 * takes as long as the same row took for earlier seeds, or else as long as the finished runs took on
 * average (rows differ: Sparse Parallel at s = 0.9 trains 10 branches). Undefined before any run finished.
 */
export function gridSecondsLeft(pending: readonly number[], finished: ReadonlyMap<number, readonly number[]>): number | undefined {
  const all = [...finished.values()].flat();
  if (all.length === 0) return undefined;
  const average = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const overall = average(all);
  return pending.reduce((sum, row) => sum + (finished.has(row) ? average(finished.get(row)!) : overall), 0);
}

/** `< 1 s`, `45 s`, `4.2 min`, `38 min`, `3 h 05 min`: a duration as a person reads it. */
export function formatDuration(seconds: number): string {
  if (seconds < 0.5) return '< 1 s';
  if (seconds < 59.5) return `${Math.round(seconds)} s`;
  const minutes = seconds / 60;
  if (minutes < 9.95) return `${minutes.toFixed(1)} min`;
  if (minutes < 59.5) return `${Math.round(minutes)} min`;
  const whole = Math.round(minutes);
  return `${Math.floor(whole / 60)} h ${String(whole % 60).padStart(2, '0')} min`;
}

/**
 * Trains every (seed, row) of a grid, seeds outermost, and returns the run records in that order. A run
 * whose record `state` holds (a --resume) is reused, not retrained; a new record is stored as soon as
 * its run ends, so an interrupted experiment resumes where it stopped. After each run the log says how
 * many runs are done and left and the time the grid still needs ({@link gridSecondsLeft}); each run's
 * `label` (its progress bar and log lines) carries its place in the grid and that estimate too.
 */
export async function runGrid<Row, RunRecord>(args: {
  rows: readonly Row[];
  /** Seeds 0, 1, …, seeds − 1. */
  seeds: number;
  state: RunState;
  runId(row: Row, seed: number): string;
  /** `label`: `[3/38, grid ≈ 4.2 min left] <id>`, for the trainer's progress bar and log lines. */
  trainOne(row: Row, seed: number, id: string, label: string): Promise<RunRecord>;
  /** The log line's text after `id: ` for a newly trained run. */
  describe(record: RunRecord): string;
  /** What is wrong with a stored record (an edited or foreign file), or undefined when it can be used. */
  check?(record: unknown): string | undefined;
  log(line: string): void;
  /** Seconds on a monotonic clock (default: performance.now()). */
  now?(): number;
}): Promise<RunRecord[]> {
  const now = args.now ?? (() => performance.now() / 1000);
  const runs: RunRecord[] = [];
  const total = args.rows.length * args.seeds;
  // Every run in training order, with its record when it finished earlier (read once, before any training).
  const order = Array.from({ length: total }, (_, i) => {
    const seed = Math.floor(i / args.rows.length);
    const rowIndex = i % args.rows.length;
    const id = args.runId(args.rows[rowIndex]!, seed);
    return { seed, rowIndex, id, earlier: args.state.finished<RunRecord>(id, args.check) };
  });
  /** Seconds each row's runs took in this process, by row index. */
  const took = new Map<number, number[]>();
  const timeLeft = (from: number): string | undefined => {
    const pending = order.slice(from).filter((run) => run.earlier === undefined);
    const seconds = gridSecondsLeft(pending.map((run) => run.rowIndex), took);
    return seconds === undefined ? undefined : formatDuration(seconds);
  };
  for (const [i, { seed, rowIndex, id, earlier }] of order.entries()) {
    const row = args.rows[rowIndex]!;
    if (earlier) {
      runs.push(earlier);
      args.log(`[${runs.length}/${total}] ${id}: already finished, reusing its result`);
      continue;
    }
    const left = timeLeft(i);
    const started = now();
    const record = await args.trainOne(row, seed, id, `[${i + 1}/${total}${left === undefined ? '' : `, grid ≈ ${left} left`}] ${id}`);
    took.set(rowIndex, [...(took.get(rowIndex) ?? []), now() - started]);
    args.state.markFinished(id, record);
    runs.push(record);
    const after = runs.length < total ? `${runs.length} of ${total} done, ${total - runs.length} left, ≈ ${timeLeft(i + 1)} left` : `all ${total} done`;
    args.log(`[${runs.length}/${total}] ${id}: ${args.describe(record)}; ${after}`);
  }
  return runs;
}

/** What the reproductions record about a trained tfjs-layers model besides its accuracy. */
export interface ModelFootprint {
  /** All weights and biases of the instantiated (possibly widened) model, masked or not. */
  params: number;
  /** params less the zeros of the masks. */
  nonzeroParams: number;
  /** Forward FLOPs per sample, official counter at the realised mask densities (docs/flops.md#sparse-flops). */
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
