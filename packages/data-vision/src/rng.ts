// Seeded randomness. Every random choice in the loaders comes from a generator keyed by
// (seed, epoch, purpose[, index]), so an order or an augmentation is a pure function of those numbers.

/** 32-bit mixing (the finaliser of MurmurHash3); spreads nearby keys far apart. */
function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hashes a list of integers into one 32-bit seed. */
export function hashSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    h = mix32(h ^ mix32((p | 0) + 0x7f4a7c15));
    h = mix32(h + ((p / 0x100000000) | 0)); // high bits of numbers beyond 2^32
  }
  return h;
}

/** mulberry32: a small, fast, well-distributed 32-bit generator. Returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A generator keyed by the given integers, e.g. rngFor(seed, epoch, PURPOSE_SHUFFLE). */
export function rngFor(...parts: number[]): () => number {
  return mulberry32(hashSeed(...parts));
}

/** Integer in [0, n). */
export function randInt(rand: () => number, n: number): number {
  return Math.floor(rand() * n);
}

/** In-place Fisher–Yates shuffle. */
export function shuffleInPlace<T>(items: T[], rand: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randInt(rand, i + 1);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** Purposes, so two uses of the same (seed, epoch) draw independent numbers. */
export const PURPOSE = { shardOrder: 1, shuffleBuffer: 2, augment: 3, permutation: 4 } as const;
