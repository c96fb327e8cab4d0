// Which files hold a split, in which format, and one reader over all of them.
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { readArrowText } from './arrow-text.js';
import { readParquetText } from './parquet-text.js';
import { readRawLines } from './raw-text.js';
import { notRegularFileReason } from '@sparse-ift/files';
import { TextDataError } from './errors.js';
import type { TextChunk, TextFormat } from './text-chunk.js';

export type Split = 'train' | 'validation' | 'test';

/** The format a file's name says, or null. `.tokens`/`.raw` are WikiText's raw releases. */
export function formatOfFile(file: string): TextFormat | null {
  if (file.endsWith('.arrow')) return 'arrow';
  if (file.endsWith('.parquet')) return 'parquet';
  if (file.endsWith('.tokens') || file.endsWith('.raw')) return 'tokens';
  return null;
}

/** Files no loader should read as data: Hugging Face `map()` caches and this package's token caches. */
function isCacheFile(file: string): boolean {
  const name = basename(file);
  return name.startsWith('cache-') || name.startsWith('tokens-');
}

async function walk(dir: string, depth: number, out: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  for (const entry of entries) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (depth > 0 && !entry.name.startsWith('.')) await walk(full, depth - 1, out);
    } else {
      // Files, links and anything else with a data file's name: a reader refuses what is not a regular file.
      out.push(full);
    }
  }
}

/**
 * `path` itself if it is a file, else the files of `format` under it (4 levels deep), sorted. Hugging Face
 * `cache-*.arrow` files are left out, and so are this package's `tokens-*.arrow` unless `withTokenCaches`.
 */
export async function listFiles(path: string, format: TextFormat, withTokenCaches = false): Promise<string[]> {
  const info = await stat(path).catch(() => null);
  if (!info) throw new TextDataError(path, 'no such file or directory');
  if (info.isFile()) return [path];
  if (!info.isDirectory()) throw new TextDataError(path, `${notRegularFileReason(path) ?? 'not a file'}; pass a data file or a folder`);
  const all: string[] = [];
  await walk(path, 4, all);
  return all
    .filter((f) => formatOfFile(f) === format && !(isCacheFile(f) && !(withTokenCaches && basename(f).startsWith('tokens-'))))
    .sort();
}

const SPLIT_NAMES: Record<Split, string[]> = {
  train: ['train'],
  validation: ['validation', 'valid', 'val'],
  test: ['test'],
};

/**
 * Finds a split's files under `root`, in the layouts users have: the Hugging Face datasets cache
 * (`wikitext-train-00000-of-00002.arrow`, `save_to_disk`'s `train/data-00000-of-00001.arrow`), the hub's
 * Parquet export (`wikitext-103-raw-v1/train-00000-of-00002.parquet`), and the raw release
 * (`wiki.train.tokens`). A split matches a whole word of the path below `root`.
 */
export async function findSplitFiles(root: string, split: Split, format?: TextFormat): Promise<{ format: TextFormat; files: string[] }> {
  const info = await stat(root).catch(() => null);
  if (!info) throw new TextDataError(root, 'no such file or directory; pass the folder that holds the data set');
  if (info.isFile()) {
    const fileFormat = format ?? formatOfFile(root);
    if (!fileFormat) throw new TextDataError(root, 'unknown format; pass { format: "arrow" | "parquet" | "tokens" }');
    return { format: fileFormat, files: [root] };
  }
  const names = SPLIT_NAMES[split];
  const formats: TextFormat[] = format ? [format] : ['arrow', 'parquet', 'tokens'];
  for (const f of formats) {
    const files = (await listFiles(root, f)).filter((file) =>
      relative(root, file).split(/[\\/._-]+/).some((word) => names.includes(word)),
    );
    if (files.length === 0) continue;
    // Several configs side by side (wikitext-103-raw-v1/, wikitext-2-raw-v1/, …) must not be mixed.
    const dirs = [...new Set(files.map((file) => dirname(file)))];
    if (dirs.length > 1) {
      throw new TextDataError(root, `split "${split}" has ${f} files in several folders (${dirs.join(', ')}); pass the one folder you mean`);
    }
    return { format: f, files };
  }
  throw new TextDataError(
    root,
    `found no ${format ?? 'arrow, parquet or tokens'} files for split "${split}" (looked for ${names.join('/')} in file and folder names); pass the split's files instead`,
  );
}

/**
 * One reader for every format. A path that is not a regular file (a FIFO would block the reader forever)
 * is refused before it is opened, and a file holding no records is an error: the loaders and
 * `verifyTextDataset` read through here, so they accept and refuse the same files.
 */
export function readTextChunks(file: string, format: TextFormat, column = 'text'): AsyncGenerator<TextChunk> {
  const unreadable = notRegularFileReason(file);
  if (unreadable !== undefined) throw new TextDataError(file, `cannot be read: ${unreadable}`);
  const chunks = format === 'arrow' ? readArrowText(file, column) : format === 'parquet' ? readParquetText(file, column) : readRawLines(file);
  return refuseEmpty(file, chunks);
}

async function* refuseEmpty(file: string, chunks: AsyncGenerator<TextChunk>): AsyncGenerator<TextChunk> {
  let records = 0;
  for await (const chunk of chunks) {
    records += chunk.texts.length;
    yield chunk;
  }
  if (records === 0) throw new TextDataError(file, 'holds no records: an empty data file is a mistake (a failed copy?); remove it or copy it again');
}

/** Every record of `files` in order: convenient for small data and tests (holds them all in memory). */
export async function readAllTexts(files: string[], format: TextFormat, column = 'text'): Promise<Array<string | null>> {
  const out: Array<string | null> = [];
  for (const file of files) {
    for await (const chunk of readTextChunks(file, format, column)) for (const text of chunk.texts) out.push(text);
  }
  return out;
}
