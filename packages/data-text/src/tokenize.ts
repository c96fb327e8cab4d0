// Text records → one flat stream of token ids, with an end-of-text id after each document.
import { TextDataError } from './errors.js';
import type { TextChunk } from './text-chunk.js';
import type { TextTokenizer } from './tokenizer.js';
import { EncodePool, type EncodedChunk } from './encode-pool.js';

/** GPT-2's 50,257 ids fit in 16 bits: half the memory and cache size of Int32. */
export type TokenIds = Uint16Array | Int32Array;

/**
 * Where the end-of-text id goes.
 * - `wikitext-article`: after each WikiText article. An article starts at a top-level heading line
 *   (` = Title = `; ` = = Section = = ` is not one), as in the Hugging Face records and the raw files.
 * - `file`: after each file (the Brown corpus: one file, one document).
 * - `record`: after each non-empty record (data sets with one document a row).
 * - `none`: never; records are only concatenated.
 * Within a document records are concatenated as they are; WikiText lines keep their `\n`, so tokenizing
 * line by line gives the ids of tokenizing the whole article (GPT-2's pre-split never joins across `\n `).
 */
export type EosRule = 'wikitext-article' | 'file' | 'record' | 'none';

const WIKITEXT_ARTICLE_HEADING = /^ = [^=].* = \n?$/;

export function isWikiTextArticleHeading(text: string): boolean {
  return WIKITEXT_ARTICLE_HEADING.test(text);
}

export interface TokenizeOptions {
  eos: EosRule;
  /** `error` (default): a null or undecodable record stops with an error naming file and record. `skip`: count it. */
  onBadRecord?: 'error' | 'skip';
  /** Called after each chunk of records. */
  onProgress?: (progress: { records: number; tokens: number }) => void;
  /**
   * Worker threads for the BPE (default 1: none). Needs a tokenizer with a `worker` spec (the built-in GPT-2 has
   * one); the ids are the same for any thread count.
   */
  threads?: number;
}

export interface TokenizedText {
  tokens: TokenIds;
  /** Records read, bad ones included. */
  records: number;
  /** End-of-text ids placed (0 with `eos: 'none'`). */
  documents: number;
  /** Bad records skipped (`onBadRecord: 'skip'`). */
  skipped: number;
}

/** A growable typed array of token ids. */
export class TokenBuffer {
  private data: TokenIds;
  length = 0;

  constructor(vocabSize: number, capacity = 1 << 16) {
    this.data = vocabSize <= 65536 ? new Uint16Array(capacity) : new Int32Array(capacity);
  }

  push(id: number): void {
    if (this.length === this.data.length) this.grow(this.length + 1);
    this.data[this.length++] = id;
  }

  pushAll(ids: ArrayLike<number>): void {
    if (this.length + ids.length > this.data.length) this.grow(this.length + ids.length);
    for (let i = 0; i < ids.length; i++) this.data[this.length + i] = ids[i]!;
    this.length += ids.length;
  }

  private grow(needed: number): void {
    let capacity = this.data.length * 2;
    while (capacity < needed) capacity *= 2;
    const next = this.data instanceof Uint16Array ? new Uint16Array(capacity) : new Int32Array(capacity);
    next.set(this.data.subarray(0, this.length));
    this.data = next;
  }

  /** The ids, trimmed to length (a copy, so the slack is freed). */
  finish(): TokenIds {
    return this.data.slice(0, this.length);
  }
}

export async function tokenizeChunks(
  chunks: AsyncIterable<TextChunk>,
  tokenizer: TextTokenizer,
  options: TokenizeOptions,
): Promise<TokenizedText> {
  const { eos, onBadRecord = 'error', onProgress } = options;
  if (eos !== 'none' && tokenizer.eosId === null) {
    throw new Error(`tokenizer ${tokenizer.id} has no end-of-text id; pass eos: 'none'`);
  }
  const eosId = tokenizer.eosId ?? -1;
  const buffer = new TokenBuffer(tokenizer.vocabSize, 1 << 20);
  let records = 0;
  let documents = 0;
  let skipped = 0;
  let sinceEos = 0; // tokens of the current document
  let lastFile: string | undefined;
  const endDocument = (): void => {
    if (sinceEos > 0) {
      buffer.push(eosId);
      documents++;
      sinceEos = 0;
    }
  };
  /** Adds one chunk's records; `idsOf(i)` gives record i's ids (only asked for non-empty text). */
  const addChunk = (chunk: TextChunk, idsOf: (i: number, text: string) => ArrayLike<number>): void => {
    if (eos === 'file' && chunk.file !== lastFile) endDocument();
    lastFile = chunk.file;
    for (let i = 0; i < chunk.texts.length; i++) {
      records++;
      const text = chunk.texts[i];
      if (text === null || text === undefined) {
        const reason = chunk.reasons.get(i) ?? 'no text';
        if (onBadRecord === 'skip') {
          skipped++;
          continue;
        }
        throw new TextDataError(chunk.file, `${reason}; fix the file or pass onBadRecord: 'skip'`, chunk.start + i);
      }
      if (eos === 'wikitext-article' && isWikiTextArticleHeading(text)) endDocument();
      if (text.length === 0) continue;
      const ids = idsOf(i, text);
      buffer.pushAll(ids);
      sinceEos += ids.length;
      if (eos === 'record') endDocument();
    }
    onProgress?.({ records, tokens: buffer.length });
  };

  const threads = options.threads ?? 1;
  if (threads > 1 && tokenizer.worker) {
    // Keep a few chunks in flight per worker, and add them back in their order.
    const pool = new EncodePool(threads, tokenizer.worker);
    const inFlight: Array<{ chunk: TextChunk; encoded: Promise<EncodedChunk> }> = [];
    const addOldest = async (): Promise<void> => {
      const { chunk, encoded } = inFlight.shift()!;
      const { ids, lengths } = await encoded;
      let offset = 0;
      const offsets = new Uint32Array(lengths.length);
      for (let i = 0; i < lengths.length; i++) {
        offsets[i] = offset;
        offset += lengths[i]!;
      }
      addChunk(chunk, (i) => ids.subarray(offsets[i]!, offsets[i]! + lengths[i]!));
    };
    try {
      for await (const chunk of chunks) {
        inFlight.push({ chunk, encoded: pool.encode(chunk.texts) });
        // Mark as handled now; the error surfaces when this chunk's turn comes.
        inFlight[inFlight.length - 1]!.encoded.catch(() => undefined);
        if (inFlight.length >= threads * 3) await addOldest();
      }
      while (inFlight.length > 0) await addOldest();
    } finally {
      await pool.close();
    }
  } else {
    for await (const chunk of chunks) addChunk(chunk, (_, text) => tokenizer.encode(text));
  }
  if (eos !== 'none') endDocument();
  return { tokens: buffer.finish(), records, documents, skipped };
}
