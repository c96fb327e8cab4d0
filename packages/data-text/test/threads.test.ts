import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EncodePool, gpt2Tokenizer, loadBrownCorpus, loadWikiText103 } from '@sparse-ift/data-text';
import { arrowTable, MINI_WIKITEXT_RECORDS, tempDir, writeArrow } from './fixtures.js';

describe('tokenizing in worker threads', () => {
  it('gives the ids of encoding each article whole on one thread, with chunks kept in order', async () => {
    const dir = tempDir();
    // 40 copies of the mini WikiText in Arrow batches of 5 records: many chunks in flight, 80 articles.
    const records = Array.from({ length: 40 }, () => MINI_WIKITEXT_RECORDS).flat();
    writeArrow(join(dir, 'wikitext-test.arrow'), arrowTable({ text: records }, 5), 'stream');
    const gpt2 = await gpt2Tokenizer();
    const article1 = MINI_WIKITEXT_RECORDS.slice(0, 8).join('');
    const article2 = MINI_WIKITEXT_RECORDS.slice(8).join('');
    const once = [...gpt2.encode(article1), 50256, ...gpt2.encode(article2), 50256];
    const expected = Array.from({ length: 40 }, () => once).flat();
    const split = await loadWikiText103({ path: dir, split: 'test', cacheDir: false, threads: 3 });
    expect([...split.tokens]).toEqual(expected);
    expect(split.documents).toBe(80);
  });

  it('Brown validation: 2 threads give exactly the single-thread ids', async () => {
    const one = await loadBrownCorpus({ split: 'validation', cacheDir: false });
    const two = await loadBrownCorpus({ split: 'validation', cacheDir: false, threads: 2 });
    expect(two.tokens.length).toBe(one.tokens.length);
    expect(Buffer.from(two.tokens.buffer).equals(Buffer.from(one.tokens.buffer))).toBe(true);
  });

  it('a worker that cannot load its tokenizer is an error, not a hang', async () => {
    const pool = new EncodePool(1, { module: 'file:///no/such/tokenizer.js' });
    await expect(pool.encode(['a'])).rejects.toThrow(/tokenizer worker failed: .*no\/such\/tokenizer/s);
    await pool.close();
  });
});
