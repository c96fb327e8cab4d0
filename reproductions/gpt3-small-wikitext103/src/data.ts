/** WikiText-103 train and validation ids (GPT-2 BPE) via `@sparse-ift/data-text`, with a clear error when missing. */
import { existsSync } from 'node:fs';
import { loadWikiText103, type TokenizedSplit } from '@sparse-ift/data-text';

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

export async function loadWikiText(dataDir: string | undefined, log: (line: string) => void): Promise<{ train: TokenizedSplit; validation: TokenizedSplit; source: string }> {
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
