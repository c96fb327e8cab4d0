// Tokenizers. GPT-2 BPE comes from `gpt-tokenizer` (its `r50k_base` encoding *is* GPT-2's vocabulary and
// merges, shipped inside the package: works offline, no native code). A local Hugging Face tokenizer folder
// can go through transformers.js, which the user installs themselves (≈470 MB, so not a dependency).
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { WorkerTokenizerSpec } from './encode-pool.js';

export interface TextTokenizer {
  /** Names the vocabulary, merges and library version; part of the token cache key. */
  readonly id: string;
  readonly vocabSize: number;
  /** The end-of-text id put between documents, or null if the tokenizer has none. */
  readonly eosId: number | null;
  /** Text to ids. Special-token strings in the text are encoded as plain text, never as specials. */
  encode(text: string): number[];
  decode(ids: Iterable<number>): string;
  /** How a worker thread rebuilds this tokenizer (for `threads > 1`); absent: tokenized on the calling thread. */
  readonly worker?: WorkerTokenizerSpec;
}

/** `'gpt2'`, a local Hugging Face tokenizer folder (`{ huggingFace: '/path/to/gpt2' }`), or your own. */
export type TokenizerSpec = 'gpt2' | { huggingFace: string } | TextTokenizer;

export const GPT2_VOCAB_SIZE = 50257;
export const GPT2_EOS_ID = 50256;

let gpt2: Promise<TextTokenizer> | undefined;

/** GPT-2 BPE (50,257 ids, `<|endoftext|>` = 50256). Loaded once, on first use (the ranks are ≈1 MB). */
export function gpt2Tokenizer(): Promise<TextTokenizer> {
  gpt2 ??= (async () => {
    const bpe = await import('gpt-tokenizer/encoding/r50k_base');
    const require = createRequire(import.meta.url);
    const { version } = require('gpt-tokenizer/package.json') as { version: string };
    // An empty disallowed set: a literal "<|endoftext|>" in a document is text, not a special token.
    const options = { disallowedSpecial: new Set<string>() };
    const tokenizer: TextTokenizer = {
      id: `gpt2-bpe/gpt-tokenizer@${version}/r50k_base`,
      vocabSize: bpe.vocabularySize,
      eosId: GPT2_EOS_ID,
      encode: (text) => bpe.encode(text, options),
      decode: (ids) => bpe.decode(ids),
      worker: { module: pathToFileURL(require.resolve('gpt-tokenizer/encoding/r50k_base')).href, options },
    };
    return tokenizer;
  })();
  return gpt2;
}

/** The parts of a transformers.js (v3/v4) tokenizer this package uses. */
interface TransformersTokenizer {
  encode(text: string, options?: { add_special_tokens?: boolean }): number[];
  decode(ids: number[], options?: { skip_special_tokens?: boolean }): string;
  /** v4. */
  get_vocab?(): Map<string, number> | Record<string, number>;
  /** v3. */
  model?: { tokens_to_ids?: Map<string, number> };
  eos_token_id?: number | null;
}

/** One more than the largest id, so an embedding table of this size holds every id. */
function vocabularySize(tok: TransformersTokenizer): number {
  const vocab = tok.get_vocab?.() ?? tok.model?.tokens_to_ids;
  if (!vocab) return 0;
  const ids = vocab instanceof Map ? [...vocab.values()] : Object.values(vocab);
  return ids.reduce((max, id) => Math.max(max, id + 1), 0);
}

interface TransformersModule {
  env: { allowRemoteModels: boolean; allowLocalModels: boolean; localModelPath: string };
  AutoTokenizer: { from_pretrained(name: string, options?: Record<string, unknown>): Promise<TransformersTokenizer> };
}

/**
 * Imports an optional package by a name TypeScript cannot see, so it is neither a dependency nor a type error:
 * first as this package would resolve it, then from the current directory's project (where a user installs it).
 */
async function importOptional(name: string): Promise<unknown> {
  const specifier: string = name;
  try {
    return await import(specifier);
  } catch (err) {
    let fromProject: string;
    try {
      fromProject = createRequire(join(process.cwd(), 'package.json')).resolve(name);
    } catch {
      throw err;
    }
    return import(pathToFileURL(fromProject).href);
  }
}

/**
 * A tokenizer from a local Hugging Face tokenizer folder (`tokenizer.json`, `tokenizer_config.json`), through
 * transformers.js. Never downloads: remote models are switched off.
 */
export async function loadHuggingFaceTokenizer(folder: string): Promise<TextTokenizer> {
  const dir = resolve(folder);
  const tokenizerJson = join(dir, 'tokenizer.json');
  if (!(await stat(tokenizerJson).catch(() => null))) {
    throw new Error(`${dir}: no tokenizer.json; pass a local Hugging Face tokenizer folder (it holds tokenizer.json and tokenizer_config.json)`);
  }
  let transformers: TransformersModule;
  try {
    transformers = (await importOptional('@huggingface/transformers')) as TransformersModule;
  } catch (err) {
    throw new Error(
      `a Hugging Face tokenizer folder needs @huggingface/transformers, which is not installed (${err instanceof Error ? err.message.split('\n')[0] : String(err)}). ` +
        `Install it next to your project (npm install @huggingface/transformers; ≈470 MB, set onnxruntime-node-install-cuda=skip in .npmrc), or use tokenizer: 'gpt2'`,
    );
  }
  transformers.env.allowRemoteModels = false;
  transformers.env.allowLocalModels = true;
  transformers.env.localModelPath = dirname(dir) + '/';
  const tok = await transformers.AutoTokenizer.from_pretrained(basename(dir), { local_files_only: true });
  const hash = createHash('sha256');
  hash.update(await readFile(tokenizerJson));
  const config = await readFile(join(dir, 'tokenizer_config.json')).catch(() => null);
  if (config) hash.update(config);
  return {
    id: `hf-tokenizer/${hash.digest('hex').slice(0, 16)}`,
    vocabSize: vocabularySize(tok),
    eosId: tok.eos_token_id ?? null,
    encode: (text) => tok.encode(text, { add_special_tokens: false }),
    decode: (ids) => tok.decode([...ids], { skip_special_tokens: false }),
  };
}

export async function resolveTokenizer(spec: TokenizerSpec = 'gpt2'): Promise<TextTokenizer> {
  if (spec === 'gpt2') return gpt2Tokenizer();
  if ('huggingFace' in spec) return loadHuggingFaceTokenizer(spec.huggingFace);
  return spec;
}
