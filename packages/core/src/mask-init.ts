/**
 * Initial masks (docs/sparse-training.md#mask-init). Weights are initialised densely by their layer, then multiplied by the
 * mask; the init is not rescaled for sparsity (as in the official code).
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertSparsity } from './isoflop.js';
import type { MaskedParam } from './masked-param.js';
import type { Rng } from './rng.js';
import { topKIndices } from './updaters.js';

export const MASK_INIT_METHODS = ['random', 'topk', 'dense'] as const;
export type MaskInitMethod = (typeof MASK_INIT_METHODS)[number];

/**
 * 0/1 mask values for one tensor.
 * - `random`: each element kept independently with probability 1 − s (Bernoulli), so the count of
 *   ones is only about (1 − s)·numel; RigL/SET make it exact at their first update.
 * - `topk`: keep the numel − int(s·numel) largest |w| (ties: lower flat index first).
 * - `dense`: all ones.
 */
export function initialMaskValues(
  weight: ArrayLike<number>,
  sparsity: number,
  method: MaskInitMethod,
  rng?: Rng,
): Float32Array {
  assertSparsity(sparsity, 'mask sparsity');
  const n = weight.length;
  switch (method) {
    case 'dense':
      return new Float32Array(n).fill(1);
    case 'random':
      if (!rng) throw new Error("mask init 'random' needs an Rng: pass { rng: rngFor(seed, SEED_STREAMS.masks) } (docs/seeding.md)");
      return rng.bernoulliMask(n, 1 - sparsity);
    case 'topk': {
      const nKeep = n - Math.trunc(sparsity * n);
      const all = new Int32Array(n);
      for (let i = 0; i < n; i++) all[i] = i;
      const magnitude = new Float64Array(n);
      for (let i = 0; i < n; i++) magnitude[i] = Math.abs(weight[i]);
      const mask = new Float32Array(n);
      for (const i of topKIndices(magnitude, all, nKeep)) mask[i] = 1;
      return mask;
    }
    default:
      throw new RangeError(`unknown mask init '${method as string}'; use one of ${MASK_INIT_METHODS.join(', ')}`);
  }
}

/** What `initMasks` did: the params whose masks it drew, and those whose masks it found drawn already. */
export interface MaskInitReport {
  drawn: string[];
  kept: string[];
}

/**
 * Gives every masked weight exactly one initial mask, so that weight = dense init ⊙ mask, as the official
 * code does (it initialises densely, then multiplies by the mask: CerebrasResearch/Sparse-IFT
 * ComputerVision/CIFAR/main.py; docs/sparse-ift.md).
 * - A param whose mask is all ones has no mask yet (a hand-written model, or s = 0): its mask is drawn
 *   here at its own target sparsity (`param.sparsity`) and its weight multiplied by it. Params are
 *   processed in order, so one seed gives one set of masks.
 * - A param whose mask already holds zeros was masked when it was made (core's sparse layers draw their
 *   Bernoulli mask and multiply the kernel by it when built): that mask is kept, never multiplied by a
 *   second one. Its weight is multiplied by it once more, which changes nothing for a layer's weight
 *   (0/1 masks are idempotent) and masks a weight given unmasked beside its mask.
 * To give a built layer another mask, use its `resetMask`, which redraws the dense init too.
 */
export function initMasks(params: readonly MaskedParam[], options: { method: MaskInitMethod; rng?: Rng }): MaskInitReport {
  const report: MaskInitReport = { drawn: [], kept: [] };
  for (const param of params) {
    assertSameShape(param);
    const current = param.mask.dataSync();
    let allOnes = true;
    for (let i = 0; i < current.length; i++) {
      const v = current[i]!;
      if (v !== 1) {
        if (v !== 0) throw new Error(`masked param '${param.name}': its mask holds ${v} at index ${i}; masks hold only 0 and 1`);
        allOnes = false;
      }
    }
    if (!allOnes) {
      report.kept.push(param.name);
      tf.tidy(() => param.weight.assign(tf.mul(param.weight, param.mask)));
      continue;
    }
    report.drawn.push(param.name);
    const values = initialMaskValues(param.weight.dataSync(), param.sparsity, options.method, options.rng);
    tf.tidy(() => {
      const mask = tf.tensor(values, param.mask.shape, param.mask.dtype);
      param.mask.assign(mask);
      param.weight.assign(tf.mul(param.weight, mask));
    });
  }
  return report;
}

function assertSameShape(param: MaskedParam): void {
  const w = param.weight.shape.join(',');
  const m = param.mask.shape.join(',');
  if (w !== m) {
    throw new Error(`masked param '${param.name}': weight shape [${w}] differs from mask shape [${m}]; rebuild the mask`);
  }
}
