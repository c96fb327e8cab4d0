// Seeded uniform [0, 1) streams for tests (core's own Rng), so failures reproduce.
import { Rng } from '../../src/rng.js';

export function rng(seed: number): () => number {
  const generator = Rng.fromSeed(seed);
  return () => generator.uniform();
}

export const randInt = (r: () => number, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
