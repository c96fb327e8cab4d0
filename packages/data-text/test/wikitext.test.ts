import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gpt2Tokenizer, loadWikiText103, TokenBlocks } from '@sparse-ift/data-text';
import { arrowTable, MINI_WIKITEXT_RAW, MINI_WIKITEXT_RECORDS, tempDir, writeArrow, writeParquet, writeText } from './fixtures.js';

describe('WikiText-103 loader', () => {
  it('raw files, the HF Arrow cache and the hub Parquet export give the same GPT-2 ids: each article encoded whole, then <|endoftext|>', async () => {
    const dir = tempDir();
    const cacheDir = join(dir, 'cache');
    writeText(join(dir, 'raw', 'wiki.valid.tokens'), MINI_WIKITEXT_RAW.join(''));
    const table = arrowTable({ text: MINI_WIKITEXT_RECORDS }, 5);
    writeArrow(join(dir, 'hf', 'wikitext-validation.arrow'), table, 'stream');
    writeParquet(join(dir, 'pq', 'wikitext-103-raw-v1', 'validation-00000-of-00001.parquet'), table, 4);

    // Expected: split the text into articles by hand (the two top-level headings) and encode each whole.
    const gpt2 = await gpt2Tokenizer();
    const records = MINI_WIKITEXT_RECORDS;
    const article1 = records.slice(0, 8).join('');
    const article2 = records.slice(8).join('');
    expect(article2.startsWith(' = Tower Building')).toBe(true);
    const expected = [...gpt2.encode(article1), 50256, ...gpt2.encode(article2), 50256];

    for (const sub of ['raw', 'hf', 'pq']) {
      const split = await loadWikiText103({ path: join(dir, sub), split: 'validation', cacheDir });
      expect([...split.tokens], sub).toEqual(expected);
      expect(split.records).toBe(12);
      expect(split.documents).toBe(2);
    }
    const raw = await loadWikiText103({ path: join(dir, 'raw'), split: 'validation', cacheDir });
    expect(raw.format).toBe('tokens');
    // Packed into blocks of 16 + 1: the first block's targets are its inputs moved by one.
    const blocks = new TokenBlocks(raw.tokens, 16);
    expect(blocks.length).toBe(Math.floor((expected.length - 17) / 16) + 1);
    expect([...blocks.inputs(1)]).toEqual(expected.slice(16, 32));
    expect([...blocks.targets(1)]).toEqual(expected.slice(17, 33));
  });
});
