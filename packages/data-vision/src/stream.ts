// The order of an epoch: shard order, process sharding, interleave, shuffle buffer — all fixed by (seed, epoch).
import { DataError } from './errors.js';
import { SEED_STREAMS, rngFor, type Rng } from '@sparse-ift/core/rng';
import { listImageFolder, readFolderSample, readShard, type EncodedSample, type ShardFormat, type ShardReadOptions } from './sources.js';

export interface StreamOptions {
  seed?: number;
  epoch?: number;
  /** Shuffle shard order and samples (train). Default true. */
  shuffle?: boolean;
  /** Samples held in the shuffle buffer. Default 2048. */
  shuffleBuffer?: number;
  /** Shards read at once, round-robin one sample each (tf.data interleave, block length 1). Default 4. */
  cycleLength?: number;
  /** This process's index and the number of processes. Default 0 of 1. */
  rank?: number;
  worldSize?: number;
  /**
   * How samples are split across processes. 'file': each process reads shards i ≡ rank (mod worldSize), cheap;
   * 'record': every process reads every shard and keeps samples i ≡ rank of the interleaved stream, balanced.
   * 'auto' (default): 'file' when the shard count is a multiple of worldSize, else 'record'.
   */
  shardBy?: 'auto' | 'file' | 'record';
  /**
   * Where a shard's samples come from: default `readShard` on this thread; the loader passes its pool's
   * `readShard`, which parses in a worker. Either way the same samples in the same order.
   */
  reader?: (file: string) => AsyncGenerator<EncodedSample>;
}

function checkRank(rank: number, worldSize: number): void {
  if (!Number.isInteger(worldSize) || worldSize < 1) throw new Error(`worldSize must be an integer ≥ 1, got ${worldSize}`);
  if (!Number.isInteger(rank) || rank < 0 || rank >= worldSize) throw new Error(`rank must be in [0, ${worldSize}), got ${rank}`);
}

/** Round-robin over `cycle` open sources at a time; a finished source is replaced by the next one. */
export async function* interleave<T>(sources: (() => AsyncGenerator<T>)[], cycle: number): AsyncGenerator<T> {
  const active: AsyncGenerator<T>[] = [];
  let next = 0;
  try {
    while (active.length < Math.max(1, cycle) && next < sources.length) active.push(sources[next++]!());
    let i = 0;
    while (active.length > 0) {
      i %= active.length;
      const r = await active[i]!.next();
      if (r.done) {
        if (next < sources.length) active[i] = sources[next++]!();
        else active.splice(i, 1);
        continue;
      }
      yield r.value;
      i++;
    }
  } finally {
    await Promise.all(active.map((g) => g.return(undefined)));
  }
}

/** A shuffle buffer of `size`: emits a random held item for each new one, then drains in random order. */
export async function* shuffleBuffer<T>(src: AsyncIterable<T>, size: number, rng: Rng): AsyncGenerator<T> {
  const buf: T[] = [];
  for await (const item of src) {
    if (buf.length < size) {
      buf.push(item);
      continue;
    }
    const j = rng.uniformInt(size);
    const out = buf[j]!;
    buf[j] = item;
    yield out;
  }
  yield* rng.shuffle(buf);
}

/**
 * This process's samples of one epoch from shard files, in the order fixed by (seed, epoch, rank, worldSize).
 * Across ranks 0..worldSize−1 every good record appears exactly once.
 */
export async function* streamShards(
  shards: string[],
  format: Exclude<ShardFormat, 'folder'>,
  opts: StreamOptions & ShardReadOptions = {},
): AsyncGenerator<EncodedSample> {
  const { seed = 0, epoch = 0, shuffle = true, rank = 0, worldSize = 1 } = opts;
  checkRank(rank, worldSize);
  const order = shuffle ? rngFor(seed, SEED_STREAMS.shardOrder, epoch).shuffle([...shards]) : [...shards];
  const shardBy = opts.shardBy ?? 'auto';
  const byFile = shardBy === 'file' || (shardBy === 'auto' && order.length % worldSize === 0);
  if (byFile && order.length < worldSize) {
    throw new Error(`shardBy 'file' needs at least worldSize=${worldSize} shards, got ${order.length}; use shardBy 'record'`);
  }
  const mine = byFile ? order.filter((_, i) => i % worldSize === rank) : order;
  let stream: AsyncGenerator<EncodedSample> = interleave(
    mine.map((f) => () => (opts.reader ? opts.reader(f) : readShard(f, format, opts))),
    opts.cycleLength ?? 4,
  );
  if (!byFile && worldSize > 1) stream = everyNth(stream, worldSize, rank);
  if (shuffle) stream = shuffleBuffer(stream, opts.shuffleBuffer ?? 2048, rngFor(seed, SEED_STREAMS.shuffleBuffer, epoch, rank));
  yield* stream;
}

async function* everyNth<T>(src: AsyncIterable<T>, n: number, k: number): AsyncGenerator<T> {
  let i = 0;
  for await (const item of src) if (i++ % n === k) yield item;
}

/** This process's samples of an image folder: a full permutation fixed by (seed, epoch), split by index. */
export async function* streamImageFolder(
  root: string,
  opts: StreamOptions & Pick<ShardReadOptions, 'onBad'> = {},
): AsyncGenerator<EncodedSample> {
  const { seed = 0, epoch = 0, shuffle = true, rank = 0, worldSize = 1 } = opts;
  checkRank(rank, worldSize);
  const folder = listImageFolder(root);
  const items = folder.samples.map((s, i) => ({ ...s, index: i }));
  if (shuffle) rngFor(seed, SEED_STREAMS.dataOrder, epoch).shuffle(items);
  for (let i = rank; i < items.length; i += worldSize) {
    const it = items[i]!;
    try {
      yield { ...readFolderSample(it), record: it.index };
    } catch (err) {
      const e = new DataError(it.file, it.index, `unreadable file (${(err as Error).message})`);
      if (!opts.onBad) throw e;
      opts.onBad(e);
    }
  }
}
