import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCheckpoint, writeCheckpointAtomic } from '../src/index.js';

describe('checkpoints', () => {
  it('round-trips metadata and tensors, leaving no temp file behind', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sift-ckpt-'));
    const file = join(dir, 'run.bin');
    const tensors = new Map([
      ['a', { shape: [2, 2], data: new Float32Array([1, -2, 3.5, 0]) }],
      ['b', { shape: [3], data: new Float32Array([Math.PI, 1e-30, -0]) }],
    ]);
    writeCheckpointAtomic(file, { meta: { step: 12, note: 'ok' }, tensors });
    const back = readCheckpoint<{ step: number; note: string }>(file);
    expect(back.meta).toEqual({ step: 12, note: 'ok' });
    expect(back.tensors.get('a')).toEqual({ shape: [2, 2], data: new Float32Array([1, -2, 3.5, 0]) });
    expect(back.tensors.get('b')!.data[0]).toBe(Math.fround(Math.PI));
    expect(readdirSync(dir)).toEqual(['run.bin']);
  });

  it('names a truncated or foreign file and says what to do', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sift-ckpt-'));
    const file = join(dir, 'run.bin');
    writeCheckpointAtomic(file, { meta: {}, tensors: new Map([['w', { shape: [4], data: new Float32Array(4) }]]) });
    const full = readFileSync(file);
    writeFileSync(file, full.subarray(0, full.length - 3));
    expect(() => readCheckpoint(file)).toThrow(/run\.bin is truncated \(tensor w\)/);
    writeFileSync(file, 'hello world, not a checkpoint');
    expect(() => readCheckpoint(file)).toThrow(/not a sparse-ift checkpoint/);
    expect(() => readCheckpoint(join(dir, 'missing.bin'))).toThrow(/does not exist/);
  });
});
