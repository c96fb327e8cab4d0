/**
 * The pieces of a reproduction's results.md that every experiment shares: statistics over seeds, family
 * labels, paper cells, ours-vs-paper columns, the recipe line and writing result files.
 */
import { join } from 'node:path';
import { writeFileAtomic } from '@sparse-ift/files';
import type { Family, SparseMethod } from '@sparse-ift/core';
import type { OptimizerRecipe } from '@sparse-ift/train';
import type { ExperimentContext } from './experiments.js';
import { nonClobberingPath, portablePaths } from './results-files.js';

export const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Sample standard deviation (n − 1); null for fewer than two values, which have no spread to measure. */
export const sampleStd = (xs: readonly number[]): number | null => {
  if (xs.length < 2) return null;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
};

/** A row's score as tables print it: `85.51 ± 0.52`, or `85.51 ± n/a` for one seed (no spread measured). */
export function scoreText(row: { mean: number; std: number | null }, digits = 2): string {
  return `${row.mean.toFixed(digits)} ± ${row.std === null ? 'n/a' : row.std.toFixed(digits)}`;
}

/** `value − reference` with its sign, e.g. `+0.07` or `-1.20`. */
export function signedDelta(value: number, reference: number, digits = 2): string {
  const delta = value - reference;
  return `${delta >= 0 ? '+' : ''}${delta.toFixed(digits)}`;
}

export const FAMILY_LABEL: Record<Family, string> = {
  dense: 'Dense',
  'sparse-wide': 'Sparse Wide',
  'sparse-parallel': 'Sparse Parallel',
  'sparse-factorized': 'Sparse Factorized',
  'sparse-doped': 'Sparse Doped',
};

export const METHOD_LABEL: Record<SparseMethod, string> = { dense: 'dense', static: 'Static', set: 'SET', rigl: 'RigL' };

/** A number the paper reports, exactly as docs/paper-results.md gives it, or NOT FOUND (never filled from memory). */
export interface PaperCell {
  /** Top-1 %, or null when no source gives the cell (NOT FOUND). */
  value: number | null;
  /** Source tag(s) of docs/sources.md#tags, e.g. '[EP]'; empty when not found. */
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
 * Writes `content` to `<outDir>/<name>` atomically (beside an earlier file unless --force) with this
 * machine's folders made portable ({@link portablePaths}), records the path in `files` under `role` and returns it.
 */
export function writeResultFile(ctx: Pick<ExperimentContext, 'outDir' | 'force'>, files: Record<string, string>, role: string, name: string, content: string): string {
  const path = nonClobberingPath(join(ctx.outDir, name), ctx.force);
  writeFileAtomic(path, portablePaths(content, { outDir: ctx.outDir }));
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

/**
 * The results.md paragraph naming every run whose training loss stayed at chance (ln C) between two
 * evaluations (the trainer marks those evaluations `atChance`), or '' when every run learned. Such a
 * run's score is a guess's: it drags its row's mean down and says nothing about the family.
 */
export function notLearningNote(runs: readonly { id: string; history: readonly { epoch: number; atChance?: boolean }[] }[]): string {
  const stuck = runs.map((r) => ({ id: r.id, epochs: [...new Set(r.history.filter((h) => h.atChance).map((h) => h.epoch + 1))] })).filter((r) => r.epochs.length > 0);
  if (stuck.length === 0) return '';
  const many = stuck.length > 1;
  return [
    `**WARNING: ${stuck.length} run${many ? 's' : ''} did not learn**: the training loss stayed at chance (ln C), so ${many ? 'their scores are' : 'its score is'} a guess's and the row means include ${many ? 'them' : 'it'}. Rerun with an LR warm-up or a lower rate.`,
    '',
    ...stuck.map((r) => `- \`${r.id}\`: epoch${r.epochs.length > 1 ? 's' : ''} ${r.epochs.join(', ')}`),
    '',
  ].join('\n');
}
