/**
 * The record of one trained run and the summary of a grid row over seeds, in the one vocabulary every
 * reproduction's results.json uses: `test` (held-out metrics after the last step), `best` (the
 * evaluation with the best score), `history` (every evaluation), the model's footprint.
 */
import type { Family, SparseMethod } from '@sparse-ift/core';
import type { Evaluation, InputThroughput, Metrics, TrainResult } from '@sparse-ift/train';
import { mean, sampleStd } from './results-report.js';
import type { ModelFootprint } from './run-grid.js';

/** One row of a reproduction's grid: a family at a sparsity, trained with a sparse-training method. */
export interface GridRow {
  family: Family;
  sparsity: number;
  method: SparseMethod;
}

/** The held-out metric a reproduction's tables compare, which way is better, and its scale in tables. */
export interface Score {
  metric: string;
  better: 'higher' | 'lower';
  /** Tables and summaries show metric × scale (100: accuracy in %). */
  scale: number;
}

export const TOP1_ACCURACY: Score = { metric: 'accuracy', better: 'higher', scale: 100 };
export const PERPLEXITY: Score = { metric: 'perplexity', better: 'lower', scale: 1 };

/** One trained run: its grid row, seed, metrics and footprint. */
export type RunRecord<Row extends GridRow = GridRow> = Row &
  ModelFootprint & {
    id: string;
    seed: number;
    /** Sparsity the masks were drawn at (Sparse Wide: solved for the FLOP budget, docs/sparse-ift.md); s otherwise. */
    maskSparsity: number;
    /** Held-out metrics after the last step: the tables' numbers. */
    test: Metrics;
    /** The evaluation with the best score (the official CIFAR code prints the best epoch too). */
    best: Evaluation;
    history: Evaluation[];
    steps: number;
    wallSeconds: number;
    /** The training loop's data intake (samples/s, waiting for data); absent in records written before it. */
    input?: InputThroughput;
    backend: string;
    /** The folder the trained model was exported to (model.json + weights.bin), relative to the --out folder. */
    exportDir?: string;
  };

/** A finished run's record; `result` must be of a run that was not stopped early. */
export function runRecord<Row extends GridRow>(args: {
  id: string;
  row: Row;
  seed: number;
  maskSparsity: number;
  result: TrainResult;
  footprint: ModelFootprint;
  score: Score;
  backend: string;
}): RunRecord<Row> {
  const { result, score } = args;
  if (!result.test || result.history.length === 0) throw new Error(`run ${args.id} stopped before its last step; it has no final metrics`);
  const value = (e: Evaluation): number => e.test[score.metric] ?? NaN;
  const best = result.history.reduce((b, e) => ((score.better === 'higher' ? value(e) > value(b) : value(e) < value(b)) ? e : b));
  return {
    id: args.id,
    ...args.row,
    maskSparsity: args.maskSparsity,
    seed: args.seed,
    test: result.test,
    best,
    history: result.history,
    ...args.footprint,
    steps: result.steps,
    wallSeconds: result.wallSeconds,
    input: result.input,
    backend: args.backend,
  };
}

/** A grid row over its seeds: the score's mean and spread (× its scale), and the mean footprint. */
export type RowSummary<Row extends GridRow = GridRow> = Row &
  ModelFootprint & {
    seeds: number;
    /** Mean mask sparsity over the seeds. */
    maskSparsity: number;
    /** The score after the last step: mean and sample standard deviation (n − 1; null for one seed). */
    mean: number;
    std: number | null;
    /** The best evaluation's score, mean over seeds. */
    bestMean: number;
    wallSecondsMean: number;
  };

/** `row`'s summary over `runs` (its runs, one per seed). */
export function summariseRow<Row extends GridRow>(row: Row, runs: readonly RunRecord<Row>[], score: Score): RowSummary<Row> {
  const scores = runs.map((r) => r.test[score.metric] ?? NaN);
  const std = sampleStd(scores);
  return {
    ...row,
    seeds: runs.length,
    maskSparsity: mean(runs.map((r) => r.maskSparsity)),
    mean: score.scale * mean(scores),
    std: std === null ? null : score.scale * std,
    bestMean: score.scale * mean(runs.map((r) => r.best.test[score.metric] ?? NaN)),
    params: runs[0]!.params,
    nonzeroParams: Math.round(mean(runs.map((r) => r.nonzeroParams))),
    sparseFlops: Math.round(mean(runs.map((r) => r.sparseFlops))),
    flopRatio: mean(runs.map((r) => r.flopRatio)),
    realisedDensity: mean(runs.map((r) => r.realisedDensity)),
    wallSecondsMean: mean(runs.map((r) => r.wallSeconds)),
  };
}

/** What is wrong with a stored run record (a hand-edited or truncated file), or undefined when it is whole. */
export function runRecordProblem(record: unknown): string | undefined {
  if (typeof record !== 'object' || record === null) return 'it holds no record';
  const r = record as Partial<Record<keyof RunRecord, unknown>>;
  const missing = [
    typeof r.id === 'string' ? '' : 'id',
    typeof r.test === 'object' && r.test !== null ? '' : 'test',
    typeof r.best === 'object' && r.best !== null ? '' : 'best',
    Array.isArray(r.history) ? '' : 'history',
    ...(['seed', 'sparsity', 'maskSparsity', 'params', 'nonzeroParams', 'sparseFlops', 'flopRatio', 'realisedDensity', 'steps', 'wallSeconds'] as const).map((k) => (typeof r[k] === 'number' ? '' : k)),
  ].filter(Boolean);
  return missing.length > 0 ? `its record lacks ${missing.join(', ')}` : undefined;
}
