// `verifyTextDataset`: read every record of every file and report what is wrong, file by file, record by
// record, instead of stopping at the first problem. `sift data verify` prints the report.
import { TOKEN_CACHE_KEY, TOKEN_COLUMN, type TokenCacheMeta } from './token-cache.js';
import { findStringColumn, openArrowReader } from './arrow-text.js';
import { TextDataError, errorMessage } from './errors.js';
import { listFiles, readTextChunks } from './records.js';
import type { TextFormat } from './text-chunk.js';
import { notRegularFileReason, type BadRecord, type VerifyReport } from '@sparse-ift/files';

export interface VerifyTextOptions {
  format: TextFormat;
  /** The text column of Arrow/Parquet files. Default `text`. */
  column?: string;
}

/** Whitespace-separated words, as `wc -w` counts them. */
export function countWords(text: string): number {
  let words = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const space = c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0x3000 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029;
    if (space) inWord = false;
    else if (!inWord) {
      inWord = true;
      words++;
    }
  }
  return words;
}

interface FileTally {
  records: number;
  tokens: number;
  bad: BadRecord[];
}

/** A token cache: every id must be below the vocabulary size it was made with. */
async function verifyTokenCache(file: string, metaText: string, reader: Awaited<ReturnType<typeof openArrowReader>>['reader']): Promise<FileTally> {
  const tally: FileTally = { records: 0, tokens: 0, bad: [] };
  let meta: TokenCacheMeta;
  try {
    meta = JSON.parse(metaText) as TokenCacheMeta;
  } catch (err) {
    tally.bad.push({ file, record: 0, reason: `token cache metadata is not JSON (${errorMessage(err)}); delete the cache file` });
    return tally;
  }
  const column = reader.schema.fields.findIndex((f) => f.name === TOKEN_COLUMN);
  if (column < 0) {
    tally.bad.push({ file, record: 0, reason: `token cache has no "${TOKEN_COLUMN}" column; delete the cache file` });
    return tally;
  }
  try {
    for await (const batch of reader) {
      const ids = batch.getChildAt(column)!.toArray() as ArrayLike<number>;
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i]!;
        if (!(id >= 0 && id < meta.vocabSize)) {
          tally.bad.push({ file, record: tally.records + i, reason: `token id ${id} is outside the vocabulary [0, ${meta.vocabSize})` });
        }
      }
      tally.records += ids.length;
    }
  } catch (err) {
    tally.bad.push({ file, record: tally.records, reason: `unreadable Arrow data (${errorMessage(err)}); the file is truncated or corrupt` });
  }
  tally.tokens = tally.records;
  return tally;
}

async function verifyFile(file: string, format: TextFormat, column: string): Promise<FileTally> {
  const unreadable = notRegularFileReason(file);
  if (unreadable !== undefined) return { records: 0, tokens: 0, bad: [{ file, record: 0, reason: `cannot be read: ${unreadable}` }] };
  if (format === 'arrow') {
    // A token cache is an Arrow file too: check its ids instead of a text column.
    try {
      const opened = await openArrowReader(file);
      const metaText = opened.reader.schema.metadata.get(TOKEN_CACHE_KEY);
      try {
        if (metaText !== undefined) return await verifyTokenCache(file, metaText, opened.reader);
        findStringColumn(file, opened.reader.schema, column);
      } finally {
        await opened.close();
      }
    } catch (err) {
      return { records: 0, tokens: 0, bad: [{ file, record: 0, reason: errorMessage(err) }] };
    }
  }
  const tally: FileTally = { records: 0, tokens: 0, bad: [] };
  try {
    for await (const chunk of readTextChunks(file, format, column)) {
      for (let i = 0; i < chunk.texts.length; i++) {
        const text = chunk.texts[i];
        if (typeof text === 'string') tally.tokens += countWords(text);
        else tally.bad.push({ file, record: chunk.start + i, reason: chunk.reasons.get(i) ?? 'no text' });
      }
      tally.records = chunk.start + chunk.texts.length;
    }
  } catch (err) {
    const record = err instanceof TextDataError && err.record !== undefined ? err.record : tally.records;
    // The report names the file and record already: drop them from the message.
    const reason = errorMessage(err).replace(`${file}: `, '').replace(/^record \d+: /, '');
    tally.bad.push({ file, record, reason: `${reason} (reading stopped here)` });
  }
  return tally;
}

/**
 * Reads every record of the files at `path` (a file, or a folder searched 4 levels deep) and reports records,
 * tokens and every bad record by file and index. `tokens` counts whitespace-separated words of the text (compare
 * with `wc -w`), or the ids of a token cache. A file that cannot be read past some point gives one bad entry
 * at that record, and its reading stops there. A path that does not exist or holds no files of `format` throws.
 */
export async function verifyTextDataset(path: string, opts: VerifyTextOptions): Promise<VerifyReport> {
  const { format, column = 'text' } = opts;
  const files = await listFiles(path, format, true);
  if (files.length === 0) {
    // Nothing to read at all is a usage error (thrown), not a bad record.
    throw new TextDataError(path, `no ${format} files here (searched 4 folders deep); pass the right --format or folder`);
  }
  const report: VerifyReport = { format, files, records: 0, tokens: 0, bad: [] };
  for (const file of files) {
    const tally = await verifyFile(file, format, column);
    report.records += tally.records;
    report.tokens = (report.tokens ?? 0) + tally.tokens;
    for (const bad of tally.bad) report.bad.push(bad);
  }
  return report;
}
