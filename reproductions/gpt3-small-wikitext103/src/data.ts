/**
 * WikiText-103 train and validation ids (GPT-2 BPE) via `@sparse-ift/data-text`, with a clear error when
 * missing, and as the trainer's batches: blocks of `context` tokens with their next tokens.
 */
import { existsSync } from 'node:fs';
import { TokenBlocks, lmBatches, loadWikiText103, type LmBatch, type TokenIds, type TokenizedSplit } from '@sparse-ift/data-text';
import type { Batch, TrainData } from '@sparse-ift/train';
import type { GptExperimentConfig } from './presets.js';

export const DATA_CARD = 'datasets/wikitext-103.md';

export function missingDataError(dataDir: string | undefined, detail?: string): Error {
  return new Error(
    `gpt3-small-wikitext103 needs WikiText-103 (wikitext-103-raw-v1): pass --data DIR where DIR holds one of: ` +
      `the hub Parquet export (train-0000{0,1}-of-00002.parquet, validation-00000-of-00001.parquet), ` +
      `the Hugging Face datasets cache (wikitext-train-0000{0,1}-of-00002.arrow, wikitext-validation.arrow), ` +
      `save_to_disk folders (train/data-*.arrow, validation/data-*.arrow), or the raw release (wiki.train.raw, wiki.valid.raw or .tokens)` +
      `${dataDir ? `; looked in ${dataDir}` : '; no --data was given'}${detail ? ` (${detail})` : ''}. See ${DATA_CARD}.`,
  );
}

export interface WikiText {
  train: TokenizedSplit;
  validation: TokenizedSplit;
  source: string;
}

export async function loadWikiText(dataDir: string | undefined, log: (line: string) => void): Promise<WikiText> {
  if (!dataDir || !existsSync(dataDir)) throw missingDataError(dataDir);
  const load = async (split: 'train' | 'validation'): Promise<TokenizedSplit> => {
    try {
      const tokens = await loadWikiText103({ path: dataDir, split });
      log(`data: WikiText-103 ${split}: ${tokens.tokens.length.toLocaleString('en-US')} GPT-2 tokens from ${tokens.files.length} file(s)${tokens.fromCache ? ' (token cache)' : ''}`);
      return tokens;
    } catch (error) {
      throw missingDataError(dataDir, (error as Error).message);
    }
  };
  const train = await load('train');
  const validation = await load('validation');
  return { train, validation, source: dataDir };
}

function* asBatches(batches: Iterable<LmBatch>): Generator<Batch> {
  for (const b of batches) yield { inputs: b.inputs, targets: b.targets, shape: [b.batchSize, b.context] };
}

/**
 * Training blocks read in order ([MZ] configs: not shuffled), one batch of `recipe.batchSize` sequences
 * per step, epoch after epoch; validation: the first `evalSequences` blocks in micro-batches.
 */
/** Training batches in the preset's order; validation in batches of `evalBatchSize` sequences (a forward's memory: the micro-batch). */
export function wikiTextBatches(tokens: { train: TokenIds; validation: TokenIds }, config: GptExperimentConfig, seed: number, evalBatchSize: number): TrainData {
  const { context, shuffle } = config;
  const batchSize = config.recipe.batchSize;
  const trainBlocks = new TokenBlocks(tokens.train, context);
  if (trainBlocks.length < batchSize) {
    throw new Error(`the training set has ${trainBlocks.length} blocks of ${context + 1} tokens, fewer than one batch of ${batchSize}; use a smaller preset or more data`);
  }
  const sequences = Math.min(config.evalSequences, new TokenBlocks(tokens.validation, context).length);
  if (sequences === 0) throw new Error(`the validation set has no block of ${context + 1} tokens; it is too small for context ${context}`);
  const validBlocks = new TokenBlocks(tokens.validation.subarray(0, sequences * context + 1), context);
  return {
    train: {
      count: trainBlocks.length,
      batchesPerEpoch: Math.floor(trainBlocks.length / batchSize),
      batches: (epoch) => asBatches(lmBatches(trainBlocks, { batchSize, shuffle, seed, epoch })),
      fingerprint: JSON.stringify({ context, shuffle }),
    },
    test: { batches: () => asBatches(lmBatches(validBlocks, { batchSize: evalBatchSize, dropLast: false })) },
  };
}
