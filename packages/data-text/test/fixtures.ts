// Fixture writers, independent of the readers under test: apache-arrow's IPC writers for Arrow, parquet-wasm
// (the Rust arrow-rs Parquet writer compiled to wasm) for Parquet, and plain fs writes for raw text.
import { mkdtempSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { RecordBatch, Table, Utf8, tableToIPC, vectorFromArray } from 'apache-arrow';
import * as parquetWasm from 'parquet-wasm';
import { afterAll } from 'vitest';

const made: string[] = [];
// Each test file imports this module afresh (one fork per file), so this removes that file's folders.
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

export function tempDir(prefix = 'data-text-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** An Arrow table of string columns, in record batches of `batchRows` rows. */
export function arrowTable(columns: Record<string, Array<string | null>>, batchRows = Infinity): Table {
  const names = Object.keys(columns);
  const rows = columns[names[0]!]!.length;
  const batches: RecordBatch[] = [];
  for (let start = 0; start < rows || batches.length === 0; start += batchRows) {
    const end = Math.min(rows, start + batchRows);
    const slice = Object.fromEntries(names.map((n) => [n, vectorFromArray(columns[n]!.slice(start, end), new Utf8())]));
    batches.push(...new Table(slice).batches);
    if (end >= rows) break;
  }
  return new Table(batches);
}

export function writeArrow(file: string, table: Table, layout: 'stream' | 'file'): Uint8Array {
  mkdirSync(dirname(file), { recursive: true });
  const bytes = tableToIPC(table, layout);
  writeFileSync(file, bytes);
  return bytes;
}

export function writeParquet(file: string, table: Table, rowGroupRows = 1024): Uint8Array {
  mkdirSync(dirname(file), { recursive: true });
  const wasmTable = parquetWasm.Table.fromIPCStream(tableToIPC(table, 'stream'));
  const props = new parquetWasm.WriterPropertiesBuilder()
    .setMaxRowGroupSize(rowGroupRows)
    .setCompression(parquetWasm.Compression.SNAPPY)
    .build();
  const bytes = parquetWasm.writeParquet(wasmTable, props);
  writeFileSync(file, bytes);
  return bytes;
}

export function writeText(file: string, text: string | Uint8Array): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}

/**
 * A miniature WikiText: the raw file's lines (blank lines are " \n", headings " = T = \n") and the records
 * the Hugging Face loading script makes of them (blank → "").
 */
export const MINI_WIKITEXT_RAW = [
  ' \n',
  ' = Valkyria Chronicles III = \n',
  ' \n',
  ' Senjō no Valkyria 3 : Unrecorded Chronicles is a tactical role @-@ playing video game . \n',
  ' \n',
  ' = = Gameplay = = \n',
  ' \n',
  ' As with previous games , the player controls a squad of 1 @,@ 500 soldiers . \n',
  ' = Tower Building of the Little Rock Arsenal = \n',
  ' \n',
  ' The building was built in 1840 , and it is the oldest structure in the city . \n',
  ' Its name " Tower " comes from the tower at its centre ; <|endoftext|> is text here . \n',
];
export const MINI_WIKITEXT_RECORDS = MINI_WIKITEXT_RAW.map((line) => (line.trim() === '' ? '' : line));
