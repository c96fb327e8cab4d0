import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTfRecords } from '@sparse-ift/files';
import { EventMessage, encodeEvent, TensorBoardWriter } from '../src/index.js';

describe('TensorBoard Event protos and event files', () => {
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

  it('writes a file TensorBoard can read: file_version first, then the scalars', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sift-tb-unit-'));
    const writer = new TensorBoardWriter(dir);
    writer.scalars(7, { 'test/accuracy': 0.875 });
    writer.close();
    const [file] = readdirSync(dir);
    expect(file).toMatch(/^events\.out\.tfevents\.\d+\./);
    const events = parseTfRecords(readFileSync(join(dir, file!))).map((r) => EventMessage.toObject(EventMessage.decode(r), { longs: Number }));
    expect(events[0]).toMatchObject({ fileVersion: 'brain.Event:2' });
    expect(events[1]).toMatchObject({ step: 7, summary: { value: [{ tag: 'test/accuracy', simpleValue: 0.875 }] } });
  });
});
