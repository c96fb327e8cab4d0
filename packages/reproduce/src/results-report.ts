/**
 * The pieces of a reproduction's results.md that every experiment shares: statistics over seeds,
 * grouping runs into table rows, family labels, paper cells, the recipe line and writing result files.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Family } from '@sparse-ift/core';
import type { MaskMethod, OptimizerRecipe } from '@sparse-ift/train';
import type { ExperimentContext } from './experiments.js';
import { nonClobberingPath } from './results-files.js';
import type { ModelFootprint } from './run-grid.js';

export const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Sample standard deviation (n − 1); 0 for one seed. */
export const sampleStd = (xs: readonly number[]): number => {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
};

/** What identifies a table row: the runs of one (family, sparsity, method) over seeds. */
export interface RowKey {
  family: Family;
  sparsity: number;
  method: MaskMethod;
}

/** Runs grouped by (family, sparsity, method), groups in order of their first run. */
export function groupByRow<R extends RowKey>(runs: readonly R[]): R[][] {
  const groups = new Map<string, R[]>();
  for (const r of runs) {
    const key = `${r.family}|${r.sparsity}|${r.method}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()];
}

/** A group's row header: its (family, sparsity, method), the seeds it holds and their mean mask sparsity. */
export function rowHeader(rs: readonly (RowKey & { maskSparsity: number })[]): RowKey & { maskSparsity: number; seeds: number } {
  const first = rs[0]!;
  return { family: first.family, sparsity: first.sparsity, method: first.method, maskSparsity: mean(rs.map((r) => r.maskSparsity)), seeds: rs.length };
}

export const FAMILY_LABEL: Record<Family, string> = {
  dense: 'Dense',
  'sparse-wide': 'Sparse Wide',
  'sparse-parallel': 'Sparse Parallel',
  'sparse-factorized': 'Sparse Factorized',
  'sparse-doped': 'Sparse Doped',
};

/** A number the paper reports, exactly as the spec gives it, or NOT FOUND (never filled from memory). */
export interface PaperCell {
  /** Top-1 %, or null when the spec marks the cell NOT FOUND. */
  value: number | null;
  /** Source tag(s) from spec §0, e.g. '[EP]'; empty when not found. */
  source: string;
}

export const PAPER_NOT_FOUND: PaperCell = { value: null, source: '' };

export function paperCellText(cell: PaperCell): string {
  return cell.value === null ? 'NOT FOUND' : `${cell.value.toFixed(1)} ${cell.source}`;
}

/** e.g. `SGD lr 0.1, momentum 0.9 Nesterov, weight decay 0.0005 (all)`. */
export function sgdRecipeText(opt: OptimizerRecipe): string {
  return `${opt.kind.toUpperCase()} lr ${opt.lr}${opt.kind === 'sgd' ? `, momentum ${opt.momentum}${opt.nesterov ? ' Nesterov' : ''}` : ''}, weight decay ${opt.weightDecay} (${opt.decay})`;
}

/**
 * Writes `content` to `<outDir>/<name>` (beside an earlier file unless --force), records the path in
 * `files` under `role` and returns it.
 */
export function writeResultFile(ctx: Pick<ExperimentContext, 'outDir' | 'force'>, files: Record<string, string>, role: string, name: string, content: string): string {
  const path = nonClobberingPath(join(ctx.outDir, name), ctx.force);
  writeFileSync(path, content);
  files[role] = path;
  return path;
}

/** One "ours | paper" column pair per sparsity (`SW 50% ours | SW 50% paper` with prefix 'SW '): header cells and rule. */
export function oursPaperColumns(sparsities: readonly number[], prefix = ''): { head: string; rule: string } {
  return {
    head: sparsities.map((s) => `${prefix}${s * 100}% ours | ${prefix}${s * 100}% paper`).join(' | '),
    rule: sparsities.map(() => '---|---').join('|'),
  };
}

/** A table row's footprint over its seeds: params of the first run (the same for every seed), means of the rest. */
export function meanFootprint(rs: readonly (ModelFootprint & { wallSeconds: number })[]): ModelFootprint & { wallSecondsMean: number } {
  return {
    params: rs[0]!.params,
    nonzeroParams: Math.round(mean(rs.map((r) => r.nonzeroParams))),
    sparseFlops: Math.round(mean(rs.map((r) => r.sparseFlops))),
    flopRatio: mean(rs.map((r) => r.flopRatio)),
    realisedDensity: mean(rs.map((r) => r.realisedDensity)),
    wallSecondsMean: mean(rs.map((r) => r.wallSeconds)),
  };
}
