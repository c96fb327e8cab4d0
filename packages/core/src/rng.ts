/**
 * The project's one seeding scheme (docs/seeding.md): a run seed becomes every random stream through
 * {@link deriveSeed} paths that start with a {@link SEED_STREAMS} entry, and every draw made in
 * JavaScript (masks, SET growth, data order, augmentation) comes from one generator, {@link Rng}.
 * Weights are drawn by tf.js initializers, seeded from the same paths. This file imports no tf.js, so
 * the data loaders and their worker threads use it as `@sparse-ift/core/rng`.
 *
 * Rng is a small seeded generator whose whole state is four 32-bit integers, so a checkpoint can save
 * it and a resumed run draws the same masks and SET growth as an uninterrupted one.
 *
 * The bit source is pure-rand's xoroshiro128+ (a well-kept, dependency-free library; its generators
 * expose `getState()` / `fromState`). xoroshiro128+'s lowest bits are its weakest, so floats are built
 * from the high bits of two draws, as the Mersenne Twister's `genrand_res53` does.
 */
import { xoroshiro128plus, xoroshiro128plusFromState } from 'pure-rand/generator/xoroshiro128plus';
import type { JumpableRandomGenerator } from 'pure-rand/types/JumpableRandomGenerator';

/** Serialisable RNG state (plain JSON). */
export interface RngState {
  algorithm: 'xoroshiro128plus';
  state: number[];
}

/**
 * The first entry of every seed path: which stream a seed is for. Two streams of one run never share
 * a seed, whatever the rest of their paths (docs/seeding.md#streams).
 */
export const SEED_STREAMS = {
  /** Initial weights: (layer index in build order, tensor index in its block, 0 kernel | 1 bias). */
  weights: 1,
  /** Initial masks: (layer index in build order, tensor index in its block). */
  masks: 2,
  /** SET's random growth scores (one stream for the run, saved in checkpoints). */
  maskGrowth: 3,
  /** The sample order of an epoch: (epoch). */
  dataOrder: 4,
  /** Shard order of a sharded dataset: (epoch). */
  shardOrder: 5,
  /** The shuffle buffer of a streamed dataset: (epoch, rank). */
  shuffleBuffer: 6,
  /** Training-time augmentation: (batch or epoch, rank, position). */
  augment: 7,
  /** Dropout masks: the first word of the Philox key (the counter carries step, micro-batch and call). */
  dropout: 8,
} as const;
export type SeedStream = keyof typeof SEED_STREAMS;

/** MurmurHash3's 32-bit finaliser: spreads nearby integers far apart. */
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/**
 * A 32-bit seed for one place: `deriveSeed(runSeed, SEED_STREAMS.weights, layerIndex, tensorIndex)`.
 * Each path gets its own stream (a murmur3-style mix of every entry), and deriving in steps gives the
 * same seed as deriving at once: `deriveSeed(deriveSeed(s, a), b) === deriveSeed(s, a, b)`, so a
 * model can hand a block `deriveSeed(seed, stream, layer)` and the block extend the path.
 */
export function deriveSeed(seed: number, ...path: number[]): number {
  for (const v of [seed, ...path]) {
    if (!Number.isInteger(v)) throw new RangeError(`deriveSeed: seeds and path entries must be integers, got ${v}`);
  }
  const high = Math.floor(seed / 2 ** 32);
  let h = ((seed >>> 0) ^ (high === 0 ? 0 : mix32(high))) >>> 0;
  for (const p of path) h = mix32(mix32(h ^ 0x9e3779b9) ^ mix32(((p >>> 0) + 0x632be5ab) >>> 0));
  return h;
}

/** The weight and mask seeds of one layer (none for an unseeded model). */
export interface LayerSeeds {
  weightSeed?: number;
  maskSeed?: number;
}

/**
 * The seeds of the layer built `layerIndex`-th in a model (docs/seeding.md#weights-and-masks); its
 * block extends them per tensor ({@link tensorSeed}, `deriveSeed(maskSeed, tensorIndex)`).
 */
export function layerSeeds(seed: number | undefined, layerIndex: number): LayerSeeds {
  if (seed === undefined) return {};
  return { weightSeed: deriveSeed(seed, SEED_STREAMS.weights, layerIndex), maskSeed: deriveSeed(seed, SEED_STREAMS.masks, layerIndex) };
}

/** Hands a model builder the seeds of its layers in build order: the L-th `next()` is `layerSeeds(seed, L)`. */
export class BuildSeeds {
  private index = 0;
  constructor(readonly seed: number | undefined) {}
  next(): LayerSeeds {
    return layerSeeds(this.seed, this.index++);
  }
}

/** The seed of a layer's `tensorIndex`-th kernel (part 0) or its bias (part 1); undefined stays undefined. */
export function tensorSeed(weightSeed: number | undefined, tensorIndex: number, part: 0 | 1 = 0): number | undefined {
  return weightSeed === undefined ? undefined : deriveSeed(weightSeed, tensorIndex, part);
}

/** The mask seed of a layer's `tensorIndex`-th kernel; undefined stays undefined. */
export function tensorMaskSeed(maskSeed: number | undefined, tensorIndex: number): number | undefined {
  return maskSeed === undefined ? undefined : deriveSeed(maskSeed, tensorIndex);
}

/** The seeds of part `index` of a layer (a transformer block's j-th linear): both paths extended by `index`. */
export function partSeeds(seeds: LayerSeeds, index: number): LayerSeeds {
  return {
    ...(seeds.weightSeed === undefined ? {} : { weightSeed: deriveSeed(seeds.weightSeed, index) }),
    ...(seeds.maskSeed === undefined ? {} : { maskSeed: deriveSeed(seeds.maskSeed, index) }),
  };
}

/** The generator of one seed path: `rngFor(seed, SEED_STREAMS.dataOrder, epoch)`. */
export function rngFor(seed: number, ...path: number[]): Rng {
  return Rng.fromSeed(deriveSeed(seed, ...path));
}

const TWO_POW_26 = 67108864;
const TWO_POW_53 = 9007199254740992;

export class Rng {
  private generator: JumpableRandomGenerator;

  private constructor(generator: JumpableRandomGenerator) {
    this.generator = generator;
  }

  /** A generator seeded by a 32-bit integer (other numbers are truncated to their low 32 bits). */
  static fromSeed(seed: number): Rng {
    if (!Number.isFinite(seed)) throw new RangeError(`RNG seed must be a finite number, got ${seed}`);
    return new Rng(xoroshiro128plus(seed | 0));
  }

  /** An unseeded generator (seeded from Math.random), for draws a caller chose not to seed. */
  static unseeded(): Rng {
    return Rng.fromSeed(Math.floor(Math.random() * 2 ** 32));
  }

  static fromState(saved: RngState): Rng {
    if (saved?.algorithm !== 'xoroshiro128plus' || !Array.isArray(saved.state) || saved.state.length !== 4) {
      throw new Error(
        `cannot restore RNG state ${JSON.stringify(saved)}: expected {algorithm: 'xoroshiro128plus', state: [4 ints]} from Rng.getState()`,
      );
    }
    return new Rng(xoroshiro128plusFromState(saved.state));
  }

  getState(): RngState {
    return { algorithm: 'xoroshiro128plus', state: [...this.generator.getState()] };
  }

  /** An independent stream: a copy of this generator jumped 2^64 draws ahead (this one is unchanged). */
  split(): Rng {
    const copy = this.generator.clone() as JumpableRandomGenerator;
    copy.jump();
    return new Rng(copy);
  }

  /** Uniform float in [0, 1) with 53 random bits, from the high bits of two 32-bit draws. */
  uniform(): number {
    const high27 = this.generator.next() >>> 5;
    const high26 = this.generator.next() >>> 6;
    return (high27 * TWO_POW_26 + high26) / TWO_POW_53;
  }

  /** Uniform integer in [0, n) as floor(u·n) with a 53-bit u. */
  uniformInt(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > TWO_POW_53) {
      throw new RangeError(`uniformInt(n) needs an integer 1 <= n <= 2^53, got ${n}`);
    }
    // floor(u·n) with a 53-bit u has a bias below n/2^53, negligible for tensor sizes (< 2^31).
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal (Box–Muller, one value per call, no cached spare so the state stays 4 ints). */
  normal(mean = 0, std = 1): number {
    let u = 0;
    while (u === 0) u = this.uniform(); // log(0) guard
    const v = this.uniform();
    return mean + std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** n uniform floats in [0, 1). */
  uniformArray(n: number): Float64Array {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = this.uniform();
    return out;
  }

  /**
   * A 0/1 mask of n elements, each 1 independently with probability `pKeep`: `u < pKeep`, as the
   * official `get_random_mask` does with `uniform_() < 1 − s`.
   */
  bernoulliMask(n: number, pKeep: number): Float32Array {
    if (!(pKeep >= 0 && pKeep <= 1)) throw new RangeError(`keep probability must be in [0, 1], got ${pKeep}`);
    const mask = new Float32Array(n);
    for (let i = 0; i < n; i++) mask[i] = this.uniform() < pKeep ? 1 : 0;
    return mask;
  }

  /** Fisher–Yates shuffle in place; returns the same array. */
  shuffle<T extends { length: number; [i: number]: unknown }>(items: T): T {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.uniformInt(i + 1);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }

  /**
   * k distinct elements of `pool`, uniformly at random among all k-subsets (a partial Fisher–Yates
   * shuffle of the pool's positions, see {@link sampleIndices}; `pool` is untouched). Returned in
   * ascending order of value.
   */
  sampleWithoutReplacement(pool: Int32Array, k: number): Int32Array {
    const positions = this.sampleIndices(pool.length, k);
    const picked = new Int32Array(k);
    for (let i = 0; i < k; i++) picked[i] = pool[positions[i]!]!;
    return picked.sort();
  }

  /**
   * k distinct integers of [0, n), ascending: the positions a partial Fisher–Yates shuffle of n items
   * leaves in its first k slots (for i < k: swap slot i with slot i + uniformInt(n − i)). Only the slots
   * moved are stored, so it takes O(k) time and memory whatever n: the mask updaters draw SET's growth
   * as ranks among the candidates without reading the masks to the host.
   */
  sampleIndices(n: number, k: number): Int32Array {
    if (!Number.isInteger(n) || n < 0 || !Number.isInteger(k) || k < 0 || k > n) {
      throw new RangeError(`cannot sample ${k} of ${n} items without replacement`);
    }
    const out = new Int32Array(k);
    if (n <= 8 * k) {
      // Dense: most slots move anyway.
      const slots = new Int32Array(n);
      for (let i = 0; i < n; i++) slots[i] = i;
      for (let i = 0; i < k; i++) {
        const j = i + this.uniformInt(n - i);
        out[i] = slots[j]!;
        slots[j] = slots[i]!;
      }
    } else {
      const moved = new Map<number, number>(); // slot → the item now in it, for slots whose item moved
      for (let i = 0; i < k; i++) {
        const j = i + this.uniformInt(n - i);
        const atJ = moved.get(j) ?? j;
        if (j !== i) moved.set(j, moved.get(i) ?? i);
        moved.delete(i); // slot i is final
        out[i] = atJ;
      }
    }
    return out.sort();
  }
}
