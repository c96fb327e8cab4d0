// Fixed-length blocks for next-token prediction, and a batch iterator over them.
import type { TokenIds } from './tokenize.js';
import { SEED_STREAMS, rngFor } from '@sparse-ift/core/rng';

/**
 * How consecutive blocks sit in the token stream. A block is `context + 1` ids: inputs are its first
 * `context`, targets its last `context` (shifted by one).
 * - `shared` (default): block i starts at i·context, so the last id of one block is the first of the next and
 *   every id after the first is a target exactly once. This is what Cerebras' modelzoo `LMDataTokenGenerator`
 *   writes (chunks `ids[i : i + msl + 1]` for i in steps of msl, EOS after each document) and nanoGPT samples.
 * - `disjoint`: block i starts at i·(context + 1): chunks that share no id; one id per block is never a target.
 * The tail that does not fill a block is dropped.
 */
export type BlockLayout = 'shared' | 'disjoint';

export class TokenBlocks {
  readonly tokens: TokenIds;
  readonly context: number;
  readonly layout: BlockLayout;
  readonly length: number;
  private readonly step: number;

  constructor(tokens: TokenIds, context: number, layout: BlockLayout = 'shared') {
    if (!Number.isInteger(context) || context < 1) throw new Error(`context must be a positive integer, got ${context}`);
    this.tokens = tokens;
    this.context = context;
    this.layout = layout;
    this.step = layout === 'shared' ? context : context + 1;
    this.length = tokens.length < context + 1 ? 0 : Math.floor((tokens.length - (context + 1)) / this.step) + 1;
  }

  /** Index in `tokens` of block i's first id. */
  start(i: number): number {
    if (!Number.isInteger(i) || i < 0 || i >= this.length) throw new RangeError(`block ${i} out of range [0, ${this.length})`);
    return i * this.step;
  }

  /** Block i's inputs, written into `out` (length ≥ context) at `offset`. */
  inputs(i: number, out: Int32Array = new Int32Array(this.context), offset = 0): Int32Array {
    const s = this.start(i);
    out.set(this.tokens.subarray(s, s + this.context), offset);
    return out;
  }

  /** Block i's targets: the inputs shifted by one. */
  targets(i: number, out: Int32Array = new Int32Array(this.context), offset = 0): Int32Array {
    const s = this.start(i) + 1;
    out.set(this.tokens.subarray(s, s + this.context), offset);
    return out;
  }
}

export interface OrderOptions {
  /** Shuffle blocks (Fisher–Yates from core's data-order stream of (seed, epoch): docs/seeding.md). Default false: in order, as the Cerebras configs train. */
  shuffle?: boolean;
  seed?: number;
  epoch?: number;
  /** This process's share: positions index, index + count, … of the epoch's order. */
  shard?: { index: number; count: number };
}

/** The block indices one epoch visits, in order, for this shard. */
export function blockOrder(numBlocks: number, options: OrderOptions = {}): Uint32Array {
  const { shuffle = false, seed = 0, epoch = 0, shard = { index: 0, count: 1 } } = options;
  if (!Number.isInteger(shard.count) || shard.count < 1 || !Number.isInteger(shard.index) || shard.index < 0 || shard.index >= shard.count) {
    throw new Error(`shard must have 0 <= index < count, got index ${shard.index}, count ${shard.count}`);
  }
  const order = new Uint32Array(numBlocks);
  for (let i = 0; i < numBlocks; i++) order[i] = i;
  if (shuffle) rngFor(seed, SEED_STREAMS.dataOrder, epoch).shuffle(order);
  if (shard.count === 1) return order;
  const mine = new Uint32Array(Math.ceil((numBlocks - shard.index) / shard.count));
  for (let k = 0, p = shard.index; p < numBlocks; k++, p += shard.count) mine[k] = order[p]!;
  return mine;
}

export interface LmBatch {
  /** [batchSize, context], row-major. */
  inputs: Int32Array;
  /** [batchSize, context], row-major: inputs shifted by one. */
  targets: Int32Array;
  batchSize: number;
  context: number;
  /** Which blocks the rows are. */
  blocks: Uint32Array;
}

export interface BatchOptions extends OrderOptions {
  batchSize: number;
  /** Drop a last, smaller batch (default true: every step sees the same shape). */
  dropLast?: boolean;
}

/** One epoch of batches, made as they are asked for. */
export function* lmBatches(blocks: TokenBlocks, options: BatchOptions): Generator<LmBatch> {
  const { batchSize, dropLast = true } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batchSize must be a positive integer, got ${batchSize}`);
  const order = blockOrder(blocks.length, options);
  const { context } = blocks;
  for (let first = 0; first < order.length; first += batchSize) {
    const rows = Math.min(batchSize, order.length - first);
    if (rows < batchSize && dropLast) return;
    const inputs = new Int32Array(rows * context);
    const targets = new Int32Array(rows * context);
    const ids = order.slice(first, first + rows);
    for (let r = 0; r < rows; r++) {
      blocks.inputs(ids[r]!, inputs, r * context);
      blocks.targets(ids[r]!, targets, r * context);
    }
    yield { inputs, targets, batchSize: rows, context, blocks: ids };
  }
}
