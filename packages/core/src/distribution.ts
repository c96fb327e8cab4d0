/**
 * Per-tensor sparsities from one global target (docs/sparse-training.md#distribution). Only masked tensors take part: the stem,
 * head, norms and biases are outside the budget, as in the official `erdos_renyi_distribution`.
 *
 * Shapes use the tf.js layout: a Dense kernel is [in, out], a Conv2D kernel [kh, kw, in, out]. ERK only
 * needs the sum and product of all dims (layout-free); ER uses (in, out) = the last two dims, which is
 * what the official code's first two dims of a PyTorch [out, in, kh, kw] weight are.
 */
import { assertSparsity } from './isoflop.js';
import type { MaskedParam } from './masked-param.js';

export const SPARSITY_DISTRIBUTIONS = ['uniform', 'er', 'erk'] as const;
export type SparsityDistribution = (typeof SPARSITY_DISTRIBUTIONS)[number];

export interface DistributionOptions {
  /** ERK raw score is (Σdims / numel)^power (official `erk_power_scale`, default 1). */
  erkPowerScale?: number;
}

export function isSparsityDistribution(name: string): name is SparsityDistribution {
  return (SPARSITY_DISTRIBUTIONS as readonly string[]).includes(name);
}

function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** ERK / ER raw density score of one tensor before the global ε scale. */
function rawScore(shape: readonly number[], distribution: 'er' | 'erk', power: number): number {
  const n = numel(shape);
  if (distribution === 'erk') return (shape.reduce((a, b) => a + b, 0) / n) ** power;
  if (shape.length < 2) {
    throw new RangeError(`ER needs tensors with >= 2 dims (in, out); got shape [${shape.join(', ')}]`);
  }
  const nIn = shape[shape.length - 2];
  const nOut = shape[shape.length - 1];
  return (nIn + nOut) / (nIn * nOut);
}

/**
 * Sparsity of each tensor (same order as `shapes`) so that the masked tensors together hold
 * (1 − s)·Σ numel ones.
 *
 * ER/ERK: density_i = ε·raw_i, with ε solving ε·Σ_{free} raw_i·N_i = (1−s)·Σ_{free} N_i − s·Σ_{dense} N_i.
 * While ε·max(raw) > 1, every free tensor whose raw score equals that maximum becomes dense (sparsity 0)
 * and ε is solved again. Arithmetic follows the official order so results match to the last bit.
 */
export function distributeSparsity(
  shapes: readonly (readonly number[])[],
  sparsity: number,
  distribution: SparsityDistribution,
  options: DistributionOptions = {},
): number[] {
  assertSparsity(sparsity, 'global target sparsity');
  for (const shape of shapes) {
    if (shape.length === 0 || shape.some((d) => !Number.isInteger(d) || d <= 0)) {
      throw new RangeError(`every masked tensor needs a shape of positive integers, got [${shape.join(', ')}]`);
    }
  }
  if (distribution === 'uniform') return shapes.map(() => sparsity);
  if (distribution !== 'er' && distribution !== 'erk') {
    throw new RangeError(`unknown sparsity distribution '${distribution as string}'; use one of ${SPARSITY_DISTRIBUTIONS.join(', ')}`);
  }
  const power = options.erkPowerScale ?? 1;
  const density = 1 - sparsity;
  const raw = shapes.map((shape) => rawScore(shape, distribution, power));
  const dense = new Set<number>();

  for (;;) {
    let divisor = 0;
    let rhs = 0;
    let maxRaw = -Infinity;
    shapes.forEach((shape, i) => {
      const n = numel(shape);
      if (dense.has(i)) {
        rhs -= n * sparsity;
      } else {
        rhs += n * density;
        divisor += raw[i] * n;
        maxRaw = Math.max(maxRaw, raw[i]);
      }
    });
    if (dense.size === shapes.length || divisor === 0) {
      throw new RangeError(
        `${distribution} could not place sparsity ${sparsity}: every tensor became dense; lower the sparsity or use 'uniform'`,
      );
    }
    const epsilon = rhs / divisor;
    if (epsilon <= 0) {
      throw new RangeError(
        `${distribution} at sparsity ${sparsity}: the dense tensors alone exceed the parameter budget; lower the sparsity`,
      );
    }
    if (maxRaw * epsilon > 1) {
      raw.forEach((r, i) => {
        if (!dense.has(i) && r === maxRaw) dense.add(i);
      });
      continue;
    }
    return raw.map((r, i) => (dense.has(i) ? 0 : 1 - epsilon * r));
  }
}

/**
 * Copies of `params` with their target sparsity set by a distribution (the layers own the originals;
 * whoever builds the training set-up keeps the returned list).
 */
export function withDistributedSparsity(
  params: readonly MaskedParam[],
  sparsity: number,
  distribution: SparsityDistribution,
  options: DistributionOptions = {},
): MaskedParam[] {
  const sparsities = distributeSparsity(
    params.map((p) => p.weight.shape),
    sparsity,
    distribution,
    options,
  );
  return params.map((p, i) => ({ ...p, sparsity: sparsities[i] }));
}
