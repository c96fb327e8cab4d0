import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { streamShards, streamImageFolder, type StreamOptions } from '@sparse-ift/data-vision';
import { tempDir, writeTfRecordShards, writeWdsShards, sampleJpeg } from './fixtures.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = tempDir('stream');
// 6 shards × 7 records (7 so that shards do not line up with anything).
const tfr = writeTfRecordShards(dir, 6, 7);
const all = tfr.files.flatMap((f) => Array.from({ length: 7 }, (_, r) => `${basename(f)}#${r}`)).sort();

async function ids(files: string[], opts: StreamOptions, format: 'tfrecord' | 'wds' = 'tfrecord'): Promise<string[]> {
  const out: string[] = [];
  for await (const s of streamShards(files, format, { numClasses: 10, ...opts })) out.push(`${basename(s.file)}#${s.record}`);
  return out;
}

describe('epoch order', () => {
  it('interleaves shards round-robin and replaces a finished shard with the next', async () => {
    const d = tempDir('inter');
    const { files } = writeTfRecordShards(d, 3, 2);
    const [a, b, c] = files.map((f) => basename(f));
    expect(await ids(files, { shuffle: false, cycleLength: 2 })).toEqual([`${a}#0`, `${b}#0`, `${a}#1`, `${b}#1`, `${c}#0`, `${c}#1`]);
  });

  it('is fixed by (seed, epoch): same twice, different for another seed or epoch, always a permutation', async () => {
    const opts = { seed: 5, epoch: 0, shuffleBuffer: 16 };
    const first = await ids(tfr.files, opts);
    expect(await ids(tfr.files, opts)).toEqual(first);
    expect([...first].sort()).toEqual(all);
    const otherSeed = await ids(tfr.files, { ...opts, seed: 6 });
    const otherEpoch = await ids(tfr.files, { ...opts, epoch: 1 });
    expect(otherSeed).not.toEqual(first);
    expect(otherEpoch).not.toEqual(first);
    expect([...otherSeed].sort()).toEqual(all);
    expect([...otherEpoch].sort()).toEqual(all);
  });

  it('every record is seen exactly once per epoch across process shards (by file and by record)', async () => {
    for (const [files, worldSize, shardBy] of [
      [tfr.files, 3, 'auto'], // 6 shards / 3 ranks: by file
      [tfr.files, 4, 'auto'], // 6 shards / 4 ranks: by record
      [tfr.files, 2, 'record'],
      [tfr.files.slice(0, 2), 5, 'auto'], // fewer shards than ranks
    ] as const) {
      const union: string[] = [];
      const perRank: string[][] = [];
      for (let rank = 0; rank < worldSize; rank++) {
        const got = await ids([...files], { seed: 1, epoch: 3, rank, worldSize, shardBy, shuffleBuffer: 8 });
        perRank.push(got);
        union.push(...got);
      }
      const expected = all.filter((id) => files.some((f) => id.startsWith(`${basename(f)}#`)));
      expect(union.sort(), `worldSize ${worldSize}, ${shardBy}`).toEqual(expected);
      // Balanced split when by record: rank sizes differ by at most one.
      const sizes = perRank.map((p) => p.length);
      if (shardBy !== 'auto' || files.length % worldSize !== 0) expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
    await expect(ids(tfr.files, { rank: 2, worldSize: 2 })).rejects.toThrow(/rank must be in \[0, 2\), got 2/);
    await expect(ids(tfr.files.slice(0, 2), { rank: 0, worldSize: 4, shardBy: 'file' })).rejects.toThrow(/needs at least worldSize=4 shards/);
  });

  it('works the same over WebDataset tars', async () => {
    const d = tempDir('wdsorder');
    const { files } = writeWdsShards(d, 3, 4);
    const a = await ids(files, { seed: 2 }, 'wds');
    expect(await ids(files, { seed: 2 }, 'wds')).toEqual(a);
    expect(await ids(files, { seed: 3 }, 'wds')).not.toEqual(a);
    expect(a).toHaveLength(12);
    expect(new Set(a).size).toBe(12);
  });

  it('image folders: labels from sorted class folders, a seeded permutation, split across ranks', async () => {
    const root = tempDir('folder');
    for (const [cls, n] of [['zebra', 3], ['ant', 2], ['cat', 4]] as const) {
      mkdirSync(join(root, cls));
      for (let i = 0; i < n; i++) writeFileSync(join(root, cls, `img${i}.jpg`), sampleJpeg(i));
    }
    writeFileSync(join(root, 'cat', 'notes.txt'), 'not an image');
    const read = async (o: StreamOptions) => {
      const out: string[] = [];
      for await (const s of streamImageFolder(root, o)) out.push(`${basename(join(s.file, '..'))}/${basename(s.file)}:${s.label}`);
      return out;
    };
    const ordered = await read({ shuffle: false });
    expect(ordered).toEqual([
      'ant/img0.jpg:0', 'ant/img1.jpg:0',
      'cat/img0.jpg:1', 'cat/img1.jpg:1', 'cat/img2.jpg:1', 'cat/img3.jpg:1',
      'zebra/img0.jpg:2', 'zebra/img1.jpg:2', 'zebra/img2.jpg:2',
    ]);
    const s1 = await read({ seed: 1 });
    expect(await read({ seed: 1 })).toEqual(s1);
    expect(await read({ seed: 2 })).not.toEqual(s1);
    const union = [...(await read({ seed: 1, rank: 0, worldSize: 2 })), ...(await read({ seed: 1, rank: 1, worldSize: 2 }))];
    expect(union.sort()).toEqual([...ordered].sort());
  });
});
