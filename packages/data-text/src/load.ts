// Source files → token ids, through the token cache.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { TextDataError } from './errors.js';
import { findSplitFiles, readTextChunks, type Split } from './records.js';
import type { TextChunk, TextFormat } from './text-chunk.js';
import { hashFiles, readTokenCache, tokenCacheName, writeTokenCache, type TokenCacheMeta } from './token-cache.js';
import { tokenizeChunks, type EosRule, type TokenIds } from './tokenize.js';
import { resolveTokenizer, type TextTokenizer, type TokenizerSpec } from './tokenizer.js';

export interface TokenizeFilesOptions {
  /** Default `'gpt2'`. */
  tokenizer?: TokenizerSpec;
  /** Where the end-of-text id goes (see `EosRule`). */
  eos?: EosRule;
  /** The text column of Arrow/Parquet files. Default `text`. */
  column?: string;
  /** Folder for `tokens-<hash>.arrow`; default `$SIFT_CACHE_DIR` or `~/.cache/sparse-ift/tokens`; false: no cache. */
  cacheDir?: string | false;
  onBadRecord?: 'error' | 'skip';
  onProgress?: (progress: { records: number; tokens: number }) => void;
  /** Worker threads for tokenizing (default 1). The ids, and so the cache, do not depend on it. */
  threads?: number;
}

export interface TokenizedSplit {
  /** The flat id stream, end-of-text ids included. */
  tokens: TokenIds;
  files: string[];
  tokenizer: string;
  vocabSize: number;
  eosId: number | null;
  records: number;
  documents: number;
  skipped: number;
  /** The cache file read or written, or null without a cache. */
  cacheFile: string | null;
  /** True when the ids came from the cache and nothing was tokenized. */
  fromCache: boolean;
}

export function defaultCacheDir(): string {
  return process.env['SIFT_CACHE_DIR'] ?? join(homedir(), '.cache', 'sparse-ift', 'tokens');
}

/**
 * Tokenizes what `chunks()` reads from `files`, or reads the ids back from the cache. The cache key is the
 * sha256 of every source file, the tokenizer id and `recipe`: change any and the ids are made again.
 */
export async function tokenizeWithCache(
  files: string[],
  chunks: () => AsyncIterable<TextChunk>,
  recipe: Record<string, string>,
  options: TokenizeFilesOptions & { eos: EosRule },
): Promise<TokenizedSplit> {
  const tokenizer: TextTokenizer = await resolveTokenizer(options.tokenizer);
  const fullRecipe = { ...recipe, eos: options.eos, onBadRecord: options.onBadRecord ?? 'error' };
  const cacheDir = options.cacheDir === undefined ? defaultCacheDir() : options.cacheDir;
  let cacheFile: string | null = null;
  let sources: TokenCacheMeta['sources'] = [];
  if (cacheDir !== false) {
    const hashes = await hashFiles(files);
    sources = files.map((file, i) => ({ file: resolve(file), sha256: hashes[i]! }));
    cacheFile = join(cacheDir, tokenCacheName({ tokenizer: tokenizer.id, recipe: fullRecipe, sources }));
    const cached = await readTokenCache(cacheFile);
    if (cached && cached.meta.tokenizer === tokenizer.id) {
      const { meta } = cached;
      return {
        tokens: cached.tokens,
        files,
        tokenizer: meta.tokenizer,
        vocabSize: meta.vocabSize,
        eosId: meta.eosId,
        records: meta.records,
        documents: meta.documents,
        skipped: meta.skipped,
        cacheFile,
        fromCache: true,
      };
    }
  }
  const made = await tokenizeChunks(chunks(), tokenizer, {
    eos: options.eos,
    ...(options.onBadRecord ? { onBadRecord: options.onBadRecord } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.threads ? { threads: options.threads } : {}),
  });
  if (cacheFile) {
    await writeTokenCache(cacheFile, made.tokens, {
      version: 1,
      tokenizer: tokenizer.id,
      vocabSize: tokenizer.vocabSize,
      eosId: tokenizer.eosId,
      recipe: fullRecipe,
      sources,
      records: made.records,
      documents: made.documents,
      skipped: made.skipped,
    });
  }
  return {
    ...made,
    files,
    tokenizer: tokenizer.id,
    vocabSize: tokenizer.vocabSize,
    eosId: tokenizer.eosId,
    cacheFile,
    fromCache: false,
  };
}

async function* chunksOf(files: string[], format: TextFormat, column: string): AsyncGenerator<TextChunk> {
  for (const file of files) yield* readTextChunks(file, format, column);
}

/** Tokenizes text files of one format (Arrow, Parquet or raw lines), in the order given, with the cache. */
export function tokenizeFiles(files: string[], format: TextFormat, options: TokenizeFilesOptions = {}): Promise<TokenizedSplit> {
  const column = options.column ?? 'text';
  const eos = options.eos ?? 'record';
  return tokenizeWithCache(files, () => chunksOf(files, format, column), { format, column: format === 'tokens' ? '' : column }, { ...options, eos });
}

export interface WikiTextOptions extends TokenizeFilesOptions {
  /** A folder holding the data set in any supported layout, or one file. */
  path: string;
  split: Split;
  /** Which layout to read when a folder holds several. */
  format?: TextFormat;
}

/**
 * WikiText-103 (or -2) from the Hugging Face cache (Arrow), the hub's Parquet export or the raw
 * `wiki.*.tokens` files, as GPT-2 ids with `<|endoftext|>` after each article (`eos: 'wikitext-article'`).
 */
export async function loadWikiText103(options: WikiTextOptions): Promise<TokenizedSplit & { format: TextFormat }> {
  const { format, files } = await findSplitFiles(options.path, options.split, options.format);
  const split = await tokenizeFiles(files, format, { eos: 'wikitext-article', ...options });
  // An empty split would train on nothing or evaluate to NaN.
  if (split.tokens.length === 0) throw new TextDataError(options.path, `split "${options.split}" holds no text (${files.length} file(s), 0 tokens)`);
  return { ...split, format };
}
