// Writes CIFAR-100 binary files in the release's format, by hand (no package code): per record one
// coarse-label byte, one fine-label byte, then 1024 red, 1024 green and 1024 blue pixel bytes.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function cifarRecords(count: number, seed: number): Buffer {
  const buf = Buffer.alloc(count * 3074);
  let state = seed >>> 0;
  const next = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state >>> 24;
  };
  for (let r = 0; r < count; r++) {
    const fine = r % 100;
    buf[r * 3074] = fine % 20;
    buf[r * 3074 + 1] = fine;
    for (let p = 0; p < 3072; p++) buf[r * 3074 + 2 + p] = next();
  }
  return buf;
}

/** A folder laid out as the unpacked archive: DIR/cifar-100-binary/{train,test}.bin. */
export function writeCifarFixture(train: number, test: number): string {
  const root = mkdtempSync(join(tmpdir(), 'sift-cifar100-'));
  const dir = join(root, 'cifar-100-binary');
  mkdirSync(dir);
  writeFileSync(join(dir, 'train.bin'), cifarRecords(train, 1));
  writeFileSync(join(dir, 'test.bin'), cifarRecords(test, 2));
  return root;
}
