/**
 * TensorBoard event files: `tensorflow.Event` protos with scalar summaries, each framed as a TFRecord
 * by @sparse-ift/files. protobufjs encodes the protos (fields from tensorflow/core/util/event.proto and
 * framework/summary.proto). Event files are append-only, as TensorBoard reads them while they grow.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { explainFileError, frameTfRecord } from '@sparse-ift/files';

const EVENT_PROTO = `
syntax = "proto3";
package tensorflow;
message SummaryValue { string tag = 1; float simple_value = 2; }
message Summary { repeated SummaryValue value = 1; }
message Event { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
`;

const root = protobuf.parse(EVENT_PROTO).root;
export const EventMessage = root.lookupType('tensorflow.Event');

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
    const now = Date.now() / 1000;
    this.file = join(logDir, `events.out.tfevents.${Math.floor(now)}.${hostname()}`);
    try {
      mkdirSync(logDir, { recursive: true });
      this.fd = openSync(this.file, 'a');
    } catch (error) {
      throw explainFileError(error, this.file);
    }
    this.write(encodeEvent({ wallTime: now, fileVersion: 'brain.Event:2' }));
  }

  scalars(step: number, values: Record<string, number>): void {
    this.write(encodeEvent({ wallTime: Date.now() / 1000, step, scalars: values }));
  }

  private write(payload: Uint8Array): void {
    try {
      writeSync(this.fd, frameTfRecord(payload));
    } catch (error) {
      throw explainFileError(error, this.file);
    }
  }

  close(): void {
    if (this.fd < 0) return;
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = -1;
  }
}
