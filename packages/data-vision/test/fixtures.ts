// Independent writers for test fixtures. Nothing here uses the package's own code or its libraries
// (protobufjs, crc-32, tar-stream, sharp): tf.Example is encoded by hand on the protobuf wire format,
// CRC32C is computed bit by bit, tars come from the system `tar`, JPEGs from jpeg-js.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import type { VisionBatch, VisionLoader } from '@sparse-ift/data-vision';

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `dv-${prefix}-`));
}

/** CRC32C, bitwise (reflected polynomial 0x82F63B78). */
export function crc32cBitwise(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

export function masked(data: Uint8Array): number {
  const c = crc32cBitwise(data);
  return (((c >>> 15) | (c << 17)) + 0xa282ead8) >>> 0;
}

function varint(n: bigint): number[] {
  const out: number[] = [];
  let v = BigInt.asUintN(64, n);
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) b |= 0x80;
    out.push(b);
  } while (v !== 0n);
  return out;
}

function field(num: number, payload: Uint8Array | number[]): number[] {
  // wire type 2: length-delimited
  return [...varint(BigInt((num << 3) | 2)), ...varint(BigInt(payload.length)), ...payload];
}

export type FeatureSpec = { bytes: Uint8Array } | { int64: number } | { float: number };

/** tf.Example wire bytes: Example{1: Features{1: map<string, Feature>}}. */
export function encodeExampleByHand(features: Record<string, FeatureSpec>): Uint8Array {
  const entries: number[] = [];
  for (const [name, spec] of Object.entries(features)) {
    let feature: number[];
    if ('bytes' in spec) feature = field(1, field(1, spec.bytes)); // bytes_list.value
    else if ('int64' in spec) feature = field(3, field(1, varint(BigInt(spec.int64)))); // int64_list packed
    else {
      const f = Buffer.alloc(4);
      f.writeFloatLE(spec.float);
      feature = field(2, field(1, [...f])); // float_list packed
    }
    const entry = [...field(1, [...Buffer.from(name, 'utf8')]), ...field(2, feature)];
    entries.push(...field(1, entry));
  }
  return Uint8Array.from(field(1, entries));
}

/** TFRecord framing with the bitwise CRC. */
export function frameByHand(data: Uint8Array): Buffer {
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(data.length));
  const c1 = Buffer.alloc(4);
  c1.writeUInt32LE(masked(len));
  const c2 = Buffer.alloc(4);
  c2.writeUInt32LE(masked(data));
  return Buffer.concat([len, c1, Buffer.from(data), c2]);
}

/** A width×height RGB JPEG; pixel(x, y) gives [r, g, b]. */
export function makeJpeg(width: number, height: number, pixel: (x: number, y: number) => [number, number, number], quality = 95): Buffer {
  const rgba = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b] = pixel(x, y);
      rgba.set([r, g, b, 255], (y * width + x) * 4);
    }
  }
  return jpeg.encode({ data: rgba, width, height }, quality).data;
}

export function decodeJpegIndependently(buf: Uint8Array): { width: number; height: number; data: Uint8Array } {
  return jpeg.decode(buf, { useTArray: true, formatAsRGBA: false });
}

// jpeg-js builds ~65k-entry tables per encode call (≈0.1–0.5 s), so fixtures reuse a few encoded colours.
export const PALETTE: [number, number, number][] = [[230, 20, 20], [20, 200, 40], [30, 40, 220], [240, 240, 240]];
const paletteJpegs = new Map<number, Buffer>();

/**
 * A distinct 40×30 JPEG per sample: a solid palette colour (index mod 4) plus a JPEG comment (COM) segment
 * naming the sample, so every file's bytes differ while decoders see the same pixels.
 */
export function sampleJpeg(i: number): Buffer {
  const c = i % PALETTE.length;
  if (!paletteJpegs.has(c)) paletteJpegs.set(c, makeJpeg(40, 30, () => PALETTE[c]!, 90));
  const base = paletteJpegs.get(c)!;
  const text = Buffer.from(`sample ${i}`);
  const com = Buffer.alloc(4);
  com.writeUInt16BE(0xfffe, 0);
  com.writeUInt16BE(text.length + 2, 2);
  return Buffer.concat([base.subarray(0, 2), com, text, base.subarray(2)]);
}

export interface WrittenSample {
  image: Buffer;
  label: number;
}

/** Writes `shards` TFRecord files of `perShard` samples; returns the files and what each holds. */
export function writeTfRecordShards(dir: string, shards: number, perShard: number, numClasses = 10): { files: string[]; samples: WrittenSample[][] } {
  const files: string[] = [];
  const samples: WrittenSample[][] = [];
  let i = 0;
  for (let s = 0; s < shards; s++) {
    const file = join(dir, `train-${String(s).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}`);
    const inShard: WrittenSample[] = [];
    const frames: Buffer[] = [];
    for (let r = 0; r < perShard; r++, i++) {
      const image = sampleJpeg(i);
      const label = i % numClasses;
      inShard.push({ image, label });
      frames.push(frameByHand(encodeExampleByHand({ 'image/encoded': { bytes: image }, 'image/class/label': { int64: label }, 'image/format': { bytes: Buffer.from('JPEG') } })));
    }
    writeFileSync(file, Buffer.concat(frames));
    files.push(file);
    samples.push(inShard);
  }
  return { files, samples };
}

/** Writes WebDataset tars with the system tar: per sample `<key>.jpg` + `<key>.cls`. */
export function writeWdsShards(dir: string, shards: number, perShard: number, numClasses = 10): { files: string[]; samples: WrittenSample[][] } {
  const files: string[] = [];
  const samples: WrittenSample[][] = [];
  let i = 0;
  for (let s = 0; s < shards; s++) {
    const stage = join(dir, `stage-${s}`);
    mkdirSync(stage, { recursive: true });
    const names: string[] = [];
    const inShard: WrittenSample[] = [];
    for (let r = 0; r < perShard; r++, i++) {
      const key = `sample${String(i).padStart(6, '0')}`;
      const image = sampleJpeg(i);
      const label = i % numClasses;
      writeFileSync(join(stage, `${key}.jpg`), image);
      writeFileSync(join(stage, `${key}.cls`), `${label}\n`);
      names.push(`${key}.cls`, `${key}.jpg`);
      inShard.push({ image, label });
    }
    const file = join(dir, `shard-${String(s).padStart(6, '0')}.tar`);
    execFileSync('tar', ['--format=ustar', '-cf', file, '-C', stage, ...names]);
    files.push(file);
    samples.push(inShard);
  }
  return { files, samples };
}

/** Every batch of one epoch of a loader. */
export async function allBatches(l: VisionLoader, epoch = 0): Promise<VisionBatch[]> {
  const out: VisionBatch[] = [];
  for await (const b of l.batches(epoch)) out.push(b);
  return out;
}
