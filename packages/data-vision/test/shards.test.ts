import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataError, readShard, readTfRecords, type EncodedSample } from '@sparse-ift/data-vision';
import { encodeExampleByHand, frameByHand, sampleJpeg, tempDir, writeTfRecordShards, writeWdsShards } from './fixtures.js';

async function collect<T = EncodedSample>(gen: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const s of gen) out.push(s);
  return out;
}

describe('TFRecord shards', () => {
  it('reads back exactly what an independent writer wrote', async () => {
    const dir = tempDir('tfr');
    const { files, samples } = writeTfRecordShards(dir, 2, 5);
    for (let s = 0; s < 2; s++) {
      const got = await collect(readShard(files[s]!, 'tfrecord', { numClasses: 10 }));
      expect(got.map((g) => g.record)).toEqual([0, 1, 2, 3, 4]);
      expect(got.map((g) => g.label)).toEqual(samples[s]!.map((w) => w.label));
      got.forEach((g, i) => expect(Buffer.from(g.image).equals(samples[s]![i]!.image)).toBe(true));
    }
  });

  it('reads TFDS feature names (image, label) and applies labelOffset for 1-based TF-slim labels', async () => {
    const dir = tempDir('tfds');
    const img = sampleJpeg(3);
    writeFileSync(join(dir, 'a.tfrecord'), Buffer.concat([
      frameByHand(encodeExampleByHand({ image: { bytes: img }, label: { int64: 7 } })),
    ]));
    const [s] = await collect(readShard(join(dir, 'a.tfrecord'), 'tfrecord'));
    expect(s!.label).toBe(7);
    writeFileSync(join(dir, 'b.tfrecord'), frameByHand(encodeExampleByHand({ 'image/encoded': { bytes: img }, 'image/class/label': { int64: 1000 } })));
    const [t] = await collect(readShard(join(dir, 'b.tfrecord'), 'tfrecord', { labelOffset: -1 }));
    expect(t!.label).toBe(999);
    await expect(collect(readShard(join(dir, 'b.tfrecord'), 'tfrecord'))).rejects.toThrow(/b\.tfrecord: record 0: label 1000 outside \[0, 1000\)/);
  });

  function corruptCopy(dir: string, name: string, edit: (b: Buffer, recordStarts: number[]) => Buffer): string {
    const { files } = writeTfRecordShards(dir, 1, 4);
    const buf = readFileSync(files[0]!);
    const starts: number[] = [];
    for (let pos = 0; pos < buf.length; pos += 16 + Number(buf.readBigUInt64LE(pos))) starts.push(pos);
    const out = join(dir, name);
    writeFileSync(out, edit(Buffer.from(buf), starts));
    return out;
  }

  it('a flipped data byte: bad data CRC names file and record; skip goes on with the others', async () => {
    const dir = tempDir('crc');
    const f = corruptCopy(dir, 'bad-crc.tfrecord', (b, st) => {
      b[st[2]! + 12 + 20]! ^= 0xff;
      return b;
    });
    await expect(collect(readShard(f, 'tfrecord'))).rejects.toThrow(/bad-crc\.tfrecord: record 2: bad data CRC/);
    const bad: DataError[] = [];
    const good = await collect(readShard(f, 'tfrecord', { onBad: (e) => bad.push(e) }));
    expect(good.map((g) => g.record)).toEqual([0, 1, 3]);
    expect(bad.map((e) => [e.record, e.fatalForFile])).toEqual([[2, false]]);
  });

  it('a damaged length field or a truncated file ends the file with an error naming the record', async () => {
    const dir = tempDir('trunc');
    const lenBad = corruptCopy(dir, 'bad-len.tfrecord', (b, st) => {
      b[st[1]!]! ^= 0x01;
      return b;
    });
    await expect(collect(readShard(lenBad, 'tfrecord'))).rejects.toThrow(/bad-len\.tfrecord: record 1: bad length CRC/);
    const cut = corruptCopy(dir, 'cut.tfrecord', (b, st) => b.subarray(0, st[3]! + 30));
    await expect(collect(readShard(cut, 'tfrecord'))).rejects.toThrow(/cut\.tfrecord: record 3: truncated/);
    const cutHeader = corruptCopy(dir, 'cut-header.tfrecord', (b, st) => b.subarray(0, st[3]! + 5));
    await expect(collect(readTfRecords(cutHeader))).rejects.toThrow(/record 3: truncated header: 5 of 12/);
    const bad: DataError[] = [];
    const good = await collect(readShard(cut, 'tfrecord', { onBad: (e) => bad.push(e) }));
    expect(good.map((g) => g.record)).toEqual([0, 1, 2]);
    expect(bad.map((e) => e.record)).toEqual([3]);
  });

  it('a record without the image feature says which features it has', async () => {
    const dir = tempDir('nofeat');
    const f = join(dir, 'x.tfrecord');
    writeFileSync(f, frameByHand(encodeExampleByHand({ 'image/class/label': { int64: 1 }, 'image/height': { int64: 5 } })));
    await expect(collect(readShard(f, 'tfrecord'))).rejects.toThrow(/x\.tfrecord: record 0: .*no single bytes feature 'image'.*image\/class\/label, image\/height/);
  });
});

describe('WebDataset tar shards', () => {
  it('reads back exactly what the system tar wrote', async () => {
    const dir = tempDir('wds');
    const { files, samples } = writeWdsShards(dir, 2, 4);
    for (let s = 0; s < 2; s++) {
      const got = await collect(readShard(files[s]!, 'wds', { numClasses: 10 }));
      expect(got.map((g) => g.record)).toEqual([0, 1, 2, 3]);
      expect(got.map((g) => g.label)).toEqual(samples[s]!.map((w) => w.label));
      got.forEach((g, i) => expect(Buffer.from(g.image).equals(samples[s]![i]!.image)).toBe(true));
    }
  });

  it('a truncated tar is an error naming the file and sample, not a hang', async () => {
    const dir = tempDir('wdscut');
    const { files } = writeWdsShards(dir, 1, 4);
    const buf = readFileSync(files[0]!);
    // Cut inside the third sample's jpg: each sample is .cls (512 header + 512 data) then .jpg (512 header + data).
    const cut = join(dir, 'cut.tar');
    const offsetOfSample2 = buf.indexOf(Buffer.from('sample000002.jpg'));
    writeFileSync(cut, buf.subarray(0, offsetOfSample2 + 512 + 100));
    await expect(collect(readShard(cut, 'wds', { numClasses: 10 }))).rejects.toThrow(/cut\.tar: record 2: unreadable tar/);
    const bad: DataError[] = [];
    const good = await collect(readShard(cut, 'wds', { numClasses: 10, onBad: (e) => bad.push(e) }));
    expect(good.map((g) => g.record)).toEqual([0, 1]);
    expect(bad.map((e) => e.record)).toEqual([2]);
  });

  it('a label out of range or a sample with no .cls names file and record', async () => {
    const dir = tempDir('wdslab');
    const { files } = writeWdsShards(dir, 1, 3, 10);
    await expect(collect(readShard(files[0]!, 'wds', { numClasses: 2 }))).rejects.toThrow(/shard-000000\.tar: record 2: label 2 outside \[0, 2\)/);
  });
});
