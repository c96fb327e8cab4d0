// WikiText's raw release: `wiki.{train,valid,test}.tokens` (and `.raw`), UTF-8, one paragraph or heading a line.
import { createReadStream } from 'node:fs';
import { TextDataError, errorMessage } from './errors.js';
import type { TextChunk } from './text-chunk.js';

const NEWLINE = 0x0a;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * One record per line, normalised as the Hugging Face `wikitext` loading script does, so that the raw files
 * and the hub's Arrow/Parquet copies give the same records: a line keeps its `\n`, and a blank line
 * (WikiText writes ` \n`) becomes the empty string.
 */
export function normaliseWikiTextLine(line: string): string {
  return line.trim() === '' ? '' : line;
}

/** Reads a raw text file line by line; a line that is not valid UTF-8 comes back `null` with a reason. */
export async function* readRawLines(file: string): AsyncGenerator<TextChunk> {
  const stream = createReadStream(file, { highWaterMark: 1 << 20 });
  let carry: Buffer = Buffer.alloc(0);
  let next = 0;
  const decodeLine = (bytes: Buffer, texts: Array<string | null>, reasons: Map<number, string>, newline: boolean): void => {
    try {
      const line = utf8.decode(bytes) + (newline ? '\n' : '');
      texts.push(normaliseWikiTextLine(line));
    } catch {
      reasons.set(texts.length, 'line is not valid UTF-8');
      texts.push(null);
    }
  };
  try {
    for await (const piece of stream as AsyncIterable<Buffer>) {
      const data = carry.length > 0 ? Buffer.concat([carry, piece]) : piece;
      const texts: Array<string | null> = [];
      const reasons = new Map<number, string>();
      let lineStart = 0;
      for (let nl = data.indexOf(NEWLINE, 0); nl >= 0; nl = data.indexOf(NEWLINE, lineStart)) {
        decodeLine(data.subarray(lineStart, nl), texts, reasons, true);
        lineStart = nl + 1;
      }
      carry = Buffer.from(data.subarray(lineStart));
      if (texts.length > 0) {
        yield { file, start: next, texts, reasons };
        next += texts.length;
      }
    }
  } catch (err) {
    throw new TextDataError(file, `cannot read: ${errorMessage(err)}`, next);
  }
  if (carry.length > 0) {
    const texts: Array<string | null> = [];
    const reasons = new Map<number, string>();
    decodeLine(carry, texts, reasons, false);
    yield { file, start: next, texts, reasons };
  }
}
