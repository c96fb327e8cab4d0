// Tokenizers. GPT-2 BPE comes from `gpt-tokenizer` (its `r50k_base` encoding *is* GPT-2's vocabulary and
// merges, shipped inside the package: works offline, no native code). A local Hugging Face tokenizer folder
// can go through transformers.js, which the user installs themselves (≈470 MB, so not a dependency).
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

export interface TextTokenizer {
  /** Names the vocabulary, merges and library version; part of the token cache key. */
  readonly id: string;
  readonly vocabSize: number;
  /** The end-of-text id put between documents, or null if the tokenizer has none. */
  readonly eosId: number | null;
  /** Text to ids. Special-token strings in the text are encoded as plain text, never as specials. */
  encode(text: string): number[];
  decode(ids: Iterable<number>): string;
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
    };
    return tokenizer;
  })();
  return gpt2;
}

/** The parts of a transformers.js tokenizer this package uses. */
interface TransformersTokenizer {
  encode(text: string, options?: { add_special_tokens?: boolean }): number[];
  decode(ids: number[], options?: { skip_special_tokens?: boolean }): string;
  model: { vocab?: unknown[]; tokens_to_ids?: Map<string, number> };
  eos_token?: string | null;
  eos_token_id?: number | null;
}

interface TransformersModule {
  env: { allowRemoteModels: boolean; allowLocalModels: boolean; localModelPath: string };
  AutoTokenizer: { from_pretrained(name: string, options?: Record<string, unknown>): Promise<TransformersTokenizer> };
}

/** Imports an optional package by a name TypeScript cannot see, so it is neither a dependency nor a type error. */
async function importOptional(name: string): Promise<unknown> {
  const specifier: string = name;
  return import(specifier);
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
  const vocabSize = tok.model.vocab?.length ?? tok.model.tokens_to_ids?.size ?? 0;
  const eosId = tok.eos_token_id ?? (tok.eos_token ? (tok.model.tokens_to_ids?.get(tok.eos_token) ?? null) : null);
  return {
    id: `hf-tokenizer/${hash.digest('hex').slice(0, 16)}`,
    vocabSize,
    eosId,
    encode: (text) => tok.encode(text, { add_special_tokens: false }),
    decode: (ids) => tok.decode([...ids], { skip_special_tokens: false }),
  };
}

export async function resolveTokenizer(spec: TokenizerSpec = 'gpt2'): Promise<TextTokenizer> {
  if (spec === 'gpt2') return gpt2Tokenizer();
  if ('huggingFace' in spec) return loadHuggingFaceTokenizer(spec.huggingFace);
  return spec;
}
