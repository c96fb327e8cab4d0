// Writes TF-slim-style ImageNet TFRecord shards by hand (no package code): JPEGs from jpeg-js, tf.Example
// on the protobuf wire format, TFRecord framing with a bitwise CRC32C. Labels are 1..1000 as in TF-slim.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpeg from 'jpeg-js';

function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

const maskedCrc = (data: Uint8Array): number => {
  const c = crc32c(data);
  return (((c >>> 15) | (c << 17)) + 0xa282ead8) >>> 0;
};

function varint(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

const field = (num: number, payload: ArrayLike<number>): number[] => [...varint((num << 3) | 2), ...varint(payload.length), ...Array.from(payload)];

/** tf.Example{features{feature{"image/encoded": bytes_list, "image/class/label": int64_list}}}. */
function example(image: Uint8Array, label: number): Uint8Array {
  const entry = (name: string, feature: number[]) => field(1, [...field(1, Buffer.from(name, 'utf8')), ...field(2, feature)]);
  const features = [...entry('image/encoded', field(1, field(1, image))), ...entry('image/class/label', field(3, field(1, varint(label))))];
  return Uint8Array.from(field(1, features));
}

function frame(data: Uint8Array): Buffer {
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(data.length));
  const c1 = Buffer.alloc(4);
  c1.writeUInt32LE(maskedCrc(len));
  const c2 = Buffer.alloc(4);
  c2.writeUInt32LE(maskedCrc(data));
  return Buffer.concat([len, c1, Buffer.from(data), c2]);
}

function jpegOf(width: number, height: number, seed: number): Uint8Array {
  const rgba = Buffer.alloc(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    rgba[4 * i] = (i * 7 + seed * 31) & 255;
    rgba[4 * i + 1] = (i * 3 + seed * 17) & 255;
    rgba[4 * i + 2] = (seed * 53) & 255;
    rgba[4 * i + 3] = 255;
  }
  return jpeg.encode({ data: rgba, width, height }, 90).data;
}

/** DIR/train-00000-of-00001 and DIR/validation-00000-of-00001 with `train` / `validation` 48×40 JPEGs. */
export function writeImageNetFixture(train: number, validation: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'sift-imagenet-'));
  const shard = (count: number, offset: number) => Buffer.concat(Array.from({ length: count }, (_, i) => frame(example(jpegOf(48, 40, offset + i), 1 + ((offset + i) % 1000)))));
  writeFileSync(join(dir, 'train-00000-of-00001'), shard(train, 0));
  writeFileSync(join(dir, 'validation-00000-of-00001'), shard(validation, 500));
  return dir;
}
