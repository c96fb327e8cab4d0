// The report verifyTextDataset returns (declared once, in @sparse-ift/files, for both data packages).
export type { BadRecord, VerifyReport } from '@sparse-ift/files';
export { TextDataError } from './errors.js';
export type { TextChunk, TextFormat } from './text-chunk.js';
export { checkArrowLayout, readArrowText, type ArrowLayout } from './arrow-text.js';
export { readParquetText } from './parquet-text.js';
export { readRawLines, normaliseWikiTextLine } from './raw-text.js';
export { findSplitFiles, formatOfFile, listFiles, readAllTexts, readTextChunks, type Split } from './records.js';
export {
  GPT2_EOS_ID,
  GPT2_VOCAB_SIZE,
  gpt2Tokenizer,
  loadHuggingFaceTokenizer,
  resolveTokenizer,
  type TextTokenizer,
  type TokenizerSpec,
} from './tokenizer.js';
export {
  TokenBuffer,
  isWikiTextArticleHeading,
  tokenizeChunks,
  type EosRule,
  type TokenIds,
  type TokenizeOptions,
  type TokenizedText,
} from './tokenize.js';
export {
  TOKEN_CACHE_KEY,
  TOKEN_COLUMN,
  hashFile,
  hashFiles,
  readTokenCache,
  tokenCacheName,
  writeTokenCache,
  type CachedTokens,
  type TokenCacheMeta,
} from './token-cache.js';
export {
  defaultCacheDir,
  loadWikiText103,
  tokenizeFiles,
  tokenizeWithCache,
  type TokenizeFilesOptions,
  type TokenizedSplit,
  type WikiTextOptions,
} from './load.js';
export { TokenBlocks, blockOrder, lmBatches, type BatchOptions, type BlockLayout, type LmBatch, type OrderOptions } from './pack.js';
export {
  brownCorpusDir,
  brownDocuments,
  brownSplitOf,
  detokenizeBrownSentence,
  loadBrownCorpus,
  readBrownDocument,
  type BrownDocument,
  type BrownOptions,
} from './brown.js';
export { countWords, verifyTextDataset, type VerifyTextOptions } from './verify.js';
export { EncodePool, type EncodedChunk, type WorkerTokenizerSpec } from './encode-pool.js';
