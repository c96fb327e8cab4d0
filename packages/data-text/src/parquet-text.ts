// Parquet, as the Hugging Face hub exports data sets (`wikitext-103-raw-v1/train-00000-of-00002.parquet`),
// read with hyparquet: pure JavaScript, no native or wasm code, reads one column of one row group at a time.
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, parquetSchema, type AsyncBuffer, type FileMetaData } from 'hyparquet';
import { TextDataError, errorMessage } from './errors.js';
import type { TextChunk } from './text-chunk.js';

export interface OpenedParquet {
  buffer: AsyncBuffer;
  metadata: FileMetaData;
  /** Top-level column names. */
  columns: string[];
}

export async function openParquet(file: string): Promise<OpenedParquet> {
  let buffer: AsyncBuffer;
  try {
    buffer = await asyncBufferFromFile(file);
  } catch (err) {
    throw new TextDataError(file, `cannot open: ${errorMessage(err)}`);
  }
  try {
    const metadata = await parquetMetadataAsync(buffer);
    const columns = parquetSchema(metadata).children.map((c) => c.element.name);
    return { buffer, metadata, columns };
  } catch (err) {
    throw new TextDataError(file, `not a readable Parquet file (${errorMessage(err)}); it is truncated or corrupt, re-download it`);
  }
}

export function requireParquetColumn(file: string, columns: string[], column: string): void {
  if (!columns.includes(column)) {
    throw new TextDataError(file, `no "${column}" column; the columns are: ${columns.join(', ') || '(none)'}. Pass { column: '<name>' } to read another one`);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Reads the string column `column` of a Parquet file, one chunk per row group. */
export async function* readParquetText(file: string, column = 'text'): AsyncGenerator<TextChunk> {
  const { buffer, metadata, columns } = await openParquet(file);
  requireParquetColumn(file, columns, column);
  let start = 0;
  for (const group of metadata.row_groups) {
    const rows = Number(group.num_rows);
    let objects: Array<Record<string, unknown>>;
    try {
      objects = await parquetReadObjects({ file: buffer, metadata, columns: [column], rowStart: start, rowEnd: start + rows });
    } catch (err) {
      throw new TextDataError(file, `unreadable Parquet row group (${errorMessage(err)}); the file is corrupt, re-download it`, start);
    }
    if (objects.length !== rows) {
      throw new TextDataError(file, `row group holds ${objects.length} rows, its metadata says ${rows}; the file is corrupt`, start);
    }
    const texts: Array<string | null> = new Array<string | null>(rows);
    const reasons = new Map<number, string>();
    for (let i = 0; i < rows; i++) {
      const value = objects[i]![column];
      if (typeof value === 'string') texts[i] = value;
      else if (value instanceof Uint8Array) {
        // A BYTE_ARRAY column written without the UTF8 annotation.
        try {
          texts[i] = utf8.decode(value);
        } catch {
          texts[i] = null;
          reasons.set(i, `"${column}" is not valid UTF-8`);
        }
      } else {
        texts[i] = null;
        reasons.set(i, value == null ? `"${column}" is null` : `"${column}" is a ${typeof value}, not a string`);
      }
    }
    yield { file, start, texts, reasons };
    start += rows;
  }
}
