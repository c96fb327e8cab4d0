import { SEED_STREAMS, rngFor } from './core.js';

/**
 * The sample order of one epoch: a Fisher–Yates permutation from core's data-order stream of
 * (seed, epoch) (docs/seeding.md#data-order), so a resumed run sees exactly the batches an
 * uninterrupted one would, with no RNG state to carry.
 */
export function epochPermutation(count: number, seed: number, epoch: number): Int32Array {
  const order = new Int32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  return rngFor(seed, SEED_STREAMS.dataOrder, epoch).shuffle(order);
}
