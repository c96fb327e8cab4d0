import { Rng } from './core.js';

/**
 * The sample order of one epoch: a Fisher–Yates permutation that depends only on (seed, epoch), so a
 * resumed run sees exactly the batches an uninterrupted one would, with no RNG state to carry.
 */
export function epochPermutation(count: number, seed: number, epoch: number): Int32Array {
  // Mix (seed, epoch) into one 32-bit seed (murmur3 finaliser), so nearby pairs give unrelated streams.
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(epoch + 0x632be5ab, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  const order = new Int32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  return Rng.fromSeed(h).shuffle(order);
}
