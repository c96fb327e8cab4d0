/**
 * Initial masks (spec §3.3). Weights are initialised densely by their layer, then multiplied by the
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

/**
 * Draw each param's mask at its own target sparsity (`param.sparsity`), write it into `param.mask`
 * and zero the masked weights. Params are processed in order, so one seed gives one set of masks.
 */
export function initMasks(params: readonly MaskedParam[], options: { method: MaskInitMethod; rng?: Rng }): void {
  for (const param of params) {
    assertSameShape(param);
    const values = initialMaskValues(param.weight.dataSync(), param.sparsity, options.method, options.rng);
    tf.tidy(() => {
      const mask = tf.tensor(values, param.mask.shape, param.mask.dtype);
      param.mask.assign(mask);
      param.weight.assign(tf.mul(param.weight, mask));
    });
  }
}

function assertSameShape(param: MaskedParam): void {
  const w = param.weight.shape.join(',');
  const m = param.mask.shape.join(',');
  if (w !== m) {
    throw new Error(`masked param '${param.name}': weight shape [${w}] differs from mask shape [${m}]; rebuild the mask`);
  }
}
