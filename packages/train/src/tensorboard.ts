/**
 * TensorBoard event files: TFRecord framing of `tensorflow.Event` protos with scalar summaries.
 *
 * Record: uint64 length (LE) · uint32 masked_crc32c(length bytes) · data · uint32 masked_crc32c(data),
 * masked_crc(x) = ((x >>> 15) | (x << 17)) + 0xa282ead8. protobufjs encodes the protos (fields from
 * tensorflow/core/util/event.proto and framework/summary.proto); crc-32's crc32c does the checksum.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import crc32c from 'crc-32/crc32c.js';

const EVENT_PROTO = `
syntax = "proto3";
package tensorflow;
message SummaryValue { string tag = 1; float simple_value = 2; }
message Summary { repeated SummaryValue value = 1; }
message Event { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
`;

const root = protobuf.parse(EVENT_PROTO).root;
export const EventMessage = root.lookupType('tensorflow.Event');

export function maskedCrc32c(data: Uint8Array): number {
  const crc = crc32c.buf(data) >>> 0;
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** One TFRecord: length, its masked CRC, the payload, its masked CRC. */
export function tfRecord(payload: Uint8Array): Buffer {
  const header = Buffer.alloc(8);
  header.writeBigUInt64LE(BigInt(payload.length));
  const out = Buffer.alloc(8 + 4 + payload.length + 4);
  header.copy(out, 0);
  out.writeUInt32LE(maskedCrc32c(header), 8);
  Buffer.from(payload).copy(out, 12);
  out.writeUInt32LE(maskedCrc32c(payload), 12 + payload.length);
  return out;
}

export function encodeEvent(event: { wallTime: number; step?: number; fileVersion?: string; scalars?: Record<string, number> }): Uint8Array {
  const message = EventMessage.create({
    wallTime: event.wallTime,
    step: event.step ?? 0,
    ...(event.fileVersion ? { fileVersion: event.fileVersion } : {}),
    ...(event.scalars
      ? { summary: { value: Object.entries(event.scalars).map(([tag, simpleValue]) => ({ tag, simpleValue })) } }
      : {}),
  });
  return EventMessage.encode(message).finish();
}

/** Appends scalar events to `events.out.tfevents.<time>.<host>` in `logDir`. */
export class TensorBoardWriter {
  readonly file: string;
  private fd: number;

  constructor(logDir: string) {
    mkdirSync(logDir, { recursive: true });
    const now = Date.now() / 1000;
    this.file = join(logDir, `events.out.tfevents.${Math.floor(now)}.${hostname()}`);
    this.fd = openSync(this.file, 'a');
    this.write(encodeEvent({ wallTime: now, fileVersion: 'brain.Event:2' }));
  }

  scalars(step: number, values: Record<string, number>): void {
    this.write(encodeEvent({ wallTime: Date.now() / 1000, step, scalars: values }));
  }

  private write(payload: Uint8Array): void {
    writeSync(this.fd, tfRecord(payload));
  }

  close(): void {
    if (this.fd < 0) return;
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = -1;
  }
}

/** Reads back a TFRecord file, checking both CRCs (used by tests and `sift` tooling). */
export function readTfRecords(buf: Buffer): Uint8Array[] {
  const records: Uint8Array[] = [];
  let off = 0;
  while (off < buf.length) {
    const header = buf.subarray(off, off + 8);
    if (buf.readUInt32LE(off + 8) !== maskedCrc32c(header)) throw new Error(`TFRecord at byte ${off}: bad length CRC`);
    const len = Number(buf.readBigUInt64LE(off));
    const payload = buf.subarray(off + 12, off + 12 + len);
    if (buf.readUInt32LE(off + 12 + len) !== maskedCrc32c(payload)) throw new Error(`TFRecord at byte ${off}: bad data CRC`);
    records.push(payload);
    off += 16 + len;
  }
  return records;
}
