// The token cache: one Arrow IPC file per (source contents, tokenizer, EOS rule), so a second run reads ids
// instead of tokenizing. Arrow, because it is the format the sources come in, any Arrow tool can open it,
// and apache-arrow reads a column of 100 M ids back as one typed array.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, rm, stat } from 'node:fs/promises';
import { notRegularFileReason, writeFileAtomic } from '@sparse-ift/files';
import { TextDataError } from './errors.js';
import {
  Field,
  Int32,
  RecordBatch,
  Schema,
  Struct,
  Table,
  Uint16,
  makeData,
  tableFromIPC,
  tableToIPC,
} from 'apache-arrow';
import type { TokenIds } from './tokenize.js';

/** Schema metadata key that marks a token cache (and `verifyTextDataset` looks for). */
export const TOKEN_CACHE_KEY = 'sift.token-cache';
export const TOKEN_COLUMN = 'token';
const CACHE_VERSION = 1;
const IDS_PER_BATCH = 1 << 20;

/** sha256 of a file's bytes; large files are streamed in 4 MiB pieces. */
export async function hashFile(file: string): Promise<string> {
  // Before opening: a FIFO would block the hash (and so the load) forever.
  const unreadable = notRegularFileReason(file);
  if (unreadable !== undefined) throw new TextDataError(file, `cannot be read: ${unreadable}`);
  const hash = createHash('sha256');
  if ((await stat(file)).size <= 1 << 24) return hash.update(await readFile(file)).digest('hex');
  for await (const piece of createReadStream(file, { highWaterMark: 1 << 22 }) as AsyncIterable<Buffer>) hash.update(piece);
  return hash.digest('hex');
}

/** Hashes files one after another: hundreds at once would only compete for the disk and memory. */
export async function hashFiles(files: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const file of files) out.push(await hashFile(file));
  return out;
}

export interface TokenCacheMeta {
  version: number;
  tokenizer: string;
  vocabSize: number;
  eosId: number | null;
  /** What was tokenized and how: format, column, EOS rule, anything else that changes the ids. */
  recipe: Record<string, string>;
  /** Source files (as given) and their sha256. */
  sources: Array<{ file: string; sha256: string }>;
  records: number;
  documents: number;
  skipped: number;
}

/** The cache file name: a hash of everything that decides the ids, never of the source paths. */
export function tokenCacheName(meta: Pick<TokenCacheMeta, 'tokenizer' | 'recipe' | 'sources'>): string {
  const key = JSON.stringify({
    version: CACHE_VERSION,
    tokenizer: meta.tokenizer,
    recipe: Object.entries(meta.recipe).sort(([a], [b]) => a.localeCompare(b)),
    sources: meta.sources.map((s) => s.sha256),
  });
  return `tokens-${createHash('sha256').update(key).digest('hex').slice(0, 24)}.arrow`;
}

export async function writeTokenCache(file: string, tokens: TokenIds, meta: TokenCacheMeta): Promise<void> {
  const type = tokens instanceof Uint16Array ? new Uint16() : new Int32();
  const field = new Field(TOKEN_COLUMN, type, false);
  const schema = new Schema([field], new Map([[TOKEN_CACHE_KEY, JSON.stringify(meta)]]));
  const batches: RecordBatch[] = [];
  for (let offset = 0; offset < tokens.length || batches.length === 0; offset += IDS_PER_BATCH) {
    const ids = tokens.subarray(offset, Math.min(tokens.length, offset + IDS_PER_BATCH));
    const child = makeData({ type, length: ids.length, nullCount: 0, data: ids });
    const struct = makeData({ type: new Struct(schema.fields), length: ids.length, nullCount: 0, children: [child] });
    batches.push(new RecordBatch(schema, struct));
    if (ids.length === 0) break;
  }
  const bytes = tableToIPC(new Table(schema, batches), 'file');
  // Atomic: a crash or a full disk never leaves a half-written cache under the final name.
  writeFileAtomic(file, bytes);
}

export interface CachedTokens {
  tokens: TokenIds;
  meta: TokenCacheMeta;
}

/** Reads a token cache; null if absent, unreadable or not a token cache (then it is rebuilt). */
export async function readTokenCache(file: string): Promise<CachedTokens | null> {
  const bytes = await readFile(file).catch(() => null);
  if (!bytes) return null;
  try {
    const table = tableFromIPC(bytes);
    const metaText = table.schema.metadata.get(TOKEN_CACHE_KEY);
    if (!metaText) return null;
    const meta = JSON.parse(metaText) as TokenCacheMeta;
    if (meta.version !== CACHE_VERSION) return null;
    const column = table.getChild(TOKEN_COLUMN);
    if (!column) return null;
    const ids: unknown = column.toArray();
    if (!(ids instanceof Uint16Array || ids instanceof Int32Array)) return null;
    return { tokens: ids, meta };
  } catch {
    return null;
  }
}

export async function removeTokenCache(file: string): Promise<void> {
  await rm(file, { force: true });
}
