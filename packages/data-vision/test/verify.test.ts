import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { detectVisionFormat, verifyVisionDataset } from '@sparse-ift/data-vision';
import { encodeExampleByHand, frameByHand, sampleJpeg, tempDir } from './fixtures.js';

const notJpeg = (i: number) => sampleJpeg(i).subarray(0, 150); // a JPEG cut short: header fine, data missing

/** 5 tf.Examples; `label`/`image` may be overridden per record. */
function tfrecordFile(file: string, override: Record<number, { label?: number; image?: Uint8Array }> = {}): Buffer {
  const frames = [0, 1, 2, 3, 4].map((i) =>
    frameByHand(encodeExampleByHand({ 'image/encoded': { bytes: override[i]?.image ?? sampleJpeg(i) }, 'image/class/label': { int64: override[i]?.label ?? i } })),
  );
  const buf = Buffer.concat(frames);
  writeFileSync(file, buf);
  return buf;
}

describe('verifyVisionDataset finds every planted corruption', () => {
  it('tfrecord: bad CRC, truncation, label out of range, undecodable JPEG', async () => {
    const dir = tempDir('vtfr');
    const a = join(dir, 'a-00000-of-00004');
    const b = join(dir, 'a-00001-of-00004');
    const c = join(dir, 'a-00002-of-00004');
    const d = join(dir, 'a-00003-of-00004');
    tfrecordFile(a);
    const bb = tfrecordFile(b);
    bb[bb.length - 16 - 200 - 3 * 0 + 5]! ^= 0x55; // a byte inside the last record's data → its data CRC fails
    writeFileSync(b, bb);
    const cb = tfrecordFile(c);
    writeFileSync(c, cb.subarray(0, cb.length - 40)); // cut inside record 4
    tfrecordFile(d, { 1: { label: 1000 }, 3: { image: notJpeg(3) } });
    expect(detectVisionFormat(dir)).toBe('tfrecord');
    const r = await verifyVisionDataset(dir, { format: 'tfrecord', workers: 1 });
    expect(r.files).toEqual([a, b, c, d]);
    expect(r.records).toBe(20);
    expect(r.classes).toBe(5);
    const bad = r.bad.map((x) => [x.file, x.record]).sort();
    expect(bad).toEqual([[b, 4], [c, 4], [d, 1], [d, 3]]);
    expect(r.bad.find((x) => x.file === b)!.reason).toMatch(/bad data CRC/);
    expect(r.bad.find((x) => x.file === c)!.reason).toMatch(/truncated/);
    expect(r.bad.find((x) => x.file === d && x.record === 1)!.reason).toMatch(/label 1000 outside \[0, 1000\)/);
    expect(r.bad.find((x) => x.file === d && x.record === 3)!.reason).toMatch(/undecodable image/);
    const clean = await verifyVisionDataset(a, { format: 'tfrecord', workers: 1 });
    expect([clean.records, clean.bad]).toEqual([5, []]);
  });

  it('wds: truncated tar, missing .cls, label out of range, undecodable JPEG', async () => {
    const dir = tempDir('vwds');
    const stage = join(dir, 'stage');
    mkdirSync(stage);
    const names: string[] = [];
    for (let i = 0; i < 5; i++) {
      const key = `k${i}`;
      writeFileSync(join(stage, `${key}.jpg`), i === 3 ? notJpeg(i) : sampleJpeg(i));
      names.push(`${key}.jpg`);
      if (i !== 1) {
        writeFileSync(join(stage, `${key}.cls`), i === 2 ? '1000' : String(i));
        names.push(`${key}.cls`);
      }
    }
    const shards = join(dir, 'shards');
    mkdirSync(shards);
    execFileSync('tar', ['--format=ustar', '-cf', join(shards, 'x-000.tar'), '-C', stage, ...names]);
    const whole = readFileSync(join(shards, 'x-000.tar'));
    writeFileSync(join(shards, 'x-001.tar'), whole.subarray(0, whole.indexOf(Buffer.from('k4.jpg')) + 700));
    const r = await verifyVisionDataset(shards, { format: 'wds', workers: 1 });
    const x0 = join(shards, 'x-000.tar');
    const x1 = join(shards, 'x-001.tar');
    expect(r.records).toBe(10);
    expect(r.bad.map((b) => [b.file, b.record, b.reason.split(' ').slice(0, 3).join(' ')]).sort()).toEqual([
      [x0, 1, "sample 'k1' has"],
      [x0, 2, 'label 1000 outside'],
      [x0, 3, 'undecodable image (Input'],
      [x1, 1, "sample 'k1' has"],
      [x1, 2, 'label 1000 outside'],
      [x1, 3, 'undecodable image (Input'],
      [x1, 4, 'unreadable tar (Unexpected'],
    ].sort());
  });

  it('cifar: truncated file and label out of range; idx: truncated images, bad label count', async () => {
    const dir = tempDir('vcifar');
    const rec = (fine: number) => Buffer.concat([Buffer.from([0, fine]), Buffer.alloc(3072, 9)]);
    writeFileSync(join(dir, 'train.bin'), Buffer.concat([rec(1), rec(150), rec(3)]));
    writeFileSync(join(dir, 'test.bin'), Buffer.concat([rec(1), rec(2)]).subarray(0, 3074 + 3000));
    expect(detectVisionFormat(dir)).toBe('cifar');
    const r = await verifyVisionDataset(dir, { format: 'cifar' });
    expect(r.records).toBe(5); // 3 + (1 whole + 1 partial)
    expect(r.bad.map((b) => [b.file.endsWith('train.bin') ? 'train' : 'test', b.record])).toEqual([['train', 1], ['test', 1]]);

    const idx = tempDir('vidx');
    const header = (magic: number, dims: number[]) => {
      const h = Buffer.alloc(4 + 4 * dims.length);
      h.writeUInt32BE(magic, 0);
      dims.forEach((d, i) => h.writeUInt32BE(d, 4 + 4 * i));
      return h;
    };
    writeFileSync(join(idx, 'train-images-idx3-ubyte.gz'), gzipSync(Buffer.concat([header(2051, [3, 2, 2]), Buffer.alloc(9)])));
    writeFileSync(join(idx, 'train-labels-idx1-ubyte'), Buffer.concat([header(2049, [3]), Buffer.from([1, 12, 3])]));
    expect(detectVisionFormat(idx)).toBe('idx');
    const ri = await verifyVisionDataset(idx, { format: 'idx', numClasses: 10 });
    expect(ri.records).toBe(6);
    expect(ri.bad.map((b) => [b.file.includes('images') ? 'images' : 'labels', b.record, b.reason.split(':')[0]])).toEqual([
      ['images', 2, 'truncated'],
      ['labels', 1, 'label 12 outside [0, 10)'],
    ]);
  });

  it('folder: every image decoded, the undecodable one named', async () => {
    const root = tempDir('vfolder');
    for (const cls of ['a', 'b']) mkdirSync(join(root, cls));
    writeFileSync(join(root, 'a', '1.jpg'), sampleJpeg(1));
    writeFileSync(join(root, 'b', '2.jpg'), sampleJpeg(2));
    writeFileSync(join(root, 'b', '3.jpg'), Buffer.from('definitely not a jpeg'));
    expect(detectVisionFormat(root)).toBe('folder');
    const r = await verifyVisionDataset(root, { format: 'folder', workers: 1 });
    expect([r.records, r.classes]).toEqual([3, 2]);
    expect(r.bad).toEqual([{ file: join(root, 'b', '3.jpg'), record: 0, reason: expect.stringMatching(/undecodable image \(Input buffer contains unsupported image format\)/) }]);
  });
});

describe.runIf(existsSync('/usr/share/datasets/fashion-mnist'))('real Fashion-MNIST verifies clean', () => {
  it('has 140000 records (2 × 60000 + 2 × 10000), 10 classes, nothing bad', async () => {
    const r = await verifyVisionDataset('/usr/share/datasets/fashion-mnist', { format: 'idx', numClasses: 10 });
    expect([r.files.length, r.records, r.classes, r.bad.length]).toEqual([4, 140000, 10, 0]);
  });
});
