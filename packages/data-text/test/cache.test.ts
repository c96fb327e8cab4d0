import { readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { gpt2Tokenizer, tokenizeFiles, type TextTokenizer } from '@sparse-ift/data-text';
import { arrowTable, tempDir, writeArrow } from './fixtures.js';

/** GPT-2 with a counter, to see whether anything was tokenized. */
async function countingGpt2(id?: string): Promise<TextTokenizer & { calls: number }> {
  const gpt2 = await gpt2Tokenizer();
  const counter = {
    calls: 0,
    id: id ?? gpt2.id,
    vocabSize: gpt2.vocabSize,
    eosId: gpt2.eosId,
    encode(text: string): number[] {
      counter.calls++;
      return gpt2.encode(text);
    },
    decode: (ids: Iterable<number>) => gpt2.decode(ids),
  };
  return counter;
}

const TEXTS = ['Hello world', ' = T = \n', 'The cache skips tokenization.'];

describe('token cache', () => {
  it('the second run reads the ids from tokens-<hash>.arrow and tokenizes nothing', async () => {
    const dir = tempDir();
    const cacheDir = join(dir, 'cache');
    const file = join(dir, 'data.arrow');
    writeArrow(file, arrowTable({ text: TEXTS }), 'stream');
    const tokenizer = await countingGpt2();
    const first = await tokenizeFiles([file], 'arrow', { tokenizer, cacheDir });
    expect(first.fromCache).toBe(false);
    expect(tokenizer.calls).toBe(3);
    expect(first.cacheFile).toMatch(/tokens-[0-9a-f]{24}\.arrow$/);
    // GPT-2 ids with <|endoftext|> after each record (eos: 'record' is tokenizeFiles' default).
    const gpt2 = await gpt2Tokenizer();
    const expected = TEXTS.flatMap((t) => [...gpt2.encode(t), 50256]);
    expect([...first.tokens]).toEqual(expected);
    expect(expected.slice(0, 3)).toEqual([15496, 995, 50256]);

    const second = await tokenizeFiles([file], 'arrow', { tokenizer, cacheDir });
    expect(second.fromCache).toBe(true);
    expect(tokenizer.calls).toBe(3);
    expect(second.cacheFile).toBe(first.cacheFile);
    expect([...second.tokens]).toEqual(expected);
    expect({ records: second.records, documents: second.documents }).toEqual({ records: 3, documents: 3 });

    // The cache is a plain Arrow IPC file: any Arrow reader sees the ids.
    const table = tableFromIPC(readFileSync(first.cacheFile!));
    expect([...(table.getChild('token')!.toArray() as Uint16Array)]).toEqual(expected);
  });

  it('a changed source, tokenizer or EOS rule makes a new cache; a corrupt cache is rebuilt', async () => {
    const dir = tempDir();
    const cacheDir = join(dir, 'cache');
    const file = join(dir, 'wiki.valid.tokens');
    writeFileSync(file, ' = A = \n a b\n');
    const tokenizer = await countingGpt2();
    const first = await tokenizeFiles([file], 'tokens', { tokenizer, cacheDir });
    const callsAfterFirst = tokenizer.calls;

    appendFileSync(file, ' = B = \n c\n');
    const changed = await tokenizeFiles([file], 'tokens', { tokenizer, cacheDir });
    expect(changed.fromCache).toBe(false);
    expect(changed.cacheFile).not.toBe(first.cacheFile);
    expect(tokenizer.calls).toBeGreaterThan(callsAfterFirst);
    expect(changed.records).toBe(4);

    const otherTokenizer = await countingGpt2('gpt2-bpe/another-version');
    const retokenized = await tokenizeFiles([file], 'tokens', { tokenizer: otherTokenizer, cacheDir });
    expect(retokenized.fromCache).toBe(false);
    expect(otherTokenizer.calls).toBe(4);

    const otherEos = await tokenizeFiles([file], 'tokens', { tokenizer, cacheDir, eos: 'wikitext-article' });
    expect(otherEos.fromCache).toBe(false);
    expect(otherEos.documents).toBe(2);

    writeFileSync(changed.cacheFile!, 'not arrow');
    const rebuilt = await tokenizeFiles([file], 'tokens', { tokenizer, cacheDir });
    expect(rebuilt.fromCache).toBe(false);
    expect([...rebuilt.tokens]).toEqual([...changed.tokens]);
    expect((await tokenizeFiles([file], 'tokens', { tokenizer, cacheDir })).fromCache).toBe(true);
  });

  it('cacheDir: false tokenizes every time and writes nothing', async () => {
    const dir = tempDir();
    const file = join(dir, 'wiki.test.tokens');
    writeFileSync(file, ' a\n');
    const tokenizer = await countingGpt2();
    const out = await tokenizeFiles([file], 'tokens', { tokenizer, cacheDir: false });
    await tokenizeFiles([file], 'tokens', { tokenizer, cacheDir: false });
    expect(out.cacheFile).toBeNull();
    expect(tokenizer.calls).toBe(2);
  });
});
