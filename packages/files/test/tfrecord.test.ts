// CRC32C and TFRecord framing against independent references: a bit-by-bit CRC32C and the standard check value.
import { describe, expect, it } from 'vitest';
import { crc32c, frameTfRecord, maskedCrc32c, parseTfRecords } from '../src/index.js';

/** CRC32C bit by bit (reflected polynomial 0x82F63B78). */
function crc32cBitwise(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}
const maskReference = (crc: number): number => ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;

function bytes(n: number, seed: number): Uint8Array {
  let x = seed;
  return new Uint8Array(n).map(() => ((x = (x * 1103515245 + 12345) >>> 0) >>> 24));
}

describe('CRC32C', () => {
  it('is the standard check value 0xE3069283 for "123456789" (RFC 3720), masked as TensorFlow does', () => {
    const check = new TextEncoder().encode('123456789');
    expect(crc32cBitwise(check)).toBe(0xe3069283);
    expect(crc32c(check)).toBe(0xe3069283);
    expect(maskedCrc32c(check)).toBe(maskReference(0xe3069283));
  });

  it('equals the bitwise CRC32C on buffers of many lengths, and continues across pieces', () => {
    for (const n of [0, 1, 3, 7, 8, 15, 16, 17, 63, 64, 1000, 70001]) {
      const b = bytes(n, n + 1);
      expect(crc32c(b), `length ${n}`).toBe(crc32cBitwise(b));
      const cut = Math.floor(n / 3);
      expect(crc32c(b.subarray(cut), crc32c(b.subarray(0, cut))), `length ${n} in two pieces`).toBe(crc32cBitwise(b));
    }
  });
});

describe('TFRecord framing', () => {
  it('frames a record as length, masked CRC of the length, data, masked CRC of the data', () => {
    const data = new Uint8Array([1, 2, 3, 4, 5]);
    const record = frameTfRecord(data);
    expect(record.length).toBe(8 + 4 + 5 + 4);
    expect(record.readBigUInt64LE(0)).toBe(5n);
    expect(record.readUInt32LE(8)).toBe(maskReference(crc32cBitwise(record.subarray(0, 8))));
    expect(Array.from(record.subarray(12, 17))).toEqual([1, 2, 3, 4, 5]);
    expect(record.readUInt32LE(17)).toBe(maskReference(crc32cBitwise(data)));
  });

  it('parses framed records back and names the byte offset of a damaged one', () => {
    const records = [bytes(0, 1), bytes(3, 2), bytes(1000, 3)];
    const file = Buffer.concat(records.map(frameTfRecord));
    expect(parseTfRecords(file).map((r) => Buffer.from(r).toString('hex'))).toEqual(records.map((r) => Buffer.from(r).toString('hex')));
    const flipped = Buffer.from(file);
    flipped[16 + 12 + 1]! ^= 0x10; // a data byte of the second record
    expect(() => parseTfRecords(flipped)).toThrow(/TFRecord at byte 16: bad data CRC/);
    const lengthFlipped = Buffer.from(file);
    lengthFlipped[16]! ^= 1;
    expect(() => parseTfRecords(lengthFlipped)).toThrow(/TFRecord at byte 16: bad length CRC/);
    expect(() => parseTfRecords(file.subarray(0, file.length - 2))).toThrow(/TFRecord at byte 35: truncated/);
  });
});
