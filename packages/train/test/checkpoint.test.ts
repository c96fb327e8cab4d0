import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { crc32c } from '@sparse-ift/files';
import { CheckpointReader, readCheckpoint, writeCheckpointAtomic, type LazyTensor } from '../src/index.js';

const tempDir = (): string => mkdtempSync(join(tmpdir(), 'sift-ckpt-'));

function small(file: string): void {
  writeCheckpointAtomic(file, {
    meta: { step: 12 },
    tensors: new Map([
      ['a', { shape: [2, 2], data: new Float32Array([1, -2, 3.5, 0]) }],
      ['b', { shape: [3], data: new Float32Array([Math.PI, 1e-30, -0]) }],
    ]),
  });
}

/** A version-2 file rebuilt by hand around `header` (so an edited header still passes its own checksum). */
function rewriteHeader(file: string, edit: (header: { meta: Record<string, unknown>; tensors: Record<string, unknown>[] }) => void): void {
  const buf = readFileSync(file);
  const headerLength = buf.readUInt32LE(buf.length - 16);
  const headerStart = buf.length - 16 - headerLength;
  const header = JSON.parse(buf.toString('utf8', headerStart, buf.length - 16));
  edit(header);
  const json = Buffer.from(JSON.stringify(header));
  const trailer = Buffer.alloc(16);
  trailer.writeUInt32LE(json.length, 0);
  trailer.writeUInt32LE(crc32c(json), 4);
  trailer.write('SIFT-END', 8, 'ascii');
  writeFileSync(file, Buffer.concat([buf.subarray(0, headerStart), json, trailer]));
}

describe('checkpoints', () => {
  it('round-trip metadata and tensors, leaving no temp file behind', () => {
    const dir = tempDir();
    const file = join(dir, 'run.bin');
    small(file);
    const back = readCheckpoint<{ step: number }>(file);
    expect(back.meta).toEqual({ step: 12 });
    expect(back.tensors.get('a')).toEqual({ shape: [2, 2], data: new Float32Array([1, -2, 3.5, 0]) });
    expect(back.tensors.get('b')!.data[0]).toBe(Math.fround(Math.PI));
    expect(readdirSync(dir)).toEqual(['run.bin']);
  });

  it('write lazy tensors as the writer reaches them', () => {
    const file = join(tempDir(), 'lazy.bin');
    const asked: string[] = [];
    const lazy = (name: string, values: number[]): LazyTensor => ({ shape: [values.length], read: () => (asked.push(name), new Float32Array(values)) });
    writeCheckpointAtomic(file, { meta: {}, tensors: new Map([['x', lazy('x', [1, 2])], ['y', lazy('y', [3])]]) });
    expect(asked).toEqual(['x', 'y']);
    expect(Array.from(readCheckpoint(file).tensors.get('y')!.data)).toEqual([3]);
  });

  it('name a truncated, foreign, missing, FIFO or folder path and say what to do', () => {
    const dir = tempDir();
    const file = join(dir, 'run.bin');
    small(file);
    const full = readFileSync(file);
    writeFileSync(file, full.subarray(0, full.length - 3));
    expect(() => readCheckpoint(file)).toThrow(`checkpoint ${file} is truncated or was not written to the end (no end marker); delete it (that run then starts over) or pass --force`);
    writeFileSync(file, full.subarray(0, 30));
    expect(() => readCheckpoint(file)).toThrow(/run\.bin is truncated or was not written to the end/);
    writeFileSync(file, 'hello world, not a checkpoint');
    expect(() => readCheckpoint(file)).toThrow(/run\.bin is not a sparse-ift checkpoint \(bad magic\)/);
    writeFileSync(file, '');
    expect(() => readCheckpoint(file)).toThrow(/run\.bin is not a sparse-ift checkpoint \(0 bytes/);
    expect(() => readCheckpoint(join(dir, 'missing.bin'))).toThrow(/missing\.bin cannot be read: it does not exist/);
    mkdirSync(join(dir, 'folder.bin'));
    expect(() => readCheckpoint(join(dir, 'folder.bin'))).toThrow(/folder\.bin cannot be read: it is a folder, not a regular file/);
    execFileSync('mkfifo', [join(dir, 'fifo.bin')]);
    expect(() => readCheckpoint(join(dir, 'fifo.bin'))).toThrow(/fifo\.bin cannot be read: it is a FIFO \(named pipe\)/);
  });

  it('refuse any flipped bit: in a tensor (named), in the header, in the trailer', () => {
    const file = join(tempDir(), 'run.bin');
    small(file);
    const full = readFileSync(file);
    // Every bit of the data section (8 .. 8 + 28): a low mantissa bit would otherwise change a weight silently.
    for (let byte = 8; byte < 8 + 28; byte++) {
      for (let bit = 0; bit < 8; bit++) {
        const damaged = Buffer.from(full);
        damaged[byte]! ^= 1 << bit;
        writeFileSync(file, damaged);
        expect(() => readCheckpoint(file)).toThrow(byte < 8 + 16 ? /is damaged: tensor 'a' fails its checksum/ : /is damaged: tensor 'b' fails its checksum/);
      }
    }
    const header = Buffer.from(full);
    header[8 + 28 + 5]! ^= 0x04;
    writeFileSync(file, header);
    expect(() => readCheckpoint(file)).toThrow(/is damaged: its header fails its checksum|header is not JSON/);
    const length = Buffer.from(full);
    length[full.length - 16]! ^= 0x40;
    writeFileSync(file, length);
    expect(() => readCheckpoint(file)).toThrow(/is damaged/);
  });

  it('refuse impossible metadata even when the header checksum matches', () => {
    const file = join(tempDir(), 'run.bin');
    const cases: [string, (h: { tensors: Record<string, unknown>[] }) => void, RegExp][] = [
      ['negative length', (h) => (h.tensors[0]!['length'] = -5), /impossible metadata for tensor 'a'/],
      ['shape and length disagree', (h) => (h.tensors[0]!['shape'] = [3, 2]), /tensor 'a' has 4 values for shape \[3, 2\]/],
      ['overlapping tensors', (h) => (h.tensors[1]!['offset'] = 8), /tensor 'b' starts at byte 8, expected 16/],
      ['tensor past the data', (h) => ((h.tensors[1]!['length'] = 30), (h.tensors[1]!['shape'] = [30])), /is truncated: its tensors need 136 bytes of data, it holds 28/],
      ['duplicate names', (h) => (h.tensors[1]!['name'] = 'a'), /impossible metadata for tensor 'a'/],
      ['missing checksum', (h) => delete h.tensors[0]!['crc32c'], /tensor 'a' has no checksum/],
    ];
    for (const [what, edit, error] of cases) {
      small(file);
      rewriteHeader(file, edit);
      expect(() => readCheckpoint(file), what).toThrow(error);
    }
  });

  it('still read a version-1 checkpoint (header first, no checksums)', () => {
    const file = join(tempDir(), 'v1.bin');
    const header = Buffer.from(JSON.stringify({ version: 1, meta: { step: 3 }, tensors: [{ name: 'w', shape: [2], offset: 0, length: 2 }] }));
    const length = Buffer.alloc(4);
    length.writeUInt32LE(header.length);
    writeFileSync(file, Buffer.concat([Buffer.from('SIFTCKPT'), length, header, Buffer.from(new Float32Array([0.5, -1]).buffer)]));
    const back = readCheckpoint<{ step: number }>(file);
    expect(back.meta.step).toBe(3);
    expect(Array.from(back.tensors.get('w')!.data)).toEqual([0.5, -1]);
  });

  // A checkpoint above 2 GiB (GPT and ImageNet Sparse Wide ones are 2.6–6.4 GB): written and verified in
  // pieces, one 64 MiB tensor buffer reused, so the test holds ~200 MB, never 2 GiB.
  it('write, verify and read a checkpoint above 2 GiB without whole-file reads', (ctx) => {
    const tensors = 33;
    const values = 16 << 20; // 64 MiB of float32 per tensor: 33 × 64 MiB = 2.06 GiB
    const free = statfsSync(tmpdir()).bavail * statfsSync(tmpdir()).bsize;
    if (free < 3 * 2 ** 30) return ctx.skip(); // no room: 2.06 GiB plus a margin
    const dir = tempDir();
    const file = join(dir, 'big.bin');
    try {
      const buffer = new Float32Array(values);
      const entries = new Map<string, LazyTensor>();
      for (let i = 0; i < tensors; i++) {
        // Tensor i holds i at every position but the last, which holds −(i + 1): an offset slip cannot pass.
        entries.set(`t${i}`, { shape: [values], read: () => (buffer.fill(i), (buffer[values - 1] = -(i + 1)), buffer) });
      }
      writeCheckpointAtomic(file, { meta: { big: true }, tensors: entries });
      const reader = CheckpointReader.open<{ big: boolean }>(file);
      try {
        expect(reader.meta.big).toBe(true);
        expect(reader.names()).toHaveLength(tensors);
        for (const i of [0, 31, 32]) {
          const t = reader.read(`t${i}`).data;
          expect([t[0], t[values >> 1], t[values - 1]]).toEqual([i, i, -(i + 1)]);
        }
      } finally {
        reader.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
