// Arrow IPC readers: the Hugging Face datasets cache writes IPC *streams* (`data-*.arrow`,
// `wikitext-train-*.arrow`); other tools write IPC *files* (magic `ARROW1` at both ends).
import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import {
  DataType,
  RecordBatchReader,
  type Schema,
  type Vector,
  type AsyncRecordBatchFileReader,
  type AsyncRecordBatchStreamReader,
} from 'apache-arrow';
import { TextDataError, errorMessage } from './errors.js';
import type { TextChunk } from './text-chunk.js';

const FILE_MAGIC = Buffer.from('ARROW1', 'latin1');
/** Arrow ≥ 0.15 ends a stream with a continuation marker and a zero length. pyarrow always writes it. */
const STREAM_END = Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);

export type ArrowLayout = 'file' | 'stream';
type AsyncRecordBatchReader = AsyncRecordBatchFileReader | AsyncRecordBatchStreamReader;

/**
 * Tells an Arrow IPC file from a stream and checks its ending, because apache-arrow's stream reader
 * stops quietly at a cut between two messages: a stream without the end marker was cut short.
 */
export async function checkArrowLayout(file: string): Promise<ArrowLayout> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    throw new TextDataError(file, `cannot open: ${errorMessage(err)}`);
  }
  try {
    const { size } = await handle.stat();
    if (size < 8) {
      throw new TextDataError(file, `${size} bytes is too short for an Arrow IPC file or stream; the file is truncated or not Arrow`);
    }
    const head = Buffer.alloc(8);
    const tail = Buffer.alloc(8);
    await handle.read(head, 0, 8, 0);
    await handle.read(tail, 0, 8, size - 8);
    if (head.subarray(0, 6).equals(FILE_MAGIC)) {
      if (!tail.subarray(2).equals(FILE_MAGIC)) {
        throw new TextDataError(file, 'truncated Arrow IPC file: it starts with ARROW1 but has no footer (ARROW1 at the end); re-download or re-export it');
      }
      return 'file';
    }
    if (!tail.equals(STREAM_END)) {
      throw new TextDataError(file, 'truncated Arrow IPC stream: it does not end with the end-of-stream marker (ffffffff00000000); re-download or regenerate the cache file');
    }
    return 'stream';
  } finally {
    await handle.close();
  }
}

function isStringType(type: DataType): boolean {
  if (DataType.isDictionary(type)) return isStringType(type.dictionary);
  return DataType.isUtf8(type) || DataType.isLargeUtf8(type);
}

/** The column's schema check, shared by the text reader and `verifyTextDataset`. */
export function findStringColumn(file: string, schema: Schema, column: string): number {
  const index = schema.fields.findIndex((f) => f.name === column);
  if (index < 0) {
    const have = schema.fields.map((f) => f.name).join(', ') || '(none)';
    throw new TextDataError(file, `no "${column}" column; the columns are: ${have}. Pass { column: '<name>' } to read another one`);
  }
  const type = schema.fields[index]!.type;
  if (!isStringType(type)) {
    throw new TextDataError(file, `column "${column}" holds ${String(type)}, not strings`);
  }
  return index;
}

/** Opens an Arrow IPC file or stream with apache-arrow, streaming from disk (no whole-file read). */
export async function openArrowReader(file: string): Promise<{ layout: ArrowLayout; reader: AsyncRecordBatchReader; close: () => Promise<void> }> {
  const layout = await checkArrowLayout(file);
  try {
    if (layout === 'file') {
      // The file layout needs random access to the footer: give apache-arrow the FileHandle.
      const handle = await open(file, 'r');
      const reader = (await RecordBatchReader.from(handle)) as AsyncRecordBatchReader;
      await reader.open();
      return { layout, reader, close: async () => { await reader.cancel(); await handle.close().catch(() => undefined); } };
    }
    const stream = createReadStream(file, { highWaterMark: 1 << 20 });
    const reader = (await RecordBatchReader.from(stream)) as AsyncRecordBatchReader;
    await reader.open();
    return { layout, reader, close: async () => { await reader.cancel(); stream.destroy(); } };
  } catch (err) {
    throw err instanceof TextDataError ? err : new TextDataError(file, `not a readable Arrow IPC ${layout}: ${errorMessage(err)}`);
  }
}

/** Reads the string column `column` of an Arrow IPC file or stream, one chunk per record batch. */
export async function* readArrowText(file: string, column = 'text'): AsyncGenerator<TextChunk> {
  const { reader, close } = await openArrowReader(file);
  let next = 0;
  try {
    const columnIndex = findStringColumn(file, reader.schema, column);
    const batches = reader[Symbol.asyncIterator]();
    for (;;) {
      let step: IteratorResult<{ numRows: number; getChildAt(i: number): Vector | null }>;
      try {
        step = await batches.next();
      } catch (err) {
        throw new TextDataError(file, `unreadable Arrow data (${errorMessage(err)}); the file is truncated or corrupt`, next);
      }
      if (step.done) break;
      const batch = step.value;
      const vector = batch.getChildAt(columnIndex)!;
      const texts: Array<string | null> = new Array<string | null>(batch.numRows);
      const reasons = new Map<number, string>();
      for (let i = 0; i < batch.numRows; i++) {
        const value: unknown = vector.get(i);
        if (typeof value === 'string') texts[i] = value;
        else {
          texts[i] = null;
          reasons.set(i, `"${column}" is null`);
        }
      }
      yield { file, start: next, texts, reasons };
      next += batch.numRows;
    }
  } finally {
    await close();
  }
}
