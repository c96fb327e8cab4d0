/**
 * What the paper reports for the CIFAR-100 ResNet-18 tables, exactly as docs/paper-results.md
 * (#cifar-100, #cifar-100-methods) gives it: a number with its source tag, or NOT FOUND. Never fill a cell
 * from memory.
 */
import type { Family, SparseMethod } from '@sparse-ift/core';
import { PAPER_NOT_FOUND as NOT_FOUND, type PaperCell } from '@sparse-ift/reproduce';

export type { PaperCell };

/** docs/paper-results.md#cifar-100: family × sparsity with RigL (dense has one value, listed at every s). */
export function paperFamilyCell(family: Family, sparsity: number): PaperCell {
  if (family === 'dense') return { value: 77.0, source: '[EP]' };
  if (family === 'sparse-wide' && sparsity === 0.9) return { value: 80.1, source: '[EP]' };
  return NOT_FOUND;
}

/** docs/paper-results.md#cifar-100-methods: Sparse Wide by sparse-training method (only RigL at 90 % is given). */
export function paperMethodCell(method: SparseMethod, sparsity: number): PaperCell {
  if (method === 'rigl' && sparsity === 0.9) return { value: 80.1, source: '[EP]' };
  return NOT_FOUND;
}

/** Notes printed under the tables (docs/paper-results.md, docs/deviations.md#reported-metric). */
export const PAPER_NOTES = [
  'Paper numbers come from secondary sources only (tags: docs/sources.md; cells: docs/paper-results.md): [EP] is an AI-generated note on the ICML PDF. Cells no source gives stay NOT FOUND.',
  '[EP] also gives GraNet 90 % = 80.0 (not run here), and says Sparse Doped gains little at high sparsity and that DST methods (SET, RigL) beat static.',
  'Which accuracy the paper reports (last or best epoch) is unverified (docs/deviations.md#reported-metric). Our tables show the last-epoch accuracy; the best epoch is in brackets and in results.json.',
];
