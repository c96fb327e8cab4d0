import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventMessage, encodeEvent, maskedCrc32c, readTfRecords, TensorBoardWriter, tfRecord } from '../src/index.js';

/** Bitwise CRC-32C (Castagnoli, reflected polynomial 0x82F63B78): an independent reference. */
function crc32cReference(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}
const maskReference = (crc: number): number => ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;

describe('TFRecord framing and Event protos', () => {
  it('CRC-32C of "123456789" is the standard check value 0xE3069283, masked as TensorFlow does', () => {
    const bytes = new TextEncoder().encode('123456789');
    expect(crc32cReference(bytes)).toBe(0xe3069283);
    expect(maskedCrc32c(bytes)).toBe(maskReference(0xe3069283));
  });

  it('encodes a scalar Event exactly as the proto wire format says', () => {
    // Event{wall_time: 1.5 (field 1, fixed64), step: 3 (field 2, varint), summary (field 5) {value (1) {tag (1) "a", simple_value (2, fixed32) 0.5}}}
    const expected = [
      0x09, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f, // double 1.5 little-endian
      0x10, 0x03,
      0x2a, 0x0a, // summary, 10 bytes
      0x0a, 0x08, // value, 8 bytes
      0x0a, 0x01, 0x61, // tag "a"
      0x15, 0, 0, 0, 0x3f, // float 0.5
    ];
    expect(Array.from(encodeEvent({ wallTime: 1.5, step: 3, scalars: { a: 0.5 } }))).toEqual(expected);
  });

  it('frames a record as length, masked CRC of the length, payload, masked CRC of the payload', () => {
    const payload = new Uint8Array([1, 2, 3, 4, 5]);
    const record = tfRecord(payload);
    expect(record.length).toBe(8 + 4 + 5 + 4);
    expect(record.readBigUInt64LE(0)).toBe(5n);
    expect(record.readUInt32LE(8)).toBe(maskReference(crc32cReference(record.subarray(0, 8))));
    expect(Array.from(record.subarray(12, 17))).toEqual([1, 2, 3, 4, 5]);
    expect(record.readUInt32LE(17)).toBe(maskReference(crc32cReference(payload)));
  });

  it('writes a file TensorBoard can read: file_version first, then the scalars', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sift-tb-unit-'));
    const writer = new TensorBoardWriter(dir);
    writer.scalars(7, { 'test/accuracy': 0.875 });
    writer.close();
    const [file] = readdirSync(dir);
    expect(file).toMatch(/^events\.out\.tfevents\.\d+\./);
    const events = readTfRecords(readFileSync(join(dir, file!))).map((r) => EventMessage.toObject(EventMessage.decode(r), { longs: Number }));
    expect(events[0]).toMatchObject({ fileVersion: 'brain.Event:2' });
    expect(events[1]).toMatchObject({ step: 7, summary: { value: [{ tag: 'test/accuracy', simpleValue: 0.875 }] } });
  });
});
