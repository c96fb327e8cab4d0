/**
 * Records come out of every reader in chunks (one Arrow record batch, one Parquet row group, one read
 * buffer of lines): per-record objects would cost more than the tokenizer for WikiText-103's 1.8 M lines.
 */
export interface TextChunk {
  file: string;
  /** 0-based index, in the file, of `texts[0]`. */
  start: number;
  /** One entry per record; `null` where the record has no usable text (see `reasons`). */
  texts: Array<string | null>;
  /** Why a record is `null`, by index into `texts`. */
  reasons: Map<number, string>;
}

/** The formats this package reads text from. `tokens` is WikiText's raw `wiki.*.tokens` (one record a line). */
export type TextFormat = 'arrow' | 'parquet' | 'tokens';
