import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CIFAR100_MEAN, CIFAR100_STD, cifarBatches, loadCifar100, readCifar100Bin, type BadRecord } from '@sparse-ift/data-vision';
import { tempDir } from './fixtures.js';

// Independent writer: record i has coarse label i % 20, fine label (7 i) % 100, pixel (c, y, x) = (i + 3c + 5y + 11x) mod 256.
const px = (i: number, c: number, y: number, x: number) => (i + 3 * c + 5 * y + 11 * x) % 256;
function writeCifar(file: string, n: number, edit?: (rec: Buffer, i: number) => void): void {
  const recs: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const rec = Buffer.alloc(3074);
    rec[0] = i % 20;
    rec[1] = (7 * i) % 100;
    for (let c = 0; c < 3; c++) for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) rec[2 + c * 1024 + y * 32 + x] = px(i, c, y, x);
    edit?.(rec, i);
    recs.push(rec);
  }
  writeFileSync(file, Buffer.concat(recs));
}

describe('CIFAR-100 binary', () => {
  const dir = tempDir('cifar');
  const sub = join(dir, 'cifar-100-binary');
  mkdirSync(sub);
  writeCifar(join(sub, 'train.bin'), 12);
  writeCifar(join(sub, 'test.bin'), 5);
  writeFileSync(join(sub, 'fine_label_names.txt'), 'apple\naquarium_fish\n');

  it('reads planar CHW records into HWC floats with fine and coarse labels', () => {
    const c = loadCifar100(dir);
    expect(c.source).toBe(sub);
    expect([c.train.count, c.test.count, c.train.numClasses]).toEqual([12, 5, 100]);
    expect(c.fineLabelNames?.slice(0, 2)).toEqual(['apple', 'aquarium_fish']);
    expect(Array.from(c.train.labels)).toEqual(Array.from({ length: 12 }, (_, i) => (7 * i) % 100));
    expect(Array.from(c.train.coarseLabels)).toEqual(Array.from({ length: 12 }, (_, i) => i % 20));
    for (const [i, c_, y, x] of [[0, 0, 0, 0], [3, 2, 31, 5], [11, 1, 17, 31]] as const) {
      expect(c.train.images[i * 3072 + (y * 32 + x) * 3 + c_]).toBeCloseTo(px(i, c_, y, x) / 255, 6);
    }
  });

  it('a truncated file or a label out of range names the file and record; skipBad lists them', () => {
    const cut = join(dir, 'cut.bin');
    writeCifar(cut, 3);
    writeFileSync(cut, readFileSync(cut).subarray(0, 3074 * 2 + 100));
    expect(() => readCifar100Bin(cut)).toThrow(/cut\.bin: record 2: truncated: 6248 bytes is 2 records of 3074 plus 100 stray bytes/);
    const badLabel = join(dir, 'label.bin');
    writeCifar(badLabel, 4, (rec, i) => {
      if (i === 1) rec[1] = 100;
    });
    expect(() => readCifar100Bin(badLabel)).toThrow(/label\.bin: record 1: label out of range: coarse 1 .* fine 100/);
    const bad: BadRecord[] = [];
    const set = readCifar100Bin(badLabel, { skipBad: true, bad });
    expect(set.count).toBe(3);
    expect(bad.map((b) => b.record)).toEqual([1]);
  });

  it('eval batches: in order, normalized with the CIFAR-100 mean/std (docs/recipes.md#cifar-100-resnet-18), nothing else', () => {
    const { test } = loadCifar100(dir);
    const batches = [...cifarBatches(test, { batchSize: 2, train: false })];
    expect(batches.map((b) => b.size)).toEqual([2, 2, 1]);
    const b = batches[1]!;
    // second image of the batch = record 3; pixel (y=4, x=9, c=2)
    const want = (px(3, 2, 4, 9) / 255 - 0.4409178433670343) / 0.27615047132568404;
    expect(b.images[3072 + (4 * 32 + 9) * 3 + 2]).toBeCloseTo(want, 5);
  });

  it('train batches: each image is a zero-padded 4-px random crop, maybe flipped, then normalized', () => {
    const { train } = loadCifar100(dir);
    const seen = new Set<string>();
    const label = new Map<number, number>();
    for (let epoch = 0; epoch < 6; epoch++) {
      for (const b of cifarBatches(train, { batchSize: 4, train: true, seed: 9, epoch })) {
        expect(b.size).toBe(4);
        for (let k = 0; k < 4; k++) {
          // Find which record and which (dy, dx, flip) of the 9×9×2 possible ones produced this output.
          const out = b.images.subarray(k * 3072, (k + 1) * 3072);
          const matches: string[] = [];
          for (let i = 0; i < 12; i++) {
            if ((7 * i) % 100 !== b.labels[k]) continue;
            for (let dy = -4; dy <= 4; dy++) for (let dx = -4; dx <= 4; dx++) for (const flip of [false, true]) {
              let ok = true;
              for (let y = 0; y < 32 && ok; y += 3) for (let x = 0; x < 32 && ok; x += 3) for (let c = 0; c < 3 && ok; c++) {
                const sx = (flip ? 31 - x : x) + dx;
                const sy = y + dy;
                const v = sy >= 0 && sy < 32 && sx >= 0 && sx < 32 ? px(i, c, sy, sx) / 255 : 0;
                ok = Math.abs(out[(y * 32 + x) * 3 + c]! - (v - CIFAR100_MEAN[c]!) / CIFAR100_STD[c]!) < 1e-4;
              }
              if (ok) matches.push(`${i}:${dy}:${dx}:${flip}`);
            }
          }
          expect(matches.length, `batch image ${k}`).toBeGreaterThanOrEqual(1);
          seen.add(matches[0]!.split(':').slice(1).join(':'));
          label.set(Number(matches[0]!.split(':')[0]), b.labels[k]!);
        }
      }
    }
    // 12 images × 6 epochs = 72 draws from 162 (dy, dx, flip) combos: many distinct, both flips present.
    expect(seen.size).toBeGreaterThan(40);
    expect([...seen].some((s) => s.endsWith('true')) && [...seen].some((s) => s.endsWith('false'))).toBe(true);
    const again = [...cifarBatches(train, { batchSize: 4, train: true, seed: 9, epoch: 0 })];
    const first = [...cifarBatches(train, { batchSize: 4, train: true, seed: 9, epoch: 0 })];
    expect(again.map((b) => Array.from(b.labels))).toEqual(first.map((b) => Array.from(b.labels)));
    const other = [...cifarBatches(train, { batchSize: 4, train: true, seed: 10, epoch: 0 })];
    expect(other.map((b) => Array.from(b.labels))).not.toEqual(first.map((b) => Array.from(b.labels)));
  });
});
