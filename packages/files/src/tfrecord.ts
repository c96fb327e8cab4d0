/**
 * TFRecord framing, the one implementation shared by TensorBoard event files (@sparse-ift/train) and
 * ImageNet shards (@sparse-ift/data-vision). Per record:
 *   u64 length (LE) · u32 masked_crc32c(length bytes) · data · u32 masked_crc32c(data)
 * (tensorflow/core/lib/io/record_writer.cc).
 */
import { maskedCrc32c } from './crc32c.js';

/** Bytes of framing around each record's data: 12 before, 4 after. */
export const TFRECORD_HEADER_BYTES = 12;
export const TFRECORD_FOOTER_BYTES = 4;

/** One framed record. */
export function frameTfRecord(data: Uint8Array): Buffer {
  const out = Buffer.alloc(TFRECORD_HEADER_BYTES + data.length + TFRECORD_FOOTER_BYTES);
  out.writeBigUInt64LE(BigInt(data.length), 0);
  out.writeUInt32LE(maskedCrc32c(out.subarray(0, 8)), 8);
  out.set(data, TFRECORD_HEADER_BYTES);
  out.writeUInt32LE(maskedCrc32c(data), TFRECORD_HEADER_BYTES + data.length);
  return out;
}

/**
 * A record header (the 12 bytes before the data): its data length, or a reason it is unusable (a bad
 * length CRC means the framing is lost from here on).
 */
export function readTfRecordHeader(header: Uint8Array): { length: bigint } | { error: string } {
  const view = Buffer.from(header.buffer, header.byteOffset, header.byteLength);
  if (view.length < TFRECORD_HEADER_BYTES) return { error: `truncated header: ${view.length} of ${TFRECORD_HEADER_BYTES} bytes` };
  if (view.readUInt32LE(8) !== maskedCrc32c(view.subarray(0, 8))) return { error: 'bad length CRC' };
  return { length: view.readBigUInt64LE(0) };
}

/** Whether the 4 bytes after a record's data are the masked CRC of that data. */
export function tfRecordDataOk(data: Uint8Array, footer: Uint8Array): boolean {
  return Buffer.from(footer.buffer, footer.byteOffset, footer.byteLength).readUInt32LE(0) === maskedCrc32c(data);
}

/** The records of a whole TFRecord file in memory, both CRCs checked; throws naming the byte offset. */
export function parseTfRecords(buf: Uint8Array): Uint8Array[] {
  const records: Uint8Array[] = [];
  for (let off = 0; off < buf.length; ) {
    const header = readTfRecordHeader(buf.subarray(off, off + TFRECORD_HEADER_BYTES));
    if ('error' in header) throw new Error(`TFRecord at byte ${off}: ${header.error}`);
    const length = Number(header.length);
    const end = off + TFRECORD_HEADER_BYTES + length;
    if (end + TFRECORD_FOOTER_BYTES > buf.length) throw new Error(`TFRecord at byte ${off}: truncated (needs ${length} data bytes and a CRC)`);
    const data = buf.subarray(off + TFRECORD_HEADER_BYTES, end);
    if (!tfRecordDataOk(data, buf.subarray(end, end + TFRECORD_FOOTER_BYTES))) throw new Error(`TFRecord at byte ${off}: bad data CRC`);
    records.push(data);
    off = end + TFRECORD_FOOTER_BYTES;
  }
  return records;
}
